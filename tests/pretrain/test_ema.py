"""The momentum network: the EMA update and BYOL's cosine schedule, worked by hand."""

from __future__ import annotations

import math

import pytest
import torch

from gazesdk.pretrain.ema import ema_update, momentum_at, momentum_copy


def test_schedule_endpoints_and_midpoint():
    assert momentum_at(0, 100) == pytest.approx(0.996)
    assert momentum_at(100, 100) == pytest.approx(1.0)
    assert momentum_at(50, 100) == pytest.approx(1 - 0.004 * 0.5)
    assert momentum_at(25, 100, base=0.9) == pytest.approx(
        1 - 0.1 * (math.cos(math.pi / 4) + 1) / 2)
    assert momentum_at(500, 100) == 1.0                        # clamped past the end
    with pytest.raises(ValueError):
        momentum_at(0, 0)


def test_update_is_the_weighted_average_and_copies_buffers():
    torch.manual_seed(0)
    online = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    target = momentum_copy(online)
    assert all(not p.requires_grad for p in target.parameters())
    before = [p.clone() for p in target.parameters()]
    with torch.no_grad():
        for p in online.parameters():
            p.add_(1.0)
    online.train()(torch.randn(8, 3))                          # moves the BN statistics
    ema_update(target, online, momentum=0.9)
    for t, b, o in zip(target.parameters(), before, online.parameters(), strict=True):
        assert torch.allclose(t, 0.9 * b + 0.1 * o)
    assert torch.equal(target[1].running_mean, online[1].running_mean)
    ema_update(target, online, momentum=0.0)                   # 0: a plain copy
    assert all(torch.equal(t, o) for t, o in zip(target.parameters(), online.parameters(),
                                                  strict=True))
    with pytest.raises(ValueError, match="momentum"):
        ema_update(target, online, momentum=1.5)
    with pytest.raises(ValueError, match="structure"):
        ema_update(torch.nn.Linear(3, 4), online, momentum=0.5)
