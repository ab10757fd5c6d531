"""The real-face suite: its geometry against hand-worked figures and a projected eyeball, the
iris re-rendering on a real face (checked by MediaPipe's real-data iris model), placement, and
the scoring against hand-made answers."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from gazesdk.mobile_bench.real_faces import (
    BASE,
    EYES,
    INTERPUPILLARY_CM,
    IRIS_PLANE_CM,
    IRIS_RADIUS_CM,
    Condition,
    EyeFinder,
    RealPhoto,
    SuiteFrames,
    expected_gaze_shift_cm,
    mirror_error_cm,
    place,
    real_photos,
    score,
    shift_irises,
)
from gazesdk.runtime.head_pose import default_focal_px


def test_expected_shift_worked_by_hand():
    # r = 10 px -> 0.059 cm/px, D = 500 * 0.059 = 29.5 cm; 4 px = 0.236 cm on the iris plane
    theta = math.asin(0.236 / math.sqrt(1.2**2 - 0.59**2))
    got = expected_gaze_shift_cm((4.0, 0.0), 10.0, 500.0)
    assert got == pytest.approx([-29.5 * math.tan(theta), 0.0], abs=1e-9)
    assert got[0] == pytest.approx(-6.84, abs=0.01)
    # image down -> gaze down (y negative); image left -> user's right (x positive)
    assert expected_gaze_shift_cm((0.0, 3.0), 10.0, 500.0)[1] < 0
    assert expected_gaze_shift_cm((-3.0, 0.0), 10.0, 500.0)[0] > 0
    with pytest.raises(ValueError):
        expected_gaze_shift_cm((1.0, 0.0), 0.0, 500.0)


@pytest.mark.parametrize("theta_deg", [5.0, -12.0, 20.0])
def test_expected_shift_matches_a_projected_eyeball(theta_deg):
    """A pinhole camera (focal f) films an eyeball D cm away; the eye turns by theta. Project
    the iris centre before and after: the suite's formula must give back where the visual
    ray meets the camera plane, D tan(theta), in GazeCapture's x (the image is unmirrored)."""
    f, d = 600.0, 35.0
    t = math.radians(theta_deg)

    def iris_x(angle: float) -> float:       # camera frame: x right in the image, z away
        x, z = IRIS_PLANE_CM * math.sin(angle), d - IRIS_PLANE_CM * math.cos(angle)
        return f * x / z

    r_px = f * IRIS_RADIUS_CM / (d - IRIS_PLANE_CM)
    offset = iris_x(t) - iris_x(0.0)
    hit_x_camera = (d - 0.0) * math.tan(t)      # where the ray from the eyeball centre lands
    got = expected_gaze_shift_cm((offset, 0.0), r_px, f)
    assert got[0] == pytest.approx(-hit_x_camera, rel=0.04)


def test_mirror_error():
    assert mirror_error_cm((1.0, 2.0), (-1.0, 2.0)) == 0.0
    assert mirror_error_cm((1.0, 2.0), (1.0, 2.0)) == pytest.approx(2.0)
    assert mirror_error_cm((0.0, 0.0), (3.0, 4.0)) == pytest.approx(5.0)


def test_place_puts_the_eyes_at_the_asked_distance_and_anchor():
    photo = real_photos()[0]
    for c in (BASE, Condition("x", frame=(720, 1280), distance_cm=45.0, anchor=(0.3, 0.6),
                              roll_deg=10.0)):
        frame, m = place(photo, c)
        assert frame.shape == (c.frame[1], c.frame[0], 3)
        r = m[:, :2] @ np.asarray(photo.right_iris) + m[:, 2]
        left = m[:, :2] @ np.asarray(photo.left_iris) + m[:, 2]
        want = default_focal_px(*c.frame) * INTERPUPILLARY_CM / c.distance_cm
        assert np.hypot(*(left - r)) == pytest.approx(want, rel=1e-6)
        assert (r + left) / 2 == pytest.approx([c.anchor[0] * c.frame[0],
                                               c.anchor[1] * c.frame[1]], abs=1e-6)
        tilt = math.degrees(math.atan2(-(left - r)[1], (left - r)[0]))
        photo_tilt = math.degrees(math.atan2(-(photo.left_iris[1] - photo.right_iris[1]),
                                             photo.left_iris[0] - photo.right_iris[0]))
        assert tilt - photo_tilt == pytest.approx(c.roll_deg, abs=1e-6)


def test_exposure_is_applied():
    photo = real_photos()[0]
    base, _ = place(photo, BASE)
    dim, _ = place(photo, Condition("dim", gain=0.5))
    assert dim.mean() == pytest.approx(0.5 * base.mean(), rel=0.03)
    warm, _ = place(photo, Condition("warm", temperature=0.2))
    assert warm[..., 0].mean() > base[..., 0].mean() > 0
    assert warm[..., 2].mean() < base[..., 2].mean()


