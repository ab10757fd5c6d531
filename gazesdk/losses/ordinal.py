"""Ordinal (binned) gaze regression: Guo et al., "A Generalized and Robust Method Towards
Practical Gaze Estimation on Smart Phone", Eq. 1-2.

Each axis is split into B bins of size BinSize over [lo, hi]. The label of bin b (b = 1..B) is
y^b = 1 if b * BinSize <= gt - lo, else 0 (Eq. 1): a run of ones whose length encodes the value.
The network predicts one sigmoid per bin; the loss is the sum over bins of binary cross-entropy
(Eq. 2), and the prediction is lo + BinSize * sum_b sigmoid_b (the expected run length).

The run of ones rounds down, so that decoding is on average half a bin low (0.2 cm with the
defaults); ``centred`` decoding (the default) adds half a bin, and ``centred=False`` is the
paper's formula exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gazesdk.errors import ConfigError

# GazeCapture-like ranges: 133 bins of 0.4 cm over +-26.6 cm covers phones and tablets in
# every orientation.
DEFAULT_BINS = 133
DEFAULT_RANGE_CM = (-26.6, 26.6)


@dataclass(frozen=True)
class OrdinalBins:
    """B bins over [lo, hi] for each of the two axes (x, y)."""

    bins: int = DEFAULT_BINS
    x_range: tuple[float, float] = DEFAULT_RANGE_CM
    y_range: tuple[float, float] = DEFAULT_RANGE_CM
    centred: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.bins, int) or self.bins < 2:
            raise ConfigError(f"ordinal bins must be an integer >= 2, got {self.bins!r}")
        for name, (lo, hi) in (("x_range", self.x_range), ("y_range", self.y_range)):
            if not lo < hi:
                raise ConfigError(f"{name} must be (low, high) with low < high, got {(lo, hi)}")

    def lows_and_sizes(self, device: torch.device | None = None,
                       dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
        """(2,) range minima and (2,) bin sizes."""
        lo = torch.tensor([self.x_range[0], self.y_range[0]], device=device, dtype=dtype)
        hi = torch.tensor([self.x_range[1], self.y_range[1]], device=device, dtype=dtype)
        return lo, (hi - lo) / self.bins


def ordinal_encode(gaze: torch.Tensor, spec: OrdinalBins) -> torch.Tensor:
    """(N, 2) gaze in cm -> (N, 2, B) binary labels, Eq. 1 (values outside the range clamp)."""
    lo, size = spec.lows_and_sizes(gaze.device, gaze.dtype)
    b = torch.arange(1, spec.bins + 1, device=gaze.device, dtype=gaze.dtype)
    shifted = (gaze - lo)[..., None]                         # (N, 2, 1)
    return (b * size[:, None] <= shifted + 1e-6 * size[:, None]).to(gaze.dtype)


def ordinal_decode(logits: torch.Tensor, spec: OrdinalBins) -> torch.Tensor:
    """(N, 2, B) logits -> (N, 2) gaze in cm: lo + BinSize * sum of sigmoids (+ half a bin
    when ``spec.centred``)."""
    lo, size = spec.lows_and_sizes(logits.device, logits.dtype)
    return lo + size * (torch.sigmoid(logits).sum(-1) + (0.5 if spec.centred else 0.0))


def ordinal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 2: binary cross-entropy summed over bins and axes, averaged over the batch.

    ``target`` is (N, 2, B) in [0, 1]: the Eq. 1 labels, or soft labels (e.g. a teacher's
    sigmoids in knowledge distillation)."""
    if logits.shape != target.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(target.shape)} differ")
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return bce.sum(dim=(1, 2)).mean()
