"""What the eyes are doing on one frame, as the runtime reports it (:class:`EyeState`), and the
events a stream produces (:class:`GazeEvent`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class EyeState(str, Enum):
    """The eye-movement class of one frame.

    FIXATION: the gaze rests (drift and microsaccades included); SACCADE: the gaze jumped since
    the previous frame; BLINK: the lids are shut; UNKNOWN: no gaze to classify (no face, a bad
    frame, or the first frame after a gap, whose velocity is not known)."""

    FIXATION = "fixation"
    SACCADE = "saccade"
    BLINK = "blink"
    UNKNOWN = "unknown"


class EventKind(str, Enum):
    """Event types of a VIDEO stream. ``*_START`` comes on the first frame of the state,
    ``*_END`` on the first frame after it (with the duration); DWELL fires once when the gaze
    has stayed on a region for the dwell time, DWELL_ENTER / DWELL_EXIT when it arrives on a
    region and leaves it (with hysteresis)."""

    FIXATION_START = "fixation_start"
    FIXATION_END = "fixation_end"
    SACCADE_START = "saccade_start"
    SACCADE_END = "saccade_end"
    BLINK_START = "blink_start"
    BLINK_END = "blink_end"
    DWELL_ENTER = "dwell_enter"
    DWELL = "dwell"
    DWELL_EXIT = "dwell_exit"


@dataclass(frozen=True)
class GazeEvent:
    """One event. ``timestamp_ms``: the frame it was detected on; ``start_ms``: when the state
    (or the stay on a region) began; ``duration_ms``: end events and DWELL, else 0.
    ``position_cm``: a fixation's mean gaze (camera cm; FIXATION_END) or the gaze at a saccade's
    start/end; ``amplitude_deg``: SACCADE_END's size; ``region``: the dwell region's name."""

    kind: EventKind
    timestamp_ms: int
    start_ms: int
    duration_ms: int = 0
    position_cm: tuple[float, float] | None = None
    amplitude_deg: float | None = None
    region: str | None = None


@dataclass(frozen=True)
class EyeEvents:
    """One frame's eye-movement state, as :class:`~gazesdk.runtime.result.GazeResult` carries it
    (``eye_events``): the state, the gaze's angular speed (deg/s; None when unknown), the speed
    threshold in force (deg/s), how long the current state has lasted (ms), the regions the gaze
    is dwelling on, and the events of this frame."""

    state: EyeState
    velocity_deg_s: float | None
    threshold_deg_s: float | None
    state_ms: int
    regions: tuple[str, ...] = ()
    events: tuple[GazeEvent, ...] = ()
