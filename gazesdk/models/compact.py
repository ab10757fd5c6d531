"""``compact``: a phone-sized backbone of MobileNetV2 inverted-residual blocks (Sandler et al.
2018), the kind of light network Guo et al. target for on-device use, at about a thirtieth of
the multiply-adds of ``casia``.

On a 64x64 patch: a 3x3 stride-2 stem (16 channels, 32x32), then blocks of (expansion t,
channels c, repeats n, stride s): (1, 16, 1, 1), (t, 24, 2, 2), (t, 32, 3, 2), (t, 64, 3, 2),
(t, 96, 2, 1) down to 4x4, a 1x1 convolution to 256, global average pooling and a linear
256 -> 128 with ReLU. Each block is 1x1 expand -> 3x3 depthwise -> 1x1 linear projection, with
BatchNorm after every convolution, ReLU6 after the first two, and a residual connection when the
shape is unchanged.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from gazesdk.errors import ConfigError
from gazesdk.models.blocks import add_feature_tail, init_weights
from gazesdk.models.registry import FEATURE_DIM, register_backbone

STEM = 16
LAST = 256
# (expansion; None = the backbone's expansion), channels, repeats, first stride
STAGES: tuple[tuple[int | None, int, int, int], ...] = (
    (1, 16, 1, 1), (None, 24, 2, 2), (None, 32, 3, 2), (None, 64, 3, 2), (None, 96, 2, 1))


def _width(c: int, mult: float) -> int:
    """Channels scaled by ``mult``, rounded to a multiple of 8 (at least 8)."""
    return max(8, int(c * mult + 4) // 8 * 8)


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1,
             act: bool = True) -> nn.Sequential:
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        conv=nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        bn=nn.BatchNorm2d(cout))
    if act:
        layers["act"] = nn.ReLU6()
    return nn.Sequential(layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand (omitted when t = 1), 3x3 depthwise, 1x1 linear project."""

    def __init__(self, cin: int, cout: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = cin * expansion
        self.expand = _conv_bn(cin, hidden, 1) if expansion != 1 else nn.Identity()
        self.depthwise = _conv_bn(hidden, hidden, 3, stride, groups=hidden)
        self.project = _conv_bn(hidden, cout, 1, act=False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.residual else y


@register_backbone("compact")
class CompactBackbone(nn.Sequential):
    """MobileNetV2-style net on a 64x64 RGB patch -> 128-D feature, for phones."""

    def __init__(self, width_mult: float = 1.0, expansion: int = 4) -> None:
        if isinstance(width_mult, bool) or not isinstance(width_mult, (int, float)) \
                or not 0.25 <= width_mult <= 4:
            raise ConfigError(f"compact width_mult must be a number in [0.25, 4], "
                              f"got {width_mult!r}")
        if isinstance(expansion, bool) or not isinstance(expansion, int) \
                or not 1 <= expansion <= 8:
            raise ConfigError(f"compact expansion must be an integer 1-8, got {expansion!r}")
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        cin = _width(STEM, width_mult)
        layers["stem"] = _conv_bn(3, cin, 3, stride=2)
        n = 0
        for t, c, repeats, stride in STAGES:
            cout = _width(c, width_mult)
            for r in range(repeats):
                n += 1
                layers[f"block{n}"] = InvertedResidual(cin, cout, stride if r == 0 else 1,
                                                       expansion if t is None else t)
                cin = cout
        last = _width(LAST, width_mult)
        layers["last"] = _conv_bn(cin, last, 1)
        add_feature_tail(layers, last)
        super().__init__(layers)
        init_weights(self)
        self.out_features = FEATURE_DIM
