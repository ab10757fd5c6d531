"""TAT, "tolerant and talented" training (Guo et al., section 3.1, Algorithm 1), as a task on
the one training loop.

Training runs in K mini-generations; the first has L + 1 epochs (one warm-up epoch), the
others L. Every step optimises Eq. 9,

    l_hard * Loss_hard + l_mix * Loss_mix + l_teacher * Loss_teacher,

with Loss_hard the ordinal loss on the batch (Eq. 2), Loss_mix the ordinal loss on its mixup
(Eq. 8, :mod:`gazesdk.training.mixup`) and Loss_teacher the ordinal loss against the sigmoid
outputs of a teacher drawn from earlier mini-generations (RKD, Eq. 4,
:mod:`gazesdk.training.rkd`; from the second mini-generation on). After every mini-generation
but the last, the weights join the teacher pool with their validation error, the most
redundant filters are chosen by cosine similarity (CSP, Eq. 5, :mod:`gazesdk.training.csp`)
and re-born (AOI, Eq. 6-7, :mod:`gazesdk.training.aoi`), and the optimiser forgets its moments
for the re-born weights, so they start fresh.

Choices the paper leaves open, made here: the batch and its mixup go through the network in
one forward pass (BatchNorm sees both); each mini-generation gets its own one-cycle learning
rate schedule (the ``generations`` schedule of the loop) so re-born filters train at a useful
rate; in the first mini-generation, with no teacher yet, the loss is the first two terms.
Every random draw (mixup partners and weights, the teacher, the re-born filters) comes from a
generator seeded by (seed, epoch, step), so a resumed run repeats them exactly; under torchrun
every process draws the same teacher and re-births the same filters, and mixes its own share of
the batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn

from gazesdk.errors import ConfigError
from gazesdk.losses.ordinal import OrdinalBins, ordinal_decode, ordinal_encode, ordinal_loss
from gazesdk.training.aoi import METHODS as REINITS
from gazesdk.training.aoi import reinit_filters
from gazesdk.training.csp import prunable_layers, select_filters
from gazesdk.training.mixup import mixup
from gazesdk.training.rkd import TeacherPool
from gazesdk.training.supervised import model_inputs
from gazesdk.training.task import register_scheme, seeded_generator

PRUNINGS = ("csp", "repr", "none")


@dataclass(frozen=True)
class Generations:
    """Algorithm 1's schedule: ``count`` (K) mini-generations of ``epochs`` (L) epochs, the
    first with one warm-up epoch more."""

    count: int = 5
    epochs: int = 7

    def __post_init__(self) -> None:
        if self.count < 1 or self.epochs < 1:
            raise ConfigError("mini-generations need count >= 1 and epochs >= 1")

    @property
    def total_epochs(self) -> int:
        return self.count * self.epochs + 1

    def bounds(self) -> list[tuple[int, int]]:
        """(first epoch, end epoch) of each mini-generation, 0-based, end exclusive."""
        ends = [self.epochs + 1 + k * self.epochs for k in range(self.count)]
        return list(zip([0, *ends[:-1]], ends, strict=True))

    def index(self, epoch: int) -> int:
        """The mini-generation that 0-based ``epoch`` belongs to."""
        for k, (start, end) in enumerate(self.bounds()):
            if start <= epoch < end:
                return k
        raise ValueError(f"epoch {epoch} is outside the {self.total_epochs} epochs")


MOMENTUM_STATE = ("exp_avg", "momentum_buffer")     # Adam(W)'s first moment, SGD's momentum


@torch.no_grad()
def forget_optimizer_rows(optimizer: torch.optim.Optimizer, param: torch.Tensor,
                          indices: torch.Tensor) -> None:
    """Zero the momentum (Adam's first moment, SGD's momentum buffer) of rows ``indices`` of
    ``param``: a re-born filter does not keep moving in its predecessor's direction. Adam's
    second moment is kept: zeroing it while the shared step count keeps its bias correction
    near 1 would make the re-born rows' first updates several times the learning rate."""
    state = optimizer.state.get(param)
    if not state:
        return
    for name in MOMENTUM_STATE:
        value = state.get(name)
        if isinstance(value, torch.Tensor) and value.shape == param.shape:
            value[indices.to(value.device)] = 0


