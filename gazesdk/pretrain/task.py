"""What every pre-training task shares: two gaze-safe views per step, drawn from a generator
seeded by (seed, epoch, step, rank) so a resumed run sees the same views, and no labels.

A pre-training task *wraps* the gaze model in a network that adds its heads (projectors,
predictors, a momentum copy); the training loop then optimises, checkpoints and (under
torchrun) synchronises that whole network, and keeps only the gaze model at the end.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gazesdk.training.augment import GazeSafeAugment
from gazesdk.training.task import register_scheme, seeded_generator

PATCHES = ("face", "left_eye", "right_eye")


def freeze(*modules: nn.Module) -> None:
    """No gradient and no optimiser updates for these modules' parameters (parts a method
    does not train: under DDP every trained parameter must receive a gradient)."""
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(False)


def inputs(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    return batch["face"], batch["left_eye"], batch["right_eye"], batch["face_grid"]


def stack_views(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]
                ) -> dict[str, torch.Tensor]:
    """Two views of N samples as one batch of 2N (one forward pass for both)."""
    return {k: torch.cat([a[k], b[k]]) for k in (*PATCHES, "face_grid")}


class PretrainTask:
    """Base of the pre-training tasks: views, seeding, and the loop-facing attributes."""

    uses_labels = False

    def __init__(self, *, seed: int = 0, rank: int = 0,
                 augment: GazeSafeAugment | None = None) -> None:
        self.seed = int(seed)
        self.rank = int(rank)
        self.augment = augment if augment is not None else GazeSafeAugment()
        self.epoch = self.step = 0
        self.steps_per_epoch = 1
        self.net: nn.Module | None = None

    def wrap(self, model: nn.Module, *, steps_per_epoch: int, epochs: int) -> nn.Module:
        self.steps_per_epoch = steps_per_epoch
        self.total_steps = steps_per_epoch * epochs
        self.net = self.build(model)
        return self.net

    def build(self, model: nn.Module) -> nn.Module:
        raise NotImplementedError

    def begin_step(self, epoch: int, step: int) -> None:
        self.epoch, self.step = epoch, step

    @property
    def global_step(self) -> int:
        return self.epoch * self.steps_per_epoch + self.step

    def generator(self, salt: int = 0) -> torch.Generator:
        return seeded_generator(self.seed, self.epoch, self.step, self.rank, salt)

    def views(self, batch: dict[str, torch.Tensor]
              ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        g = self.generator()
        return self.augment(batch, generator=g), self.augment(batch, generator=g)


def register_pretraining(name: str, task: Callable[..., PretrainTask],
                         options: Callable[[object], dict], **fixed: object) -> None:
    """Register pre-training scheme ``name``: ``task(rank=, **fixed, **options(config))``
    (the training run's settings picked by ``options``; the gaze head and bins are unused)."""
    def make(*, head: str = "ordinal", bins: object = None, rank: int = 0,
             **kwargs: object) -> PretrainTask:
        return task(rank=rank, **fixed, **kwargs)

    make.config_options = options  # type: ignore[attr-defined]
    register_scheme(name)(make)
