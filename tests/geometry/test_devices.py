"""Tests for gazesdk.geometry.devices: the GazeCapture device table and DeviceGeometry.

Expected values are typed in by hand from GazeCapture's apple_device_data.csv (Krafka et al.,
CVPR 2016), not read back through the code under test.
"""

from __future__ import annotations

import math

import pytest

from gazesdk.errors import ConfigError, GazeSDKError, UnknownDeviceError
from gazesdk.geometry import DeviceGeometry, get_device, list_devices, screen_to_cam_cm

# The 15 devices of GazeCapture's table, in table order.
TABLE_NAMES = [
    "iPhone 6s Plus", "iPhone 6s", "iPhone 6 Plus", "iPhone 6", "iPhone 5s", "iPhone 5c",
    "iPhone 5", "iPhone 4s", "iPad Mini", "iPad Air 2", "iPad Air", "iPad 4", "iPad 3", "iPad 2",
    "iPad Pro",
]

# name: (dX, dY, dW, dH, W points, H points, W zoomed, H zoomed), from the CSV by hand.
ROWS = {
    "iPhone 6s Plus": (23.54, 8.66, 68.36, 121.54, 414, 736, 375, 667),
    "iPhone 6s": (18.61, 8.04, 58.49, 104.05, 375, 667, 320, 568),
    "iPhone 6": (18.61, 8.03, 58.5, 104.05, 375, 667, 320, 568),
    "iPhone 5s": (25.85, 10.65, 51.7, 90.39, 320, 568, None, None),
    "iPhone 4s": (14.96, 9.78, 49.92, 74.88, 320, 480, None, None),
    "iPad Mini": (60.7, 8.7, 121.3, 161.2, 768, 1024, None, None),
    "iPad Air 2": (76.86, 7.37, 153.71, 203.11, 768, 1024, None, None),
    "iPad 2": (74.5, 10.5, 149, 198.1, 768, 1024, None, None),
    "iPad Pro": (98.31, 10.69, 196.61, 262.15, 1024, 1366, 768, 1024),
}


def test_list_devices_is_the_gazecapture_table_in_order():
    assert list_devices() == TABLE_NAMES


@pytest.mark.parametrize("name", sorted(ROWS))
def test_table_rows_parsed(name):
    dx, dy, dw, dh, wp, hp, wz, hz = ROWS[name]
    d = get_device(name)
    assert d.name == name
    assert d.camera_to_screen_x_mm == pytest.approx(dx)
    assert d.camera_to_screen_y_mm == pytest.approx(dy)
    assert d.screen_width_mm == pytest.approx(dw)
    assert d.screen_height_mm == pytest.approx(dh)
    assert (d.screen_width_points, d.screen_height_points) == (wp, hp)
    assert d.screen_width_points_zoomed == wz
    assert d.screen_height_points_zoomed == hz


def test_every_table_device_is_portrait_with_camera_above_screen():
    # Facts the conversion tests rely on: width is the short side, the camera is above the
    # screen (dY > 0) and horizontally within its span (0 < dX < dW).
    for name in list_devices():
        d = get_device(name)
        assert 0 < d.screen_width_mm < d.screen_height_mm, name
        assert 0 < d.screen_width_points < d.screen_height_points, name
        assert d.camera_to_screen_y_mm > 0, name
        assert 0 < d.camera_to_screen_x_mm < d.screen_width_mm, name


@pytest.mark.parametrize(("name", "kind"), [
    ("iPhone 4s", "phone"),        # hypot(49.92, 74.88) = 90.0 mm = 3.5 in
    ("iPhone 6s", "phone"),        # hypot(58.49, 104.05) = 119.4 mm = 4.7 in
    ("iPhone 6s Plus", "phone"),   # hypot(68.36, 121.54) = 139.4 mm = 5.5 in
    ("iPad Mini", "tablet"),       # hypot(121.3, 161.2) = 201.7 mm = 7.9 in
    ("iPad Air 2", "tablet"),      # hypot(153.71, 203.11) = 254.7 mm = 10.0 in
    ("iPad Pro", "tablet"),        # hypot(196.61, 262.15) = 327.7 mm = 12.9 in
])
def test_kind(name, kind):
    assert get_device(name).kind == kind


