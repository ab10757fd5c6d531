"""Screen position <-> camera position, exactly as GazeCapture's labels define them.

Frames: a *screen* position is (x to the right, y downwards) from the top-left corner of the
screen as the user sees it in the given orientation, in points, pixels or mm. A *camera*
position is GazeCapture's (XCam, YCam) in cm: from the front camera, x to the right and y upwards,
in the same (user's) frame, on the screen plane. Orientations: 1 portrait, 2 portrait upside
down, 3 landscape with the home button on the right, 4 landscape with it on the left.

With dX, dY the camera-to-screen offsets and dW, dH the portrait screen size (mm):

    orientation 1: xCam = xs - dX             yCam = -dY - ys
    orientation 2: xCam = dX - dW + xs        yCam = dY + dH - ys
    orientation 3: xCam = dY + xs             yCam = dW - dX - ys
    orientation 4: xCam = -dY - dH + xs       yCam = dX - ys

(mm, then /10 for cm). Every function accepts scalars or arrays and broadcasts.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gazesdk.errors import ConfigError
from gazesdk.geometry.devices import DeviceGeometry


def _orientations(orientation: ArrayLike) -> np.ndarray:
    o = np.asarray(orientation)
    if not np.isin(o, (1, 2, 3, 4)).all():
        bad = np.unique(o[~np.isin(o, (1, 2, 3, 4))])
        raise ConfigError(f"orientation must be 1-4 (GazeCapture's codes), got {bad.tolist()}")
    return o


def _offsets(device: DeviceGeometry, o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ax, ay) with xCam_mm = ax + xs and yCam_mm = ay - ys, per orientation."""
    dx, dy = device.camera_to_screen_x_mm, device.camera_to_screen_y_mm
    dw, dh = device.screen_width_mm, device.screen_height_mm
    ax = np.select([o == 1, o == 2, o == 3], [-dx, dx - dw, dy], -dy - dh)
    ay = np.select([o == 1, o == 2, o == 3], [-dy, dy + dh, dw - dx], dx)
    return ax, ay


def screen_mm_to_cam_cm(xs: ArrayLike, ys: ArrayLike, device: DeviceGeometry,
                        orientation: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Screen mm (from the top-left, y down) -> GazeCapture camera cm (y up)."""
    ax, ay = _offsets(device, _orientations(orientation))
    return (ax + np.asarray(xs, float)) / 10.0, (ay - np.asarray(ys, float)) / 10.0


def cam_cm_to_screen_mm(x_cm: ArrayLike, y_cm: ArrayLike, device: DeviceGeometry,
                        orientation: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GazeCapture camera cm -> screen mm (from the top-left, y down): the inverse of the above."""
    ax, ay = _offsets(device, _orientations(orientation))
    return np.asarray(x_cm, float) * 10.0 - ax, ay - np.asarray(y_cm, float) * 10.0


def _mm_per_unit(device: DeviceGeometry, o: np.ndarray,
                 screen_size: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    size = np.asarray(screen_size, float)
    if size.shape[-1:] != (2,) or (size <= 0).any():
        raise ConfigError(f"screen_size must be positive (width, height) pairs, got {size}")
    portrait = np.isin(o, (1, 2))
    w_mm = np.where(portrait, device.screen_width_mm, device.screen_height_mm)
    h_mm = np.where(portrait, device.screen_height_mm, device.screen_width_mm)
    return w_mm / size[..., 0], h_mm / size[..., 1]


def screen_units_to_mm(x: ArrayLike, y: ArrayLike, device: DeviceGeometry, orientation: ArrayLike,
                       screen_size: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Screen position in points or pixels -> mm, given the active screen size (width, height)
    in the same unit for that orientation (e.g. GazeCapture's ``screen.json`` W, H, which
    accounts for Display Zoom)."""
    o = _orientations(orientation)
    sx, sy = _mm_per_unit(device, o, screen_size)
    return np.asarray(x, float) * sx, np.asarray(y, float) * sy


def screen_mm_to_units(xs: ArrayLike, ys: ArrayLike, device: DeviceGeometry,
                       orientation: ArrayLike,
                       screen_size: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Screen mm -> points or pixels, for the given active screen size: inverse of the above."""
    o = _orientations(orientation)
    sx, sy = _mm_per_unit(device, o, screen_size)
    return np.asarray(xs, float) / sx, np.asarray(ys, float) / sy


def screen_to_cam_cm(x: ArrayLike, y: ArrayLike, device: DeviceGeometry, orientation: ArrayLike,
                     screen_size: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Screen points/pixels -> GazeCapture camera cm (how XCam, YCam follow from XPts, YPts)."""
    xs, ys = screen_units_to_mm(x, y, device, orientation, screen_size)
    return screen_mm_to_cam_cm(xs, ys, device, orientation)


def cam_cm_to_screen(x_cm: ArrayLike, y_cm: ArrayLike, device: DeviceGeometry,
                     orientation: ArrayLike,
                     screen_size: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GazeCapture camera cm -> screen points/pixels: where on the screen a prediction lands."""
    xs, ys = cam_cm_to_screen_mm(x_cm, y_cm, device, orientation)
    return screen_mm_to_units(xs, ys, device, orientation, screen_size)
