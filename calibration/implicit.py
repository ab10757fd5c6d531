"""Implicit calibration (after WebGazer, Papoutsaki et al. 2016): the user taps or clicks
somewhere, they were looking there just before, and that pair is a calibration sample that
costs them nothing.

:class:`ImplicitCalibrator` keeps the last ``history_ms`` of the gaze it is shown
(:meth:`observe`, the gaze after any explicit profile, before smoothing) and, for a tap at
``timestamp_ms``, pairs the tap's point with the median gaze over the ``lookback_ms`` before it
(people look at a target before their finger lands). It refits a correction on the last
``max_samples`` taps, weighted by recency (weight halves every ``half_life`` taps), shrunk
toward the identity (:mod:`gazesdk.calibration.methods`, Eq. R: an offset until 3 taps, an
affine map from 6 taps), and bounded: the correction at the screen centre never exceeds
``max_offset_cm`` and the linear part stays within ``max_gain`` of the identity, so a run of
wrong taps (the user looked away) cannot throw the gaze off the screen.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from gazesdk.calibration.methods import CalibrationMap, Samples, fit_map
from gazesdk.errors import ConfigError


@dataclass(frozen=True)
class ImplicitOptions:
    """See the module."""

    lookback_ms: int = 250
    history_ms: int = 2000
    max_samples: int = 30
    half_life: float = 10.0
    offset_prior: float = 1.0
    slope_lambda: float = 3.0
    affine_after: int = 6
    max_offset_cm: float = 3.0
    max_gain: float = 0.3

    def __post_init__(self) -> None:
        if not (0 < self.lookback_ms <= self.history_ms and self.max_samples >= 1
                and self.half_life > 0 and self.offset_prior >= 0 and self.slope_lambda >= 0
                and self.affine_after >= 3 and self.max_offset_cm > 0
                and 0 < self.max_gain < 1):
            raise ConfigError("implicit calibration options out of range")


class ImplicitCalibrator:
    """A bounded, recency-weighted correction learnt from taps (see the module)."""

    def __init__(self, options: ImplicitOptions | None = None) -> None:
        self.options = options or ImplicitOptions()
        self._history: deque[tuple[int, float, float]] = deque()
        self._taps: deque[tuple[float, float, float, float]] = deque(
            maxlen=self.options.max_samples)
        self.map: CalibrationMap | None = None

    @property
    def samples(self) -> int:
        return len(self._taps)

    def reset(self) -> None:
        self._history.clear()
        self._taps.clear()
        self.map = None

    def observe(self, gaze_cm: tuple[float, float], timestamp_ms: int) -> None:
        """Remember one frame's gaze (camera cm) at its time."""
        ts = int(timestamp_ms)
        self._history.append((ts, float(gaze_cm[0]), float(gaze_cm[1])))
        while self._history and self._history[0][0] < ts - self.options.history_ms:
            self._history.popleft()

    def add_tap(self, target_cm: tuple[float, float], timestamp_ms: int) -> bool:
        """A tap the user looked at, at ``timestamp_ms`` (same clock as the frames). False
        (and nothing learnt) when no gaze was seen in the ``lookback_ms`` before it."""
        ts = int(timestamp_ms)
        recent = [(x, y) for t, x, y in self._history
                  if ts - self.options.lookback_ms <= t <= ts]
        if not recent:
            return False
        g = np.median(np.asarray(recent), axis=0)
        t = np.asarray(target_cm, float).reshape(2)
        if not np.isfinite(t).all():
            raise ConfigError(f"tap target must be a finite point, got {target_cm!r}")
        self._taps.append((float(g[0]), float(g[1]), float(t[0]), float(t[1])))
        self.map = self._refit()
        return True

    def add_pair(self, gaze_cm: tuple[float, float], target_cm: tuple[float, float]) -> None:
        """A sample whose gaze is already known (e.g. replayed from a log)."""
        self._taps.append((float(gaze_cm[0]), float(gaze_cm[1]), float(target_cm[0]),
                           float(target_cm[1])))
        self.map = self._refit()

    def _refit(self) -> CalibrationMap:
        o = self.options
        a = np.asarray(self._taps, float)
        n = len(a)
        age = np.arange(n)[::-1]                       # 0 for the newest tap
        w = 0.5 ** (age / o.half_life)
        method = "affine" if n >= o.affine_after else "offset"
        s = Samples(a[:, :2], a[:, 2:], np.arange(n))      # each tap is its own target
        m = fit_map(s, method, lam=o.slope_lambda, offset_prior=o.offset_prior, weights=w)
        return _bounded(m, o.max_offset_cm, o.max_gain)

    def apply(self, gaze_cm: np.ndarray | tuple[float, float]) -> np.ndarray:
        g = np.asarray(gaze_cm, float)
        return g if self.map is None else self.map.apply(g)


def _bounded(m: CalibrationMap, max_offset_cm: float, max_gain: float) -> CalibrationMap:
    coef = np.array(m.coefficients, float)
    off = coef[0]
    norm = float(np.linalg.norm(off))
    if norm > max_offset_cm:
        coef[0] = off * (max_offset_cm / norm)
    if len(coef) >= 3:
        # the correction's linear part (u -> u B[1:3]) has its gains clipped to +-max_gain
        u, sv, vt = np.linalg.svd(coef[1:3] / m.scale_cm)
        sv = np.clip(sv, 0.0, max_gain)
        coef[1:3] = (u * sv) @ vt * m.scale_cm
    return CalibrationMap(m.method, coef, centre_cm=m.centre_cm, scale_cm=m.scale_cm,
                          regularisation=m.regularisation, offset_prior=m.offset_prior)
