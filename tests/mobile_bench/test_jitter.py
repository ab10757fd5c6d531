"""Offline smoothing, MSD per filter and lag, against direct computations."""

from __future__ import annotations

import numpy as np

from gazesdk.evaluation.lag import step_lag_frames
from gazesdk.evaluation.metrics import msd_cm
from gazesdk.mobile_bench.jitter import lag_by_filter, msd_by_filter, smooth
from gazesdk.runtime.smoothing import SmoothingOptions, create_smoother


def test_smooth_restarts_the_filter_for_each_sequence():
    rng = np.random.default_rng(0)
    raw = rng.normal(0, 1, (20, 2))
    seq = np.repeat([0, 1], 10)
    ts = np.tile(np.arange(10) * 33.0, 2)
    opts = SmoothingOptions(method="one_euro")
    out = smooth(raw, seq, ts, opts)
    for s in (0, 1):
        f = create_smoother(opts)
        want = np.array([f(raw[i], ts[i]) for i in np.flatnonzero(seq == s)])
        assert np.allclose(out[seq == s], want)


def test_msd_by_filter_uses_the_papers_msd_and_skips_invalid_frames():
    rng = np.random.default_rng(1)
    raw = rng.normal(0, 1, (60, 2))
    raw[5] = np.nan
    seq = np.repeat([0, 1], 30)
    ts = np.tile(np.arange(30) * 33.0, 2)
    m = msd_by_filter(raw, seq, ts, SmoothingOptions())
    ok = np.isfinite(raw).all(1)
    assert m["raw"] == round(msd_cm(raw[ok], seq[ok]), 4)
    assert m["kalman"] < 0.8 * m["raw"] and m["one_euro"] < 0.8 * m["raw"]
    still = msd_by_filter(np.ones((30, 2)), np.zeros(30, int), np.arange(30) * 33.0,
                          SmoothingOptions())
    assert still == {"raw": 0.0, "kalman": 0.0, "one_euro": 0.0}


def test_lag_by_filter_is_the_step_lag_of_each_filter():
    opts = SmoothingOptions()
    lag = lag_by_filter(opts)
    assert lag["kalman"] == step_lag_frames(
        lambda: create_smoother(SmoothingOptions(method="kalman")), step_cm=(5.0, 0.0))
    assert lag["one_euro"] == step_lag_frames(
        lambda: create_smoother(SmoothingOptions(method="one_euro")), step_cm=(5.0, 0.0))
    assert all(1 <= v <= 10 for v in lag.values())
