"""Physical device geometry: where the front camera sits relative to the screen, and its size.

The built-in table is GazeCapture's own (Krafka et al., "Eye Tracking for Everyone", CVPR 2016,
``code/apple_device_data.csv`` of the GazeCapture repository), shipped as package data. Other
phones are described with :meth:`DeviceGeometry.from_dimensions`.

All lengths are in millimetres in the device's *portrait* frame (orientation 1): width is the
short side. ``camera_to_screen_*_mm`` are GazeCapture's ``DeviceCameraToScreen{X,Y}Mm``: how far
the screen's top-left corner lies to the *left* of the camera and *below* it (so the corner is at
xCam = -dX, yCam = -dY; both are positive on every table device).
"""

from __future__ import annotations

import csv
import difflib
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

from gazesdk.errors import ConfigError, UnknownDeviceError

MM_PER_INCH = 25.4


@dataclass(frozen=True)
class DeviceGeometry:
    """One device's camera/screen geometry (portrait frame, millimetres).

    ``screen_*_points`` are iOS points (the unit of GazeCapture's ``dotInfo`` XPts/YPts);
    for devices without points they equal the pixel counts. For table devices ``screen_*_px``
    is approximate (mm x ppi of the table, within a few percent of the panel's count).
    """

    name: str
    camera_to_screen_x_mm: float
    camera_to_screen_y_mm: float
    screen_width_mm: float
    screen_height_mm: float
    screen_width_points: float
    screen_height_points: float
    screen_width_px: int
    screen_height_px: int
    screen_width_points_zoomed: float | None = None
    screen_height_points_zoomed: float | None = None

    @property
    def kind(self) -> str:
        """"tablet" for screens with a diagonal of 7 inches or more, else "phone"."""
        diag_in = math.hypot(self.screen_width_mm, self.screen_height_mm) / MM_PER_INCH
        return "tablet" if diag_in >= 7.0 else "phone"

    def screen_size_mm(self, orientation: int) -> tuple[float, float]:
        """(width, height) of the screen as the user sees it in ``orientation`` (1-4)."""
        check_orientation(orientation)
        if orientation in (1, 2):
            return self.screen_width_mm, self.screen_height_mm
        return self.screen_height_mm, self.screen_width_mm

    def screen_size_points(self, orientation: int, *, zoomed: bool = False) -> tuple[float, float]:
        """Active screen size in points for ``orientation``; ``zoomed`` is iOS Display Zoom."""
        check_orientation(orientation)
        w, h = self.screen_width_points, self.screen_height_points
        if zoomed:
            if self.screen_width_points_zoomed is None or self.screen_height_points_zoomed is None:
                raise ConfigError(f"{self.name} has no Display Zoom mode")
            w, h = self.screen_width_points_zoomed, self.screen_height_points_zoomed
        return (w, h) if orientation in (1, 2) else (h, w)

    def screen_size_px(self, orientation: int) -> tuple[int, int]:
        """Screen size in physical pixels for ``orientation``."""
        check_orientation(orientation)
        w, h = self.screen_width_px, self.screen_height_px
        return (w, h) if orientation in (1, 2) else (h, w)

    @classmethod
    def from_dimensions(cls, name: str, *, camera_to_screen_mm: tuple[float, float],
                        screen_size_mm: tuple[float, float], screen_size_px: tuple[int, int],
                        screen_size_points: tuple[float, float] | None = None) -> DeviceGeometry:
        """Geometry of a device outside the table, measured in portrait orientation.

        ``camera_to_screen_mm`` is (dX, dY) as in GazeCapture's table: how far the screen's
        top-left corner lies left of the camera and below it (negative dX when the corner is
        right of the camera); ``screen_size_mm``, ``screen_size_px`` and ``screen_size_points``
        are (width, height) with width the short side.
        """
        (dx, dy), (w, h), (wp, hp) = camera_to_screen_mm, screen_size_mm, screen_size_px
        if not (w > 0 and h > 0 and wp > 0 and hp > 0):
            raise ConfigError(f"{name}: screen sizes must be positive, got {screen_size_mm} mm, "
                              f"{screen_size_px} px")
        if w > h:
            raise ConfigError(f"{name}: give the screen size in portrait (width <= height), "
                              f"got {w} x {h} mm")
        pts = screen_size_points or (wp, hp)
        if not (pts[0] > 0 and pts[1] > 0):
            raise ConfigError(f"{name}: screen size in points must be positive, got {pts}")
        return cls(name, float(dx), float(dy), float(w), float(h), float(pts[0]), float(pts[1]),
                   int(wp), int(hp))


def check_orientation(orientation: int) -> None:
    if orientation not in (1, 2, 3, 4):
        raise ConfigError(f"orientation must be 1, 2, 3 or 4 (GazeCapture's codes), got "
                          f"{orientation!r}")


def _opt(value: str) -> float | None:
    v = float(value)
    return None if math.isnan(v) else v


@cache
def _table() -> dict[str, DeviceGeometry]:
    text = resources.files("gazesdk.geometry").joinpath("data/apple_device_data.csv").read_text()
    devices = {}
    for row in csv.DictReader(text.splitlines()):
        ppi = float(row["DevicePixelsPerInch"])
        w_mm, h_mm = float(row["DeviceScreenWidthMm"]), float(row["DeviceScreenHeightMm"])
        devices[row["DeviceName"]] = DeviceGeometry(
            name=row["DeviceName"],
            camera_to_screen_x_mm=float(row["DeviceCameraToScreenXMm"]),
            camera_to_screen_y_mm=float(row["DeviceCameraToScreenYMm"]),
            screen_width_mm=w_mm,
            screen_height_mm=h_mm,
            screen_width_points=float(row["DeviceScreenWidthPoints"]),
            screen_height_points=float(row["DeviceScreenHeightPoints"]),
            screen_width_px=round(w_mm / MM_PER_INCH * ppi),
            screen_height_px=round(h_mm / MM_PER_INCH * ppi),
            screen_width_points_zoomed=_opt(row["DeviceScreenWidthPointsZoomed"]),
            screen_height_points_zoomed=_opt(row["DeviceScreenHeightPointsZoomed"]),
        )
    return devices


def list_devices() -> list[str]:
    """Names of the devices in the built-in (GazeCapture) table, in table order."""
    return list(_table())


def get_device(name: str) -> DeviceGeometry:
    """The built-in geometry for ``name`` (e.g. "iPhone 6s"); unknown names are an error."""
    table = _table()
    if name in table:
        return table[name]
    close = difflib.get_close_matches(str(name), table, n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise UnknownDeviceError(
        f"unknown device {name!r}{hint} (known: {len(table)} GazeCapture devices; describe other "
        f"phones with DeviceGeometry.from_dimensions)"
    )
