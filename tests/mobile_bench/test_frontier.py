"""The jitter-lag frontier's pieces (gazesdk.mobile_bench.frontier): fixation runs, the mean
progress crossing, Pareto fronts and interpolation worked by hand, the sweep's options."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.mobile_bench.frontier import (
    crossing,
    fixation_runs,
    interpolate,
    options_for,
    pareto,
    saccade_cases,
    score,
    sweep,
)


def test_fixation_runs() -> None:
    labels = np.array([0] * 9 + [1] + [0] * 5 + [1] + [0] * 8)
    valid = np.ones(len(labels), bool)
    ids = fixation_runs(labels, valid)
    assert (ids[:9] == 0).all() and (ids[10:15] == -1).all() and (ids[16:] == 1).all()
    valid[3] = False                          # splits the first run into 3 + 5: both short
    assert (fixation_runs(labels, valid)[:9] == -1).all()


def test_crossing_by_hand() -> None:
    assert crossing(np.array([0.0, 0.5, 1.0, 1.0])) == pytest.approx(1 + 0.4 / 0.5)
    assert crossing(np.array([0.95, 1.0])) == 0.0
    assert crossing(np.array([0.0, 0.95, 0.8, 1.0])) == pytest.approx(2 + 0.1 / 0.2)
    assert math.isnan(crossing(np.array([0.0, 0.5])))


def test_pareto_and_interpolate() -> None:
    rows = [{"filter": "f", "msd_cm": m, "lag_frames": lag}
            for m, lag in ((0.3, 0.0), (0.2, 1.0), (0.25, 2.0), (0.1, 3.0))]
    front = pareto(rows, "f")
    assert [(r["msd_cm"], r["lag_frames"]) for r in front] == [(0.3, 0.0), (0.2, 1.0),
                                                               (0.1, 3.0)]
    assert interpolate(front, at_lag=2.0) == pytest.approx(0.15)
    assert interpolate(front, at_msd=0.25) == pytest.approx(0.5)
    assert interpolate(front, at_lag=-1.0) is None and interpolate(front, at_msd=0.05) is None


def test_score_on_a_synthetic_stream() -> None:
    rng = np.random.default_rng(0)
    n = 300
    labels = np.zeros(n, np.int8)
    raw = rng.normal(0, 0.2, (n, 2))
    for k in range(30, n, 30):                # a 4 cm saccade every second
        labels[k] = 1
        raw[k:] += [4.0 if (k // 30) % 2 else -4.0, 0.0]
    d = {"t": np.arange(n) * 33, "raw": raw, "labels": labels}
    cases = [saccade_cases(d)]
    assert len(cases[0]) == 9
    r_raw = score(options_for("raw", {}), [d], cases)
    r_oe = score(options_for("one_euro", {"min_cutoff_hz": 0.8, "beta": 0.07}), [d], cases)
    # raw: there on the saccade's own frame; MSD about 0.2 * sqrt(2)
    assert r_raw["lag_frames"] == 0.0 and r_raw["step_lag_frames"] == 0
    assert abs(r_raw["msd_cm"] - 0.2 * math.sqrt(2)) < 0.03
    r_ea = score(options_for("event_aware", {}), [d], cases)
    # 1 Euro lags into each fixation; the event-aware filter restarts at the onset and
    # averages the fixation
    assert r_oe["lag_frames"] > 1.0
    assert r_ea["lag_frames"] < 0.5 and r_ea["msd_cm"] < 0.7 * r_raw["msd_cm"]


def test_sweep_builds_valid_options() -> None:
    rows = sweep()
    assert {n for n, _ in rows} == {"raw", "kalman", "one_euro", "event_aware"}
    for name, params in rows:
        o = options_for(name, params)
        assert o.method == ("none" if name == "raw" else name)
