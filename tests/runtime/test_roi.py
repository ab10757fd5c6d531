"""ROI geometry: MediaPipe's rotation rule by hand, and crop/projection agreeing with each
other on a drawn point."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.runtime.roi import Roi, crop_roi, level_angle, roi_from_points, roi_to_frame


def test_level_angle_by_hand():
    assert level_angle(np.array([0, 0]), np.array([10, 0])) == 0.0
    # the line goes down the image by 45 degrees: the ROI turns by +45 degrees to level it
    assert level_angle(np.array([0, 0]), np.array([10, 10])) == pytest.approx(math.pi / 4)
    assert level_angle(np.array([0, 0]), np.array([10, -10])) == pytest.approx(-math.pi / 4)
    assert abs(level_angle(np.array([10, 0]), np.array([0, 0]))) == pytest.approx(math.pi)


def test_roi_from_points_box_scale_square():
    pts = np.array([[10.0, 20.0], [50.0, 20.0], [30.0, 30.0]])
    roi = roi_from_points(pts, 0, 1, scale=1.5)
    assert (roi.cx, roi.cy, roi.side, roi.angle) == (30.0, 25.0, 60.0, 0.0)


def test_roi_to_frame_corners_and_rotation():
    roi = Roi(100.0, 50.0, 20.0, math.pi / 2)
    # the ROI's own x axis points down the image when turned by +90 degrees
    np.testing.assert_allclose(roi_to_frame(roi, np.array([[1.0, 0.5]])), [[100.0, 60.0]])
    np.testing.assert_allclose(roi_to_frame(roi, np.array([[0.5, 0.5]])), [[100.0, 50.0]])
    # mirrored fractions land on the other side
    np.testing.assert_allclose(roi_to_frame(roi, np.array([[1.0, 0.5]]), flip=True),
                               [[100.0, 40.0]])
    np.testing.assert_allclose(np.linalg.norm(roi.corners() - [100, 50], axis=1),
                               np.full(4, 10 * math.sqrt(2)))


@pytest.mark.parametrize("angle", [0.0, 0.3, -1.1])
@pytest.mark.parametrize("flip", [False, True])
def test_crop_and_projection_agree_on_a_drawn_point(angle, flip):
    frame = np.zeros((200, 240, 3), np.uint8)
    frame[118:121, 141:144] = 255           # a bright 3x3 dot centred on (142.5, 119.5)
    roi = Roi(130.0, 110.0, 64.0, angle)
    patch = crop_roi(frame, roi, 64, flip=flip)
    w = patch[..., 0].astype(float)
    ys, xs = np.mgrid[:64, :64]
    local = np.array([[(xs * w).sum() / w.sum() + 0.5, (ys * w).sum() / w.sum() + 0.5]]) / 64
    np.testing.assert_allclose(roi_to_frame(roi, local, flip=flip), [[142.5, 119.5]], atol=0.05)
