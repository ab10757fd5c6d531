"""Temporal smoothing of per-frame gaze points: the options, the interface, the factory.

A gaze model's per-frame prediction jitters around a fixation (about 1 cm std per axis on a
stare), while genuine saccades are 2-10 cm jumps. A smoother trades that jitter, measured by
the stare-stability MSD (:func:`gazesdk.evaluation.metrics.msd_cm`), against lag on saccades,
measured by :func:`gazesdk.evaluation.lag.step_lag_frames`. Two filters are offered:

- ``"kalman"``: a constant-velocity Kalman filter (:class:`gazesdk.runtime.kalman.KalmanSmoother`).
- ``"one_euro"``: the 1 Euro filter of Casiez, Roussel and Vogel (CHI 2012), an exponential
  smoother whose cutoff rises with speed (:class:`gazesdk.runtime.one_euro.OneEuroSmoother`).
- ``"event_aware"``: the running mean of the current fixation, restarted at every detected
  saccade onset (issue 19, :class:`gazesdk.runtime.event_aware.EventAwareSmoother`).

Both take points in cm and millisecond timestamps, so the frame rate may vary. Shared rules:
timestamps must increase (else :class:`TimestampError`); a gap of more than ``reset_after_ms``
since the last finite measurement restarts the filter at the next one; a NaN/inf point is not
used (the filter predicts or holds), and before the first finite point the output is NaN.

The defaults were tuned on synthetic 30 fps data with 1 cm per-axis noise (300 stares of 60
frames; fixations joined by 2-10 cm saccades) against the raw MSD and the 90% step lag:

========  ==========  ============  ===================  ====================================
method    stare MSD   through       90% lag (frames),    notes
          (fresh)     saccades      2 / 5 / 10 cm step
========  ==========  ============  ===================  ====================================
kalman    x0.44       x0.82         5 / 5 / 5            linear; overshoots a step by ~19%
one_euro  x0.41       x0.57         6 / 4 / 3            no overshoot; the default method
========  ==========  ============  ===================  ====================================

"stare MSD" runs a fresh filter over each stare (as GazeSim's stare sequences, which fixate
from their first frame); "through saccades" runs one filter over the whole stream, so each
stare's MSD also carries the transient of the saccade into it. The 1 Euro filter wins both
and needs no extra package, hence the default.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from gazesdk.errors import ConfigError, GazeSDKError
from gazesdk.settings import check_types, from_mapping, to_plain_dict

METHODS = ("none", "kalman", "one_euro", "event_aware")


class TimestampError(GazeSDKError, ValueError):
    """A frame's timestamp does not come after the previous frame's."""


@runtime_checkable
class Smoother(Protocol):
    """A causal filter over a stream of gaze points (cm) with timestamps (ms)."""

    def __call__(self, point: np.ndarray, timestamp_ms: float) -> np.ndarray:
        """Take one frame's point, shape (2,), and return the filtered point, (2,) float64."""

    def reset(self) -> None:
        """Forget the past: the next point starts the filter afresh."""


def _check_options(obj: object, positive: tuple[str, ...], non_negative: tuple[str, ...] = ()
                   ) -> None:
    check_types(obj)
    for name in positive:
        if not getattr(obj, name) > 0:
            raise ConfigError(f"{name} must be > 0, got {getattr(obj, name)!r}")
    for name in non_negative:
        if not getattr(obj, name) >= 0:
            raise ConfigError(f"{name} must be >= 0, got {getattr(obj, name)!r}")


