"""Random knowledge distillation (RKD): the teachers of TAT (Guo et al., section 3.1, Eq. 4).

After each mini-generation the weights are added to a teacher pool. In later mini-generations
each training step draws a teacher and adds the ordinal loss against its sigmoid outputs as
soft labels. Teachers much worse than the best one are not informative and are never chosen:
a teacher is eligible while its validation error is at most ``max_ratio_to_best`` times the
pool's best. Rules (the paper's Table 2): ``random`` (one eligible teacher per step, uniformly),
``last`` (the newest eligible), ``best`` (the lowest validation error), ``mean`` (the average
of all eligible teachers' sigmoids). Teachers are frozen copies in eval mode: no gradient
reaches them and their BatchNorm statistics never change; one forward per chosen teacher.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gazesdk.errors import ConfigError

RULES = ("random", "last", "best", "mean")


class TeacherPool:
    """Frozen earlier generations of a model, and the rule that picks this step's teacher."""

    def __init__(self, *, rule: str = "random", max_ratio_to_best: float = 1.2) -> None:
        if rule not in RULES:
            raise ConfigError(f"unknown teacher rule {rule!r}; expected one of {RULES}")
        if max_ratio_to_best < 1.0:
            raise ConfigError("max_ratio_to_best must be >= 1 (1 keeps only the best)")
        self.rule = rule
        self.max_ratio_to_best = max_ratio_to_best
        self.teachers: list[nn.Module] = []
        self.val_errors: list[float] = []

    def __len__(self) -> int:
        return len(self.teachers)

    def add(self, model: nn.Module, val_error_cm: float) -> None:
        """Freeze a copy of ``model`` (the weights at the end of a mini-generation)."""
        teacher = copy.deepcopy(getattr(model, "module", model)).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
        self.teachers.append(teacher)
        self.val_errors.append(float(val_error_cm))

    def eligible(self) -> list[int]:
        if not self.teachers:
            return []
        best = min(self.val_errors)
        return [i for i, e in enumerate(self.val_errors) if e <= self.max_ratio_to_best * best]

    def choose(self, generator: torch.Generator | None = None) -> list[int]:
        """The teachers this step learns from, by the pool's rule."""
        ok = self.eligible()
        if not ok:
            raise ConfigError("the teacher pool is empty")
        if self.rule == "random":
            return [ok[int(torch.randint(len(ok), (1,), generator=generator))]]
        if self.rule == "last":
            return [ok[-1]]
        if self.rule == "best":
            return [min(ok, key=lambda i: self.val_errors[i])]
        return ok

    @torch.no_grad()
    def soft_targets(self, inputs: tuple[torch.Tensor, ...],
                     generator: torch.Generator | None = None,
                     chosen: list[int] | None = None) -> torch.Tensor:
        """(N, 2, B) mean sigmoid outputs on ``inputs`` of the teachers ``chosen`` (default:
        chosen now by the pool's rule)."""
        if chosen is None:
            chosen = self.choose(generator)
        elif not set(chosen) <= set(self.eligible()):
            raise ConfigError(f"teachers {chosen} are not all eligible ({self.eligible()})")
        outs = [torch.sigmoid(self.teachers[i](*inputs).float()) for i in chosen]
        return torch.stack(outs).mean(0)
