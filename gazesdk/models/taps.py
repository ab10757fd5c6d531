"""Reading a backbone's intermediate feature maps: the branch points of HMTL's self-supervised
heads and the feature map FRA computes its heatmaps on.

A backbone is an ``nn.Sequential`` of named children (every registered backbone is). Its
*stages* are its spatial resolutions: stage k ends at the last child, before global average
pooling, whose output has the k-th resolution met (``compact`` and ``dilated``: 32, 16, 8, 4;
``casia``: 64, 32, 16, 8, 4). ResNet's "stage 3 of 4", HMTL's best branch point, is the same
idea on a 224-pixel input.
"""

from __future__ import annotations

from collections.abc import Collection

import torch
from torch import nn

from gazesdk.errors import ConfigError


def _children(backbone: nn.Module) -> list[tuple[str, nn.Module]]:
    if not isinstance(backbone, nn.Sequential):
        raise ConfigError(f"this method reads feature maps inside the backbone, which needs an "
                          f"nn.Sequential of named layers; got {type(backbone).__name__}")
    return list(backbone.named_children())


def feature_map_layer(backbone: nn.Module) -> str:
    """The name of the last layer before global average pooling (its output is the final
    feature map)."""
    names = [n for n, _ in _children(backbone)]
    if "gap" not in names or names.index("gap") == 0:
        raise ConfigError("the backbone has no 'gap' (global average pooling) layer after its "
                          "convolutions")
    return names[names.index("gap") - 1]


@torch.no_grad()
def stage_ends(backbone: nn.Module, *, size: int = 64) -> list[str]:
    """Names of the layers that end each stage (see the module docstring), in order."""
    children = _children(backbone)
    stop = feature_map_layer(backbone)
    param = next(backbone.parameters(), None)
    x = torch.zeros(1, 3, size, size,
                    device=param.device if param is not None else None)
    was_training = backbone.training
    backbone.eval()
    ends: list[str] = []
    last_size: int | None = None
    try:
        for name, layer in children:
            x = layer(x)
            if x.shape[-1] != last_size:
                ends.append(name)
                last_size = x.shape[-1]
            else:
                ends[-1] = name
            if name == stop:
                break
    finally:
        backbone.train(was_training)
    return ends


@torch.no_grad()
def channels_at(backbone: nn.Module, layer: str, *, size: int = 64) -> int:
    """The number of channels of layer ``layer``'s output (a probe in eval mode; the
    backbone's mode is restored)."""
    param = next(backbone.parameters(), None)
    x = torch.zeros(1, 3, size, size, device=param.device if param is not None else None)
    was_training = backbone.training
    backbone.eval()
    try:
        return int(run_tapped(backbone, x, [layer])[1][layer].shape[1])
    finally:
        backbone.train(was_training)


def stage_layer(backbone: nn.Module, stage: int) -> str:
    """The layer ending stage ``stage`` (1-based)."""
    ends = stage_ends(backbone)
    if isinstance(stage, bool) or not isinstance(stage, int) or not 1 <= stage <= len(ends):
        raise ConfigError(f"the branch point must be a stage 1-{len(ends)} of this backbone "
                          f"(its stages end at {', '.join(ends)}), got {stage!r}")
    return ends[stage - 1]


def run_tapped(backbone: nn.Module, x: torch.Tensor, taps: Collection[str]
               ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The backbone's output and the outputs of the layers named in ``taps``."""
    out: dict[str, torch.Tensor] = {}
    for name, layer in _children(backbone):
        x = layer(x)
        if name in taps:
            out[name] = x
    missing = set(taps) - set(out)
    if missing:
        raise ConfigError(f"the backbone has no layer(s) {sorted(missing)}")
    return x, out


def layers_after(backbone: nn.Module, name: str) -> list[nn.Module]:
    """The layers that run after ``name`` (what a branch at ``name`` does not train)."""
    names = [n for n, _ in _children(backbone)]
    if name not in names:
        raise ConfigError(f"the backbone has no layer {name!r}")
    return [m for n, m in _children(backbone)[names.index(name) + 1:]]
