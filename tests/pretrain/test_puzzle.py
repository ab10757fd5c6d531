"""Puzzle/rotation labels on a hand-made image: every piece is where its label says, rotated
as its label says; puzzle-rotation rotates at most two pieces."""

from __future__ import annotations

import pytest
import torch

from gazesdk.pretrain.puzzle import make_pretext


def hand_made(grid: int, side: int = 6) -> torch.Tensor:
    """One image whose piece q is filled with the value 10 q plus an asymmetric mark (a 1 in
    the piece's top-left pixel), so both identity and orientation are visible."""
    s = side // grid
    img = torch.zeros(1, 1, side, side)
    for q in range(grid * grid):
        r, c = divmod(q, grid)
        img[0, 0, r * s:(r + 1) * s, c * s:(c + 1) * s] = 10 * q
        img[0, 0, r * s, c * s] += 1
    return img


def piece(img: torch.Tensor, p: int, grid: int) -> torch.Tensor:
    s = img.shape[-1] // grid
    r, c = divmod(p, grid)
    return img[0, 0, r * s:(r + 1) * s, c * s:(c + 1) * s]


@pytest.mark.parametrize("grid", [2, 3])
@pytest.mark.parametrize("kind", ["puzzle", "rotation", "puzzle-rotation"])
def test_pieces_are_where_and_how_the_labels_say(kind, grid):
    img = hand_made(grid)
    for seed in range(20):
        out = make_pretext(img, kind=kind, grid=grid, generator=torch.Generator().manual_seed(seed))
        for p in range(grid * grid):
            q, turns = int(out.order[0, p]), int(out.rotation[0, p])
            expect = torch.rot90(piece(img, q, grid), turns, dims=(0, 1))
            assert torch.equal(piece(out.images, p, grid), expect), (kind, seed, p)
        if kind == "rotation":
            assert torch.equal(out.order[0], torch.arange(grid * grid))
        if kind == "puzzle":
            assert not out.rotation.any()
        if kind == "puzzle-rotation":
            assert int((out.rotation[0] > 0).sum()) <= 2
        assert sorted(out.order[0].tolist()) == list(range(grid * grid))


def test_labels_vary_and_misuse():
    imgs = torch.rand(64, 3, 6, 6)
    out = make_pretext(imgs, kind="puzzle-rotation", grid=3,
                       generator=torch.Generator().manual_seed(0))
    assert set(out.rotation.flatten().tolist()) == {0, 1, 2, 3}
    assert (out.order != torch.arange(9)).any(dim=1).float().mean() > 0.9
    with pytest.raises(ValueError, match="unknown pretext"):
        make_pretext(imgs, kind="jigsaw")
    with pytest.raises(ValueError, match="divisible"):
        make_pretext(torch.rand(2, 3, 7, 7), kind="puzzle", grid=2)
    with pytest.raises(ValueError, match="grid"):
        make_pretext(imgs, kind="puzzle", grid=4)
