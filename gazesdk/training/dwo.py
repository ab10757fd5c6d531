"""DwO: adversarial training on the ordinal center bins, against jitter (Guo et al., section
3.2), as a task on the one training loop.

Each batch keeps a fraction ``org`` of its samples as they are (the paper's Org., default 90%)
and replaces the rest with PGD adversarial versions (Eq. 13-14, :mod:`gazesdk.training.pgd`):
the three patches are perturbed (the face grid is not) to increase the ordinal loss restricted
to the 2k bins around the current prediction (:mod:`gazesdk.losses.center_bins`; the paper's
best is 8 center bins, k = 4). The model then trains on the mixed batch with the objective of
the base scheme: plain ordinal (``dwo``) or TAT's Eq. 9 (``tat_dwo``).

The attack runs on the bare network (not the DDP wrapper, so no gradient synchronisation is
started), in the network's current mode, with BatchNorm running statistics restored afterwards:
the attack's forward passes leave no trace in the model. Which samples are attacked is drawn
over the global batch from a generator seeded by (seed, epoch, step): a resumed run repeats it,
and under torchrun the processes together attack the same share as one process would (each
attacks the chosen rows of its own slice), with Org.% rounded half up on the global batch.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import torch
from torch import nn

from gazesdk.errors import ConfigError
from gazesdk.losses.center_bins import center_bin_loss
from gazesdk.losses.ordinal import OrdinalBins, ordinal_encode
from gazesdk.training.pgd import pgd_attack, pixel_scale
from gazesdk.training.supervised import SupervisedTask
from gazesdk.training.task import Task, register_scheme, seeded_generator
from gazesdk.training.tat import TATTask

PATCHES = ("face", "left_eye", "right_eye")
CENTER_BINS = (0, 32, 16, 8)        # 0: all bins; the paper's Table 5 settings


@contextmanager
def bn_statistics_kept(model: nn.Module):  # noqa: ANN201
    """Run forward passes without changing any BatchNorm running statistic."""
    saved = [(m, m.running_mean.clone(), m.running_var.clone(),
              m.num_batches_tracked.clone() if m.num_batches_tracked is not None else None)
             for m in model.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, mean, var, count in saved:
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                if count is not None:
                    m.num_batches_tracked.copy_(count)


class DwOTask:
    """Adversarial samples on the center bins, then the base task on the mixed batch."""

    def __init__(self, base: Task, *, bins: OrdinalBins, center_bins: int = 8, steps: int = 1,
                 org: float = 0.9, eps: float = 3.0, gamma: float = 1.0, seed: int = 0,
                 rank: int = 0, world: int = 1) -> None:
        if center_bins < 0 or center_bins % 2:
            raise ConfigError(f"center_bins must be 0 (all bins) or an even number of bins, "
                              f"got {center_bins}")
        if steps < 1:
            raise ConfigError(f"DwO needs at least one PGD step, got {steps}")
        if not 0.0 <= org <= 1.0:
            raise ConfigError(f"org (the fraction of original samples) must be in [0, 1], "
                              f"got {org}")
        if eps < 0 or gamma <= 0:
            raise ConfigError(f"DwO needs eps >= 0 and gamma > 0, got {eps} and {gamma}")
        if not 0 <= rank < world:
            raise ConfigError(f"rank {rank} is not in a world of {world} processes")
        self.base = base
        self.bins = bins
        self.half_width = center_bins // 2
        self.steps = steps
        self.org = org
        self.eps = pixel_scale(eps)          # the paper's 0-255 values -> [0, 1] inputs
        self.gamma = pixel_scale(gamma)
        self.seed = seed
        self.rank = rank
        self.world = world
        self._rng = seeded_generator(seed, 7)

    @staticmethod
    def base_options(config) -> dict:  # noqa: ANN001 - a TrainConfig
        return {"center_bins": config.dwo_center_bins, "steps": config.dwo_steps,
                "org": config.dwo_org, "eps": config.dwo_eps, "gamma": config.dwo_gamma,
                "seed": config.seed}

    # The loop's optional hooks go to the base task (TAT's schedule, state, log).
    @property
    def needs_validation(self) -> bool:
        return bool(getattr(self.base, "needs_validation", False))

    @property
    def log(self) -> list[dict]:
        return getattr(self.base, "log", [])

    def begin_step(self, epoch: int, step: int) -> None:
        self._rng = seeded_generator(self.seed, 7, 1 + epoch, step)
        if hasattr(self.base, "begin_step"):
            self.base.begin_step(epoch, step)

    def end_of_epoch(self, **kwargs: object) -> dict:
        return self.base.end_of_epoch(**kwargs) if hasattr(self.base, "end_of_epoch") else {}

    def state_dict(self) -> dict | None:
        return self.base.state_dict() if hasattr(self.base, "state_dict") else None

    def load_state_dict(self, state: dict, model: nn.Module) -> None:
        if hasattr(self.base, "load_state_dict"):
            self.base.load_state_dict(state, model)

    def adversarial(self, model: nn.Module, batch: dict[str, torch.Tensor]
                    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The batch with 1 - org of its samples replaced by PGD samples; also their rows."""
        n = len(batch["gaze"])
        n_global = n * self.world            # the loop gives every process an equal share
        n_adv = math.floor((1.0 - self.org) * n_global + 0.5)
        chosen = torch.randperm(n_global, generator=self._rng)[:n_adv]
        # Global row j of the batch is row j // world of process j % world (the loop's split).
        rows = (chosen[chosen % self.world == self.rank] // self.world).sort().values
        if not len(rows):
            return batch, rows
        device = batch["gaze"].device
        idx = rows.to(device)
        net = getattr(model, "module", model)
        grid = batch["face_grid"][idx]
        geometry = batch["eye_geometry"][idx] if "eye_geometry" in batch else None
        target = ordinal_encode(batch["gaze"][idx], self.bins)

        def loss(face: torch.Tensor, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
            return center_bin_loss(net(face, left, right, grid, geometry).float(), target,
                                   half_width=self.half_width)

        with bn_statistics_kept(net):
            adv = pgd_attack(loss, [batch[k][idx] for k in PATCHES], eps=self.eps,
                             gamma=self.gamma, steps=self.steps)
        out = dict(batch)
        for k, x in zip(PATCHES, adv, strict=True):
            out[k] = batch[k].clone()
            out[k][idx] = x.to(batch[k].dtype)
        return out, rows

    def __call__(self, model: nn.Module, batch: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]:
        mixed, rows = self.adversarial(model, batch)
        named = self.base(model, mixed)
        named["metric_adversarial_fraction"] = torch.tensor(len(rows) / len(batch["gaze"]))
        return named


def _check_ordinal(head: str, bins: OrdinalBins | None) -> OrdinalBins:
    if head != "ordinal" or bins is None:
        raise ConfigError("DwO attacks the ordinal center bins: it needs the ordinal head")
    return bins


@register_scheme("dwo")
class SupervisedDwO(DwOTask):
    """DwO on the plain ordinal objective."""

    def __init__(self, *, head: str = "ordinal", bins: OrdinalBins | None = None,
                 rank: int = 0, world: int = 1, **dwo: object) -> None:
        bins = _check_ordinal(head, bins)
        super().__init__(SupervisedTask(head=head, bins=bins), bins=bins, rank=rank,
                         world=world, **dwo)

    @classmethod
    def config_options(cls, config) -> dict:  # noqa: ANN001 - a TrainConfig
        return cls.base_options(config)


@register_scheme("tat_dwo")
class TATDwO(DwOTask):
    """DwO together with TAT: adversarial samples inside TAT's Eq. 9 objective."""

    def __init__(self, *, head: str = "ordinal", bins: OrdinalBins | None = None,
                 rank: int = 0, world: int = 1, tat: dict | None = None, **dwo: object) -> None:
        bins = _check_ordinal(head, bins)
        super().__init__(TATTask(head=head, bins=bins, rank=rank, **(tat or {})), bins=bins,
                         rank=rank, world=world, **dwo)

    @classmethod
    def config_options(cls, config) -> dict:  # noqa: ANN001 - a TrainConfig
        return {**cls.base_options(config), "tat": TATTask.config_options(config)}
