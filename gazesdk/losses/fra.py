"""FRA's losses (Gao and Patras, "Self-Supervised Facial Representation Learning with Facial
Region Awareness", CVPR 2024), written as the authors' code computes them.

Semantic consistency L_c (Eq. 4-7): the online network's predictions regress the momentum
network's projections of the other view, D(p, t) = 2 - 2 cos(p, t): for the global embedding
(weight lambda_c) and for each of the N heatmap-pooled local embeddings, region q against
region q (weight 1 - lambda_c); the local term adds 0.02 x (1/N) x the sum of squared cosines
between region q's prediction and the other regions' targets (the official code's
decorrelation).
Summed over the two directions (1 -> 2 and 2 -> 1).

Semantic relation L_r (Eq. 2-3), per view: every pixel's soft assignment to the N facial
masks in the online network, softmax(s / 0.1), learns the momentum network's assignment of
the same pixel, softmax(s / 0.04) balanced by Sinkhorn-Knopp (3 iterations), by
cross-entropy; ME-MAX (weight 1) keeps the batch's mean assignment spread over the masks.
L_r is the mean over the two views.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gazesdk.losses.byol import byol_loss
from gazesdk.losses.me_max import me_max
from gazesdk.losses.sinkhorn import sinkhorn_knopp


def local_consistency(prediction: torch.Tensor, target: torch.Tensor, *,
                      decorrelation: float = 0.02) -> torch.Tensor:
    """(B, N, D) local predictions vs (B, N, D) targets: mean D over (b, q) + decorrelation x
    mean over (b, q) of (1/N) sum_{q' != q} cos(p_bq, t_bq')^2."""
    if prediction.ndim != 3 or prediction.shape != target.shape:
        raise ValueError(f"local embeddings must both be (B, N, D), got "
                         f"{tuple(prediction.shape)} and {tuple(target.shape)}")
    p = F.normalize(prediction.float(), dim=-1)
    t = F.normalize(target.detach().float(), dim=-1)
    cos = p @ t.transpose(1, 2)                                    # (B, N, N)
    n = cos.shape[-1]
    matched = (2 - 2 * torch.diagonal(cos, dim1=1, dim2=2)).mean()
    off = cos.pow(2) * (1 - torch.eye(n, device=cos.device))
    return matched + decorrelation * (off.sum(-1) / n).mean()


def semantic_consistency_loss(online: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]],
                              target: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]],
                              *, lambda_c: float = 0.5,
                              decorrelation: float = 0.02) -> dict[str, torch.Tensor]:
    """L_c over both directions. ``online[v]`` holds view v's predictions ``"global"`` (B, D)
    and ``"local"`` (B, N, D); ``target[v]`` the momentum network's projections."""
    if not 0.0 <= lambda_c <= 1.0:
        raise ValueError(f"lambda_c must be in [0, 1], got {lambda_c}")
    glob = loc = torch.zeros((), device=online[0]["global"].device)
    for a, b in ((0, 1), (1, 0)):
        glob = glob + byol_loss(online[a]["global"], target[b]["global"])
        loc = loc + local_consistency(online[a]["local"], target[b]["local"],
                                      decorrelation=decorrelation)
    return {"loss": lambda_c * glob + (1 - lambda_c) * loc, "global": glob.detach(),
            "local": loc.detach()}


def semantic_relation_loss(online_scores: torch.Tensor, target_scores: torch.Tensor, *,
                           student_temperature: float = 0.1, teacher_temperature: float = 0.04,
                           iterations: int = 3, me_max_weight: float = 1.0
                           ) -> dict[str, torch.Tensor]:
    """L_r for one view: (..., N) cosine scores of every pixel against the N mask embeddings,
    online and momentum (same view, same pixels)."""
    if online_scores.shape != target_scores.shape or online_scores.ndim < 2:
        raise ValueError(f"scores must both be (..., N), got {tuple(online_scores.shape)} and "
                         f"{tuple(target_scores.shape)}")
    if student_temperature <= 0 or teacher_temperature <= 0:
        raise ValueError("temperatures must be > 0")
    n = online_scores.shape[-1]
    log_p = F.log_softmax(online_scores.float().reshape(-1, n) / student_temperature, dim=1)
    t = F.softmax(target_scores.detach().float().reshape(-1, n) / teacher_temperature, dim=1)
    # Sinkhorn-Knopp started from t itself (scores log t at epsilon 1), as the official code
    q = sinkhorn_knopp(torch.log(t.clamp_min(1e-30)), epsilon=1.0, iterations=iterations)
    ce = -(q * log_p).sum(1).mean()
    spread = me_max(log_p.exp()) + math.log(n)
    return {"loss": ce + me_max_weight * spread, "cross_entropy": ce.detach(),
            "me_max": spread.detach()}
