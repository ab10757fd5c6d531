"""Tests for gazesdk.geometry.screen: GazeCapture's screen <-> camera conversions.

Reference (GazeCapture's label convention), with dX, dY, dW, dH from the device table and
(xs, ys) the screen position in mm from the top-left as the user sees it:

    orientation 1: xCam = xs - dX             yCam = -dY - ys
    orientation 2: xCam = dX - dW + xs        yCam = dY + dH - ys
    orientation 3: xCam = dY + xs             yCam = dW - dX - ys
    orientation 4: xCam = -dY - dH + xs       yCam = dX - ys

Points -> mm: multiply by dW/W, dH/H in orientations 1-2 and by dH/W, dW/H in 3-4, (W, H) the
active screen size in points for that orientation. Hand-worked cases use the iPhone 6s row:
dX = 18.61, dY = 8.04, dW = 58.49, dH = 104.05 mm, 375 x 667 points (Display Zoom 320 x 568).
"""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.geometry import (
    cam_cm_to_screen,
    cam_cm_to_screen_mm,
    get_device,
    list_devices,
    screen_mm_to_cam_cm,
    screen_mm_to_units,
    screen_to_cam_cm,
    screen_units_to_mm,
)

ORIENTATIONS = (1, 2, 3, 4)
DEVICES = list_devices()


def _sizes(name: str, orientation: int) -> list[tuple[float, float]]:
    """The active screen sizes (points) a recording of this device can have: plain and zoomed."""
    d = get_device(name)
    sizes = [d.screen_size_points(orientation)]
    if d.screen_width_points_zoomed is not None:
        sizes.append(d.screen_size_points(orientation, zoomed=True))
    return sizes


# --- (1) round trips, every device and orientation -------------------------------------------

@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("name", DEVICES)
def test_mm_round_trip(name, orientation):
    d = get_device(name)
    w_mm, h_mm = d.screen_size_mm(orientation)
    rng = np.random.default_rng(1000 * orientation + DEVICES.index(name))
    xs, ys = rng.uniform(0, w_mm, 200), rng.uniform(0, h_mm, 200)
    x_cm, y_cm = screen_mm_to_cam_cm(xs, ys, d, orientation)
    xs2, ys2 = cam_cm_to_screen_mm(x_cm, y_cm, d, orientation)
    np.testing.assert_allclose(xs2, xs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ys2, ys, rtol=0, atol=1e-9)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("name", DEVICES)
