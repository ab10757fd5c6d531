"""I-VT, the velocity-threshold classifier (Salvucci & Goldberg 2000, "Identifying fixations and
saccades in eye-tracking protocols", ETRA): a sample whose angular speed since the previous one
exceeds a threshold is a saccade, every other sample a fixation. Causal: one frame in, its
state out, as a live app needs it.

The threshold is the larger of a fixed one (``threshold_deg_s``: 30 deg/s, Salvucci & Goldberg's
and Tobii's I-VT filter default, Olsen 2012) and Engbert & Kliegl's noise-adaptive ellipse
(:mod:`gazesdk.events.noise`), ``noise_factor`` times the median-estimator sigma of recent
fixation velocities. Engbert & Kliegl use 6 at 500 Hz on velocities smoothed over 5 samples;
at camera frame rates one frame's velocity is already a difference of two noisy samples and
saccades span one or two frames, so the default (4) was chosen on GazeSim's validation
subjects (``benchmarks/events.py``); 0 keeps the fixed threshold alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.events.noise import NoiseEstimator
from gazesdk.events.state import EyeState
from gazesdk.settings import check_types, from_mapping, to_plain_dict


@dataclass(frozen=True)
class IVTOptions:
    """I-VT settings (see the module). ``max_gap_ms``: a longer time since the previous gaze
    (a lost face, a blink) leaves the velocity unknown, so that frame is UNKNOWN;
    ``noise_window_ms`` / ``min_noise_samples``: the adaptive estimate's window and how many
    samples it needs before it applies."""

    threshold_deg_s: float = 30.0
    noise_factor: float = 4.0
    noise_window_ms: float = 2000.0
    min_noise_samples: int = 8
    max_gap_ms: float = 100.0

    def __post_init__(self) -> None:
        check_types(self)
        if not self.threshold_deg_s > 0:
            raise ConfigError(f"ivt threshold_deg_s must be > 0, got {self.threshold_deg_s}")
        if not self.noise_factor >= 0:
            raise ConfigError(f"ivt noise_factor must be >= 0, got {self.noise_factor}")
        if not (self.noise_window_ms > 0 and self.max_gap_ms > 0):
            raise ConfigError("ivt noise_window_ms and max_gap_ms must be > 0")
        if not self.min_noise_samples >= 2:
            raise ConfigError(f"ivt min_noise_samples must be >= 2, got "
                              f"{self.min_noise_samples}")

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> IVTOptions:
        return from_mapping(cls, values, what="ivt")

    def to_dict(self) -> dict[str, object]:
        return to_plain_dict(self)


def angular_position(gaze_cm: np.ndarray, eye_cm: np.ndarray) -> np.ndarray:
    """(azimuth, elevation) in degrees of a screen-plane point seen from ``eye_cm``: angles
    whose differences are visual angles along each axis."""
    dx, dy, dz = gaze_cm[0] - eye_cm[0], gaze_cm[1] - eye_cm[1], eye_cm[2]
    return np.degrees([math.atan2(dx, dz), math.atan2(dy, math.hypot(dx, dz))])


@dataclass(frozen=True)
class Classified:
    """One frame's classification: state, speed and threshold (deg/s, None when unknown)."""

    state: EyeState
    velocity_deg_s: float | None
    threshold_deg_s: float | None


class IVTClassifier:
    """Causal I-VT on gaze points in camera cm (see the module)."""

    def __init__(self, options: IVTOptions | None = None) -> None:
        self.options = IVTOptions() if options is None else options
        self.noise = NoiseEstimator(self.options.noise_window_ms, self.options.min_noise_samples)
        self.reset()

    def reset(self) -> None:
        self._last: tuple[float, np.ndarray] | None = None
        self.noise.reset()

    def update(self, timestamp_ms: float, gaze_cm: np.ndarray | None,
               eye_cm: np.ndarray) -> Classified:
        """Classify the frame at ``timestamp_ms`` with gaze ``gaze_cm`` (None: no gaze) seen
        from ``eye_cm``."""
        if gaze_cm is None or not np.isfinite(gaze_cm).all():
            return Classified(EyeState.UNKNOWN, None, None)
        pos = angular_position(np.asarray(gaze_cm, np.float64), eye_cm)
        last, self._last = self._last, (float(timestamp_ms), pos)
        if last is None or timestamp_ms - last[0] > self.options.max_gap_ms:
            return Classified(EyeState.UNKNOWN, None, None)
        dt = (timestamp_ms - last[0]) / 1000.0
        v = (pos - last[1]) / dt
        speed = float(math.hypot(*v))
        warm = self.options.noise_factor > 0 and self.noise.sigma() is None
        threshold = self.threshold_along(v)
        saccade = speed > threshold
        if not saccade or warm:
            # warming up, every sample counts (the median estimator shrugs off the saccades
            # among them): else a floor below the noise would keep the estimate from starting
            self.noise.add(float(timestamp_ms), float(v[0]), float(v[1]))
        return Classified(EyeState.SACCADE if saccade else EyeState.FIXATION, speed, threshold)

    def threshold_along(self, v: np.ndarray) -> float:
        """The speed threshold (deg/s) in the direction of ``v``: the fixed one, or the noise
        ellipse's radius there when larger (Engbert & Kliegl's Eq. 3 as a speed)."""
        o = self.options
        sigma = self.noise.sigma() if o.noise_factor > 0 else None
        if sigma is None:
            return o.threshold_deg_s
        rx, ry = (max(o.noise_factor * s, 1e-9) for s in sigma)
        speed = math.hypot(*v)
        if speed == 0:
            return max(o.threshold_deg_s, min(rx, ry))
        c, s = v[0] / speed, v[1] / speed
        radius = 1.0 / math.sqrt((c / rx) ** 2 + (s / ry) ** 2)
        return max(o.threshold_deg_s, radius)
