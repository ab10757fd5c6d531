"""The dilated backbone: a rate-d branch sees d pixels away (a plain 3x3 sees one), the
no-dilation ablation has the same parameters, and bad options are clear errors."""

from __future__ import annotations

import pytest
import torch

from gazesdk.errors import ConfigError
from gazesdk.models import count_params, create_model
from gazesdk.models.dilated import DilatedBlock


def reach(dilations: tuple[int, ...], offset: int) -> bool:
    """Does an input pixel ``offset`` rows below the centre change the block's first
    stage (before the 1x1 fuse) at the centre?"""
    torch.manual_seed(0)
    block = DilatedBlock(1, 3, dilations).eval()
    x = torch.zeros(1, 1, 21, 21)
    y = x.clone()
    y[0, 0, 10 + offset, 10] = 1.0
    with torch.no_grad():
        a = torch.cat([b(x) for b in block.branches], 1)[0, :, 10, 10]
        b = torch.cat([b(y) for b in block.branches], 1)[0, :, 10, 10]
    return bool((a - b).abs().max() > 1e-6)


def test_receptive_field_follows_the_rates():
    assert reach((1,), 1) and not reach((1,), 2) and not reach((1,), 4)
    assert reach((1, 2, 4), 1) and reach((1, 2, 4), 2) and reach((1, 2, 4), 4)
    assert not reach((1, 2, 4), 3)                 # rates 1, 2, 4 sample 0, +-1, +-2, +-4


def test_ablation_has_the_same_parameters_and_channel_split():
    a = create_model("dilated")
    b = create_model("dilated", dilations=[1])
    assert count_params(a) == count_params(b)
    block = DilatedBlock(8, 64, (1, 2, 4))
    assert [br.out_channels for br in block.branches] == [22, 21, 21]
    assert [br.dilation for br in block.branches] == [(1, 1), (2, 2), (4, 4)]


def test_config_round_trip_and_misuse():
    m = create_model("dilated", dilations=[1, 3], widths=[16, 32, 64])
    assert m.config["dilations"] == [1, 3] and m.config["widths"] == [16, 32, 64]
    with pytest.raises(ConfigError, match="dilations"):
        create_model("dilated", dilations=[0, 2])
    with pytest.raises(ConfigError, match="widths"):
        create_model("dilated", widths=[])
    with pytest.raises(ConfigError, match="at most 5"):
        create_model("dilated", widths=[8] * 6)
    with pytest.raises(ConfigError, match="cannot be split"):
        create_model("dilated", widths=[2, 4], dilations=[1, 2, 3])
