"""Puzzle and rotation pretext labels for HMTL co-training (Pourmirzaei et al., "How
Self-Supervised Learning Can be Used for Fine-Grained Head Pose Estimation?").

An image is cut into a g x g grid (g = 2 or 3; pieces in row-major order):
- **puzzle**: the pieces are shuffled; label[p] = the original index of the piece now at
  position p (one g*g-way classification head per position);
- **rotation**: every piece is rotated in place by label[p] * 90 degrees counter-clockwise
  (one 4-way head per piece);
- **puzzle-rotation**: shuffled, and at most ``max_rotated`` (2) pieces rotated, so the main
  task's information survives; unrotated pieces have rotation label 0.

Images must be square with a side divisible by g (rotating a piece needs square pieces).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

KINDS = ("puzzle", "rotation", "puzzle-rotation")


@dataclass(frozen=True)
class Pretext:
    images: torch.Tensor            # (N, C, H, W) the transformed images
    order: torch.Tensor             # (N, g*g) original piece index at each position
    rotation: torch.Tensor          # (N, g*g) quarter turns of the piece at each position


def _pieces(images: torch.Tensor, grid: int) -> torch.Tensor:
    n, c, h, w = images.shape
    s = h // grid
    return (images.reshape(n, c, grid, s, grid, s).permute(0, 2, 4, 1, 3, 5)
            .reshape(n, grid * grid, c, s, s))


def _assemble(pieces: torch.Tensor, grid: int) -> torch.Tensor:
    n, _, c, s, _ = pieces.shape
    return (pieces.reshape(n, grid, grid, c, s, s).permute(0, 3, 1, 4, 2, 5)
            .reshape(n, c, grid * s, grid * s))


def make_pretext(images: torch.Tensor, *, kind: str, grid: int = 2, max_rotated: int = 2,
                 generator: torch.Generator | None = None) -> Pretext:
    """Shuffle and/or rotate the pieces of every image, with the labels of each position."""
    if kind not in KINDS:
        raise ValueError(f"unknown pretext {kind!r}; expected one of {KINDS}")
    if grid not in (2, 3):
        raise ValueError(f"grid must be 2 or 3, got {grid}")
    if images.ndim != 4 or images.shape[2] != images.shape[3] or images.shape[2] % grid:
        raise ValueError(f"images must be (N, C, S, S) with S divisible by {grid}, got "
                         f"{tuple(images.shape)}")
    n, k = len(images), grid * grid
    pieces = _pieces(images, grid)
    order = torch.arange(k).repeat(n, 1)
    if kind in ("puzzle", "puzzle-rotation"):
        order = torch.stack([torch.randperm(k, generator=generator) for _ in range(n)])
        pieces = pieces[torch.arange(n)[:, None], order.to(images.device)]
    rotation = torch.zeros(n, k, dtype=torch.long)
    if kind == "rotation":
        rotation = torch.randint(4, (n, k), generator=generator)
    elif kind == "puzzle-rotation":
        count = torch.randint(max_rotated + 1, (n,), generator=generator)
        for i in range(n):
            where = torch.randperm(k, generator=generator)[:int(count[i])]
            rotation[i, where] = torch.randint(1, 4, (len(where),), generator=generator)
    if rotation.any():
        pieces = pieces.clone()
        for quarter in (1, 2, 3):
            sel = (rotation == quarter).to(images.device)
            if sel.any():
                pieces[sel] = torch.rot90(pieces[sel], quarter, dims=(-2, -1))
    return Pretext(_assemble(pieces, grid), order, rotation)
