"""Event-aware smoothing: average hard inside a fixation, never across a saccade.

A speed-adaptive filter such as the 1 Euro filter pays its lag on every saccade (it must first
see speed to open its cutoff) and its jitter on every fixation (it never averages more than its
cutoff allows). Knowing where a fixation starts removes both costs: at a detected saccade onset
the output jumps to the new measurement (no smoothing across the onset), and inside the
fixation it is the running mean of the fixation's samples so far, the least-noise estimate of
a point at rest, until ``window_ms`` of samples, after which an exponential smoother of the same
time constant follows the slow drift of a long fixation. Onsets come from the causal I-VT of
:mod:`gazesdk.events.ivt` (noise-adaptive threshold, degrees at ``distance_cm``); a missing or
late frame (more than the I-VT's ``max_gap_ms``) restarts the fixation too.

Per frame k of a fixation that began at frame f (n = k - f + 1 samples), with a(w) the weight
of an exponential smoother of time constant w::

    x_hat_k = x_k                                    k = f (an onset, or the first frame)
    x_hat_k = x_hat_{k-1} + max(1 / n, a) (x_k - x_hat_{k-1})   otherwise
"""

from __future__ import annotations

import math

import numpy as np

from gazesdk.events.ivt import IVTClassifier, IVTOptions
from gazesdk.events.state import EyeState
from gazesdk.runtime.smoothing import EventAwareOptions, as_point, check_timestamp


class EventAwareSmoother:
    """The event-aware smoother on (x, y) gaze points in cm (see the module); timestamps in ms
    must increase, a non-finite point is not used (the last output is held), a gap of more than
    ``reset_after_ms`` since the last finite point restarts the filter."""

    def __init__(self, options: EventAwareOptions | None = None) -> None:
        self.options = EventAwareOptions() if options is None else options
        o = self.options
        self.detector = IVTClassifier(IVTOptions(threshold_deg_s=o.threshold_deg_s,
                                                 noise_factor=o.noise_factor,
                                                 max_gap_ms=o.reset_after_ms))
        self._eye = np.array([0.0, 0.0, o.distance_cm])
        self.reset()

    def reset(self) -> None:
        self.detector.reset()
        self._last_ms: float | None = None
        self._measured_ms: float | None = None
        self._x_hat = np.full(2, np.nan)
        self._n = 0
        self._backup: tuple[np.ndarray, int] | None = None   # the fixation an onset ended
        self._residual: np.ndarray | None = None
        self._previous = np.full(2, np.nan)
        self._dt_s: float | None = None
        self.onset = False          # whether the last frame restarted the fixation

    def __call__(self, point: np.ndarray, timestamp_ms: float) -> np.ndarray:
        x = as_point(point)
        t = check_timestamp(self._last_ms, timestamp_ms)
        self._last_ms = t
        if self._measured_ms is not None and t - self._measured_ms > self.options.reset_after_ms:
            self._measured_ms, self._x_hat, self._n = None, np.full(2, np.nan), 0
        if not np.all(np.isfinite(x)):
            self.onset = False
            return self._x_hat.copy()
        state = self.detector.update(t, x, self._eye).state
        dt = 0.0 if self._measured_ms is None else (t - self._measured_ms) / 1000.0
        self._measured_ms = t
        self._dt_s = dt or self._dt_s
        backup, self._backup = self._backup, None
        if (backup is not None and state is EyeState.SACCADE
                and np.hypot(*(x - backup[0])) < 0.5 * np.hypot(*(x - self._x_hat))):
            # the "saccade" came straight back: one wild frame, not a new fixation
            self._x_hat, self._n = backup[0], backup[1]
            state = EyeState.FIXATION
        onset = state is not EyeState.FIXATION or self._n == 0
        if not onset and self._drifted(x):
            onset, backup = True, None
            x = (x + self._previous) / 2.0        # the two frames that moved, averaged
        self._previous = x
        self.onset = onset
        if onset:
            if self._n > 1 and state is EyeState.SACCADE:
                self._backup = (self._x_hat.copy(), self._n)
            self._x_hat, self._n, self._residual = x.copy(), 1, None
            return x.copy()
        self._n += 1
        a = 1.0 - math.exp(-dt * 1000.0 / self.options.window_ms)
        self._x_hat = self._x_hat + max(1.0 / self._n, a) * (x - self._x_hat)
        return self._x_hat.copy()

    def _drifted(self, x: np.ndarray) -> bool:
        """Whether this frame and the previous one both sit more than ``shift_factor`` noise
        sigmas from the estimate on the same side: a move too small for the speed threshold."""
        r, prev = x - self._x_hat, self._residual
        self._residual = r
        k = self.options.shift_factor
        sigma = self.detector.noise.sigma()
        if k <= 0 or prev is None or sigma is None:
            return False
        # the I-VT's velocity sigma (deg/s) as a position sigma in cm at the eye's distance
        dt = self._dt_s or (1.0 / 30.0)
        s_cm = float(np.hypot(*sigma)) * dt / math.sqrt(2.0) * math.tan(
            math.radians(1.0)) * self.options.distance_cm
        return bool(np.hypot(*r) > k * s_cm and np.hypot(*prev) > k * s_cm and r @ prev > 0
                    and (r @ prev) / (np.hypot(*r) * np.hypot(*prev)) > 0.7)
