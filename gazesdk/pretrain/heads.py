"""Heads used only while pre-training or co-training, never exported: the MLP projector and
predictor of SimCLR / Barlow Twins / BYOL / FRA, and HMTL's puzzle and rotation classifiers."""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Sequential):
    """Linear -> BatchNorm -> ReLU -> Linear: the projector of SimCLR (Chen et al. 2020) and the
    projector/predictor of BYOL (Grill et al. 2020), on (N, in) or (N, K, in) rows."""

    def __init__(self, in_features: int, hidden: int, out_features: int) -> None:
        super().__init__(nn.Linear(in_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                         nn.Linear(hidden, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:                      # (N, K, in): BatchNorm over all N K rows
            n, k, _ = x.shape
            return super().forward(x.reshape(n * k, -1)).reshape(n, k, -1)
        return super().forward(x)


class PixelMLP(nn.Sequential):
    """The MLP of :class:`MLP` applied at every position of a (N, C, H, W) feature map (1x1
    convolutions), for FRA's per-pixel projections."""

    def __init__(self, in_channels: int, hidden: int, out_channels: int) -> None:
        super().__init__(nn.Conv2d(in_channels, hidden, 1), nn.BatchNorm2d(hidden), nn.ReLU(),
                         nn.Conv2d(hidden, out_channels, 1))


class PretextHeads(nn.Module):
    """HMTL's self-supervised heads on a feature map (Pourmirzaei et al.): one g*g-way puzzle
    classifier and/or one 4-way rotation classifier per grid position.

    The map is average-pooled to the g x g grid, so each position's features stay apart, then
    flattened, dropped out (0.2 in the paper) and mapped by one linear layer to every position's
    logits: ``{"puzzle": (N, g*g, g*g), "rotation": (N, g*g, 4)}``.
    """

    def __init__(self, in_channels: int, *, grid: int, puzzle: bool, rotation: bool,
                 dropout: float = 0.2) -> None:
        super().__init__()
        if not (puzzle or rotation):
            raise ValueError("pretext heads need the puzzle or the rotation task (or both)")
        self.grid = grid
        k = grid * grid
        self.sizes = {name: classes for name, classes, on in
                      (("puzzle", k, puzzle), ("rotation", 4, rotation)) if on}
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(in_channels * k, k * sum(self.sizes.values()))

    def forward(self, fmap: torch.Tensor) -> dict[str, torch.Tensor]:
        k = self.grid * self.grid
        x = self.linear(self.dropout(self.pool(fmap).flatten(1)))
        out, start = {}, 0
        for name, classes in self.sizes.items():
            out[name] = x[:, start:start + k * classes].reshape(-1, k, classes)
            start += k * classes
        return out