@dataclass(frozen=True)
class KalmanOptions:
    """Constant-velocity Kalman filter settings (see :mod:`gazesdk.runtime.kalman`).

    ``measurement_std_cm``: the per-axis std of a raw prediction around the true point (R);
    ``process_noise``: the spectral density q (cm^2/s^3) of the white-noise acceleration that
    lets the gaze change speed: larger follows saccades sooner but smooths less. Only the ratio
    q / measurement_std_cm^2 shapes the steady state. ``initial_velocity_std_cm_s``: the std
    of the (zero) velocity a start assumes; ``reset_after_ms``: a longer gap since the last
    measurement restarts the filter. Defaults, for 1 cm noise at 30 fps: stare MSD x0.44
    (steady-state output std x0.40), 90% step lag 5 frames; q 10 gives x0.43 with 6 frames,
    q 50 x0.48 with 4.
    """

    measurement_std_cm: float = 1.0
    process_noise: float = 20.0
    initial_velocity_std_cm_s: float = 10.0
    reset_after_ms: float = 500.0

    def __post_init__(self) -> None:
        _check_options(self, ("measurement_std_cm", "process_noise",
                              "initial_velocity_std_cm_s", "reset_after_ms"))

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> KalmanOptions:
        """Build from a mapping; unknown keys and non-positive values are ConfigErrors."""
        return from_mapping(cls, values, what="kalman smoothing")

    def to_dict(self) -> dict[str, object]:
        return to_plain_dict(self)


@dataclass(frozen=True)
class OneEuroOptions:
    """1 Euro filter settings (Casiez et al., CHI 2012; see :mod:`gazesdk.runtime.one_euro`).

    ``min_cutoff_hz``: the cutoff at rest (lower: less jitter on a stare); ``beta`` (s/cm,
    i.e. Hz per cm/s): how fast the cutoff rises with the filtered speed (higher: less lag on
    saccades); ``d_cutoff_hz``: the cutoff of the speed estimate. The paper's tuning recipe:
    set beta 0, lower min_cutoff until the stare is steady, then raise beta until saccades
    keep up. ``reset_after_ms``: a longer gap since the last measurement restarts the filter.
    Defaults, for 1 cm noise at 30 fps: stare MSD x0.41; 90% step lag 4 frames on a 5 cm
    step (6 on 2 cm, 3 on 10 cm: the larger the saccade, the higher the cutoff). Beta multiplies a
    speed in cm/s, so noisier predictions raise the cutoff on a stare: lower it for them.
    """

    min_cutoff_hz: float = 0.8
    beta: float = 0.07
    d_cutoff_hz: float = 1.0
    reset_after_ms: float = 500.0

    def __post_init__(self) -> None:
        _check_options(self, ("min_cutoff_hz", "d_cutoff_hz", "reset_after_ms"), ("beta",))

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> OneEuroOptions:
        """Build from a mapping; unknown keys and out-of-range values are ConfigErrors."""
        return from_mapping(cls, values, what="one_euro smoothing")

    def to_dict(self) -> dict[str, object]:
        return to_plain_dict(self)


@dataclass(frozen=True)
class EventAwareOptions:
    """Event-aware smoothing settings (issue 19; see :mod:`gazesdk.runtime.event_aware`).

    ``window_ms``: inside a fixation the output is the mean of its samples up to this long,
    then an exponential smoother of this time constant (longer: less jitter on long
    fixations, slower to follow drift and saccades too small to detect); ``noise_factor`` and
    ``threshold_deg_s``: the onset detector's I-VT (:class:`~gazesdk.events.ivt.IVTOptions`:
    adaptive lambda and fixed floor); ``shift_factor``: two frames in a row this many noise
    sigmas from the fixation's estimate, on the same side, restart it too (a move too small
    for the speed threshold; 0 turns it off); ``distance_cm``: the eye's distance for the angles
    (only the floor depends on it: the adaptive threshold is a multiple of the noise in the
    same units); ``reset_after_ms``: a longer gap restarts the filter. Defaults: the point of
    the jitter-lag frontier (``benchmarks/frontier.py``) chosen on GazeSim's validation
    subjects: fixation MSD 0.160 cm at 0.80 frames of lag on saccades, against the 1 Euro
    defaults' 0.182 cm at 5.3 frames (raw: 0.346 cm)."""

    window_ms: float = 3000.0
    noise_factor: float = 6.0
    shift_factor: float = 4.0
    threshold_deg_s: float = 30.0
    distance_cm: float = 32.0
    reset_after_ms: float = 100.0

    def __post_init__(self) -> None:
        _check_options(self, ("window_ms", "threshold_deg_s", "distance_cm", "reset_after_ms"),
                       ("noise_factor", "shift_factor"))

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> EventAwareOptions:
        """Build from a mapping; unknown keys and out-of-range values are ConfigErrors."""
        return from_mapping(cls, values, what="event_aware smoothing")

    def to_dict(self) -> dict[str, object]:
        return to_plain_dict(self)


