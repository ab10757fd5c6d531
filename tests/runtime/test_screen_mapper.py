"""Screen mapping against issue 2's geometry functions, orientation by orientation."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.geometry.devices import get_device
from gazesdk.geometry.screen import cam_cm_to_screen, screen_to_cam_cm
from gazesdk.runtime.screen import ScreenMapper


@pytest.mark.parametrize("orientation", [1, 2, 3, 4])
def test_mapper_equals_the_geometry_functions(orientation):
    d = get_device("iPhone 6s")
    m = ScreenMapper(d, orientation)
    rng = np.random.default_rng(orientation)
    for x, y in rng.uniform(-15, 15, (20, 2)):
        p = m(float(x), float(y))
        pt = cam_cm_to_screen(x, y, d, orientation, d.screen_size_points(orientation))
        px = cam_cm_to_screen(x, y, d, orientation, d.screen_size_px(orientation))
        assert p.x_pt == pytest.approx(float(pt[0]), abs=1e-9)
        assert p.y_pt == pytest.approx(float(pt[1]), abs=1e-9)
        assert p.x_px == pytest.approx(float(px[0]), abs=1e-9)
        assert p.y_px == pytest.approx(float(px[1]), abs=1e-9)


@pytest.mark.parametrize("orientation", [1, 2, 3, 4])
def test_on_screen_flag(orientation):
    d = get_device("iPhone 6s")
    m = ScreenMapper(d, orientation)
    w, h = d.screen_size_points(orientation)
    cx, cy = screen_to_cam_cm(w / 2, h / 2, d, orientation, (w, h))
    centre = m(float(cx), float(cy))
    assert centre.on_screen and centre.x_pt == pytest.approx(w / 2)
    assert not m(0.0, 0.0).on_screen           # the camera lies beside the screen, not on it
    assert not m(float(cx) + 100.0, float(cy)).on_screen
