"""The pre-training loss of semi-supervised contrastive regression for gaze (arXiv 2308.02784):
NT-Xent over the two augmented views plus a redundancy-reduction term on their Barlow Twins
cross-correlation matrix, weighted by gamma (the paper gives no value: configurable; the study
checks 0.001, 0.01, 0.1 and 1.0).
"""

from __future__ import annotations

import torch

from gazesdk.losses.barlow_twins import redundancy_term
from gazesdk.losses.nt_xent import nt_xent


def contrastive_regression_loss(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.5,
                                gamma: float = 0.01) -> dict[str, torch.Tensor]:
    """``{"loss", "nt_xent", "redundancy"}``: loss = NT-Xent + gamma * sum_{i != j} C_ij^2."""
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")
    contrast = nt_xent(z1, z2, temperature=temperature)
    redundancy = redundancy_term(z1, z2)
    return {"loss": contrast + gamma * redundancy, "nt_xent": contrast.detach(),
            "redundancy": redundancy.detach()}
