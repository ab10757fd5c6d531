"""The event detector: one frame's gaze, eye position and blink state in, the frame's
:class:`~gazesdk.events.state.EyeEvents` out (state, speed, threshold, dwell regions, events).
The runtime calls it once per VIDEO frame (``GazeEstimatorOptions.events``); it is a plain
object, so recorded streams can be run through it offline with the same results.

Classifiers are named (:data:`CLASSIFIERS`: ``ivt``, ``idt``); the blink state comes from the
runtime's lid-openness blink detector (:mod:`gazesdk.runtime.blink`, issue 16), which overrides
the classifier. A fixation shorter than ``min_fixation_ms`` is not reported: its frames keep
their FIXATION state, but no FIXATION_START/END is emitted for it (the offline algorithms' 60-100
ms minimum; Salvucci & Goldberg 2000, Olsen 2012). Dwell uses the gaze given to it, which the
runtime takes from the smoothed screen point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.events.angles import DEFAULT_DISTANCE_CM, eye_position, visual_angle_deg
from gazesdk.events.dwell import DwellOptions, DwellTracker
from gazesdk.events.idt import IDTClassifier, IDTOptions
from gazesdk.events.ivt import IVTClassifier, IVTOptions
from gazesdk.events.state import EventKind, EyeEvents, EyeState, GazeEvent

CLASSIFIERS = {"ivt": IVTClassifier, "idt": IDTClassifier}
_STARTS = {EyeState.FIXATION: EventKind.FIXATION_START, EyeState.SACCADE: EventKind.SACCADE_START,
           EyeState.BLINK: EventKind.BLINK_START}
_ENDS = {EyeState.FIXATION: EventKind.FIXATION_END, EyeState.SACCADE: EventKind.SACCADE_END,
         EyeState.BLINK: EventKind.BLINK_END}


def list_classifiers() -> list[str]:
    """The event classifier names."""
    return sorted(CLASSIFIERS)


@dataclass(frozen=True)
class EventOptions:
    """Event detection settings. ``classifier``: ``ivt`` (default) or ``idt``, with their
    settings; ``dwell``: regions and timings; ``distance_cm``: the eye's distance from the
    screen when no head pose gives it (None: the device kind's typical distance,
    :data:`gazesdk.events.angles.TYPICAL_DISTANCE_CM`); ``min_fixation_ms``: shorter fixations
    are not reported as events."""

    classifier: str = "ivt"
    ivt: IVTOptions = field(default_factory=IVTOptions)
    idt: IDTOptions = field(default_factory=IDTOptions)
    dwell: DwellOptions = field(default_factory=DwellOptions)
    distance_cm: float | None = None
    min_fixation_ms: float = 60.0

    def __post_init__(self) -> None:
        if self.classifier not in CLASSIFIERS:
            raise ConfigError(f"unknown event classifier {self.classifier!r}; known: "
                              f"{', '.join(list_classifiers())}")
        for name, kind in (("ivt", IVTOptions), ("idt", IDTOptions), ("dwell", DwellOptions)):
            if not isinstance(getattr(self, name), kind):
                raise ConfigError(f"events {name} settings must be a mapping, got "
                                  f"{getattr(self, name)!r}")
        d = self.distance_cm
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, float))
                              or not 5.0 <= d <= 200.0):
            raise ConfigError(f"events distance_cm must be a number in [5, 200] or null, "
                              f"got {d!r}")
        m = self.min_fixation_ms
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not m >= 0:
            raise ConfigError(f"events min_fixation_ms must be a number >= 0, got {m!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> EventOptions:
        """Strict construction from YAML/JSON: unknown keys are ConfigErrors."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"events settings must be a mapping, got {type(values).__name__}")
        known = set(cls.__dataclass_fields__)
        bad = sorted(set(values) - known)
        if bad:
            raise ConfigError(f"unknown events option(s) {', '.join(bad)}; known: "
                              f"{', '.join(sorted(known))}")
        v: dict[str, Any] = dict(values)
        for name, kind in (("ivt", IVTOptions), ("idt", IDTOptions), ("dwell", DwellOptions)):
            if isinstance(v.get(name), Mapping):
                v[name] = kind.from_dict(v[name])
        return cls(**v)


