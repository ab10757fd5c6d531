"""Output heads on the 128-D gaze feature (Guo et al., Sec. 3.1).

:class:`OrdinalHead` is the paper's ordinal regression: B sigmoids per axis, trained with Eq. 2
and decoded with ``lo + BinSize * sum of sigmoids`` (:func:`gazesdk.losses.ordinal.ordinal_decode`).
:class:`L2Head` is the plain regression baseline (two numbers in cm).
"""

from __future__ import annotations

import torch
from torch import nn

from gazesdk.losses.ordinal import OrdinalBins, ordinal_decode


class OrdinalHead(nn.Module):
    """Linear layer to 2 * B logits, returned as (N, 2, B): one sigmoid per bin and axis."""

    def __init__(self, in_features: int = 128, bins: OrdinalBins | None = None) -> None:
        super().__init__()
        self.bins = bins if bins is not None else OrdinalBins()
        self.linear = nn.Linear(in_features, 2 * self.bins.bins)
        self.reset_bias()

    @torch.no_grad()
    def reset_bias(self) -> None:
        """A monotone "staircase" prior: bin b's bias is (mid - t_b) / s, with t_b its
        threshold (Eq. 1), mid the middle of the range and s an eighth of the range. The
        initial sigmoids then already form a soft run of ones whose decoding is the middle of
        the range (what bias 0 decodes to as well), but the start is an ordinal code rather than
        0.5 everywhere, and the initial Eq. 2 loss is lower: by about a quarter for targets
        spread over the whole range, by more for targets nearer the middle, as gaze is."""
        spec = self.bins
        lo, size = spec.lows_and_sizes()
        b = torch.arange(1, spec.bins + 1, dtype=torch.float32)
        thresholds = lo[:, None] + b * size[:, None]               # (2, B)
        mid = lo + size * spec.bins / 2
        scale = size * spec.bins / 8
        self.linear.bias.copy_(((mid[:, None] - thresholds) / scale[:, None]).reshape(-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).reshape(-1, 2, self.bins.bins)

    def decode(self, logits: torch.Tensor) -> torch.Tensor:
        """(N, 2, B) logits -> (N, 2) cm."""
        return ordinal_decode(logits, self.bins)


class L2Head(nn.Module):
    """Linear layer to (N, 2) gaze in cm, trained with an L2 (or L1) loss."""

    def __init__(self, in_features: int = 128) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    def decode(self, output: torch.Tensor) -> torch.Tensor:
        """Identity: the output already is (N, 2) cm."""
        return output


class HeadPoseHead(nn.Module):
    """HopeNet-style head pose (Ruiz et al. 2018): a linear layer to 66 bins of 3 degrees per
    angle, (N, 3, 66) logits for yaw, pitch, roll; decoded to degrees as the expectation of the
    softmax (:mod:`gazesdk.losses.head_pose`). Trained as an auxiliary task, and returned to
    users by :meth:`GazeModel.predict_head_pose`."""

    def __init__(self, in_features: int = 128) -> None:
        super().__init__()
        from gazesdk.losses.head_pose import POSE_BINS

        self.bins = POSE_BINS
        self.linear = nn.Linear(in_features, 3 * POSE_BINS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).reshape(-1, 3, self.bins)

    def decode(self, logits: torch.Tensor) -> torch.Tensor:
        """(N, 3, 66) logits -> (N, 3) yaw, pitch, roll in degrees."""
        from gazesdk.losses.head_pose import pose_expectation

        return pose_expectation(logits)


HEADS = ("ordinal", "l2")
