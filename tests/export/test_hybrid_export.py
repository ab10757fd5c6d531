"""Hybrid models (issue 17) export like the others: the eye geometry is a fifth named input in
the graph, the metadata (with how to compute it) and the golden vectors, parity holds, and the
runtime feeds it from the iris model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gazesdk.losses.ordinal import OrdinalBins


@pytest.fixture(scope="module")
def hybrid(landmark_models, detector_model):
    import torch

    from gazesdk.export.samples import gazesim_samples
    from gazesdk.models import create_model

    torch.manual_seed(0)
    model = create_model("compact", width_mult=0.25, bins=OrdinalBins(bins=16),
                         eye_geometry=True).eval()
    model.set_crops("landmarks-v1")
    with torch.no_grad():
        model.head.linear.weight.mul_(40)
        model.geometry.fc1.weight.mul_(20)        # let the geometry move the output visibly
    calib, held = gazesim_samples(crops="landmarks", subjects=4, frames_per_subject=6,
                                  stare_sequences=1, stare_frames=4)
    return model, calib, held


def test_samples_carry_the_eye_geometry(hybrid):
    _, calib, held = hybrid
    g = held.inputs["eye_geometry"]
    assert g.shape == (len(held), 4) and g.dtype == np.float32
    # GazeSim's eyes look around the screen: irises off-centre by a few hundredths
    assert 0.005 < np.abs(g).mean() < 0.2
    assert np.abs(g).max() < 0.5


def test_onnx_export_with_parity_metadata_and_golden(hybrid, tmp_path):
    from gazesdk.export.metadata import validate_metadata
    from gazesdk.export.onnx import export_onnx

    model, _, held = hybrid
    exported = export_onnx(model, samples=held)
    assert exported.input_names == ("face", "left_eye", "right_eye", "face_grid",
                                    "eye_geometry")
    assert exported.parity.ran and exported.parity.max_abs_cm < 1e-3
    path = exported.export(tmp_path / "hybrid.onnx")
    meta = json.loads(path.with_name(path.name + ".json").read_text())
    validate_metadata(meta)
    assert [t["name"] for t in meta["inputs"]][-1] == "eye_geometry"
    assert meta["inputs"][-1]["shape"][1:] == [4]
    assert "iris_landmark" in meta["preprocessing"]["eye_geometry"]
    golden = json.loads((tmp_path / "hybrid.onnx.golden" / "expected.json").read_text())
    first = golden["samples"][0]
    assert len(first["eye_geometry"]) == 4 and "eye_geometry" not in first["files"]
    # the geometry is a real input: moving it moves the gaze
    inputs = held.for_model(exported.input_names)
    one = {k: v[:1] for k, v in inputs.items()}
    base = exported.run(one)
    moved = dict(one, eye_geometry=one["eye_geometry"] + np.float32(0.1))
    assert np.abs(exported.run(moved) - base).max() > 0.05


def test_samples_without_geometry_are_refused(hybrid):
    from gazesdk.errors import DataFormatError
    from gazesdk.export.samples import ExportSamples

    _, _, held = hybrid
    bare = ExportSamples({k: v for k, v in held.inputs.items() if k != "eye_geometry"},
                         held.gaze_cm, held.sequence, "no geometry")
    with pytest.raises(DataFormatError, match="eye_geometry"):
        bare.for_model(("face", "left_eye", "right_eye", "face_grid", "eye_geometry"))


def test_the_runtime_feeds_the_geometry_from_the_iris_model(hybrid, tmp_path, astronaut):
    import cv2

    from gazesdk.errors import ConfigError
    from gazesdk.export.onnx import export_onnx
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions
    from gazesdk.runtime.eye_geometry import eye_geometry

    model, _, held = hybrid
    path = export_onnx(model, samples=held).export(tmp_path / "h.onnx")
    m = cv2.getRotationMatrix2D((225.0, 110.0), 0, 2.0)
    m[:, 2] += (15.0, 140.0)
    frame = cv2.warpAffine(astronaut, m, (480, 640))
    seen = []
    with GazeEstimator.create_from_options(GazeEstimatorOptions(model=str(path))) as est:
        infer = est.backend.infer
        est.backend.infer = lambda feed: seen.append(feed) or infer(feed)
        r = est.estimate(frame)
        assert r.valid
        points = r.landmarks
        eyes = est.iris.run(frame, points)
    assert seen[0]["eye_geometry"] == pytest.approx(eye_geometry(points, eyes)[None])
    with pytest.raises(ConfigError, match="hybrid"):
        GazeEstimator.create_from_options(GazeEstimatorOptions(model=str(path), iris=False))


def test_hybrid_needs_the_face_grid_and_its_geometry():
    import torch

    from gazesdk.errors import ConfigError
    from gazesdk.models import create_model

    with pytest.raises(ConfigError, match="face grid"):
        create_model("compact", face_grid=False, eye_geometry=True)
    m = create_model("compact", width_mult=0.25, eye_geometry=True).eval()
    x, g = torch.rand(2, 3, 64, 64), torch.rand(2, 25, 25)
    with pytest.raises(ValueError, match="eye_geometry"):
        m.predict(x, x, x, g)
    with pytest.raises(ValueError, match="shape"):
        m.predict(x, x, x, g, torch.rand(3, 4))
    assert m.predict(x, x, x, g, torch.zeros(2, 4)).shape == (2, 2)