@dataclass(frozen=True)
class SmoothingOptions:
    """Which smoother the runtime applies to its gaze points, and the settings of each."""

    method: str = "one_euro"
    kalman: KalmanOptions = field(default_factory=KalmanOptions)
    one_euro: OneEuroOptions = field(default_factory=OneEuroOptions)
    event_aware: EventAwareOptions = field(default_factory=EventAwareOptions)

    def __post_init__(self) -> None:
        check_types(self)
        if self.method not in METHODS:
            raise ConfigError(f"unknown smoothing method {self.method!r}; known: "
                              f"{', '.join(METHODS)}")
        for name, kind in _SETTINGS:
            if not isinstance(getattr(self, name), kind):
                raise ConfigError(f"smoothing {name} settings must be a mapping, got "
                                  f"{getattr(self, name)!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> SmoothingOptions:
        """Build from a mapping such as ``{"method": "kalman", "kalman": {"process_noise":
        200}}``; unknown keys, unknown methods and out-of-range values are ConfigErrors."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"smoothing settings must be a mapping, got "
                              f"{type(values).__name__}")
        values = dict(values)
        for name, kind in _SETTINGS:
            if name in values:
                values[name] = kind.from_dict(values[name])
        return from_mapping(cls, values, what="smoothing")

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, **{f.name: getattr(self, f.name).to_dict()
                                          for f in dataclasses.fields(self) if f.name != "method"}}


_SETTINGS = (("kalman", KalmanOptions), ("one_euro", OneEuroOptions),
             ("event_aware", EventAwareOptions))


def list_smoothers() -> list[str]:
    """The smoothing method names, ``"none"`` first."""
    return list(METHODS)


def create_smoother(options: SmoothingOptions | None = None) -> Smoother | None:
    """A fresh smoother for ``options`` (defaults when None); None for method ``"none"``."""
    options = SmoothingOptions() if options is None else options
    if options.method == "kalman":
        from gazesdk.runtime.kalman import KalmanSmoother
        return KalmanSmoother(options.kalman)
    if options.method == "one_euro":
        from gazesdk.runtime.one_euro import OneEuroSmoother
        return OneEuroSmoother(options.one_euro)
    if options.method == "event_aware":
        from gazesdk.runtime.event_aware import EventAwareSmoother
        return EventAwareSmoother(options.event_aware)
    return None


def as_point(point: object) -> np.ndarray:
    """``point`` as a (2,) float64 array (a copy); ValueError for any other shape."""
    p = np.array(point, dtype=np.float64)
    if p.shape != (2,):
        raise ValueError(f"a gaze point must have shape (2,), got {p.shape}")
    return p


def check_timestamp(previous_ms: float | None, timestamp_ms: float) -> float:
    """``timestamp_ms`` as a float, after checking it is finite and after ``previous_ms``."""
    t = float(timestamp_ms)
    if not math.isfinite(t):
        raise TimestampError(f"timestamp must be finite, got {timestamp_ms!r} ms")
    if previous_ms is not None and t <= previous_ms:
        raise TimestampError(f"timestamps must increase: {t:g} ms follows {previous_ms:g} ms")
    return t
