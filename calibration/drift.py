"""Drift after calibration: a calibration fitted with the head in one place degrades when the
user holds the phone differently (the most common complaint about every tracker that
calibrates). The profile records the head pose during calibration (:class:`HeadReference`);
:class:`DriftMonitor` follows the current pose, smoothed over about a second, and advises
recalibration when it has moved far from that reference: the yaw or pitch by more than
``max_angle_deg``, or the eye midpoint by more than ``max_shift`` of the calibration distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError


@dataclass(frozen=True)
class HeadReference:
    """Median head pose over a calibration's kept samples (degrees; eye midpoint in camera
    cm, GazeSim's frames: :mod:`gazesdk.runtime.head_pose`)."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    position_cm: tuple[float, float, float]

    @property
    def distance_cm(self) -> float:
        return float(np.linalg.norm(self.position_cm))

    @classmethod
    def from_poses(cls, poses: Sequence[Any]) -> HeadReference | None:
        """From HeadPose-like objects (``yaw_deg``, ``pitch_deg``, ``roll_deg``,
        ``translation_cm``); None when there are none."""
        if not poses:
            return None
        a = np.asarray([[p.yaw_deg, p.pitch_deg, p.roll_deg, *p.translation_cm] for p in poses],
                       float)
        m = np.median(a, axis=0)
        return cls(float(m[0]), float(m[1]), float(m[2]), (float(m[3]), float(m[4]),
                                                            float(m[5])))

    def to_dict(self) -> dict[str, Any]:
        return {"yaw_deg": self.yaw_deg, "pitch_deg": self.pitch_deg,
                "roll_deg": self.roll_deg, "position_cm": list(self.position_cm)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HeadReference:
        p = d["position_cm"]
        return cls(float(d["yaw_deg"]), float(d["pitch_deg"]), float(d["roll_deg"]),
                   (float(p[0]), float(p[1]), float(p[2])))


@dataclass(frozen=True)
class DriftOptions:
    """When to advise recalibration: the smoothed pose (time constant ``time_constant_ms``)
    differs from the calibration's by more than ``max_angle_deg`` in yaw or pitch, or its
    eye midpoint by more than ``max_shift`` x the calibration distance."""

    max_angle_deg: float = 10.0
    max_shift: float = 0.2
    time_constant_ms: float = 1000.0

    def __post_init__(self) -> None:
        if not (self.max_angle_deg > 0 and self.max_shift > 0 and self.time_constant_ms > 0):
            raise ConfigError("drift options must be > 0")


def drift_score(reference: HeadReference, yaw_deg: float, pitch_deg: float,
                position_cm: tuple[float, float, float], options: DriftOptions) -> float:
    """How far a pose is from the reference, in units of the thresholds (> 1: advise)."""
    angle = max(abs(yaw_deg - reference.yaw_deg), abs(pitch_deg - reference.pitch_deg))
    shift = float(np.linalg.norm(np.subtract(position_cm, reference.position_cm)))
    return max(angle / options.max_angle_deg,
               shift / (options.max_shift * max(reference.distance_cm, 1e-6)))


class DriftMonitor:
    """Follows the head pose frame by frame and says when recalibration would help."""

    def __init__(self, reference: HeadReference, options: DriftOptions | None = None) -> None:
        self.reference = reference
        self.options = options or DriftOptions()
        self._state: np.ndarray | None = None
        self._ts: float | None = None

    def reset(self) -> None:
        self._state, self._ts = None, None

    def update(self, pose: Any, timestamp_ms: float | None = None) -> bool:
        """Take a HeadPose-like pose (None: no change) and return whether recalibration is
        advised. Without timestamps (IMAGE mode) each pose is judged alone."""
        if pose is None:
            return self.advised
        x = np.asarray([pose.yaw_deg, pose.pitch_deg, *pose.translation_cm], float)
        if self._state is None or timestamp_ms is None or self._ts is None:
            self._state = x
        else:
            a = 1.0 - np.exp(-max(float(timestamp_ms) - self._ts, 0.0)
                             / self.options.time_constant_ms)
            self._state = self._state + a * (x - self._state)
        self._ts = None if timestamp_ms is None else float(timestamp_ms)
        return self.advised

    @property
    def score(self) -> float | None:
        if self._state is None:
            return None
        s = self._state
        return drift_score(self.reference, s[0], s[1], (s[2], s[3], s[4]), self.options)

    @property
    def advised(self) -> bool:
        s = self.score
        return bool(s is not None and s > 1.0)
