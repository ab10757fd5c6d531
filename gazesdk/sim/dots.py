"""Where the dots appear: uniformly over the screen as in GazeCapture, or on a calibration grid."""

from __future__ import annotations

import numpy as np

# 3x3 calibration grid, as fractions of the screen's width and height.
GRID_FRACTIONS = (0.1, 0.5, 0.9)


def random_dots(rng: np.random.Generator, screen_pts: np.ndarray, *,
                margin: float = 0.04) -> np.ndarray:
    """(N, 2) dot positions in points, uniform over each screen (N, 2) less a small margin."""
    u = rng.uniform(margin, 1 - margin, screen_pts.shape)
    return u * screen_pts


def grid_dots(screen_pts: np.ndarray, n: int = 9) -> np.ndarray:
    """(n, 2) dots of the calibration grid on one screen (width, height) in points, row by row.
    ``n`` may be 9 (3x3) or fewer (the first n of the grid)."""
    if not 1 <= n <= 9:
        raise ValueError(f"the calibration grid has 1 to 9 dots, got {n}")
    fx, fy = np.meshgrid(GRID_FRACTIONS, GRID_FRACTIONS)
    frac = np.stack([fx.ravel(), fy.ravel()], 1)[:n]
    return frac * np.asarray(screen_pts, float)
