"""Device geometry and GazeCapture's screen <-> camera conversions."""

from gazesdk.geometry.devices import DeviceGeometry, get_device, list_devices
from gazesdk.geometry.screen import (
    cam_cm_to_screen,
    cam_cm_to_screen_mm,
    screen_mm_to_cam_cm,
    screen_mm_to_units,
    screen_to_cam_cm,
    screen_units_to_mm,
)

__all__ = [
    "DeviceGeometry", "get_device", "list_devices", "cam_cm_to_screen", "cam_cm_to_screen_mm",
    "screen_mm_to_cam_cm", "screen_mm_to_units", "screen_to_cam_cm", "screen_units_to_mm",
]