class EventDetector:
    """Eye-movement state and events of one VIDEO stream (one face; :meth:`reset` between)."""

    def __init__(self, options: EventOptions | None = None, *,
                 typical_distance_cm: float = DEFAULT_DISTANCE_CM) -> None:
        self.options = EventOptions() if options is None else options
        o = self.options
        self.distance_cm = o.distance_cm if o.distance_cm is not None else typical_distance_cm
        self.classifier = CLASSIFIERS[o.classifier](getattr(o, o.classifier))
        self.dwell = DwellTracker(o.dwell)
        self.reset()

    def reset(self) -> None:
        self.classifier.reset()
        self.dwell.reset()
        self._state = EyeState.UNKNOWN
        self._start_ms = 0
        self._reported = False             # the current fixation's START has been emitted
        self._sum = np.zeros(2)
        self._count = 0
        self._before: np.ndarray | None = None     # the gaze just before the current saccade
        self._last_gaze: np.ndarray | None = None
        self._eye = np.array([0.0, 0.0, self.distance_cm])

    def update(self, timestamp_ms: int, gaze_cm: tuple[float, float] | None, *,
               head_translation_cm: tuple[float, float, float] | None = None,
               blink: bool = False,
               screen_pt: tuple[float, float] | None = None) -> EyeEvents:
        """The frame at ``timestamp_ms``: its gaze (camera cm; None when the frame has none),
        the head pose's eye midpoint (camera cm) when known, whether the lids are shut, and
        the point dwell uses (screen points; None: dwell sees no gaze)."""
        t = int(timestamp_ms)
        g = None if gaze_cm is None else np.asarray(gaze_cm, np.float64)
        if g is not None and not np.isfinite(g).all():
            g = None
        self._eye = eye_position(head_translation_cm, self.distance_cm)
        c = self.classifier.update(t, g, self._eye)
        state = EyeState.BLINK if blink else c.state
        events = self._transition(t, state, g)
        if state is EyeState.FIXATION and g is not None:
            self._sum += g
            self._count += 1
            if not self._reported and t - self._start_ms >= self.options.min_fixation_ms:
                self._reported = True
                events.append(GazeEvent(EventKind.FIXATION_START, t, self._start_ms,
                                        position_cm=self._mean()))
        events += self.dwell.update(t, screen_pt)
        if g is not None:
            self._last_gaze = g
        return EyeEvents(state=state, velocity_deg_s=c.velocity_deg_s,
                         threshold_deg_s=c.threshold_deg_s, state_ms=t - self._start_ms,
                         regions=self.dwell.inside, events=tuple(events))

    def _mean(self) -> tuple[float, float] | None:
        if not self._count:
            return None
        m = self._sum / self._count
        return (float(m[0]), float(m[1]))

    def _transition(self, t: int, state: EyeState, g: np.ndarray | None) -> list[GazeEvent]:
        if state is self._state:
            return []
        out: list[GazeEvent] = []
        old, dur = self._state, t - self._start_ms
        if old is EyeState.FIXATION:
            if self._reported:
                out.append(GazeEvent(EventKind.FIXATION_END, t, self._start_ms, duration_ms=dur,
                                     position_cm=self._mean()))
        elif old is EyeState.SACCADE:
            amp = (visual_angle_deg(self._before, g, self._eye)
                   if self._before is not None and g is not None else None)
            out.append(GazeEvent(EventKind.SACCADE_END, t, self._start_ms, duration_ms=dur,
                                 position_cm=None if g is None else (float(g[0]), float(g[1])),
                                 amplitude_deg=amp))
        elif old is EyeState.BLINK:
            out.append(GazeEvent(EventKind.BLINK_END, t, self._start_ms, duration_ms=dur))
        self._state, self._start_ms = state, t
        self._sum, self._count, self._reported = np.zeros(2), 0, False
        if state is EyeState.SACCADE:
            self._before = self._last_gaze
            pos = None if self._before is None else (float(self._before[0]),
                                                     float(self._before[1]))
            out.append(GazeEvent(EventKind.SACCADE_START, t, t, position_cm=pos))
        elif state is EyeState.BLINK:
            out.append(GazeEvent(EventKind.BLINK_START, t, t))
        return out
