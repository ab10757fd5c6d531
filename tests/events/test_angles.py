"""Visual angles (gazesdk.events.angles): right-triangle identities and the eye fallback."""

from __future__ import annotations

import math

import numpy as np

from gazesdk.events.angles import cm_per_deg, eye_position, visual_angle_deg


def test_angle_of_a_point_beside_the_foot_of_the_eye() -> None:
    # eye 30 cm straight in front of (0, 0): a point 3 cm aside is atan(3 / 30) away
    eye = np.array([0.0, 0.0, 30.0])
    assert math.isclose(visual_angle_deg((0, 0), (3, 0), eye), math.degrees(math.atan(0.1)),
                        rel_tol=1e-12)


def test_angle_from_an_offset_eye_is_the_law_of_cosines() -> None:
    eye = np.array([2.0, -1.0, 25.0])
    a, b = np.array([-1.0, 4.0]), np.array([3.0, -5.0])
    u, v = np.r_[a, 0] - eye, np.r_[b, 0] - eye
    c = np.linalg.norm(np.r_[a - b, 0])
    cos = (u @ u + v @ v - c**2) / (2 * np.linalg.norm(u) * np.linalg.norm(v))
    assert math.isclose(visual_angle_deg(a, b, eye), math.degrees(math.acos(cos)), rel_tol=1e-9)


def test_tiny_angles_keep_precision() -> None:
    eye = np.array([0.0, 0.0, 32.0])
    d = 1e-6
    assert math.isclose(visual_angle_deg((0, 0), (d, 0), eye), math.degrees(d / 32.0),
                        rel_tol=1e-6)


def test_eye_position_falls_back_on_implausible_pose() -> None:
    np.testing.assert_array_equal(eye_position((1.0, 2.0, 35.0)), [1.0, 2.0, 35.0])
    for bad in (None, (0.0, 0.0, 1.0), (0.0, float("nan"), 30.0), (1.0, 2.0)):
        np.testing.assert_array_equal(eye_position(bad, 40.0), [0.0, 0.0, 40.0])
    assert math.isclose(cm_per_deg(32.0), 32.0 * math.tan(math.radians(1.0)))
