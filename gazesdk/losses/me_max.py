"""ME-MAX, mean-entropy maximisation (Assran et al. 2022, MSN; used by FRA's relation loss):
a regulariser that keeps a batch's soft assignments from collapsing onto few prototypes by
maximising the entropy of their mean. Returned as a loss to minimise: -H(mean_b p_b) =
sum_k pbar_k log pbar_k.
"""

from __future__ import annotations

import torch


def me_max(probabilities: torch.Tensor, *, eps: float = 1e-12) -> torch.Tensor:
    """sum_k pbar_k log pbar_k for (..., K) probabilities averaged over all leading dims."""
    if probabilities.ndim < 2:
        raise ValueError(f"probabilities must be (..., K) with a batch, got shape "
                         f"{tuple(probabilities.shape)}")
    pbar = probabilities.reshape(-1, probabilities.shape[-1]).float().mean(0)
    return (pbar * torch.log(pbar + eps)).sum()