def test_every_ipad_is_a_tablet_and_every_iphone_a_phone():
    for name in list_devices():
        assert get_device(name).kind == ("tablet" if name.startswith("iPad") else "phone"), name


def _device_with_diagonal(inches: float) -> DeviceGeometry:
    d = inches * 25.4  # a 3-4-5 triangle: sides 0.6 d and 0.8 d have diagonal d
    return DeviceGeometry.from_dimensions("x", camera_to_screen_mm=(10, 5),
                                          screen_size_mm=(0.6 * d, 0.8 * d),
                                          screen_size_px=(600, 800))


def test_kind_threshold_is_seven_inches():
    assert _device_with_diagonal(6.9).kind == "phone"
    assert _device_with_diagonal(7.1).kind == "tablet"


def test_screen_sizes_swap_in_landscape():
    d = get_device("iPhone 6s")
    for o in (1, 2):
        assert d.screen_size_mm(o) == pytest.approx((58.49, 104.05))
        assert d.screen_size_points(o) == (375, 667)
        assert d.screen_size_points(o, zoomed=True) == (320, 568)
    for o in (3, 4):
        assert d.screen_size_mm(o) == pytest.approx((104.05, 58.49))
        assert d.screen_size_points(o) == (667, 375)
        assert d.screen_size_points(o, zoomed=True) == (568, 320)
    w, h = d.screen_size_px(1)
    assert w < h
    assert d.screen_size_px(3) == (h, w)
    assert d.screen_size_px(2) == (w, h)
    assert d.screen_size_px(4) == (h, w)


def test_ipad_pro_zoomed_points():
    d = get_device("iPad Pro")
    assert d.screen_size_points(1, zoomed=True) == (768, 1024)
    assert d.screen_size_points(4, zoomed=True) == (1024, 768)


def test_screen_px_roughly_matches_mm_times_density():
    # iPhone 6s: 326 ppi, 58.49 mm = 2.303 in -> about 750 px; 104.05 mm -> about 1334 px.
    w, h = get_device("iPhone 6s").screen_size_px(1)
    assert abs(w - 750) <= 1 and abs(h - 1334) <= 1
    assert isinstance(w, int) and isinstance(h, int)


@pytest.mark.parametrize("name", ["iPhone 5s", "iPhone 4s", "iPad Mini", "iPad Air 2", "iPad 2"])
def test_zoomed_size_without_display_zoom_is_config_error(name):
    d = get_device(name)
    with pytest.raises(ConfigError, match="Display Zoom"):
        d.screen_size_points(1, zoomed=True)
    # The plain size still works.
    assert d.screen_size_points(1) == (ROWS[name][4], ROWS[name][5])


@pytest.mark.parametrize("bad", [0, 5, -1, 1.5, "1"])
def test_bad_orientation_is_config_error(bad):
    d = get_device("iPhone 6s")
    for method in (d.screen_size_mm, d.screen_size_points, d.screen_size_px):
        with pytest.raises(ConfigError, match="orientation"):
            method(bad)


def test_unknown_device_suggests_close_names():
    with pytest.raises(UnknownDeviceError) as info:
        get_device("iphone 6s")
    msg = str(info.value)
    assert "'iphone 6s'" in msg
    assert "did you mean" in msg and "'iPhone 6s'" in msg
    assert "from_dimensions" in msg
    # Not quoted like a plain KeyError's message.
    assert not msg.startswith('"')


def test_unknown_device_is_catchable_as_key_error_and_sdk_error():
    with pytest.raises(KeyError):
        get_device("iPad Air 3")
    with pytest.raises(GazeSDKError) as info:
        get_device("iPad Air 3")
    assert "'iPad Air 2'" in str(info.value)


