"""SimCLR / Barlow Twins / contrastive regression tasks: the loss is the equation on the
projected embeddings of the two views, the head is untouched and labels are never read."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch

from gazesdk.losses.barlow_twins import barlow_twins_loss, redundancy_term
from gazesdk.losses.nt_xent import nt_xent
from gazesdk.models import create_model
from gazesdk.pretrain.contrastive import ContrastiveTask


def _setup(method: str, **kw: object):
    torch.manual_seed(0)
    task = ContrastiveTask(method=method, seed=3, **kw)
    net = task.wrap(create_model("compact"), steps_per_epoch=4, epochs=1)
    batch = random_batch(6)
    del batch["gaze"]
    task.begin_step(0, 2)
    return task, net, batch


@pytest.mark.parametrize("method", ["simclr", "barlow-twins", "contrastive-regression"])
def test_loss_is_the_equation_on_the_two_views(method):
    task, net, batch = _setup(method, gamma=0.1, temperature=0.3)
    losses = task(net, batch)
    z1, z2 = net(*task.views(batch))           # the same views: the generator is keyed
    want = {"simclr": lambda: nt_xent(z1, z2, temperature=0.3),
            "barlow-twins": lambda: barlow_twins_loss(z1, z2),
            "contrastive-regression": lambda: nt_xent(z1, z2, temperature=0.3)
            + 0.1 * redundancy_term(z1, z2)}[method]()
    assert float(losses["loss"].detach()) == pytest.approx(float(want.detach()), rel=1e-5)
    losses["loss"].backward()
    assert net.gaze.head.linear.weight.grad is None               # the head is frozen
    assert net.gaze.face.stem.conv.weight.grad is not None


def test_views_differ_and_depend_on_the_step():
    task, _, batch = _setup("simclr")
    a, b = task.views(batch)
    assert not torch.equal(a["face"], b["face"])
    task.begin_step(0, 3)
    c, _ = task.views(batch)
    assert not torch.equal(a["face"], c["face"])
    task.begin_step(0, 2)
    assert torch.equal(task.views(batch)[0]["face"], a["face"])
    with pytest.raises(ValueError, match="unknown contrastive"):
        ContrastiveTask(method="moco")
