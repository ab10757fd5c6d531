"""Core ML export. Prediction needs macOS: elsewhere the converted program is checked (names,
shapes, op types, int8 weights); the parity test runs on macOS only."""

import sys

import numpy as np
import pytest

from gazesdk.export import load_exported

pytest.importorskip("coremltools")


def test_fp32_program(exports, tmp_path):
    e = exports("coreml")
    s = e.program_summary()
    assert s["inputs"] == {"face": [1, 3, 64, 64], "left_eye": [1, 3, 64, 64],
                           "right_eye": [1, 3, 64, 64], "face_grid": [1, 25, 25]}
    assert s["outputs"] == ["gaze_cm"]
    assert {"conv", "linear", "sigmoid", "reduce_sum"} <= set(s["ops"])
    assert s["weights_int8"] == 0 and s["weights_float"] > 0
    assert "gazesdk" in s["user_metadata_keys"]
    path = e.export(tmp_path / "m.mlpackage")
    assert path.is_dir()
    again = load_exported(path)
    assert again.program_summary()["inputs"] == s["inputs"]
    if sys.platform != "darwin":
        assert not e.parity.ran and "macOS" in e.parity.note
        assert again.metadata["golden"]["expected_from"] == "torch"


def test_int8_weights_are_int8(exports):
    e32, e8 = exports("coreml"), exports("coreml", "int8")
    s = e8.program_summary()
    assert s["weights_float"] == 0
    assert s["weights_int8"] == e32.program_summary()["weights_float"]
    assert any(op.startswith("constexpr_") for op in s["ops"])


@pytest.mark.skipif(sys.platform != "darwin", reason="Core ML prediction runs only on macOS")
def test_parity_on_macos(exports, export_samples, tiny_model):
    from gazesdk.export.parity import torch_predict

    e = exports("coreml")
    assert e.parity.ran and e.parity.max_abs_cm <= 1e-3
    held = export_samples[1].take(slice(0, 4))
    np.testing.assert_allclose(e.run(held.for_model(e.input_names)),
                               torch_predict(tiny_model, held), atol=1e-3)
