"""Aligned orthogonal initialisation (AOI): how TAT re-births pruned filters (Guo et al.,
section 3.1, Eq. 6-7), with the plain orthogonal and uniform re-initialisations of its Table 4.

AOI, for the pruned filters of one layer: (1) draw W_Re, orthonormal rows from a QR
decomposition of a Gaussian matrix (as torch.nn.init.orthogonal_ does); (2) compute the
BatchNorm-adjusted norms ||W_fi * gamma_fi / sqrt(var_fi + eps)|| of the layer's filters
(before any change); (3) set each re-born filter to W_Re_fi / ||W_Re_fi|| * s, s uniform between
the min and max of those norms. Re-born filters are mutually orthogonal (at most C*Kh*Kw of them
can be; more are drawn in orthonormal blocks) with norms in the range of the layer's filters.

Decisions the paper leaves open: the re-born filters' BatchNorm entries are reset to identity
(gamma 1, beta 0, running mean 0, running variance 1), so a re-born filter's BN-adjusted norm is
its own norm s, inside the range above; a conv bias is zeroed; the next layer's weights that
read the re-born channels are kept, so the filter is re-born into an existing pathway.
"""

from __future__ import annotations

import math

import torch

from gazesdk.errors import ConfigError
from gazesdk.training.csp import PrunableLayer

METHODS = ("aoi", "orthogonal", "uniform")


def bn_adjusted_norms(layer: PrunableLayer) -> torch.Tensor:
    """||W_fi * gamma_fi / sqrt(var_fi + eps)|| for every filter of the layer (Eq. 6)."""
    w = layer.conv.weight.detach().reshape(layer.conv.out_channels, -1)
    bn = layer.bn
    gamma = bn.weight.detach() if bn.affine else torch.ones_like(bn.running_var)
    scale = gamma / torch.sqrt(bn.running_var + bn.eps)
    return (w * scale[:, None]).norm(dim=1)


def orthonormal_rows(n: int, size: int, generator: torch.Generator | None = None,
                     dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(n, size) rows, orthonormal within blocks of at most ``size`` rows."""
    blocks = []
    for start in range(0, n, size):
        k = min(size, n - start)
        a = torch.randn(size, k, generator=generator, dtype=torch.float64)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))          # a unique, uniformly random basis
        blocks.append(q.T)
    return torch.cat(blocks).to(dtype)


@torch.no_grad()
def reinit_filters(layer: PrunableLayer, indices: torch.Tensor, *, method: str = "aoi",
                   generator: torch.Generator | None = None) -> None:
    """Re-initialise filters ``indices`` of ``layer`` in place (Eq. 7 for ``aoi``)."""
    if method not in METHODS:
        raise ConfigError(f"unknown re-initialisation {method!r}; expected one of {METHODS}")
    indices = torch.as_tensor(indices, dtype=torch.long)
    if not len(indices):
        return
    conv, bn = layer.conv, layer.bn
    if indices.min() < 0 or indices.max() >= conv.out_channels:
        raise ConfigError(f"{layer.name}: filter index out of range 0..{conv.out_channels - 1}")
    shape = conv.weight.shape[1:]
    size = math.prod(shape)
    n = len(indices)
    if method == "uniform":                 # PyTorch's default conv initialisation
        new = torch.empty(n, *shape)
        bound = 1.0 / math.sqrt(size)       # kaiming_uniform_(a=sqrt(5)) gives 1/sqrt(fan_in)
        new.uniform_(-bound, bound, generator=generator)
        new = new.reshape(n, size)
    else:
        new = orthonormal_rows(n, size, generator)
        if method == "aoi":
            norms = bn_adjusted_norms(layer)
            lo, hi = float(norms.min()), float(norms.max())
            s = lo + (hi - lo) * torch.rand(n, generator=generator, dtype=torch.float64)
            new = new * s[:, None].to(new.dtype)
    conv.weight[indices.to(conv.weight.device)] = new.reshape(n, *shape).to(
        conv.weight.device, conv.weight.dtype)
    indices = indices.to(conv.weight.device)
    if conv.bias is not None:
        conv.bias[indices] = 0.0
    if bn.affine:
        bn.weight[indices] = 1.0
        bn.bias[indices] = 0.0
    bn.running_mean[indices] = 0.0
    bn.running_var[indices] = 1.0
