"""NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR (Chen et al. 2020, Eq. 1),
over the 2N embeddings of N images seen in two augmented views.

For the pair (i, j) of views of one image, with s the cosine similarity,
    l(i, j) = -log( exp(s(z_i, z_j) / tau) / sum_{k != i} exp(s(z_i, z_k) / tau) ),
averaged over all 2N ordered positive pairs. The other 2N - 2 embeddings are the negatives.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_pair(z1: torch.Tensor, z2: torch.Tensor) -> None:
    if z1.ndim != 2 or z1.shape != z2.shape:
        raise ValueError(f"the two views' embeddings must both be (N, D), got "
                         f"{tuple(z1.shape)} and {tuple(z2.shape)}")
    if len(z1) < 2:
        raise ValueError("a contrastive loss needs at least two images in the batch")


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.5) -> torch.Tensor:
    """NT-Xent of embeddings ``z1[i]``, ``z2[i]`` of two views of image i (N, D each)."""
    _check_pair(z1, z2)
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    n = len(z1)
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    logits = z @ z.T / temperature
    logits.fill_diagonal_(float("-inf"))                       # k != i
    positive = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(logits, positive)
