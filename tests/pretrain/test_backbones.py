"""Every pre-training method and HMTL co-training on both product backbones (one step each,
gradient reaching the first convolution), including casia's five stages."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch

from gazesdk.models import create_model
from gazesdk.training.config import PRETRAIN_SCHEMES, TrainConfig
from gazesdk.training.loop import bins_of
from gazesdk.training.task import task_from_config


@pytest.mark.parametrize("backbone", ["casia", "compact"])
@pytest.mark.parametrize("settings", [{"scheme": s} for s in PRETRAIN_SCHEMES]
                         + [{"aux": "puzzle-rotation", "aux_branch": 4}])
def test_one_step_on_each_backbone(backbone, settings):
    if backbone == "compact" and settings.get("aux_branch") == 4:
        settings = {**settings, "aux_branch": 3}
    config = TrainConfig.from_dict({"model": backbone, **settings})
    torch.manual_seed(0)
    model = create_model(backbone, bins=bins_of(config))
    task = task_from_config(config, bins_of(config))
    net = task.wrap(model, steps_per_epoch=2, epochs=1)
    task.begin_step(0, 0)
    batch = random_batch(4)
    if config.pretraining:
        del batch["gaze"]
    losses = task(net, batch)
    losses["loss"].backward()
    first = model.face.conv11.weight if backbone == "casia" else model.face.stem.conv.weight
    assert first.grad is not None and torch.isfinite(first.grad).all()