def test_points_round_trip(name, orientation):
    d = get_device(name)
    rng = np.random.default_rng(7000 + 100 * orientation + DEVICES.index(name))
    for size in _sizes(name, orientation):
        x, y = rng.uniform(0, size[0], 200), rng.uniform(0, size[1], 200)
        x_cm, y_cm = screen_to_cam_cm(x, y, d, orientation, size)
        x2, y2 = cam_cm_to_screen(x_cm, y_cm, d, orientation, size)
        np.testing.assert_allclose(x2, x, rtol=0, atol=1e-9)
        np.testing.assert_allclose(y2, y, rtol=0, atol=1e-9)
        # and the units <-> mm step on its own
        xs, ys = screen_units_to_mm(x, y, d, orientation, size)
        x3, y3 = screen_mm_to_units(xs, ys, d, orientation, size)
        np.testing.assert_allclose(x3, x, rtol=0, atol=1e-9)
        np.testing.assert_allclose(y3, y, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", DEVICES)
def test_camera_side_round_trip(name):
    # cam -> screen -> cam, for random camera positions and mixed per-sample orientations.
    d = get_device(name)
    rng = np.random.default_rng(DEVICES.index(name))
    o = rng.integers(1, 5, 300)
    x_cm, y_cm = rng.uniform(-30, 30, 300), rng.uniform(-30, 30, 300)
    xs, ys = cam_cm_to_screen_mm(x_cm, y_cm, d, o)
    x2, y2 = screen_mm_to_cam_cm(xs, ys, d, o)
    np.testing.assert_allclose(x2, x_cm, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y2, y_cm, rtol=0, atol=1e-12)


# --- (2) hand-worked cases, one (or more) per orientation ------------------------------------

IPHONE_6S_CASES = [
    # orientation 1, screen centre (187.5, 333.5) pt:
    #   xs = 187.5 * 58.49 / 375 = 29.245 mm, ys = 333.5 * 104.05 / 667 = 52.025 mm
    #   xCam = 29.245 - 18.61 = 10.635 mm, yCam = -8.04 - 52.025 = -60.065 mm
    (1, (375, 667), 187.5, 333.5, 1.0635, -6.0065),
    # orientation 1, top-left corner: xCam = -dX = -18.61 mm, yCam = -dY = -8.04 mm
    (1, (375, 667), 0.0, 0.0, -1.861, -0.804),
    # orientation 2, (75, 0) pt: xs = 75 * 58.49 / 375 = 11.698 mm, ys = 0
    #   xCam = 18.61 - 58.49 + 11.698 = -28.182 mm, yCam = 8.04 + 104.05 - 0 = 112.09 mm
    (2, (375, 667), 75.0, 0.0, -2.8182, 11.209),
    # orientation 3, (333.5, 75) pt on the 667 x 375 landscape screen:
    #   xs = 333.5 * 104.05 / 667 = 52.025 mm, ys = 75 * 58.49 / 375 = 11.698 mm
    #   xCam = 8.04 + 52.025 = 60.065 mm, yCam = 58.49 - 18.61 - 11.698 = 28.182 mm
    (3, (667, 375), 333.5, 75.0, 6.0065, 2.8182),
    # orientation 4, same point: xCam = -8.04 - 104.05 + 52.025 = -60.065 mm,
    #   yCam = 18.61 - 11.698 = 6.912 mm
    (4, (667, 375), 333.5, 75.0, -6.0065, 0.6912),
    # orientation 4 with Display Zoom (568 x 320 landscape): (284, 64) pt is the same physical
    #   spot: xs = 284 * 104.05 / 568 = 52.025 mm, ys = 64 * 58.49 / 320 = 11.698 mm
    (4, (568, 320), 284.0, 64.0, -6.0065, 0.6912),
    # orientation 1 with Display Zoom (320 x 568): centre (160, 284) is the centre again
    (1, (320, 568), 160.0, 284.0, 1.0635, -6.0065),
]


@pytest.mark.parametrize(("orientation", "size", "x", "y", "x_cm", "y_cm"), IPHONE_6S_CASES)
def test_iphone_6s_points_to_cm(orientation, size, x, y, x_cm, y_cm):
    d = get_device("iPhone 6s")
    got = screen_to_cam_cm(x, y, d, orientation, size)
    assert float(got[0]) == pytest.approx(x_cm, abs=1e-9)
    assert float(got[1]) == pytest.approx(y_cm, abs=1e-9)
    back = cam_cm_to_screen(x_cm, y_cm, d, orientation, size)
    assert float(back[0]) == pytest.approx(x, abs=1e-6)
    assert float(back[1]) == pytest.approx(y, abs=1e-6)


def test_iphone_6s_cases_vectorised_with_per_sample_orientation_and_size():
    d = get_device("iPhone 6s")
    o, size, x, y, x_cm, y_cm = (np.array(c) for c in zip(*IPHONE_6S_CASES, strict=True))
    got_x, got_y = screen_to_cam_cm(x, y, d, o, size)
    np.testing.assert_allclose(got_x, x_cm, atol=1e-9)
    np.testing.assert_allclose(got_y, y_cm, atol=1e-9)
    back_x, back_y = cam_cm_to_screen(x_cm, y_cm, d, o, size)
    np.testing.assert_allclose(back_x, x, atol=1e-6)
    np.testing.assert_allclose(back_y, y, atol=1e-6)


def test_ipad_air_2_landscape_centre():
    # iPad Air 2: dX = 76.86, dY = 7.37, dW = 153.71, dH = 203.11 mm; 1024 x 768 in landscape.
    # Centre (512, 384): xs = 203.11 / 2 = 101.555 mm, ys = 153.71 / 2 = 76.855 mm.
    # o3: xCam = 7.37 + 101.555 = 108.925 mm; yCam = 153.71 - 76.86 - 76.855 = -0.005 mm
    # o4: xCam = -7.37 - 203.11 + 101.555 = -108.925 mm; yCam = 76.86 - 76.855 = 0.005 mm
    d = get_device("iPad Air 2")
    x3, y3 = screen_to_cam_cm(512, 384, d, 3, (1024, 768))
    x4, y4 = screen_to_cam_cm(512, 384, d, 4, (1024, 768))
    assert (float(x3), float(y3)) == pytest.approx((10.8925, -0.0005), abs=1e-9)
    assert (float(x4), float(y4)) == pytest.approx((-10.8925, 0.0005), abs=1e-9)


def test_camera_position_on_the_screen_iphone_6s():
    # Where (xCam, yCam) = (0, 0) falls, in screen mm of each orientation (solve each row):
    # o1: xs = dX = 18.61, ys = -dY = -8.04 (above the screen)
    # o2: xs = dW - dX = 39.88, ys = dY + dH = 112.09 (below the screen)
    # o3: xs = -dY = -8.04 (left of the screen), ys = dW - dX = 39.88
    # o4: xs = dY + dH = 112.09 (right of the screen), ys = dX = 18.61
    d = get_device("iPhone 6s")
    xs, ys = cam_cm_to_screen_mm(0.0, 0.0, d, np.array([1, 2, 3, 4]))
    np.testing.assert_allclose(xs, [18.61, 39.88, -8.04, 112.09], atol=1e-9)
    np.testing.assert_allclose(ys, [-8.04, 112.09, 39.88, 18.61], atol=1e-9)


def test_mm_functions_iphone_6s():
    # o1: (10, 20) mm -> xCam = 10 - 18.61 = -8.61 mm, yCam = -8.04 - 20 = -28.04 mm
    d = get_device("iPhone 6s")
    x, y = screen_mm_to_cam_cm(10.0, 20.0, d, 1)
    assert (float(x), float(y)) == pytest.approx((-0.861, -2.804), abs=1e-12)
    xs, ys = cam_cm_to_screen_mm(-0.861, -2.804, d, 1)
    assert (float(xs), float(ys)) == pytest.approx((10.0, 20.0), abs=1e-9)


def test_units_to_mm_scales_per_orientation():
    # Portrait: 375 pt -> 58.49 mm and 667 pt -> 104.05 mm; landscape: 667 pt -> 104.05 mm
    # across and 375 pt -> 58.49 mm down.
    d = get_device("iPhone 6s")
    assert tuple(map(float, screen_units_to_mm(375, 667, d, 1, (375, 667)))) == pytest.approx(
        (58.49, 104.05))
    assert tuple(map(float, screen_units_to_mm(667, 375, d, 3, (667, 375)))) == pytest.approx(
        (104.05, 58.49))
    # Pixels work the same way with the size in pixels: 750 px across = 58.49 mm.
    assert float(screen_units_to_mm(750, 0, d, 2, (750, 1334))[0]) == pytest.approx(58.49)
    assert tuple(map(float, screen_mm_to_units(29.245, 52.025, d, 1, (375, 667)))) == (
        pytest.approx((187.5, 333.5)))


# --- physical consistency: orientations are rotations of the same device ---------------------

@pytest.mark.parametrize("name", DEVICES)
def test_orientations_are_rotations_of_one_physical_point(name):
    # A physical point at (xp, yp) mm from the portrait top-left corner. Rotating the device
    # 180 deg (o2), 90 deg with the top to the left (o3) or to the right (o4) moves it on the
    # user's screen and rotates its camera-relative vector (x1, y1) of orientation 1:
    #   o2: (xs, ys) = (dW - xp, dH - yp), cam = (-x1, -y1)
    #   o3: (xs, ys) = (yp, dW - xp),      cam = (-y1,  x1)
    #   o4: (xs, ys) = (dH - yp, xp),      cam = ( y1, -x1)
    d = get_device(name)
    dw, dh = d.screen_width_mm, d.screen_height_mm
    rng = np.random.default_rng(42 + DEVICES.index(name))
    xp, yp = rng.uniform(0, dw, 100), rng.uniform(0, dh, 100)
    x1, y1 = screen_mm_to_cam_cm(xp, yp, d, 1)
    for o, (xs, ys), (ex, ey) in [
        (2, (dw - xp, dh - yp), (-x1, -y1)),
        (3, (yp, dw - xp), (-y1, x1)),
        (4, (dh - yp, xp), (y1, -x1)),
    ]:
        gx, gy = screen_mm_to_cam_cm(xs, ys, d, o)
        np.testing.assert_allclose(gx, ex, atol=1e-9, err_msg=f"orientation {o}")
        np.testing.assert_allclose(gy, ey, atol=1e-9, err_msg=f"orientation {o}")


# --- (3) which side of the camera the screen is on, (4) its extent ---------------------------

def _corners_cm(name: str, orientation: int):
    d = get_device(name)
    w, h = d.screen_size_points(orientation)
    # top-left, top-right, bottom-left, bottom-right
    x = np.array([0, w, 0, w], float)
    y = np.array([0, 0, h, h], float)
    return screen_to_cam_cm(x, y, d, orientation, (w, h))


@pytest.mark.parametrize("name", DEVICES)
def test_corners_orientation_1_screen_below_camera(name):
    # Portrait: the camera is above the screen (yCam < 0 everywhere) and, for every device in
    # the table, horizontally within it (left corners xCam < 0, right corners xCam > 0).
    x, y = _corners_cm(name, 1)
    assert (y < 0).all()
    assert x[0] < 0 and x[2] < 0 and x[1] > 0 and x[3] > 0
    assert y[0] > y[2] and y[1] > y[3]  # top corners are higher (y up)


@pytest.mark.parametrize("name", DEVICES)
def test_corners_orientation_2_screen_above_camera(name):
    # Upside down: the camera is now below the screen (yCam > 0 everywhere).
    x, y = _corners_cm(name, 2)
    assert (y > 0).all()
    assert x[0] < 0 and x[2] < 0 and x[1] > 0 and x[3] > 0
    assert y[0] > y[2] and y[1] > y[3]


@pytest.mark.parametrize("name", DEVICES)
def test_corners_orientation_3_screen_right_of_camera(name):
    # Home button on the right: the device's top (the camera) is on the left, so the whole
    # screen has xCam > 0 (xCam >= dY > 0); the camera is dX above the bottom edge, so top
    # corners have yCam = (dW - dX) > 0 and bottom corners yCam = -dX < 0.
    x, y = _corners_cm(name, 3)
    assert (x > 0).all()
    assert y[0] > 0 and y[1] > 0 and y[2] < 0 and y[3] < 0


@pytest.mark.parametrize("name", DEVICES)
def test_corners_orientation_4_screen_left_of_camera(name):
    # Home button on the left: the camera is on the right, the whole screen has xCam < 0
    # (xCam <= -dY); the camera is dX below the top edge: top yCam = dX > 0, bottom
    # yCam = dX - dW < 0.
    x, y = _corners_cm(name, 4)
    assert (x < 0).all()
    assert y[0] > 0 and y[1] > 0 and y[2] < 0 and y[3] < 0


@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("name", DEVICES)
def test_screen_extent_in_cm_is_size_in_mm_over_10(name, orientation):
    d = get_device(name)
    x, y = _corners_cm(name, orientation)
    dw, dh = d.screen_width_mm, d.screen_height_mm
    width_mm, height_mm = (dw, dh) if orientation in (1, 2) else (dh, dw)
    assert x.max() - x.min() == pytest.approx(width_mm / 10)
    assert y.max() - y.min() == pytest.approx(height_mm / 10)
    assert x[1] - x[0] == pytest.approx(width_mm / 10)   # left -> right is +x
    assert y[0] - y[2] == pytest.approx(height_mm / 10)  # bottom -> top is +y


def test_display_zoom_does_not_move_physical_positions():
    # The same fraction of the screen is the same physical spot, zoomed or not.
    for name in ("iPhone 6s", "iPhone 6s Plus", "iPad Pro"):
        d = get_device(name)
        for o in ORIENTATIONS:
            (w, h), (wz, hz) = d.screen_size_points(o), d.screen_size_points(o, zoomed=True)
            f = np.array([0.0, 0.25, 0.5, 1.0])
            a = screen_to_cam_cm(f * w, f * h, d, o, (w, h))
            b = screen_to_cam_cm(f * wz, f * hz, d, o, (wz, hz))
            np.testing.assert_allclose(a, b, atol=1e-12)


def test_broadcasting_shapes():
    d = get_device("iPhone 6s")
    x = np.zeros((3, 5))
    gx, gy = screen_to_cam_cm(x, x, d, 1, (375, 667))
    assert gx.shape == (3, 5) and gy.shape == (3, 5)
    np.testing.assert_allclose(gx, -1.861)
    np.testing.assert_allclose(gy, -0.804)
    gx, gy = screen_mm_to_cam_cm(0.0, 0.0, d, np.array([1, 2]))
    np.testing.assert_allclose(gx, [-1.861, (18.61 - 58.49) / 10])
    np.testing.assert_allclose(gy, [-0.804, (8.04 + 104.05) / 10])


# --- misuse ----------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [0, 5, -1, np.array([1, 2, 0]), np.array([4, 5])])
def test_bad_orientation_is_config_error(bad):
    d = get_device("iPhone 6s")
    calls = [
        lambda: screen_mm_to_cam_cm(1.0, 1.0, d, bad),
        lambda: cam_cm_to_screen_mm(1.0, 1.0, d, bad),
        lambda: screen_units_to_mm(1.0, 1.0, d, bad, (375, 667)),
        lambda: screen_mm_to_units(1.0, 1.0, d, bad, (375, 667)),
        lambda: screen_to_cam_cm(1.0, 1.0, d, bad, (375, 667)),
        lambda: cam_cm_to_screen(1.0, 1.0, d, bad, (375, 667)),
    ]
    for call in calls:
        with pytest.raises(ConfigError, match="orientation"):
            call()


def test_bad_orientation_message_names_the_bad_values():
    d = get_device("iPhone 6s")
    with pytest.raises(ConfigError, match=r"\[0, 5\]"):
        screen_mm_to_cam_cm([1, 1, 1], [1, 1, 1], d, np.array([5, 1, 0]))


@pytest.mark.parametrize("size", [(0, 667), (375, 0), (-375, 667), (375, -1),
                                  np.array([[375, 667], [0, 667]]), (375,), (375, 667, 1)])
def test_bad_screen_size_is_config_error(size):
    d = get_device("iPhone 6s")
    for fn in (screen_units_to_mm, screen_mm_to_units, screen_to_cam_cm, cam_cm_to_screen):
        with pytest.raises(ConfigError, match="screen_size"):
            fn(1.0, 1.0, d, 1, size)
