"""``casia``: the 10-convolution CASIA-WebFace network of Yi et al. 2014 ("Learning Face
Representation from Scratch"), the per-patch backbone of Guo et al., adapted to 64x64 patches.

Five stages of two 3x3 convolutions (padding 1), each followed by BatchNorm and ReLU, with widths
32/64, 64/128, 96/192, 128/256, 160/320; 2x2 max pooling after stages 1-4 (64 -> 32 -> 16 -> 8
-> 4), global average pooling after conv52, then a linear 320 -> 128 with ReLU.

Every layer is a named child (``conv11``, ``bn11``, ``relu11``, ..., ``pool1``, ..., ``gap``,
``fc``), so that pruning (TAT) can address filters by layer name. ``channels`` overrides the ten
convolution widths, which is how a pruned network is rebuilt from its config.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

from gazesdk.errors import ConfigError
from gazesdk.models.blocks import add_feature_tail, init_weights
from gazesdk.models.registry import FEATURE_DIM, register_backbone

CONV_NAMES = ("conv11", "conv12", "conv21", "conv22", "conv31", "conv32",
              "conv41", "conv42", "conv51", "conv52")
CHANNELS = (32, 64, 64, 128, 96, 192, 128, 256, 160, 320)


@register_backbone("casia")
class CasiaBackbone(nn.Sequential):
    """CASIA-WebFace net (Yi et al. 2014) on a 64x64 RGB patch -> 128-D feature."""

    def __init__(self, channels: Sequence[int] | None = None) -> None:
        widths = tuple(CHANNELS if channels is None else channels)
        if len(widths) != len(CONV_NAMES) or not all(
                isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in widths):
            raise ConfigError(f"casia channels must be {len(CONV_NAMES)} positive integers "
                              f"(conv11 ... conv52), got {channels!r}")
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        cin = 3
        for i, (name, cout) in enumerate(zip(CONV_NAMES, widths, strict=True)):
            idx = name[4:]
            layers[name] = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
            layers[f"bn{idx}"] = nn.BatchNorm2d(cout)
            layers[f"relu{idx}"] = nn.ReLU()
            if i % 2 == 1 and i < 8:
                layers[f"pool{idx[0]}"] = nn.MaxPool2d(2)
            cin = cout
        add_feature_tail(layers, cin)
        super().__init__(layers)
        init_weights(self)
        self.channels = widths
        self.out_features = FEATURE_DIM
