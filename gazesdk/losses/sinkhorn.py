"""Sinkhorn-Knopp normalisation of assignment targets (Cuturi 2013, as used by SwAV and MSN, and
by FRA's semantic relation loss): turn scores of B items against K prototypes into soft
assignments whose prototypes are used equally often across the batch.

Q = exp(scores / epsilon), then alternately make every prototype's total mass 1/K and every
item's total mass 1/B; the result is scaled so each item's row sums to 1.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def sinkhorn_knopp(scores: torch.Tensor, *, epsilon: float = 0.05,
                   iterations: int = 3) -> torch.Tensor:
    """(B, K) scores -> (B, K) assignments, rows summing to 1, columns to B/K (after the last
    iteration's row step, columns are equal only approximately). Carries no gradient."""
    if scores.ndim != 2:
        raise ValueError(f"scores must be (B, K), got shape {tuple(scores.shape)}")
    if epsilon <= 0 or iterations < 1:
        raise ValueError("epsilon must be > 0 and iterations >= 1")
    b, k = scores.shape
    s = scores.double() / epsilon
    q = torch.exp(s - s.max())                       # the constant cancels in the normalisation
    q /= q.sum()
    for _ in range(iterations):
        q /= q.sum(dim=0, keepdim=True)
        q /= k                                       # each prototype: mass 1/K
        q /= q.sum(dim=1, keepdim=True)
        q /= b                                       # each item: mass 1/B
    return (q * b).to(scores.dtype)
