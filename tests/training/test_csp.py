"""CSP (Eq. 5) against a direct computation, and its ranking rules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gazesdk.errors import ConfigError
from gazesdk.models import create_model
from gazesdk.training.csp import filter_similarity, prunable_layers, select_filters


def test_similarity_of_a_hand_made_layer():
    # Filters a, a (identical), -a (opposite), b (orthogonal to a), as 1x1x2 kernels.
    a, b = [1.0, 0.0], [0.0, 2.0]
    w = torch.tensor([a, a, [-1.0, 0.0], b]).reshape(4, 2, 1, 1)
    # Cosines: f0-f1 = 1, f0-f2 = -1, f0-f3 = 0, f1-f2 = -1, f1-f3 = 0, f2-f3 = 0.
    # Row sums of (cos - I): f0: 1 - 1 + 0 = 0; f1: 0; f2: -2; f3: 0; divided by N_out = 4.
    assert filter_similarity(w).tolist() == pytest.approx([0.0, 0.0, -0.5, 0.0])
    # RePr-style absolute value: f0: 2/4, f1: 2/4, f2: 2/4, f3: 0.
    assert filter_similarity(w, absolute=True).tolist() == pytest.approx([0.5, 0.5, 0.5, 0.0])


def test_similarity_matches_a_direct_loop_on_random_filters():
    w = torch.randn(7, 3, 3, 3, dtype=torch.float64)
    flat = w.reshape(7, -1)
    direct = []
    for i in range(7):
        total = 0.0
        for j in range(7):
            if i != j:
                total += float(flat[i] @ flat[j] / (flat[i].norm() * flat[j].norm()))
        direct.append(total / 7)
    assert filter_similarity(w).tolist() == pytest.approx(direct)


def _two_layer_net() -> nn.Sequential:
    net = nn.Sequential(nn.Conv2d(1, 4, 1, bias=False), nn.BatchNorm2d(4),
                        nn.Conv2d(4, 4, 1, bias=False), nn.BatchNorm2d(4))
    with torch.no_grad():
        # Layer 0: four identical filters (Sim 3/4 each). Layer 1: orthogonal (Sim 0).
        net[0].weight.copy_(torch.ones(4, 1, 1, 1))
        net[2].weight.copy_(torch.eye(4).reshape(4, 4, 1, 1))
    return net


def test_ranking_is_network_wide_with_a_per_layer_cap():
    net = _two_layer_net()
    # 4 of 8 filters asked for: layer 0's are the most similar, but the 50% cap takes only 2
    # of them; the other 2 come from layer 1.
    chosen = select_filters(net, fraction=0.5, max_layer_fraction=0.5)
    assert len(chosen["0"]) == 2 and len(chosen["2"]) == 2
    # Without a cap (RePr-style), all 4 from layer 0.
    repr_style = select_filters(net, fraction=0.5, method="repr")
    assert {k: v.tolist() for k, v in repr_style.items()} == {"0": [0, 1, 2, 3]}


def test_prunable_layers_of_the_real_backbones():
    names = [p.name for p in prunable_layers(create_model("casia"))]
    assert "face.conv11" in names and "eye.conv52" in names and len(names) == 20
    # compact: depthwise convolutions are not pruned.
    assert all(p.conv.groups == 1 for p in prunable_layers(create_model("compact")))
    chosen = select_filters(create_model("casia"), fraction=0.2)
    total = sum(p.conv.out_channels for p in prunable_layers(create_model("casia")))
    assert sum(len(v) for v in chosen.values()) == round(0.2 * total)
    # Under DDP on CUDA the loop converts BatchNorm to SyncBatchNorm: still prunable.
    synced = torch.nn.SyncBatchNorm.convert_sync_batchnorm(create_model("casia"))
    assert [p.name for p in prunable_layers(synced)] == names


def test_misuse():
    with pytest.raises(ConfigError, match="pruning method"):
        select_filters(_two_layer_net(), method="magnitude")
    with pytest.raises(ConfigError, match="fraction"):
        select_filters(_two_layer_net(), fraction=1.5)
    with pytest.raises(ConfigError, match="no convolution"):
        select_filters(nn.Linear(2, 2))
