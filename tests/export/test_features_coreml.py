"""Core ML exports with the features output (issue 18). Off macOS the program is checked (both
outputs named, the gaze program's ops unchanged); the parity test runs on macOS only."""

import sys
from collections import Counter

import numpy as np
import pytest
from helpers import tiny_mirror_model

pytest.importorskip("coremltools")
pytestmark = pytest.mark.xdist_group("export-coreml")


@pytest.fixture(scope="module")
def pair(export_samples):
    from gazesdk.export.coreml import export_coreml

    model = tiny_mirror_model()
    held = export_samples[1]
    return model, export_coreml(model, samples=held), \
        export_coreml(model, samples=held, features=True)


def test_program_has_both_outputs_and_the_same_ops(pair, tmp_path):
    from gazesdk.export import load_exported

    _, plain, with_f = pair
    s, f = plain.program_summary(), with_f.program_summary()
    assert s["outputs"] == ["gaze_cm"] and f["outputs"] == ["gaze_cm", "features"]
    assert f["inputs"] == s["inputs"]
    # the plain program plus the un-mirrored half's slice of the features, nothing else
    extra, missing = Counter(f["ops"]) - Counter(s["ops"]), Counter(s["ops"]) - Counter(f["ops"])
    assert not missing and set(extra) <= {"const", "reshape", "slice_by_index", "squeeze"}
    assert [t["name"] for t in with_f.metadata["outputs"]] == ["gaze_cm", "features"]
    assert with_f.metadata["outputs"][1]["shape"] == [1, 128]
    path = with_f.export(tmp_path / "f.mlpackage")
    again = load_exported(path)
    assert again.output_names == ("gaze_cm", "features")
    assert again.program_summary()["outputs"] == ["gaze_cm", "features"]
    if sys.platform != "darwin":
        assert not with_f.parity.ran
        import json

        spec = json.loads((tmp_path / "f.mlpackage.golden" / "expected.json").read_text())
        assert spec["expected_from"] == "torch" and len(spec["samples"][0]["features"]) == 128


@pytest.mark.skipif(sys.platform != "darwin", reason="Core ML prediction runs only on macOS")
def test_features_parity_on_macos(pair, export_samples):
    from gazesdk.export.parity import torch_features

    model, plain, with_f = pair
    held = export_samples[1].take(slice(0, 4))
    x = held.for_model(with_f.input_names)
    gaze, features = with_f.run_all(x)
    np.testing.assert_allclose(features, torch_features(model, held), atol=1e-3)
    np.testing.assert_allclose(gaze, plain.run(x), atol=1e-4)
    assert with_f.parity.passed
