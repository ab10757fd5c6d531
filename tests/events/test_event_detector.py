"""The event detector (gazesdk.events.detector): events of a scripted stream worked by hand,
blink override, minimum fixation, amplitude, options from mappings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.events import EventDetector, EventKind, EventOptions, EyeState, IVTOptions

CM_PER_DEG = 30.0 * math.tan(math.radians(1.0))


def stream(det: EventDetector, gaze: list, blinks: set[int] = frozenset()) -> list:
    out = []
    for k, g in enumerate(gaze):
        r = det.update(33 * k, g, head_translation_cm=(0.0, 0.0, 30.0), blink=k in blinks)
        out.append(r)
    return out


def test_fixation_saccade_fixation_events() -> None:
    det = EventDetector(EventOptions(ivt=IVTOptions(noise_factor=0.0), min_fixation_ms=60))
    a, b = (0.0, 0.0), (10 * CM_PER_DEG, 0.0)
    res = stream(det, [a] * 6 + [b] * 6)
    states = [r.state for r in res]
    assert states == [EyeState.UNKNOWN] + [EyeState.FIXATION] * 5 + [EyeState.SACCADE] + \
        [EyeState.FIXATION] * 5
    ev = [(k, e) for k, r in enumerate(res) for e in r.events]
    kinds = [(k, e.kind) for k, e in ev]
    # fixation starts at frame 1 (t 33), reported once 60 ms old (frame 3, t 99); the saccade
    # is frame 6; the next fixation is reported at frame 9
    assert kinds == [(3, EventKind.FIXATION_START), (6, EventKind.FIXATION_END),
                     (6, EventKind.SACCADE_START), (7, EventKind.SACCADE_END),
                     (9, EventKind.FIXATION_START)]
    end = dict(kinds_e for kinds_e in [(e.kind, e) for _, e in ev])
    assert end[EventKind.FIXATION_END].duration_ms == 198 - 33
    assert end[EventKind.FIXATION_END].position_cm == a
    # seen from 30 cm straight ahead: atan(10 tan(1 deg)), a little under 10 deg
    assert math.isclose(end[EventKind.SACCADE_END].amplitude_deg,
                        math.degrees(math.atan(10 * math.tan(math.radians(1.0)))), rel_tol=1e-9)
    assert end[EventKind.SACCADE_END].duration_ms == 33


def test_blink_overrides_and_short_fixations_are_not_reported() -> None:
    det = EventDetector(EventOptions(min_fixation_ms=100))
    res = stream(det, [(0.0, 0.0)] * 3 + [None] * 4 + [(0.0, 0.0)] * 6, blinks={3, 4, 5, 6})
    kinds = [e.kind for r in res for e in r.events]
    # 2 fixation frames (33-66 ms) are under 100 ms: no FIXATION events before the blink
    assert kinds[:2] == [EventKind.BLINK_START, EventKind.BLINK_END]
    assert res[3].state is EyeState.BLINK
    blink_end = [e for r in res for e in r.events if e.kind is EventKind.BLINK_END][0]
    assert blink_end.start_ms == 99 and blink_end.duration_ms == 132


def test_options_from_mapping_and_misuse() -> None:
    o = EventOptions.from_dict({"classifier": "idt", "idt": {"dispersion_deg": 1.5},
                                "dwell": {"dwell_ms": 800}})
    assert o.idt.dispersion_deg == 1.5 and o.dwell.dwell_ms == 800
    for bad in ({"classifier": "hmm"}, {"ivt": {"lambda": 6}}, {"distance_cm": 2},
                {"min_fixation_ms": -1}, {"colour": 1}):
        with pytest.raises(ConfigError):
            EventOptions.from_dict(bad)


def test_no_face_frames_are_unknown_and_keep_nothing() -> None:
    det = EventDetector()
    res = stream(det, [None, (float("nan"), 0.0), None])
    assert all(r.state is EyeState.UNKNOWN and not r.events for r in res)
    np.testing.assert_equal(det._count, 0)
