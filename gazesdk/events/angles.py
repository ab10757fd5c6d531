"""Visual angles for gaze on a phone's screen: event thresholds are set in degrees of visual
angle (the literature's unit), while the gaze arrives in GazeCapture camera cm on the screen
plane.

The eye's position comes from the head pose (:class:`~gazesdk.runtime.head_pose.HeadPose`
``translation_cm``, the eye midpoint in camera cm) when the runtime has one; otherwise it is
taken straight in front of the camera at the device's typical viewing distance
(:data:`TYPICAL_DISTANCE_CM`: phones are held at 30-35 cm for reading, Bababekova et al.
2011, "Font size and viewing distance of handheld smart phones"; tablets further away).
"""

from __future__ import annotations

import math

import numpy as np

TYPICAL_DISTANCE_CM = {"phone": 32.0, "tablet": 40.0}
DEFAULT_DISTANCE_CM = TYPICAL_DISTANCE_CM["phone"]


def eye_position(translation_cm: tuple[float, float, float] | None,
                 distance_cm: float = DEFAULT_DISTANCE_CM) -> np.ndarray:
    """The eye midpoint (x, y, z) in camera cm: the head pose's when given and plausible (z in
    5-200 cm), else ``distance_cm`` in front of the camera."""
    if translation_cm is not None:
        p = np.asarray(translation_cm, np.float64)
        if p.shape == (3,) and np.isfinite(p).all() and 5.0 <= p[2] <= 200.0:
            return p
    return np.array([0.0, 0.0, float(distance_cm)])


def visual_angle_deg(a_cm: np.ndarray, b_cm: np.ndarray, eye_cm: np.ndarray) -> float:
    """The angle (degrees) between the rays from ``eye_cm`` (x, y, z) to two points on the
    screen plane (x, y camera cm, z = 0)."""
    e = np.asarray(eye_cm, np.float64)
    u = np.array([a_cm[0] - e[0], a_cm[1] - e[1], -e[2]])
    v = np.array([b_cm[0] - e[0], b_cm[1] - e[1], -e[2]])
    # atan2(|u x v|, u . v) keeps precision for the tiny angles of fixational jitter
    return math.degrees(math.atan2(float(np.linalg.norm(np.cross(u, v))), float(u @ v)))


def cm_per_deg(distance_cm: float) -> float:
    """Screen cm per degree straight ahead at ``distance_cm`` (small-angle: 0.56 cm at 32 cm)."""
    return float(distance_cm) * math.tan(math.radians(1.0))
