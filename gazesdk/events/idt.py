"""I-DT, the dispersion-threshold classifier (Salvucci & Goldberg 2000, ETRA): consecutive
samples whose spread stays within a dispersion threshold form a fixation; a sample that would
spread the window beyond it starts a new one and is the saccade between the two. Dispersion is
(max x - min x) + (max y - min y) in degrees (their definition).

Causal variant for a live stream: the new sample joins the current window when the window
stays within the threshold, else it is labelled SACCADE and opens a new window. The window
holds at most the last ``max_window_ms`` (so a long fixation's slow drift does not end it).
The offline algorithm's minimum duration (100 ms) needs look-ahead a live state cannot wait
for: the event detector (:mod:`gazesdk.events.detector`) applies ``min_fixation_ms`` to the
fixation events instead. Default threshold 1 deg (Salvucci & Goldberg; Blignaut 2009 finds 1
deg best). As for I-VT (:mod:`gazesdk.events.ivt`) the threshold may adapt to the tracker's
noise: ``noise_factor`` times the per-axis median-estimator sigma of frame-to-frame steps,
summed over the axes (0 keeps the fixed threshold).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.events.ivt import Classified, angular_position
from gazesdk.events.noise import NoiseEstimator
from gazesdk.events.state import EyeState
from gazesdk.settings import check_types, from_mapping, to_plain_dict


@dataclass(frozen=True)
class IDTOptions:
    """I-DT settings (see the module); ``max_gap_ms`` as for I-VT."""

    dispersion_deg: float = 1.0
    max_window_ms: float = 500.0
    noise_factor: float = 4.0
    noise_window_ms: float = 2000.0
    min_noise_samples: int = 8
    max_gap_ms: float = 100.0

    def __post_init__(self) -> None:
        check_types(self)
        if not self.dispersion_deg > 0:
            raise ConfigError(f"idt dispersion_deg must be > 0, got {self.dispersion_deg}")
        if not (self.max_window_ms > 0 and self.noise_window_ms > 0 and self.max_gap_ms > 0):
            raise ConfigError("idt max_window_ms, noise_window_ms and max_gap_ms must be > 0")
        if not self.noise_factor >= 0:
            raise ConfigError(f"idt noise_factor must be >= 0, got {self.noise_factor}")
        if not self.min_noise_samples >= 2:
            raise ConfigError(f"idt min_noise_samples must be >= 2, got "
                              f"{self.min_noise_samples}")

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> IDTOptions:
        return from_mapping(cls, values, what="idt")

    def to_dict(self) -> dict[str, object]:
        return to_plain_dict(self)


def dispersion_deg(points: np.ndarray) -> float:
    """Salvucci & Goldberg's dispersion of (N, 2) angular positions: x range + y range."""
    p = np.asarray(points, np.float64)
    return float(np.ptp(p[:, 0]) + np.ptp(p[:, 1]))


class IDTClassifier:
    """Causal I-DT on gaze points in camera cm (see the module)."""

    def __init__(self, options: IDTOptions | None = None) -> None:
        self.options = IDTOptions() if options is None else options
        self.noise = NoiseEstimator(self.options.noise_window_ms, self.options.min_noise_samples)
        self.reset()

    def reset(self) -> None:
        self._window: deque[tuple[float, np.ndarray]] = deque()
        self._last_ms: float | None = None
        self.noise.reset()

    @property
    def window_ms(self) -> float:
        """How long the current window has lasted (0 without one)."""
        return self._window[-1][0] - self._window[0][0] if self._window else 0.0

    def threshold(self) -> float:
        """The dispersion threshold in force (deg)."""
        o = self.options
        sigma = self.noise.sigma() if o.noise_factor > 0 else None
        if sigma is None:
            return o.dispersion_deg
        return max(o.dispersion_deg, o.noise_factor * (sigma[0] + sigma[1]))

    def update(self, timestamp_ms: float, gaze_cm: np.ndarray | None,
               eye_cm: np.ndarray) -> Classified:
        """Classify one frame; ``velocity_deg_s`` is the speed since the previous sample and
        ``threshold_deg_s`` the dispersion threshold (deg) in force."""
        if gaze_cm is None or not np.isfinite(gaze_cm).all():
            return Classified(EyeState.UNKNOWN, None, None)
        t = float(timestamp_ms)
        pos = angular_position(np.asarray(gaze_cm, np.float64), eye_cm)
        gap = self._last_ms is None or t - self._last_ms > self.options.max_gap_ms
        self._last_ms = t
        if gap:
            self._window = deque([(t, pos)])
            return Classified(EyeState.UNKNOWN, None, None)
        prev_t, prev = self._window[-1]
        step = pos - prev
        speed = math.hypot(*step) / ((t - prev_t) / 1000.0)
        while self._window and t - self._window[0][0] > self.options.max_window_ms:
            self._window.popleft()
        warm = self.options.noise_factor > 0 and self.noise.sigma() is None
        theta = self.threshold()
        pts = np.array([p for _, p in self._window] + [pos]) if self._window else pos[None]
        if dispersion_deg(pts) > theta:
            self._window = deque([(t, pos)])
            if warm:
                self.noise.add(t, float(step[0]), float(step[1]))
            return Classified(EyeState.SACCADE, speed, theta)
        self._window.append((t, pos))
        self.noise.add(t, float(step[0]), float(step[1]))
        return Classified(EyeState.FIXATION, speed, theta)
