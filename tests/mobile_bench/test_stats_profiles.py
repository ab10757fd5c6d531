"""Latency summaries and profiles, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.mobile_bench.profiles import PROFILES, get_profile
from gazesdk.mobile_bench.stats import ratio, summarize


def test_percentiles_by_hand():
    ms = np.arange(1, 101, dtype=float)               # 1..100 ms
    s = summarize(ms[::-1])
    # numpy's default (linear) percentile of 1..100: p50 = 50.5, p95 = 95.05, p99 = 99.01
    assert (s["p50_ms"], s["p95_ms"], s["p99_ms"]) == (50.5, 95.05, 99.01)
    assert s["mean_ms"] == 50.5 and s["n"] == 100 and s["fps"] == round(1000 / 50.5, 1)


def test_empty_and_ratio():
    assert math.isnan(summarize(np.zeros(0))["p50_ms"])
    assert ratio(3.0, 4.0) == 0.75 and math.isnan(ratio(1.0, 0.0))


def test_profiles(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert PROFILES["default"].thread_counts() == [1, 2]       # "all" = 2: not twice
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert PROFILES["default"].thread_counts() == [1, 2, 8]
    phone = get_profile("phone")
    assert phone.precisions == ("int8",) and phone.thread_counts() == [1]
    with pytest.raises(ConfigError, match="unknown profile"):
        get_profile("tablet")
