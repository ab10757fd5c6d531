"""Barlow Twins (Zbontar et al. 2021, Eq. 1-2): the cross-correlation matrix of two views'
embeddings, each dimension standardised over the batch,
    C_ij = sum_b z1_bi z2_bj / N,
and the loss sum_i (1 - C_ii)^2 + lambda * sum_{i != j} C_ij^2: invariance on the diagonal,
redundancy reduction off it. :func:`redundancy_term` is the off-diagonal part alone, which the
semi-supervised contrastive regression adds to NT-Xent.
"""

from __future__ import annotations

import torch

from gazesdk.losses.nt_xent import _check_pair


def cross_correlation(z1: torch.Tensor, z2: torch.Tensor, *, eps: float = 1e-5) -> torch.Tensor:
    """C (D, D) of Eq. 2: batch-standardised embeddings (biased std, as batch norm)."""
    _check_pair(z1, z2)

    def standardise(z: torch.Tensor) -> torch.Tensor:
        z = z.float()
        return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + eps)

    return standardise(z1).T @ standardise(z2) / len(z1)


def _off_diagonal(c: torch.Tensor) -> torch.Tensor:
    return c - torch.diag(torch.diagonal(c))


def redundancy_term(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """sum_{i != j} C_ij^2: how much the embedding dimensions correlate with each other."""
    return _off_diagonal(cross_correlation(z1, z2)).pow(2).sum()


def barlow_twins_loss(z1: torch.Tensor, z2: torch.Tensor, *,
                      lambda_offdiag: float = 5e-3) -> torch.Tensor:
    """Eq. 1: sum_i (1 - C_ii)^2 + lambda sum_{i != j} C_ij^2 (lambda 5e-3, the paper's)."""
    c = cross_correlation(z1, z2)
    return (1 - torch.diagonal(c)).pow(2).sum() + lambda_offdiag * _off_diagonal(c).pow(2).sum()
