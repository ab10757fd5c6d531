"""Mirror averaging: a model that is mirror-consistent by construction (a mirrored face gives
the mirrored gaze), in torch and in the exported graph."""

from __future__ import annotations

import pytest
import torch
from helpers import random_model_inputs

from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.models import create_model
from gazesdk.models.gaze_model import mirror_inputs
from gazesdk.models.registry import model_from_config


def _inputs(n: int = 3, seed: int = 0):
    return random_model_inputs(n, seed)


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = create_model("compact", width_mult=0.25, bins=OrdinalBins(bins=16),
                     eye_geometry=True).eval()
    with torch.no_grad():
        m.head.linear.weight.mul_(40)
    return m


def test_mirror_inputs_is_an_involution():
    x = _inputs()
    back = mirror_inputs(*mirror_inputs(*x))
    assert all(torch.equal(a, b) for a, b in zip(back, x, strict=True))
    m = mirror_inputs(*x)
    assert torch.equal(m[1], x[2].flip(-1)) and torch.equal(m[2], x[1].flip(-1))
    assert torch.allclose(m[4][0], x[4][0, [2, 3, 0, 1]] * torch.tensor([-1.0, 1, -1, 1]))


def test_mirror_average_makes_the_mirrored_gaze(model):
    x = _inputs()
    with torch.no_grad():
        plain, plain_m = model.predict(*x), model.predict(*mirror_inputs(*x))
        # an untrained model is far from mirror-consistent ...
        assert (plain_m[:, 0] + plain[:, 0]).abs().max() > 0.5
        model.set_mirror_average(True)
        g, gm = model.predict(*x), model.predict(*mirror_inputs(*x))
    # ... the averaged one is, to float rounding, and it is the mean of the two passes
    assert torch.allclose(gm, g * torch.tensor([-1.0, 1.0]), atol=1e-5)
    assert torch.allclose(g, (plain + plain_m * torch.tensor([-1.0, 1.0])) / 2, atol=1e-5)
    again = model_from_config(model.config)
    assert again.mirror_average
    model.set_mirror_average(False)
    assert "mirror_average" not in model.config


def test_mirror_average_needs_a_symmetric_x_range():
    m = create_model("compact", width_mult=0.25, bins=OrdinalBins(x_range=(-20.0, 26.0)))
    with pytest.raises(ValueError, match="symmetric"):
        m.set_mirror_average(True)
    with pytest.raises(ValueError, match="true or false"):
        m.set_mirror_average("yes")


def test_the_export_graph_averages_alike(model):
    from gazesdk.export.graph import ExportGraph

    model.set_mirror_average(True)
    x = _inputs(4, seed=3)
    with torch.no_grad():
        assert torch.allclose(ExportGraph(model)(*x), model.predict(*x), atol=1e-4)
