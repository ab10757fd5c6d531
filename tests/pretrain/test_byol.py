"""BYOL: the momentum network follows xi <- tau xi + (1 - tau) theta before every step, with
tau from the cosine schedule, and never receives a gradient."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch

from gazesdk.losses.byol import byol_symmetric
from gazesdk.models import create_model
from gazesdk.pretrain.byol import BYOLTask
from gazesdk.pretrain.ema import momentum_at


def test_target_update_and_loss():
    torch.manual_seed(0)
    task = BYOLTask(seed=1, momentum=0.9)
    net = task.wrap(create_model("compact"), steps_per_epoch=5, epochs=2)
    batch = random_batch(4)
    del batch["gaze"]
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
    task.begin_step(0, 0)
    before = net.target["gaze"].face.stem.conv.weight.clone()
    assert torch.equal(before, net.gaze.face.stem.conv.weight)       # starts as a copy
    losses = task(net, batch)
    out = net(*task.views(batch))
    assert float(losses["loss"].detach()) == pytest.approx(
        float(byol_symmetric(out["q1"], out["t2"], out["q2"], out["t1"]).detach()), rel=1e-5)
    opt.zero_grad()
    losses["loss"].backward()
    assert all(p.grad is None for p in net.target.parameters())
    opt.step()
    online = net.gaze.face.stem.conv.weight.detach().clone()
    assert not torch.equal(online, before)
    task.begin_step(0, 1)                  # the update for step 0 happens here
    tau = momentum_at(0, 10, base=0.9)
    assert torch.allclose(net.target["gaze"].face.stem.conv.weight,
                          tau * before + (1 - tau) * online, atol=1e-7)
    with pytest.raises(ValueError, match="momentum"):
        BYOLTask(momentum=1.5)