@pytest.fixture(scope="module")
def astronaut_eyes(landmark_models, detector_model, astronaut):
    photo = RealPhoto("astronaut", astronaut, (203.2, 101.0), (246.3, 103.5), "test")
    frame, _ = place(photo, BASE)
    with EyeFinder() as find:
        yield frame, find(frame), find


def test_hand_marks_agree_with_the_iris_model(astronaut_eyes, astronaut):
    frame, eyes, _ = astronaut_eyes
    _, m = place(RealPhoto("a", astronaut, (203.2, 101.0), (246.3, 103.5), ""), BASE)
    for eye, mark in zip(EYES, ((203.2, 101.0), (246.3, 103.5)), strict=True):
        truth = m[:, :2] @ np.asarray(mark) + m[:, 2]
        assert np.hypot(*(np.asarray(eyes[eye].iris_center) - truth)) < 2.5


@pytest.mark.parametrize("offset", [(0.4, 0.0), (-0.4, 0.0), (0.0, 0.3), (0.0, -0.3)])
def test_re_rendered_irises_move_where_asked_and_nothing_else_changes(astronaut_eyes, offset):
    frame, eyes, find = astronaut_eyes
    r = np.mean([eyes[e].iris_radius for e in EYES])
    off = (offset[0] * r, offset[1] * r)
    edited = shift_irises(frame, eyes, off)
    again = find(edited)
    moved = np.mean([np.subtract(again[e].iris_center, eyes[e].iris_center) for e in EYES], 0)
    axis = np.asarray(off) / np.hypot(*off)
    # the real-data iris model sees the iris move the asked way, by a good part of the offset
    assert moved @ axis > 0.35 * np.hypot(*off)
    assert abs(moved @ np.array([-axis[1], axis[0]])) < 0.35 * np.hypot(*off)
    # outside the eye openings not one pixel changes (the lids are kept)
    mask = np.zeros(frame.shape[:2], np.uint8)
    for e in EYES:
        pts = np.rint(np.asarray(eyes[e].contour)[:16]).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1)
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    assert np.array_equal(edited[mask == 0], frame[mask == 0])
    assert np.abs(edited.astype(int) - frame).max() > 40      # the iris did move


def test_a_zero_offset_changes_almost_nothing(astronaut_eyes):
    frame, eyes, _ = astronaut_eyes
    same = shift_irises(frame, eyes, (0.0, 0.0))
    assert np.abs(same.astype(int) - frame).mean() < 0.05


def _hand_suite() -> SuiteFrames:
    s = SuiteFrames([], [], [], [], [], [], [], [], [], [])
    blank = np.zeros((2, 2, 3), np.uint8)
    lens = s.add(blank, "lens", "p", "base", False)
    s.add(blank, "mirror", "p", "base", False, pair=lens)
    s.add(blank, "iris", "p", "base", False, pair=lens, direction="horizontal+",
          expected=(-4.0, 0.0), rerender=0.8)
    s.add(blank, "iris", "p", "base", False, pair=lens, direction="horizontal-",
          expected=(4.0, 0.0), rerender=0.6)
    s.add(blank, "lens", "q", "other", True)
    for _ in range(3):
        s.add(blank, "stare", "p", "stare", False, sequence=0)
    return s


def test_score_against_hand_made_answers():
    s = _hand_suite()
    gaze = np.array([[3.0, 4.0], [-2.0, 4.0], [1.0, 4.0], [5.0, 4.0], [6.0, 8.0],
                     [0.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    got = score(s, gaze)
    dev = got["dev"]
    assert dev["lens_bias_cm"] == 5.0
    assert dev["mirror_cm"] == 1.0                        # (-2 + 3, 4 - 4)
    # model shift (1 - 5) / 2 = -2 along x, expected (-4 - 4) / 2 = -4: ratio 0.5
    assert dev["iris_response_ratio"]["horizontal"] == 0.5
    assert dev["iris_right_sign"] == 1.0
    assert dev["iris_cases"][0]["rerender_fidelity"] == 0.7
    # stare (0, 0), (2, 0), (1, 0): spread sqrt(mean squared distance to the mean) = sqrt(2/3)
    assert dev["real_face_msd_cm"] == pytest.approx(math.sqrt(2 / 3), abs=1e-3)
    assert got["held_out"]["lens_bias_cm"] == 10.0
    assert got["all"]["lens_bias_cm"] == 7.5
    # a wrong-way response is negative, an invalid frame drops out
    gaze[2] = [9.0, 4.0]
    gaze[1] = np.nan
    again = score(s, gaze)["dev"]
    assert again["iris_response_ratio"]["horizontal"] < 0
    assert again["iris_right_sign"] == 0.0
    assert again["mirror_cm"] is None
