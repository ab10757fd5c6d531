"""``dilated``: a backbone of multi-rate dilated convolution blocks, the encoder of
semi-supervised contrastive regression for gaze (arXiv 2308.02784): parallel 3x3 convolutions
at several dilation rates see local and global structure without larger kernels.

On a 64x64 patch: a 3x3 stride-2 stem (``widths[0]`` channels, 32x32), then one block per
width, with 2x2 max pooling between blocks (32 -> 16 -> 8 -> 4), then global average pooling
and a linear layer to the 128-D feature. A block runs one 3x3 convolution per dilation rate in
parallel (padding = rate, so the size is kept; the output channels are split evenly among the
rates), concatenates them, applies BatchNorm and ReLU, fuses with a 1x1 convolution (BatchNorm,
ReLU), and adds its input when the widths match. The paper gives neither the rates nor the
widths: both are options; ``dilations=[1]`` is the no-dilation ablation, with the same number
of parameters.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from gazesdk.errors import ConfigError
from gazesdk.models.blocks import add_feature_tail, init_weights
from gazesdk.models.registry import FEATURE_DIM, register_backbone

DILATIONS = (1, 2, 4)
WIDTHS = (32, 64, 128, 192)


def _positive_ints(value: object, name: str) -> tuple[int, ...]:
    try:
        out = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        out = ()
    if not out or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                          for v in out):
        raise ConfigError(f"dilated {name} must be a non-empty list of positive integers, "
                          f"got {value!r}")
    return out


class DilatedBlock(nn.Module):
    """Parallel dilated 3x3 convolutions -> concat -> BN, ReLU -> 1x1 fuse -> BN, ReLU."""

    def __init__(self, cin: int, cout: int, dilations: Sequence[int]) -> None:
        super().__init__()
        n = len(dilations)
        if cout < n:
            raise ConfigError(f"a block of {cout} channels cannot be split among {n} rates")
        split = [cout // n + (i < cout % n) for i in range(n)]
        self.branches = nn.ModuleList(
            nn.Conv2d(cin, c, 3, padding=d, dilation=d, bias=False)
            for c, d in zip(split, dilations, strict=True))
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.fuse = nn.Conv2d(cout, cout, 1, bias=False)
        self.fuse_bn = nn.BatchNorm2d(cout)
        self.fuse_relu = nn.ReLU()
        self.residual = cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn(torch.cat([b(x) for b in self.branches], dim=1)))
        y = self.fuse_relu(self.fuse_bn(self.fuse(y)))
        return x + y if self.residual else y


@register_backbone("dilated")
class DilatedBackbone(nn.Sequential):
    """Multi-rate dilated convolution blocks (arXiv 2308.02784) on a 64x64 patch -> 128-D."""

    def __init__(self, dilations: Sequence[int] | None = None,
                 widths: Sequence[int] | None = None) -> None:
        rates = _positive_ints(DILATIONS if dilations is None else dilations, "dilations")
        sizes = _positive_ints(WIDTHS if widths is None else widths, "widths")
        if len(sizes) > 5:
            raise ConfigError("dilated widths: at most 5 blocks fit a 64x64 patch")
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["stem"] = nn.Conv2d(3, sizes[0], 3, stride=2, padding=1, bias=False)
        layers["stem_bn"] = nn.BatchNorm2d(sizes[0])
        layers["stem_relu"] = nn.ReLU()
        cin = sizes[0]
        for i, cout in enumerate(sizes):
            if i:
                layers[f"pool{i}"] = nn.MaxPool2d(2)
            layers[f"block{i + 1}"] = DilatedBlock(cin, cout, rates)
            cin = cout
        add_feature_tail(layers, cin)
        super().__init__(layers)
        init_weights(self)
        self.dilations = rates
        self.widths = sizes
        self.out_features = FEATURE_DIM
