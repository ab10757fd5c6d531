"""The exported graph: decoding inside it gives cm, equal to model.predict."""

import numpy as np
import pytest
import torch

from gazesdk.export.graph import ExportGraph, example_inputs, input_names
from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.models import create_model


@pytest.mark.parametrize("face_grid", [True, False])
def test_graph_equals_predict(face_grid):
    torch.manual_seed(1)
    model = create_model("compact", width_mult=0.25, face_grid=face_grid,
                         bins=OrdinalBins(bins=12)).eval()
    x = example_inputs(model, batch=3)
    assert tuple(x) == input_names(model)
    assert ("face_grid" in x) is face_grid
    with torch.no_grad():
        out = ExportGraph(model)(**x)
        ref = model.predict(x["face"], x["left_eye"], x["right_eye"], x.get("face_grid"))
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)


def test_decoding_in_graph_gives_cm_worked_by_hand():
    """Head weights 0 and biases b: every sample decodes to lo + size * (sum sigmoid(b) + 1/2)
    per axis (Guo et al. Eq. 1 with centring), computed here in numpy."""
    bins = OrdinalBins(bins=5, x_range=(-10.0, 10.0), y_range=(-20.0, 5.0))
    model = create_model("compact", width_mult=0.25, bins=bins).eval()
    bias = np.array([3.0, 1.0, 0.0, -1.0, -3.0, 4.0, 2.0, 2.0, -2.0, -5.0], np.float32)
    with torch.no_grad():
        model.head.linear.weight.zero_()
        model.head.linear.bias.copy_(torch.from_numpy(bias))
        out = ExportGraph(model)(**example_inputs(model, batch=2)).numpy()
    sig = 1 / (1 + np.exp(-bias.astype(np.float64).reshape(2, 5)))
    lo, size = np.array([-10.0, -20.0]), np.array([20 / 5, 25 / 5])
    want = lo + size * (sig.sum(1) + 0.5)
    np.testing.assert_allclose(out, np.tile(want, (2, 1)), atol=1e-5)


def test_not_a_gaze_model():
    with pytest.raises(TypeError, match="GazeModel"):
        ExportGraph(torch.nn.Linear(2, 2))
