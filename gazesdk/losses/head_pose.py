"""HopeNet's head-pose loss (Ruiz et al. 2018, "Fine-Grained Head Pose Estimation Without
Keypoints"), the auxiliary head-pose task of HMTL: each angle (yaw, pitch, roll) is classified
into 66 bins of 3 degrees over [-99, 99), and the expectation of the softmax over the bins,

    theta_hat = 3 sum_k softmax(z)_k k - 99 + 1.5,

is regressed as well: L = sum over angles of CE(z, bin(theta)) + alpha MSE(theta_hat, theta).
(HopeNet writes the expectation without the half bin; with it a uniform softmax predicts the
middle of the range, 0, rather than -1.5 degrees.) alpha: 0.001, the default of HopeNet's
training script.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

POSE_BINS = 66
BIN_DEG = 3.0
LOW_DEG = -99.0


def pose_bin(angles_deg: torch.Tensor) -> torch.Tensor:
    """The bin index of each angle (clamped to the 66 bins)."""
    return ((angles_deg - LOW_DEG) // BIN_DEG).long().clamp(0, POSE_BINS - 1)


def pose_expectation(logits: torch.Tensor) -> torch.Tensor:
    """(..., 66) logits -> (...) degrees: the softmax-weighted bin centre."""
    centres = LOW_DEG + BIN_DEG * (torch.arange(POSE_BINS, device=logits.device) + 0.5)
    return (logits.float().softmax(-1) * centres).sum(-1)


def head_pose_loss(logits: torch.Tensor, angles_deg: torch.Tensor, *,
                   alpha: float = 0.001) -> dict[str, torch.Tensor]:
    """``{"loss", "pose_ce", "pose_mse"}`` for (N, 3, 66) logits and (N, 3) angles in degrees;
    the loss sums the three angles' terms, each averaged over the batch."""
    if logits.ndim != 3 or logits.shape[1:] != (3, POSE_BINS) or \
            angles_deg.shape != logits.shape[:2]:
        raise ValueError(f"expected (N, 3, {POSE_BINS}) logits and (N, 3) angles, got "
                         f"{tuple(logits.shape)} and {tuple(angles_deg.shape)}")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    target = angles_deg.float()
    ce = sum(F.cross_entropy(logits[:, a].float(), pose_bin(target[:, a])) for a in range(3))
    mse = sum(F.mse_loss(pose_expectation(logits[:, a]), target[:, a]) for a in range(3))
    return {"loss": ce + alpha * mse, "pose_ce": ce.detach(), "pose_mse": mse.detach()}
