"""The export graph's optional second output: the penultimate features of the frame as given."""

import pytest
import torch
from helpers import tiny_mirror_model

from gazesdk.export.graph import (
    FEATURES_NAME,
    OUTPUT_NAME,
    ExportGraph,
    example_inputs,
    output_names,
    output_shapes,
)
from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.models import create_model
from gazesdk.models.gaze_model import mirror_inputs


@pytest.mark.parametrize("mirror", [False, True])
def test_features_are_model_features_and_gaze_is_unchanged(mirror):
    if mirror:
        model = tiny_mirror_model()
    else:
        torch.manual_seed(0)
        model = create_model("compact", width_mult=0.25, bins=OrdinalBins(bins=16)).eval()
    x = example_inputs(model, batch=3)
    with torch.no_grad():
        plain = ExportGraph(model)(**x)
        gaze, features = ExportGraph(model, features=True)(**x)
        ref = model.features(**x)
    assert isinstance(plain, torch.Tensor)                   # default: one output, as before
    torch.testing.assert_close(gaze, plain, atol=0, rtol=0)
    assert features.shape == (3, 128)
    torch.testing.assert_close(features, ref, atol=1e-5, rtol=0)


def test_mirror_averaged_features_are_not_averaged():
    """The gaze averages the frame and its mirror; the features are the frame's alone."""
    model = tiny_mirror_model()
    x = example_inputs(model, batch=2)
    with torch.no_grad():
        _, features = ExportGraph(model, features=True)(**x)
        mirrored = model.features(*mirror_inputs(x["face"], x["left_eye"], x["right_eye"],
                                                 x["face_grid"])[:4])
        ref = model.features(**x)
    assert (ref - mirrored).abs().max() > 1e-3               # the mirror's feature differs
    torch.testing.assert_close(features, ref, atol=1e-5, rtol=0)


def test_output_names_and_shapes():
    assert output_names() == (OUTPUT_NAME,) == ("gaze_cm",)
    assert output_names(True) == ("gaze_cm", FEATURES_NAME) == ("gaze_cm", "features")
    assert output_shapes() == {"gaze_cm": (1, 2)}
    assert output_shapes(True, batch=4) == {"gaze_cm": (4, 2), "features": (4, 128)}
    model = tiny_mirror_model()
    assert ExportGraph(model).output_names == ("gaze_cm",)
    assert ExportGraph(model, features=True).output_names == ("gaze_cm", "features")


def test_runtime_names_agree_with_the_export():
    """The runtime names the outputs without importing torch; the names must be the same."""
    from gazesdk.runtime.backends import base

    assert (base.OUTPUT_NAME, base.FEATURES_NAME) == (OUTPUT_NAME, FEATURES_NAME)
