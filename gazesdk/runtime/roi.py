"""Rotated square regions of a frame: what MediaPipe's landmark models look at.

A :class:`Roi` is a square in frame pixels (continuous coordinates: pixel i spans [i, i + 1],
x right and y down from the top-left of the upright camera frame), turned by ``angle`` so that
its own x axis runs along a face's eye line. Landmark models see the ROI resampled to their
input size and answer in that input's pixels; :func:`roi_to_frame` maps such answers back.
The conventions follow MediaPipe's documented graphs (face_landmark, iris_landmark): the ROI is
the bounding box of some points, scaled and made square on its long side, with the rotation
that levels the line from one named point to another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Roi:
    """A square of side ``side`` centred on (``cx``, ``cy``), frame pixels; ``angle`` in
    radians, positive when the square's x axis points down the image (a face rolled
    clockwise as seen in the frame)."""

    cx: float
    cy: float
    side: float
    angle: float = 0.0

    def rotation(self) -> np.ndarray:
        c, s = math.cos(self.angle), math.sin(self.angle)
        return np.array([[c, -s], [s, c]])

    def corners(self) -> np.ndarray:
        """(4, 2) corners, clockwise from the ROI's own top-left."""
        local = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
        return roi_to_frame(self, local + 0.5)

    def inside(self, frame_w: int, frame_h: int) -> bool:
        """Whether the ROI's centre lies in the frame (a ROI whose centre has left has lost its
        face)."""
        return 0.0 <= self.cx < frame_w and 0.0 <= self.cy < frame_h


def level_angle(start: np.ndarray, end: np.ndarray) -> float:
    """The ROI rotation that makes the line ``start`` -> ``end`` horizontal (MediaPipe's
    ``DetectionsToRects`` rule with target angle 0: r = -atan2(-(y1 - y0), x1 - x0))."""
    r = -math.atan2(-(float(end[1]) - float(start[1])), float(end[0]) - float(start[0]))
    return (r + math.pi) % (2 * math.pi) - math.pi


def roi_from_box(box: tuple[float, float, float, float], start: np.ndarray, end: np.ndarray,
                 *, scale: float) -> Roi:
    """The ROI of an axis-aligned ``box`` (x, y, w, h), scaled by ``scale`` and squared on its
    long side, turned to level ``start`` -> ``end``."""
    x, y, w, h = (float(v) for v in box)
    return Roi(x + w / 2, y + h / 2, scale * max(w, h), level_angle(start, end))


def roi_from_points(points: np.ndarray, start: int, end: int, *, scale: float) -> Roi:
    """The ROI of ``points`` (N, >=2): their bounding box, levelled on points ``start`` ->
    ``end`` (indices), scaled by ``scale``."""
    p = np.asarray(points, np.float64)[:, :2]
    lo, hi = p.min(axis=0), p.max(axis=0)
    return roi_from_box((lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]), p[start], p[end],
                        scale=scale)


def roi_to_frame(roi: Roi, local: np.ndarray, *, flip: bool = False) -> np.ndarray:
    """(N, 2) frame pixels of points given as fractions (0..1) of the ROI's own axes; ``flip``:
    the fractions were measured in a horizontally mirrored copy of the ROI."""
    u = np.asarray(local, np.float64)[:, :2] - 0.5
    if flip:
        u = u * np.array([-1.0, 1.0])
    return np.array([roi.cx, roi.cy]) + roi.side * (u @ roi.rotation().T)


def crop_roi(rgb: np.ndarray, roi: Roi, size: int, *, flip: bool = False) -> np.ndarray:
    """(size, size, 3) uint8: the ROI resampled (bilinear; outside the frame, the border
    pixels repeat), mirrored left-right when ``flip``."""
    f = np.diag([-1.0 if flip else 1.0, 1.0])
    a = roi.side / size * roi.rotation() @ f
    # tensor pixel q has its centre at (q + 0.5) / size of the ROI; cv2 puts pixel centres at
    # whole numbers, hence the half-pixel shifts on both sides
    b = (np.array([roi.cx, roi.cy]) + roi.side * (roi.rotation() @ f @ np.full(2, 0.5 / size - 0.5))
         - 0.5)
    m = np.hstack([a, b[:, None]])
    return cv2.warpAffine(rgb, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
