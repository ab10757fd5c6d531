"""AOI (Eq. 6-7): re-born filters orthogonal, norms within the layer's BN-adjusted range,
everything else untouched bit for bit."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gazesdk.errors import ConfigError
from gazesdk.models import create_model
from gazesdk.training.aoi import bn_adjusted_norms, orthonormal_rows, reinit_filters
from gazesdk.training.csp import PrunableLayer, prunable_layers


def trained_looking_layer(seed: int = 0) -> PrunableLayer:
    g = torch.Generator().manual_seed(seed)
    conv, bn = nn.Conv2d(8, 16, 3, bias=False), nn.BatchNorm2d(16)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * 0.3)
        bn.weight.copy_(torch.rand(16, generator=g) + 0.5)
        bn.bias.copy_(torch.randn(16, generator=g))
        bn.running_mean.copy_(torch.randn(16, generator=g))
        bn.running_var.copy_(torch.rand(16, generator=g) * 2 + 0.1)
    return PrunableLayer("layer", conv, bn)


def test_bn_adjusted_norms_by_hand():
    layer = trained_looking_layer()
    i = 3
    w = layer.conv.weight[i].detach().flatten()
    gamma = layer.bn.weight[i].detach()
    expected = float((w * gamma / torch.sqrt(layer.bn.running_var[i] + 1e-5)).norm())
    assert float(bn_adjusted_norms(layer)[i]) == pytest.approx(expected, rel=1e-5)


def test_aoi_reborn_filters_are_orthogonal_in_range_and_the_rest_untouched():
    layer = trained_looking_layer()
    before_w = layer.conv.weight.detach().clone()
    before_bn = {k: v.clone() for k, v in layer.bn.state_dict().items()}
    norms = bn_adjusted_norms(layer)
    idx = torch.tensor([1, 4, 9, 15])
    reinit_filters(layer, idx, generator=torch.Generator().manual_seed(1))
    w = layer.conv.weight.detach().reshape(16, -1)
    reborn = w[idx].double()
    unit = reborn / reborn.norm(dim=1, keepdim=True)
    off = unit @ unit.T - torch.eye(4, dtype=torch.float64)
    assert off.abs().max() < 1e-5
    lengths = reborn.norm(dim=1)
    assert (lengths >= norms.min() - 1e-6).all() and (lengths <= norms.max() + 1e-6).all()
    keep = torch.tensor([i for i in range(16) if i not in idx.tolist()])
    assert torch.equal(layer.conv.weight[keep], before_w[keep])
    for k, v in layer.bn.state_dict().items():
        if v.ndim:
            assert torch.equal(v[keep], before_bn[k][keep]), k
    # Re-born channels' BatchNorm is the identity, so their BN-adjusted norm is their norm.
    assert layer.bn.weight[idx].tolist() == [1.0] * 4 and layer.bn.running_var[idx].tolist() == \
        [1.0] * 4
    assert torch.allclose(bn_adjusted_norms(layer)[idx], lengths.float(), rtol=1e-4)


def test_other_methods_and_blocks():
    layer = trained_looking_layer()
    reinit_filters(layer, torch.tensor([0, 1]), method="orthogonal")
    w = layer.conv.weight.detach().reshape(16, -1)[:2]
    assert torch.allclose(w.norm(dim=1), torch.ones(2), atol=1e-5)
    reinit_filters(layer, torch.tensor([2]), method="uniform")
    assert layer.conv.weight[2].abs().max() <= 1 / (8 * 9) ** 0.5
    # More rows than the filter size: orthonormal within blocks of `size`.
    rows = orthonormal_rows(6, 4).double()
    assert torch.allclose(rows[:4] @ rows[:4].T, torch.eye(4, dtype=torch.float64), atol=1e-6)


def test_on_a_real_backbone_and_misuse():
    layers = {p.name: p for p in prunable_layers(create_model("casia"))}
    reinit_filters(layers["face.conv11"], torch.arange(16))          # 16 filters of size 27
    w = layers["face.conv11"].conv.weight.detach().reshape(32, -1)[:16].double()
    unit = w / w.norm(dim=1, keepdim=True)
    assert (unit @ unit.T - torch.eye(16, dtype=torch.float64)).abs().max() < 1e-5
    with pytest.raises(ConfigError, match="re-initialisation"):
        reinit_filters(layers["face.conv11"], torch.tensor([0]), method="xavier")
    with pytest.raises(ConfigError, match="out of range"):
        reinit_filters(layers["face.conv11"], torch.tensor([32]))
