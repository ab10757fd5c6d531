"""Dwell (gazesdk.events.dwell): enter, fire once, hysteresis at the border, grace times,
missing frames, misuse."""

from __future__ import annotations

import pytest

from gazesdk.errors import ConfigError
from gazesdk.events import DwellOptions, DwellRegion, DwellTracker, EventKind

BUTTON = DwellRegion("ok", 100.0, 200.0, 80.0, 40.0)


def run(tracker: DwellTracker, points: list, step: int = 50) -> list:
    out = []
    for k, p in enumerate(points):
        out += [(k * step, e) for e in tracker.update(k * step, p)]
    return out


def test_enter_dwell_exit() -> None:
    tr = DwellTracker(DwellOptions(regions=(BUTTON,), dwell_ms=600, exit_margin_pt=20,
                                   exit_grace_ms=150))
    inside, outside = (140.0, 220.0), (400.0, 400.0)
    ev = run(tr, [outside] + [inside] * 14 + [outside] * 5)
    kinds = [(t, e.kind) for t, e in ev]
    # enters at 50 ms; dwell fires once at 650 ms (600 ms in); leaves at 750 and exits after
    # 150 ms outside, at 900 ms, with the stay 50..750 = 700 ms
    assert kinds == [(50, EventKind.DWELL_ENTER), (650, EventKind.DWELL),
                     (900, EventKind.DWELL_EXIT)]
    assert ev[1][1].duration_ms == 600 and ev[2][1].duration_ms == 700
    assert tr.inside == ()


def test_hysteresis_keeps_a_gaze_jittering_across_the_edge() -> None:
    tr = DwellTracker(DwellOptions(regions=(BUTTON,), dwell_ms=300, exit_margin_pt=20))
    edge_in, edge_out = (179.0, 220.0), (195.0, 220.0)     # 15 pt outside: within the margin
    ev = run(tr, [edge_in, edge_out] * 6)
    assert [e.kind for _, e in ev] == [EventKind.DWELL_ENTER, EventKind.DWELL]
    assert tr.inside == ("ok",)
    # the same jitter does not enter a region it has not entered (enter margin 0)
    tr2 = DwellTracker(DwellOptions(regions=(BUTTON,)))
    assert run(tr2, [edge_out] * 5) == []


def test_a_blink_does_not_end_a_dwell_but_a_lost_face_does() -> None:
    tr = DwellTracker(DwellOptions(regions=(BUTTON,), dwell_ms=1000, missing_grace_ms=500))
    inside = (140.0, 220.0)
    ev = run(tr, [inside] * 4 + [None] * 6 + [inside] * 14)   # 300 ms without a gaze
    assert [e.kind for _, e in ev] == [EventKind.DWELL_ENTER, EventKind.DWELL]
    tr.reset()
    ev = run(tr, [inside] * 4 + [None] * 12)                  # 600 ms: gone
    assert [e.kind for _, e in ev] == [EventKind.DWELL_ENTER, EventKind.DWELL_EXIT]


@pytest.mark.parametrize("bad", [
    {"regions": ({"name": "a", "x_pt": 0, "y_pt": 0, "width_pt": 0, "height_pt": 5},)},
    {"regions": ({"name": "a", "x_pt": 0, "y_pt": 0, "width_pt": 5},)},
    {"regions": (BUTTON, BUTTON)},
    {"regions": "ok"},
    {"dwell_ms": -1},
    {"exit_margin_pt": 0, "enter_margin_pt": 5},
    {"dwel_ms": 600},
])
def test_bad_options(bad: dict) -> None:
    with pytest.raises(ConfigError):
        DwellOptions.from_dict(bad)


def test_regions_from_mappings() -> None:
    o = DwellOptions.from_dict({"regions": [{"name": "b", "x_pt": 1, "y_pt": 2, "width_pt": 3,
                                             "height_pt": 4}]})
    assert o.regions == (DwellRegion("b", 1, 2, 3, 4),)
    assert o.regions[0].contains(4, 6) and not o.regions[0].contains(4.1, 6)
