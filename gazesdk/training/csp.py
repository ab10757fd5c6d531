"""Cosine similarity pruning (CSP): which filters TAT re-initialises (Guo et al., section 3.1,
Eq. 5).

For a convolution with weight W of shape (N_out, C, Kh, Kw), flatten each filter, L2-normalise
the rows to W~, and score filter i by Sim_i = (sum over columns of row i of (W~ W~^T - I)) /
N_out: its mean cosine similarity to the layer's other filters. There is no absolute value:
a filter correlated negatively with the others is not redundant (ReLU suppresses negatives).
Filters of the whole network are ranked together; the top ``fraction`` are pruned, but never
more than ``max_layer_fraction`` of one layer. The RePr-style variant takes the absolute value
and has no per-layer cap.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gazesdk.errors import ConfigError

METHODS = ("csp", "repr")


def filter_similarity(weight: torch.Tensor, *, absolute: bool = False) -> torch.Tensor:
    """Sim_i of Eq. 5 for every filter (row) of a conv weight (N_out, C, Kh, Kw)."""
    w = weight.detach().reshape(weight.shape[0], -1).double()
    w = w / w.norm(dim=1, keepdim=True).clamp_min(1e-12)
    cos = w @ w.T - torch.eye(len(w), dtype=w.dtype, device=w.device)
    if absolute:
        cos = cos.abs()
    return (cos.sum(dim=1) / len(w)).to(weight.dtype)


@dataclass(frozen=True)
class PrunableLayer:
    """A convolution and the BatchNorm that follows it (TAT re-initialises both together)."""

    name: str
    conv: nn.Conv2d
    bn: nn.modules.batchnorm._BatchNorm     # BatchNorm2d, or SyncBatchNorm under DDP on CUDA


def prunable_layers(model: nn.Module) -> list[PrunableLayer]:
    """Every ordinary (ungrouped) convolution directly followed by a BatchNorm in its parent's
    children, named as in ``model.named_modules()``. Depthwise convolutions are left out."""
    layers = []
    for parent_name, parent in model.named_modules():
        children = list(parent.named_children())
        for (name, mod), (_, nxt) in zip(children, children[1:], strict=False):
            if (isinstance(mod, nn.Conv2d) and mod.groups == 1
                    and isinstance(nxt, nn.modules.batchnorm._BatchNorm)
                    and nxt.num_features == mod.out_channels):
                full = f"{parent_name}.{name}" if parent_name else name
                layers.append(PrunableLayer(full, mod, nxt))
    return layers


def select_filters(model: nn.Module, *, fraction: float = 0.2, max_layer_fraction: float = 0.5,
                   method: str = "csp") -> dict[str, torch.Tensor]:
    """Filters to prune: layer name -> sorted filter indices (only layers with some)."""
    if method not in METHODS:
        raise ConfigError(f"unknown pruning method {method!r}; expected one of {METHODS}")
    if not 0.0 <= fraction <= 1.0 or not 0.0 < max_layer_fraction <= 1.0:
        raise ConfigError("fraction must be in [0, 1] and max_layer_fraction in (0, 1]")
    layers = prunable_layers(model)
    if not layers:
        raise ConfigError("the model has no convolution followed by BatchNorm to prune")
    scores, owners = [], []
    for i, layer in enumerate(layers):
        s = filter_similarity(layer.conv.weight, absolute=method == "repr")
        scores.append(s)
        owners.append(torch.full_like(s, i, dtype=torch.long))
    score, owner = torch.cat(scores), torch.cat(owners)
    offsets = torch.cumsum(torch.tensor([0] + [len(s) for s in scores[:-1]]), 0)
    budget = int(round(fraction * len(score)))
    cap = [int(max_layer_fraction * len(s)) if method == "csp" else len(s) for s in scores]
    taken = [0] * len(layers)
    chosen: dict[int, list[int]] = {}
    for flat in torch.argsort(score, descending=True, stable=True).tolist():
        if budget == 0:
            break
        li = int(owner[flat])
        if taken[li] >= cap[li]:
            continue
        taken[li] += 1
        chosen.setdefault(li, []).append(flat - int(offsets[li]))
        budget -= 1
    return {layers[li].name: torch.tensor(sorted(idx)) for li, idx in chosen.items()}
