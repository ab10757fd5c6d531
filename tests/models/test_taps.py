"""Feature maps inside the backbones: stage boundaries and tapped outputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gazesdk.errors import ConfigError
from gazesdk.models import create_model
from gazesdk.models.taps import (
    channels_at,
    feature_map_layer,
    layers_after,
    run_tapped,
    stage_ends,
    stage_layer,
)


@pytest.mark.parametrize(("name", "ends", "sizes"), [
    ("compact", ["block1", "block3", "block6", "last"], [32, 16, 8, 4]),
    ("casia", ["relu12", "relu22", "relu32", "relu42", "relu52"], [64, 32, 16, 8, 4]),
    ("dilated", ["block1", "block2", "block3", "block4"], [32, 16, 8, 4]),
])
def test_stages_end_where_the_resolution_changes(name, ends, sizes):
    backbone = create_model(name).face
    assert stage_ends(backbone) == ends
    x = torch.rand(2, 3, 64, 64)
    out, maps = run_tapped(backbone, x, ends)
    assert [maps[e].shape[-1] for e in ends] == sizes
    backbone.eval()
    assert torch.allclose(run_tapped(backbone, x, ())[0], backbone(x))   # taps change nothing
    assert feature_map_layer(backbone) == ends[-1]
    assert stage_layer(backbone, 3) == ends[2]


def test_features_with_taps_equal_features_and_key_each_patch():
    model = create_model("compact").eval()
    x = [torch.rand(2, 3, 64, 64) for _ in range(3)] + [torch.ones(2, 25, 25)]
    feats, taps = model.features_with_taps(*x, face_taps=["block3"], eye_taps=["last"])
    assert torch.equal(feats, model.features(*x))
    assert set(taps) == {"face.block3", "left_eye.last", "right_eye.last"}
    # The right eye's map is the (shared) eye backbone run on the right eye patch.
    manual = model._normalise(x[2])
    for name, layer in model.eye.named_children():
        manual = layer(manual)
        if name == "last":
            break
    assert torch.allclose(taps["right_eye.last"], manual)


def test_misuse():
    backbone = create_model("compact").face
    with pytest.raises(ConfigError, match="stage 1-4"):
        stage_layer(backbone, 5)
    with pytest.raises(ConfigError, match="no layer"):
        run_tapped(backbone, torch.rand(1, 3, 64, 64), ["nope"])
    with pytest.raises(ConfigError, match="nn.Sequential"):
        stage_ends(nn.Linear(2, 2))
    assert layers_after(backbone, "relu_fc") == []
    assert len(layers_after(backbone, "last")) == 4            # gap, flatten, fc, relu_fc


def test_channels_at_reads_the_widths_and_keeps_the_mode():
    backbone = create_model("compact").face.train()
    # compact: 24 channels after block3 (stage 2), 256 after the 1x1 'last' convolution
    assert channels_at(backbone, "block3") == 24 and channels_at(backbone, "last") == 256
    assert backbone.training
    assert channels_at(create_model("casia").face, "relu32") == 192       # conv32's width
