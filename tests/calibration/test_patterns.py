"""Calibration patterns: inside every screen, nested, short tours, pursuit path."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gazesdk.calibration.patterns import (
    create_pattern,
    point_pattern,
    pursuit_pattern,
    short_tour,
    tour_length,
)
from gazesdk.errors import ConfigError
from gazesdk.geometry.devices import get_device, list_devices


@pytest.mark.parametrize("points", [1, 5, 9, 13])
def test_points_inside_every_screen_and_orientation(points: int) -> None:
    for name, o in itertools.product(list_devices(), (1, 2, 3, 4)):
        p = point_pattern(points, name, o)
        w, h = get_device(name).screen_size_points(o)
        every = np.vstack([p.targets, p.validation])
        assert len(p.targets) == points and len(p.validation) == 4
        assert (every[:, 0] >= 0.1 * w - 1e-9).all() and (every[:, 0] <= 0.9 * w + 1e-9).all()
        assert (every[:, 1] >= 0.1 * h - 1e-9).all() and (every[:, 1] <= 0.9 * h + 1e-9).all()
        assert len(np.unique(every.round(6), axis=0)) == len(every)   # no point shown twice


def test_layouts_nest_and_validation_is_kept_out() -> None:
    sets = {n: {tuple(v) for v in point_pattern(n, "iPhone 6s").targets.round(6)}
            for n in (1, 5, 9, 13)}
    assert sets[1] < sets[5] < sets[9] < sets[13]
    val = {tuple(v) for v in point_pattern(13, "iPhone 6s").validation.round(6)}
    assert not val & sets[13]
    # the 9-point layout is the 3x3 grid at 10/50/90% of each side, as GazeCapture's
    w, h = get_device("iPhone 6s").screen_size_points(1)
    grid = {(round(fx * w, 6), round(fy * h, 6)) for fx in (0.1, 0.5, 0.9)
            for fy in (0.1, 0.5, 0.9)}
    assert sets[9] == grid


def test_tour_starts_at_centre_and_is_shorter_than_row_order() -> None:
    for n in (9, 13):
        p = point_pattern(n, "iPad Air 2", 3)
        w, h = p.screen_pts
        np.testing.assert_allclose(p.targets[0], [w / 2, h / 2])
        rows = p.targets[np.lexsort((p.targets[:, 0], p.targets[:, 1]))]
        assert tour_length(p.targets) < tour_length(rows)
        # no jump across most of the screen: adjacent steps only
        steps = np.linalg.norm(np.diff(p.targets, axis=0), axis=1)
        assert steps.max() <= 0.45 * np.hypot(w, h)


def test_short_tour_on_a_line_is_the_sorted_order() -> None:
    pts = np.array([[0.0, 0], [5, 0], [1, 0], [3, 0], [2, 0], [4, 0]])
    np.testing.assert_array_equal(short_tour(pts, 0), [0, 2, 4, 3, 5, 1])


def test_pursuit_path_speed_and_bounds() -> None:
    p = pursuit_pattern("iPhone 6s", 1, duration_ms=10000, lead_in_ms=1000)
    w, h = p.screen_pts
    t = np.linspace(0, p.total_ms, 2001)
    xy = p.position(t)
    assert (xy[:, 0] >= 0.1 * w - 1e-9).all() and (xy[:, 0] <= 0.9 * w + 1e-9).all()
    assert (xy[:, 1] >= 0.1 * h - 1e-9).all() and (xy[:, 1] <= 0.9 * h + 1e-9).all()
    np.testing.assert_allclose(p.position(0.0), p.position(999.0))       # lead-in rests
    # peak speed by hand: x = cx + ax sin(6 pi s + pi/2), ax = 0.4 w; dx/dt peak = ax 6 pi / T
    # (x and y peaks do not coincide exactly, so the hand figure bounds it from below)
    mm_per_pt = get_device("iPhone 6s").screen_width_mm / w
    vx_cm_s = 0.4 * w * 6 * np.pi / 10.0 * mm_per_pt / 10
    assert p.peak_speed_deg_s(30.0) >= np.degrees(vx_cm_s / 30.0) * 0.99
    assert p.peak_speed_deg_s(30.0) < 30.0                   # pursuit keeps up below ~30 deg/s


def test_bad_patterns() -> None:
    with pytest.raises(ConfigError, match="1, 5, 9 or 13"):
        point_pattern(7, "iPhone 6s")
    with pytest.raises(ConfigError, match="orientation"):
        point_pattern(9, "iPhone 6s", 5)
    with pytest.raises(ConfigError, match="margin"):
        point_pattern(9, "iPhone 6s", margin=0.6)
    with pytest.raises(ConfigError, match="unknown calibration pattern"):
        create_pattern("spiral", "iPhone 6s")
    with pytest.raises(ConfigError, match="duration_ms"):
        pursuit_pattern("iPhone 6s", duration_ms=100)
    assert create_pattern("pursuit", "iPhone 6s").name == "pursuit"
    assert create_pattern(13, "iPhone 6s").points == 13
