"""The front camera: a pinhole looking out of the screen, and the frame it records.

Camera frame (cm): GazeCapture's, x right and y up as the user sees the screen in the current
orientation, z from the screen towards the user. The recorded frame is what the camera sees (not
mirrored): the user's left eye appears on the right of the image, so image u grows towards -x,
and image v (downwards) towards -y. Frames are upright for the user's orientation: 480x640
(width x height) in portrait, 640x480 in landscape, like GazeCapture's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """Pinhole intrinsics shared by all sessions (per orientation only the frame size changes)."""

    focal_px: float = 500.0
    short_side_px: int = 480
    long_side_px: int = 640

    def frame_size(self, orientation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(width, height) in pixels per frame for GazeCapture orientation codes."""
        portrait = np.isin(orientation, (1, 2))
        w = np.where(portrait, self.short_side_px, self.long_side_px)
        h = np.where(portrait, self.long_side_px, self.short_side_px)
        return w, h

    def project(self, p: np.ndarray, frame_w: np.ndarray, frame_h: np.ndarray) -> np.ndarray:
        """(N, 2) image points (u right, v down, pixels from the top-left) of (N, 3) points."""
        z = p[:, 2]
        u = frame_w / 2.0 - self.focal_px * p[:, 0] / z
        v = frame_h / 2.0 - self.focal_px * p[:, 1] / z
        return np.stack([u, v], axis=1)

    def jacobian(self, p: np.ndarray, axes: np.ndarray) -> np.ndarray:
        """(N, 2, K) image displacement per cm along each of K directions (N, K, 3) at points
        (N, 3): the local linear map of a small planar feature into the image."""
        x, y, z = p[:, 0:1], p[:, 1:2], p[:, 2:3]
        ax, ay, az = axes[..., 0], axes[..., 1], axes[..., 2]
        du = -self.focal_px * (ax * z - x * az) / z**2
        dv = -self.focal_px * (ay * z - y * az) / z**2
        return np.stack([du, dv], axis=1)
