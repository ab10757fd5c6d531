"""Gaze in camera cm -> a point on the screen, for a device's geometry and orientation
(issue 2's GazeCapture geometry, :mod:`gazesdk.geometry.screen`)."""

from __future__ import annotations

from gazesdk.geometry.devices import DeviceGeometry, check_orientation
from gazesdk.geometry.screen import cam_cm_to_screen
from gazesdk.runtime.result import ScreenPoint


class ScreenMapper:
    """Maps camera cm (x right, y up, from the camera) to screen points and pixels (from the
    screen's top-left corner as the user sees it, y down) for one device and orientation."""

    def __init__(self, geometry: DeviceGeometry, orientation: int) -> None:
        check_orientation(orientation)
        self.geometry = geometry
        self.orientation = orientation
        self.size_pt = geometry.screen_size_points(orientation)
        self.size_px = geometry.screen_size_px(orientation)
        # The mapping is affine per axis (x only moves x, y only y): keep offset and slope, so
        # a frame costs two multiply-adds instead of the array functions' overhead.
        self._affine = []
        for size in (self.size_pt, self.size_px):
            x0, y0 = cam_cm_to_screen(0.0, 0.0, geometry, orientation, size)
            x1, y1 = cam_cm_to_screen(1.0, 1.0, geometry, orientation, size)
            self._affine.append((float(x0), float(x1 - x0), float(y0), float(y1 - y0)))

    def __call__(self, x_cm: float, y_cm: float) -> ScreenPoint:
        (ax, bx, ay, by), (cx, dx, cy, dy) = self._affine
        xp, yp = ax + bx * x_cm, ay + by * y_cm
        on = bool(0.0 <= xp < self.size_pt[0] and 0.0 <= yp < self.size_pt[1])
        return ScreenPoint(xp, yp, cx + dx * x_cm, cy + dy * y_cm, on)
