"""The 25x25 face grid of iTracker/GazeCapture: where the face box lies in the frame.

GazeCapture's ``faceGrid.json`` stores the box on the grid, 1-indexed: x = round(fx * 25 / W) + 1,
w = round(fw * 25 / W), likewise y and h with the frame height; the cells the box covers are 1,
the rest 0, clamped to the grid. Rounding is half away from zero, as in GazeCapture's MATLAB code.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gazesdk.data.arrays import GRID_SIZE as GRID


def round_half_away(v: np.ndarray) -> np.ndarray:
    """Round half away from zero to int64, as MATLAB (and so GazeCapture's code) does."""
    return (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int64)


def face_grid_params(face_box: ArrayLike, frame_wh: ArrayLike) -> np.ndarray:
    """(N, 4) int (X, Y, W, H) as in ``faceGrid.json`` (1-indexed) from face boxes (N, 4)
    (x, y, w, h in frame pixels) and frame sizes (N, 2) or (2,)."""
    box = np.atleast_2d(np.asarray(face_box, float))
    wh = np.broadcast_to(np.asarray(frame_wh, float), (len(box), 2))
    w, h = wh[:, 0], wh[:, 1]
    # Multiply before dividing: x * 25 / W is exact at the .5 cases where x * (25 / W) is not.
    r = round_half_away
    return np.stack([r(box[:, 0] * GRID / w) + 1, r(box[:, 1] * GRID / h) + 1,
                     r(box[:, 2] * GRID / w), r(box[:, 3] * GRID / h)], axis=1)


def face_grid_mask(params: ArrayLike) -> np.ndarray:
    """(N, 25, 25) uint8 masks from (N, 4) 1-indexed grid boxes; row index is y."""
    p = np.atleast_2d(np.asarray(params, np.int64))
    idx = np.arange(1, GRID + 1)
    x0, y0, w, h = p[:, 0:1], p[:, 1:2], p[:, 2:3], p[:, 3:4]
    in_x = (idx >= x0) & (idx < x0 + w)
    in_y = (idx >= y0) & (idx < y0 + h)
    return (in_y[:, :, None] & in_x[:, None, :]).astype(np.uint8)


def face_grid(face_box: ArrayLike, frame_wh: ArrayLike) -> np.ndarray:
    """(N, 25, 25) uint8 face grids straight from face boxes in frame pixels."""
    return face_grid_mask(face_grid_params(face_box, frame_wh))
