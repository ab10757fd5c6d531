"""Binocular hybrid models (issue 17): the geometry branch reads only the two eyes' mean
iris offset, so per-eye disagreements that cancel in the mean cannot move the gaze, while the
input an app feeds stays the per-eye (N, 4)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import random_model_inputs

from gazesdk.errors import ConfigError
from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.models import create_model
from gazesdk.models.gaze_model import mirror_inputs
from gazesdk.models.registry import model_from_config


def _inputs(n: int = 4, seed: int = 0):
    return random_model_inputs(n, seed)


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = create_model("compact", width_mult=0.25, bins=OrdinalBins(bins=16), eye_geometry=True,
                     eye_geometry_mode="binocular").eval()
    with torch.no_grad():
        m.head.linear.weight.mul_(40)
        m.geometry.fc1.weight.mul_(20)
    return m


def test_only_the_two_eye_mean_reaches_the_model(model):
    face, left, right, grid, geo = _inputs()
    # (u_l + d, v_l - e, u_r - d, v_r + e): the same mean, so exactly the same gaze
    d = torch.tensor([[0.03, -0.02, -0.03, 0.02]])
    same = model.predict(face, left, right, grid, geo + d)
    assert torch.equal(same, model.predict(face, left, right, grid, geo))
    # the mean moved by 0.03 eye widths: the gaze moves
    moved = model.predict(face, left, right, grid, geo + torch.tensor([[0.03, 0, 0.03, 0]]))
    assert (moved - same).abs().max() > 1e-3


def test_branch_equals_a_hand_computed_mean(model):
    *_, geo = _inputs()
    mean = np.stack([(geo[:, 0] + geo[:, 2]) / 2, (geo[:, 1] + geo[:, 3]) / 2], 1)
    fc1 = model.geometry.fc1
    assert fc1.in_features == 2
    with torch.no_grad():
        got = model.geometry(((geo[:, 0:2] + geo[:, 2:4]) / 2) * 10.0)
        want = model.geometry(torch.as_tensor(mean, dtype=torch.float32) * 10.0)
    torch.testing.assert_close(got, want)


def test_config_round_trip_and_old_configs_unchanged(model):
    assert model.config["eye_geometry_mode"] == "binocular"
    back = model_from_config(model.config)
    back.load_state_dict(model.state_dict())
    x = _inputs()
    torch.testing.assert_close(back.eval().predict(*x), model.predict(*x))
    per_eye = create_model("compact", width_mult=0.25, eye_geometry=True)
    assert "eye_geometry_mode" not in per_eye.config and per_eye.geometry.fc1.in_features == 4


def test_mirror_averaged_binocular_model_is_mirror_consistent(model):
    model.set_mirror_average(True)
    x = _inputs()
    gaze = model.predict(*x)
    back = model.predict(*mirror_inputs(*x))
    torch.testing.assert_close(back, gaze * torch.tensor([-1.0, 1.0]), atol=1e-5, rtol=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"eye_geometry": True, "eye_geometry_mode": "cyclops"}, "unknown eye_geometry_mode"),
    ({"eye_geometry_mode": "binocular"}, "set eye_geometry too"),
])
def test_bad_modes_are_one_line_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        create_model("compact", width_mult=0.25, **kwargs)


def test_onnx_export_keeps_the_per_eye_input(model, tmp_path):
    pytest.importorskip("onnxruntime")
    from gazesdk.export.onnx import export_onnx
    from gazesdk.export.samples import ExportSamples

    face, left, right, grid, geo = _inputs(2)
    feed = {"face": face.numpy(), "left_eye": left.numpy(), "right_eye": right.numpy(),
            "face_grid": grid.numpy(), "eye_geometry": geo.numpy()}
    samples = ExportSamples(dict(feed), np.zeros((2, 2), np.float32), np.full(2, -1), "test")
    exported = export_onnx(model, samples=samples)
    assert exported.input_names[-1] == "eye_geometry" and exported.parity.ran
    got = exported.run(feed)
    want = model.predict(face, left, right, grid, geo).detach().numpy()
    np.testing.assert_allclose(got, want, atol=1e-3)
    feed["eye_geometry"] = (geo + torch.tensor([[0.03, -0.02, -0.03, 0.02]])).numpy()
    np.testing.assert_allclose(exported.run(feed), got, atol=1e-4)
