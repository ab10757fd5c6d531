"""Pieces every backbone shares: weight initialisation and the tail that ends a branch in the
128-D feature of Guo et al.'s three-branch network."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from gazesdk.models.registry import FEATURE_DIM


def init_weights(module: nn.Module) -> None:
    """He (fan-in) initialisation of convolutions (He et al. 2015), which keeps the scale of the
    signal from layer to layer, so that even an untrained network in eval mode (BatchNorm with
    its initial statistics) depends on its input. PyTorch's default shrinks the signal by about
    a third per layer, and fan-out (torchvision's choice) shrinks it at depthwise convolutions.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def add_feature_tail(layers: OrderedDict[str, nn.Module], in_channels: int) -> None:
    """Global average pooling, then a linear layer to the 128-D branch feature, with ReLU."""
    layers["gap"] = nn.AdaptiveAvgPool2d(1)
    layers["flatten"] = nn.Flatten(1)
    layers["fc"] = nn.Linear(in_channels, FEATURE_DIM)
    layers["relu_fc"] = nn.ReLU()
