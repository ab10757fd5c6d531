"""The estimator's calibration stage (issue 18): the user's profile, then the implicit
correction learnt from taps, applied to the model's gaze before smoothing; and the drift
signal. Called once per valid frame from :class:`~gazesdk.runtime.estimator.GazeEstimator`.

A profile whose guard rejected it (held-out error worse than uncalibrated) is loaded but not
applied unless ``calibration_guard`` is off; a profile for another model, device or
orientation, or a damaged file, is refused when the estimator is created (one line).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from gazesdk.calibration.drift import DriftMonitor, DriftOptions
from gazesdk.calibration.implicit import ImplicitCalibrator, ImplicitOptions
from gazesdk.calibration.profile import CalibrationProfile, model_identity
from gazesdk.errors import ConfigError
from gazesdk.geometry.devices import DeviceGeometry
from gazesdk.geometry.screen import screen_to_cam_cm

DEFAULT_DRIFT = DriftOptions()


@dataclass(frozen=True)
class Calibrated:
    """The stage's output for one frame: the gaze to smooth, the calibrated gaze (None
    when no calibration applies), whether one was applied, and the drift flag (None without
    a profile or a head pose)."""

    gaze_cm: tuple[float, float]
    calibrated_cm: tuple[float, float] | None
    applied: bool
    recalibration_advised: bool | None


def load_profile(calibration: CalibrationProfile | str | os.PathLike) -> CalibrationProfile:
    if isinstance(calibration, CalibrationProfile):
        return calibration
    if isinstance(calibration, (str, os.PathLike)):
        return CalibrationProfile.load(calibration)
    raise ConfigError(f"calibration must be a CalibrationProfile, a path or None, got "
                      f"{type(calibration).__name__}")


class CalibrationStage:
    """Profile + implicit correction + drift monitor for one estimator."""

    def __init__(self, *, metadata: dict[str, Any], device: DeviceGeometry, orientation: int,
                 has_features: bool,
                 calibration: CalibrationProfile | str | os.PathLike | None = None,
                 guard: bool = True, implicit: ImplicitOptions | None = None,
                 drift: DriftOptions | None = DEFAULT_DRIFT) -> None:
        self.device, self.orientation = device, orientation
        self.profile: CalibrationProfile | None = None
        self.applies = False
        if calibration is not None:
            profile = load_profile(calibration)
            sha, _ = model_identity(metadata)
            profile.check_compatible(model_sha256=sha, device=device, orientation=orientation)
            if profile.needs_features and not has_features:
                raise ConfigError("this calibration profile uses the model's features (ridge), "
                                  "but the model has no 'features' output: export it with "
                                  "--features")
            self.profile = profile
            self.applies = profile.accepted or not guard
        self.implicit = ImplicitCalibrator(implicit)
        self.drift = (DriftMonitor(self.profile.reference, drift)
                      if self.profile is not None and self.profile.reference is not None
                      and drift is not None else None)

    @property
    def active(self) -> bool:
        return self.applies or self.implicit.map is not None

    def reset(self) -> None:
        """Forget the stream (timestamps, the pose filter); taps learnt are kept."""
        if self.drift is not None:
            self.drift.reset()

    def __call__(self, raw_cm: tuple[float, float], features: np.ndarray | None,
                 head_pose: Any, timestamp_ms: int | None) -> Calibrated:
        g = np.asarray(raw_cm, float)
        applied = self.applies
        if self.applies:
            assert self.profile is not None
            fitted = self.profile.apply(g, features)
            # a fit edited to extremes (a tiny scale, huge coefficients) can overflow: that
            # frame keeps the model's gaze rather than becoming a "valid" NaN
            if np.isfinite(fitted).all():
                g = fitted
            else:
                applied = False
        if timestamp_ms is not None:
            self.implicit.observe((float(g[0]), float(g[1])), timestamp_ms)
        g = self.implicit.apply(g)
        xy = (float(g[0]), float(g[1]))
        advised = (None if self.drift is None or head_pose is None
                   else self.drift.update(head_pose, timestamp_ms))
        active = applied or self.implicit.map is not None
        return Calibrated(xy, xy if active else None, active, advised)

    def add_implicit_sample(self, screen_point: tuple[float, float], timestamp_ms: int) -> bool:
        """A screen point (points, the user's frame) the user looked at at ``timestamp_ms``."""
        x, y = (float(v) for v in screen_point)
        w, h = self.device.screen_size_points(self.orientation)
        if not (np.isfinite([x, y]).all() and -0.05 * w <= x <= 1.05 * w
                and -0.05 * h <= y <= 1.05 * h):
            raise ConfigError(f"implicit sample ({x:g}, {y:g}) pt is off the {w:g} x {h:g} pt "
                              f"screen")
        cx, cy = screen_to_cam_cm(x, y, self.device, self.orientation, (w, h))
        return self.implicit.add_tap((float(cx), float(cy)), timestamp_ms)
