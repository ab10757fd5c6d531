"""The momentum (target) network of BYOL (Grill et al. 2020, section 3.1) and FRA: an
exponential moving average of the online network's weights,

    xi <- tau xi + (1 - tau) theta,

with tau raised from tau_base to 1 over training by a cosine schedule,
tau_k = 1 - (1 - tau_base) (cos(pi k / K) + 1) / 2. Buffers (BatchNorm statistics) are copied.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def momentum_at(step: int, total_steps: int, *, base: float = 0.996) -> float:
    """tau_k of BYOL's cosine schedule: ``base`` at step 0, 1 at ``total_steps``."""
    if total_steps < 1 or not 0.0 <= base <= 1.0:
        raise ValueError("total_steps must be >= 1 and base in [0, 1]")
    k = min(max(step, 0), total_steps)
    return 1.0 - (1.0 - base) * (math.cos(math.pi * k / total_steps) + 1.0) / 2.0


def momentum_copy(online: nn.Module) -> nn.Module:
    """A frozen copy of ``online`` to serve as the target network."""
    target = copy.deepcopy(online)
    for p in target.parameters():
        p.requires_grad_(False)
    return target


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, *, momentum: float) -> None:
    """xi <- momentum * xi + (1 - momentum) * theta for every parameter; buffers copied."""
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1], got {momentum}")
    t_params, o_params = list(target.parameters()), list(online.parameters())
    if len(t_params) != len(o_params):
        raise ValueError("target and online networks differ in structure")
    for t, o in zip(t_params, o_params, strict=True):
        t.mul_(momentum).add_(o.detach(), alpha=1.0 - momentum)
    for t, o in zip(target.buffers(), online.buffers(), strict=True):
        t.copy_(o)
