"""BYOL's regression loss (Grill et al. 2020, Eq. 2): the online network's prediction q of one
view regresses the momentum (target) network's projection z' of the other view,
    L = || q/||q|| - z'/||z'|| ||^2 = 2 - 2 cos(q, z'),
with no gradient into the target; symmetrised over the two views (L + L~), batch mean.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def byol_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """2 - 2 cos(prediction, target) per sample, averaged; ``target`` gets no gradient."""
    if prediction.shape != target.shape or prediction.ndim != 2:
        raise ValueError(f"prediction and target must both be (N, D), got "
                         f"{tuple(prediction.shape)} and {tuple(target.shape)}")
    q = F.normalize(prediction.float(), dim=1)
    z = F.normalize(target.detach().float(), dim=1)
    return (2 - 2 * (q * z).sum(1)).mean()


def byol_symmetric(q1: torch.Tensor, z2: torch.Tensor, q2: torch.Tensor,
                   z1: torch.Tensor) -> torch.Tensor:
    """L + L~: view 1's prediction against view 2's target and the other way round."""
    return byol_loss(q1, z2) + byol_loss(q2, z1)
