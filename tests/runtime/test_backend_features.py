"""Backends and the features output (issue 18): ModelSpec.output_names from the metadata,
infer_all returning every output in metadata order, infer still the gaze alone."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.runtime.backends import ModelSpec, create_backend
from gazesdk.runtime.backends.base import bundled_artifact, metadata_outputs

BUNDLED = [("onnxruntime", "onnxruntime"), ("litert", "ai_edge_litert")]


def _inputs(n: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    x = {k: rng.random((n, 3, 64, 64), dtype=np.float32)
         for k in ("face", "left_eye", "right_eye")}
    grid = np.zeros((n, 25, 25), np.float32)
    grid[:, 5:15, 7:17] = 1
    x["face_grid"] = grid
    x["eye_geometry"] = (0.1 * rng.random((n, 4)) - 0.05).astype(np.float32)
    return x


def _doc(outputs: list[str] | None) -> dict:
    doc = {"model": {"name": "m"}, "artifact": {"precision": "fp32"},
           "inputs": [{"name": n} for n in ("face", "left_eye", "right_eye")],
           "preprocessing": {"colour_order": "RGB", "layout": "NCHW", "patch_size": 64,
                             "pixel_scale": 1 / 255}}
    if outputs is not None:
        doc["outputs"] = [{"name": n} for n in outputs]
    return doc


def test_model_spec_reads_the_outputs():
    spec = ModelSpec.from_metadata(_doc(["gaze_cm", "features"]))
    assert spec.output_names == ("gaze_cm", "features") and spec.has_features
    plain = ModelSpec.from_metadata(_doc(["gaze_cm"]))
    assert plain.output_names == ("gaze_cm",) and not plain.has_features
    assert ModelSpec.from_metadata(_doc(None)).output_names == ("gaze_cm",)
    assert ModelSpec("m", "fp32", ("face",), 64, 1 / 255).output_names == ("gaze_cm",)
    with pytest.raises(ConfigError, match="first output; this model's outputs are features"):
        metadata_outputs(_doc(["features", "gaze_cm"]))


@pytest.fixture(scope="module")
def torch_outputs():
    pytest.importorskip("torch")
    b = create_backend(backend="torch", precision="fp32")
    try:
        yield b.infer_all(_inputs())
    finally:
        b.close()


def test_torch_backend_reports_and_returns_features(torch_outputs):
    import torch

    from gazesdk.models.loading import load_model

    b = create_backend(backend="torch", precision="fp32")
    assert ModelSpec.from_metadata(b.metadata).output_names == ("gaze_cm", "features")
    gaze, features = torch_outputs
    assert gaze.shape == (3, 2) and features.shape == (3, 128)
    np.testing.assert_allclose(gaze, b.infer(_inputs()), atol=1e-6)
    model = load_model("default").eval()
    with torch.no_grad():
        ref = model.features(**{k: torch.from_numpy(v) for k, v in _inputs().items()})
    np.testing.assert_allclose(features, ref.numpy(), atol=1e-5)


@pytest.mark.parametrize("backend, module", BUNDLED)
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_bundled_exports_give_gaze_and_features(backend, module, precision, torch_outputs):
    pytest.importorskip(module)
    b = create_backend(backend=backend, precision=precision)
    spec = ModelSpec.from_metadata(b.metadata)
    assert spec.output_names == ("gaze_cm", "features") and spec.has_features
    x = _inputs()
    outs = b.infer_all(x)
    assert [o.shape for o in outs] == [(3, 2), (3, 128)]
    assert all(o.dtype == np.float32 for o in outs)
    np.testing.assert_array_equal(b.infer(x), outs[0])
    one = b.infer_all({k: v[:1] for k, v in x.items()})
    assert one[1].shape == (1, 128)                   # what the estimator reads per frame
    ref = torch_outputs[1]
    if precision == "fp32":                           # the un-mirrored frame's model.features
        np.testing.assert_allclose(outs[1], ref, atol=1e-4 * np.abs(ref).max())
    else:
        assert np.abs(outs[1] - ref).mean() / np.abs(ref).mean() < 0.15


def test_litert_fixed_batch_rows_one_by_one_for_every_output():
    pytest.importorskip("ai_edge_litert")
    b = create_backend(backend="litert", precision="int8")
    x = _inputs(3)
    rows = [b.infer_all({k: v[i:i + 1] for k, v in x.items()}) for i in range(3)]
    for j, out in enumerate(b.infer_all(x)):
        np.testing.assert_allclose(out, np.concatenate([r[j] for r in rows]), atol=1e-6)


@pytest.fixture(scope="module")
def plain_onnx(tmp_path_factory):
    """A tiny model exported without features (gaze_cm alone)."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    import torch

    from gazesdk.export.onnx import export_onnx
    from gazesdk.export.samples import gazesim_samples
    from gazesdk.losses.ordinal import OrdinalBins
    from gazesdk.models import create_model

    torch.manual_seed(0)
    model = create_model("compact", width_mult=0.25, bins=OrdinalBins(bins=16)).eval()
    _, held = gazesim_samples(subjects=2, frames_per_subject=6, stare_sequences=1,
                              stare_frames=3, split_fractions=(0.5, 0.0, 0.5))
    return export_onnx(model, samples=held).export(tmp_path_factory.mktemp("plain") / "p.onnx")


def test_plain_export_gives_one_output(plain_onnx):
    b = create_backend(plain_onnx)
    assert ModelSpec.from_metadata(b.metadata).output_names == ("gaze_cm",)
    x = {k: v for k, v in _inputs(2).items() if k != "eye_geometry"}
    outs = b.infer_all(x)
    assert len(outs) == 1 and outs[0].shape == (2, 2)
    np.testing.assert_array_equal(b.infer(x), outs[0])


def test_metadata_naming_an_output_the_model_lacks_is_one_line(plain_onnx, tmp_path):
    from gazesdk.export.metadata import ArtifactError

    dst = tmp_path / plain_onnx.name
    shutil.copy(plain_onnx, dst)
    doc = json.loads(plain_onnx.with_name(plain_onnx.name + ".json").read_text())
    doc["outputs"].append({"name": "features", "shape": ["batch", 128], "dtype": "float32",
                           "description": "x"})
    (tmp_path / (dst.name + ".json")).write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="has outputs gaze_cm; its metadata names "
                                            "gaze_cm, features"):
        create_backend(dst)


def test_bundled_int8_tflite_documents_its_int8_features():
    doc = json.loads(bundled_artifact(".tflite", "int8").with_suffix(".tflite.json")
                     .read_text())
    feat = doc["outputs"][1]
    assert feat["name"] == "features" and feat["dtype"] == "int8"
    assert set(feat["quantization"]) == {"scale", "zero_point"}
