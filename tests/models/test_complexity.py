"""Parameter and multiply-add counts, checked against hand arithmetic."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gazesdk.models import count_macs, count_params, create_model


def test_macs_of_a_tiny_hand_built_network():
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),                 # 8x8 out: 4*8*8 * 3*3*3 = 6912
        nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4),   # depthwise, 4x4: 4*4*4 * 1*9 = 576
        nn.Conv2d(4, 6, 1),                            # 4x4: 6*4*4 * 4 = 384
        nn.Flatten(1),
        nn.Linear(96, 10),                             # 960
    )
    assert count_macs(net, (torch.zeros(1, 3, 8, 8),)) == 6912 + 576 + 384 + 960
    # weights + biases: 108+4, 36+4, 24+6, 960+10
    assert count_params(net) == 112 + 40 + 30 + 970


def test_a_module_run_twice_is_counted_twice():
    lin = nn.Linear(5, 7)

    class Twice(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return lin(x) + lin(x)

    twice = Twice()
    twice.lin = lin
    assert count_macs(twice, (torch.zeros(1, 5),)) == 2 * 35
    assert count_params(twice) == 42                     # shared parameters once


def test_casia_macs_by_hand():
    # 3x3 convs, padding 1: MACs = H*W * cout * cin * 9, at 64, 64, 32, 32, 16, 16, 8, 8, 4, 4.
    convs = [
        64 * 64 * 32 * 3 * 9,      # conv11    3 ->  32:  3,538,944
        64 * 64 * 64 * 32 * 9,     # conv12   32 ->  64: 75,497,472
        32 * 32 * 64 * 64 * 9,     # conv21   64 ->  64: 37,748,736
        32 * 32 * 128 * 64 * 9,    # conv22   64 -> 128: 75,497,472
        16 * 16 * 96 * 128 * 9,    # conv31  128 ->  96: 28,311,552
        16 * 16 * 192 * 96 * 9,    # conv32   96 -> 192: 42,467,328
        8 * 8 * 128 * 192 * 9,     # conv41  192 -> 128: 14,155,776
        8 * 8 * 256 * 128 * 9,     # conv42  128 -> 256: 18,874,368
        4 * 4 * 160 * 256 * 9,     # conv51  256 -> 160:  5,898,240
        4 * 4 * 320 * 160 * 9,     # conv52  160 -> 320:  7,372,800
    ]
    branch = sum(convs) + 320 * 128                      # + fc 320 -> 128
    assert sum(convs) == 309_362_688 and branch == 309_403_648
    grid = 625 * 256 + 256 * 128                         # face-grid MLP
    fc = 512 * 128                                       # (3 x 128 + 128) -> 128
    head = 128 * 2 * 133                                 # ordinal head, 133 bins per axis
    model = create_model("casia")
    assert count_macs(model.face, (torch.zeros(1, 3, 64, 64),)) == branch
    # face + the shared eye branch twice
    assert count_macs(model) == 3 * branch + grid + fc + head == 928_503_296
    no_grid = create_model("casia", face_grid=False, head="l2")
    assert count_macs(no_grid) == 3 * branch + 384 * 128 + 128 * 2


def test_compact_is_at_least_10x_cheaper_than_casia():
    casia, compact = create_model("casia"), create_model("compact")
    assert count_macs(compact) * 10 <= count_macs(casia)
    assert count_params(compact) < count_params(casia)
    # the eye branch's parameters are counted once though it runs twice
    parts = [casia.face, casia.eye, casia.grid, casia.fc, casia.head]
    assert count_params(casia) == sum(count_params(p) for p in parts)


def test_count_macs_misuse():
    with pytest.raises(TypeError, match="needs inputs"):
        count_macs(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="no face-grid branch"):
        count_macs(create_model("compact", face_grid=False), face_grid=True)
    model = create_model("compact").train()
    count_macs(model)
    assert model.training                                # mode restored