@register_scheme("tat")
class TATTask:
    """TAT's objective (Eq. 9) and its end-of-mini-generation step (Algorithm 1)."""

    needs_validation = True

    def __init__(self, *, head: str = "ordinal", bins: OrdinalBins | None = None,
                 generations: int = 5, generation_epochs: int = 7,
                 prune_fraction: float = 0.2, max_layer_fraction: float = 0.5,
                 pruning: str = "csp", reinit: str = "aoi", teacher: str = "random",
                 teacher_max_ratio: float = 1.2, l_hard: float = 0.2, l_mix: float = 0.4,
                 l_teacher: float = 0.6, seed: int = 0, rank: int = 0) -> None:
        if head != "ordinal" or bins is None:
            raise ConfigError("TAT distils ordinal outputs: it needs the ordinal head and bins")
        if pruning not in PRUNINGS:
            raise ConfigError(f"unknown pruning {pruning!r}; expected one of {PRUNINGS}")
        if reinit not in REINITS:
            raise ConfigError(f"unknown re-initialisation {reinit!r}; expected one of {REINITS}")
        if not 0.0 <= prune_fraction <= 1.0 or not 0.0 < max_layer_fraction <= 1.0:
            raise ConfigError("prune_fraction must be in [0, 1] and max_layer_fraction in (0, 1]")
        if min(l_hard, l_mix, l_teacher) < 0 or l_hard + l_mix <= 0:
            raise ConfigError("the Eq. 9 weights must be >= 0 with l_hard + l_mix > 0")
        self.bins = bins
        self.schedule = Generations(generations, generation_epochs)
        self.prune_fraction = prune_fraction
        self.max_layer_fraction = max_layer_fraction
        self.pruning = pruning
        self.reinit = reinit
        self.pool = TeacherPool(rule=teacher, max_ratio_to_best=teacher_max_ratio)
        self.weights = {"hard": l_hard, "mix": l_mix, "teacher": l_teacher}
        self.seed = seed
        self.rank = rank
        self.log: list[dict] = []
        self._choices: Counter[int] = Counter()
        self._rng = seeded_generator(seed, rank)
        self._teacher_rng = seeded_generator(seed)
        self._checked = False

    @classmethod
    def config_options(cls, config) -> dict:  # noqa: ANN001 - a TrainConfig
        return {"generations": config.tat_generations,
                "generation_epochs": config.tat_generation_epochs,
                "prune_fraction": config.tat_prune_fraction,
                "max_layer_fraction": config.tat_max_layer_fraction,
                "pruning": config.tat_pruning, "reinit": config.tat_reinit,
                "teacher": config.tat_teacher, "teacher_max_ratio": config.tat_teacher_max_ratio,
                "l_hard": config.tat_l_hard, "l_mix": config.tat_l_mix,
                "l_teacher": config.tat_l_teacher, "seed": config.seed}

    def begin_step(self, epoch: int, step: int) -> None:
        self._rng = seeded_generator(self.seed, 1 + epoch, step, self.rank)  # mixup: own share
        self._teacher_rng = seeded_generator(self.seed, 1 + epoch, step)  # one teacher a step

    def __call__(self, model: nn.Module, batch: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]:
        if not self._checked:       # fail on the first step, not after a whole generation
            if self.pruning != "none" and not prunable_layers(getattr(model, "module", model)):
                raise ConfigError("TAT prunes convolutions followed by BatchNorm, and this model "
                                  "has none; use tat_pruning none or another model")
            self._checked = True
        gaze = batch["gaze"]
        n = len(gaze)
        inputs = model_inputs(batch)
        mixed = mixup(batch, generator=self._rng)
        both = tuple(torch.cat([a, b]) for a, b in zip(inputs, model_inputs(mixed.batch),
                                                       strict=True))
        out = model(*both).float()
        hard_out, mix_out = out[:n], out[n:]
        loss_hard = ordinal_loss(hard_out, ordinal_encode(gaze, self.bins))        # Eq. 2
        loss_mix = ordinal_loss(mix_out, mixed.ordinal_targets(gaze, self.bins))   # Eq. 8
        total = self.weights["hard"] * loss_hard + self.weights["mix"] * loss_mix
        named = {"hard": loss_hard.detach(), "mix": loss_mix.detach()}
        if self.weights["teacher"] > 0 and self.pool.eligible():   # no forward for weight 0
            chosen = self.pool.choose(self._teacher_rng)
            self._choices.update(chosen)
            soft = self.pool.soft_targets(inputs, chosen=chosen)
            loss_teacher = ordinal_loss(hard_out, soft)                            # Eq. 4
            total = total + self.weights["teacher"] * loss_teacher                 # Eq. 9
            named["teacher"] = loss_teacher.detach()
        named["loss"] = total
        pred = ordinal_decode(hard_out.detach(), self.bins)
        named["metric_error_cm"] = (pred - gaze).norm(dim=1).mean()
        return named

    def end_of_epoch(self, *, epoch: int, model: nn.Module, optimizer: torch.optim.Optimizer,
                     val_error_cm: float, train_error_cm: float) -> dict:
        """After 0-based ``epoch``: at the end of a mini-generation, log it and (but the last)
        add the teacher, prune and re-birth. Returns entries for the epoch's history row."""
        k = self.schedule.index(epoch)
        start, end = self.schedule.bounds()[k]
        if epoch + 1 != end:
            return {"generation": k}
        entry = {"generation": k, "epochs": [start + 1, end], "val_error_cm": val_error_cm,
                 "train_error_cm": train_error_cm,
                 "teacher_choices": {str(i): c for i, c in sorted(self._choices.items())},
                 "teachers_eligible": self.pool.eligible()}
        self._choices = Counter()
        reborn = 0
        if k + 1 < self.schedule.count:
            self.pool.add(model, val_error_cm)
            entry["pruned"] = self._prune_and_rebirth(model, optimizer, k)
            reborn = sum(entry["pruned"].values())
        entry["reborn"] = reborn
        self.log.append(entry)
        return {"generation": k, "reborn": reborn}

    def _prune_and_rebirth(self, model: nn.Module, optimizer: torch.optim.Optimizer,
                           k: int) -> dict[str, int]:
        if self.pruning == "none" or self.prune_fraction == 0:
            return {}
        chosen = select_filters(model, fraction=self.prune_fraction,
                                max_layer_fraction=self.max_layer_fraction, method=self.pruning)
        layers = {layer.name: layer for layer in prunable_layers(model)}
        gen = seeded_generator(self.seed, 10_000 + k)
        for name, idx in chosen.items():
            layer = layers[name]
            reinit_filters(layer, idx, method=self.reinit, generator=gen)
            for param in (layer.conv.weight, layer.conv.bias, layer.bn.weight, layer.bn.bias):
                if param is not None:
                    forget_optimizer_rows(optimizer, param, idx)
        return {name: len(idx) for name, idx in chosen.items()}

    def state_dict(self) -> dict:
        """Teachers (weights and validation errors), the log and the running teacher counts."""
        return {"teachers": [t.state_dict() for t in self.pool.teachers],
                "val_errors": list(self.pool.val_errors), "log": self.log,
                "choices": {str(i): c for i, c in self._choices.items()}}

    def load_state_dict(self, state: dict, model: nn.Module) -> None:
        """Restore :meth:`state_dict`; ``model`` gives the teachers' architecture."""
        self.pool.teachers.clear()
        self.pool.val_errors.clear()
        for weights, err in zip(state["teachers"], state["val_errors"], strict=True):
            self.pool.add(model, err)
            self.pool.teachers[-1].load_state_dict(weights)
        self.log = list(state["log"])
        self._choices = Counter({int(i): int(c) for i, c in state["choices"].items()})
