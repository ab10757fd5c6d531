"""ONNX exports with the features output (issue 18): the second output equals model.features,
the gaze output equals the plain export's (fp32 and int8), the metadata and golden vectors name
and hold it, parity checks it; a plain export still has exactly one output."""

import json

import numpy as np
import pytest
from helpers import cached_exports, tiny_mirror_model

from gazesdk.export import load_exported, read_golden
from gazesdk.export.metadata import embedded, read_metadata, validate_metadata
from gazesdk.export.parity import ParityError, check_parity, torch_features, torch_predict

onnx = pytest.importorskip("onnx")
pytestmark = pytest.mark.xdist_group("export-onnx")    # shares conftest's session exports


@pytest.fixture(scope="module")
def mirror_model():
    return tiny_mirror_model()


@pytest.fixture(scope="module")
def mirror_exports(mirror_model, export_samples):
    """``get(quant, features)``: the mirror-averaged tiny model exported once per module."""
    from gazesdk.export.onnx import export_onnx

    return cached_exports(export_onnx, mirror_model, export_samples)


def _rows(samples, e, n):
    return samples.take(slice(0, n)).for_model(e.input_names)


def test_features_equal_model_features(mirror_exports, mirror_model, export_samples):
    e = mirror_exports("fp32")
    assert e.output_names == ("gaze_cm", "features") and e.has_features
    assert [o.name for o in e.proto().graph.output] == ["gaze_cm", "features"]
    held = export_samples[1]
    for n in (1, 3):                                           # dynamic batch for both outputs
        gaze, features = e.run_all(_rows(held, e, n))
        assert gaze.shape == (n, 2) and features.shape == (n, 128)
        np.testing.assert_allclose(features, torch_features(mirror_model, held.take(slice(0, n))),
                                   atol=1e-4)
        np.testing.assert_allclose(gaze, torch_predict(mirror_model, held.take(slice(0, n))),
                                   atol=1e-4)
    assert e.parity.passed and e.parity.features_max_rel < 1e-4


@pytest.mark.parametrize("quant, atol", [("fp32", 1e-6), ("int8", 0.01)])
def test_gaze_equals_the_plain_export(mirror_exports, export_samples, quant, atol):
    """Adding the output must not move the gaze, int8 included (calibration and graph as
    without it)."""
    plain, with_f = mirror_exports(quant, features=False), mirror_exports(quant)
    x = export_samples[1].for_model(plain.input_names)
    np.testing.assert_allclose(with_f.run(x), plain.run(x), atol=atol, rtol=0)
    np.testing.assert_array_equal(with_f.run(x), with_f.run_all(x)[0])


def test_int8_features_follow_torch(mirror_exports, mirror_model, export_samples):
    e = mirror_exports("int8")
    held = export_samples[1]
    got = e.run_all(held.for_model(e.input_names))[1]
    ref = torch_features(mirror_model, held)
    assert np.abs(got - ref).mean() / np.abs(ref).mean() < 0.15
    assert e.parity.passed and e.parity.features_mean_rel < 0.15


def test_plain_export_has_exactly_one_output(exports, export_samples):
    e = exports("onnx")
    assert [o.name for o in e.proto().graph.output] == ["gaze_cm"]
    assert [t["name"] for t in e.metadata["outputs"]] == ["gaze_cm"]
    assert e.output_names == ("gaze_cm",) and not e.has_features
    outs = e.run_all(_rows(export_samples[1], e, 2))
    assert len(outs) == 1 and outs[0].shape == (2, 2)
    assert e.parity.to_dict()["features_max_rel"] is None


def test_metadata_and_golden_vectors_name_the_features(mirror_exports, tmp_path):
    e = mirror_exports("fp32")
    path = e.export(tmp_path / "f.onnx")
    doc = read_metadata(path)                                  # schema and sha256 checked
    validate_metadata(doc, side_file=True)
    gaze, feat = doc["outputs"]
    assert gaze["name"] == "gaze_cm" and gaze["shape"] == ["batch", 2]
    assert feat["name"] == "features" and feat["shape"] == ["batch", 128]
    assert feat["dtype"] == "float32"
    assert "penultimate" in feat["description"] and "un-mirrored" in feat["description"]
    props = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert json.loads(props["gazesdk"])["outputs"] == doc["outputs"]
    assert json.loads(props["gazesdk"]) == json.loads(embedded(e.metadata))
    assert doc["parity"]["passed"] and doc["parity"]["features_max_rel"] < 1e-4
    spec = json.loads((tmp_path / "f.onnx.golden" / "expected.json").read_text())
    assert spec["outputs"] == ["gaze_cm", "features"] and spec["features_tolerance"] > 0
    assert all(len(s["features"]) == 128 for s in spec["samples"])
    inputs, expected, tol = read_golden(path)                  # from the PNGs, as a phone would
    gaze_out, features_out = load_exported(path).run_all(inputs)
    np.testing.assert_allclose(gaze_out, expected, atol=tol)
    np.testing.assert_allclose(features_out, [s["features"] for s in spec["samples"]],
                               atol=spec["features_tolerance"])


def test_plain_golden_vectors_have_no_features(exports, tmp_path):
    exports("onnx").export(tmp_path / "p.onnx")
    spec = json.loads((tmp_path / "p.onnx.golden" / "expected.json").read_text())
    assert "features" not in spec["samples"][0] and "outputs" not in spec


def test_metadata_schema_bounds_the_outputs(mirror_exports):
    from gazesdk.export.metadata import ArtifactError

    doc = json.loads(json.dumps(mirror_exports("fp32").metadata))
    validate_metadata(doc)
    for edit, where in [(lambda d: d["outputs"].reverse(), "outputs/0/name"),
                        (lambda d: d["outputs"].append(d["outputs"][1]), "outputs"),
                        (lambda d: d["outputs"][1].update(name="feats"), "outputs/1/name")]:
        bad = json.loads(json.dumps(doc))
        edit(bad)
        with pytest.raises(ArtifactError, match=where):
            validate_metadata(bad)


def test_parity_fails_when_the_features_are_wrong(mirror_exports, mirror_model, export_samples):
    e = mirror_exports("fp32")
    held = export_samples[1]
    ref = torch_features(mirror_model, held)
    with pytest.raises(ParityError, match=r"features max \|diff\| / max \|feature\|"):
        check_parity(e, mirror_model, held, reference_features=ref * 1.01)
    report = check_parity(e, mirror_model, held, reference_features=ref)
    assert report.passed and report.features_mean_abs < 1e-5
