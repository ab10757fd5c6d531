"""A running, robust estimate of the gaze's sample-to-sample noise, for thresholds that adapt to
the tracker: a webcam model's gaze jitters by about a degree a frame, where the literature's
fixed thresholds (30 deg/s, 1 deg) were set for research trackers with a tenth of that.

Engbert & Kliegl (2003, "Microsaccades uncover the orientation of covert attention", Vision
Research 43) estimate each axis's velocity noise with a median estimator,
sigma = sqrt(median(v^2) - median(v)^2), robust to the saccades in the sample, and call a
sample a saccade when it leaves the ellipse of radii lambda * sigma (their Eq. 2-3). Here the
medians run over the recent non-saccade samples (a window in time), so the estimate follows a
stream whose noise changes (light, distance).
"""

from __future__ import annotations

from collections import deque

import numpy as np


class NoiseEstimator:
    """Per-axis median-estimator sigma over the last ``window_ms`` of samples given to
    :meth:`add` (angular velocities, deg/s)."""

    def __init__(self, window_ms: float, min_samples: int) -> None:
        self.window_ms = float(window_ms)
        self.min_samples = int(min_samples)
        self._samples: deque[tuple[float, float, float]] = deque()

    def reset(self) -> None:
        self._samples.clear()

    def add(self, t_ms: float, vx: float, vy: float) -> None:
        self._samples.append((t_ms, vx, vy))
        while self._samples and t_ms - self._samples[0][0] > self.window_ms:
            self._samples.popleft()

    def sigma(self) -> tuple[float, float] | None:
        """(sigma_x, sigma_y), Engbert & Kliegl's Eq. 2; None before ``min_samples``."""
        if len(self._samples) < self.min_samples:
            return None
        v = np.asarray(self._samples)[:, 1:]
        s = np.sqrt(np.maximum(np.median(v**2, axis=0) - np.median(v, axis=0) ** 2, 0.0))
        return float(s[0]), float(s[1])