def test_unknown_device_without_close_match_has_no_suggestion():
    with pytest.raises(UnknownDeviceError) as info:
        get_device("Pixel 7")
    msg = str(info.value)
    assert "'Pixel 7'" in msg
    assert "did you mean" not in msg
    assert "15" in msg  # how many devices are known


def test_get_device_is_case_sensitive_and_exact():
    with pytest.raises(UnknownDeviceError):
        get_device("iPhone 6s ")
    assert get_device("iPhone 6s") is get_device("iPhone 6s")


def test_from_dimensions_values():
    d = DeviceGeometry.from_dimensions(
        "Pixel-like", camera_to_screen_mm=(33, 4), screen_size_mm=(66, 146),
        screen_size_px=(1080, 2400), screen_size_points=(412, 915))
    assert d.name == "Pixel-like"
    assert (d.camera_to_screen_x_mm, d.camera_to_screen_y_mm) == (33.0, 4.0)
    assert d.screen_size_mm(1) == (66.0, 146.0)
    assert d.screen_size_mm(3) == (146.0, 66.0)
    assert d.screen_size_px(1) == (1080, 2400)
    assert d.screen_size_points(1) == (412.0, 915.0)
    assert d.kind == "phone"  # hypot(66, 146) = 160.2 mm = 6.3 in
    assert d.screen_width_points_zoomed is None
    with pytest.raises(ConfigError):
        d.screen_size_points(1, zoomed=True)


def test_from_dimensions_points_default_to_pixels():
    d = DeviceGeometry.from_dimensions("p", camera_to_screen_mm=(30, 5),
                                       screen_size_mm=(65, 140), screen_size_px=(720, 1600))
    assert d.screen_size_points(1) == (720.0, 1600.0)
    assert d.screen_size_points(4) == (1600.0, 720.0)


def test_from_dimensions_landscape_is_config_error():
    with pytest.raises(ConfigError, match="portrait"):
        DeviceGeometry.from_dimensions("p", camera_to_screen_mm=(30, 5),
                                       screen_size_mm=(140, 65), screen_size_px=(1600, 720))


@pytest.mark.parametrize(("mm", "px"), [
    ((0, 140), (720, 1600)),
    ((65, -140), (720, 1600)),
    ((65, 140), (0, 1600)),
    ((65, 140), (720, -1)),
    ((float("nan"), 140), (720, 1600)),
])
def test_from_dimensions_non_positive_sizes_are_config_error(mm, px):
    with pytest.raises(ConfigError, match="positive"):
        DeviceGeometry.from_dimensions("p", camera_to_screen_mm=(30, 5), screen_size_mm=mm,
                                       screen_size_px=px)


@pytest.mark.parametrize("pts", [(0, 915), (412, -915)])
def test_from_dimensions_non_positive_points_are_config_error(pts):
    with pytest.raises(ConfigError):
        DeviceGeometry.from_dimensions("p", camera_to_screen_mm=(30, 5),
                                       screen_size_mm=(66, 146), screen_size_px=(1080, 2400),
                                       screen_size_points=pts)


def test_from_dimensions_with_table_numbers_matches_table_device():
    # Re-describing the iPhone 6s with the table's own dX, dY must give the table's labels:
    # point (0, 0) in orientation 1 -> xCam = 0 - 18.61 mm, yCam = -8.04 - 0 mm.
    d = DeviceGeometry.from_dimensions("6s copy", camera_to_screen_mm=(18.61, 8.04),
                                       screen_size_mm=(58.49, 104.05),
                                       screen_size_px=(750, 1334), screen_size_points=(375, 667))
    x, y = screen_to_cam_cm(0, 0, d, 1, (375, 667))
    assert (float(x), float(y)) == pytest.approx((-1.861, -0.804))


def test_geometry_is_immutable():
    d = get_device("iPhone 6s")
    with pytest.raises(AttributeError):
        d.screen_width_mm = 1.0  # type: ignore[misc]
    assert math.isclose(get_device("iPhone 6s").screen_width_mm, 58.49)
