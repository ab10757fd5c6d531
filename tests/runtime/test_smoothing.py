"""Smoothing options (strict from_dict), the factory and the shared timestamp rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.errors import ConfigError, GazeSDKError
from gazesdk.runtime.kalman import KalmanSmoother
from gazesdk.runtime.one_euro import OneEuroSmoother
from gazesdk.runtime.smoothing import (
    KalmanOptions,
    OneEuroOptions,
    SmoothingOptions,
    TimestampError,
    as_point,
    check_timestamp,
    create_smoother,
    list_smoothers,
)


def test_list_and_create() -> None:
    assert list_smoothers() == ["none", "kalman", "one_euro", "event_aware"]
    assert create_smoother(SmoothingOptions(method="none")) is None
    assert isinstance(create_smoother(), OneEuroSmoother)             # the default method
    opts = SmoothingOptions.from_dict({"method": "kalman", "kalman": {"process_noise": 80}})
    kf = create_smoother(opts)
    assert isinstance(kf, KalmanSmoother) and kf.options.process_noise == 80
    a, b = create_smoother(), create_smoother()
    a(np.zeros(2), 0.0)
    assert b(np.ones(2), 0.0).tolist() == [1.0, 1.0]                  # fresh, unshared state


def test_from_dict_round_trip() -> None:
    d = {"method": "one_euro", "one_euro": {"min_cutoff_hz": 1.5, "beta": 0, "d_cutoff_hz": 2,
                                            "reset_after_ms": 300}}
    opts = SmoothingOptions.from_dict(d)
    assert opts.one_euro == OneEuroOptions(min_cutoff_hz=1.5, beta=0, d_cutoff_hz=2,
                                           reset_after_ms=300)
    assert opts.kalman == KalmanOptions()
    assert SmoothingOptions.from_dict(opts.to_dict()) == opts
    assert SmoothingOptions.from_dict({}) == SmoothingOptions()
    assert SmoothingOptions.from_dict({"kalman": {"process_noise": "2e1"}}).kalman \
        .process_noise == 20.0                                          # YAML 1.1 string


@pytest.mark.parametrize(("values", "message"), [
    ({"metod": "kalman"}, r"unknown smoothing setting\(s\) \['metod'\]"),
    ({"method": "median"}, "unknown smoothing method 'median'; known: none, kalman, one_euro"),
    ({"method": 3}, "method must be a string"),
    ({"kalman": {"q": 1}}, r"unknown kalman smoothing setting\(s\) \['q'\]"),
    ({"one_euro": {"mincutoff": 1}}, r"unknown one_euro smoothing setting"),
    ({"kalman": 3}, "kalman smoothing settings must be a mapping"),
    ({"kalman": {"process_noise": 0}}, "process_noise must be > 0, got 0"),
    ({"kalman": {"measurement_std_cm": -1}}, "measurement_std_cm must be > 0"),
    ({"kalman": {"initial_velocity_std_cm_s": 0.0}}, "initial_velocity_std_cm_s must be > 0"),
    ({"kalman": {"reset_after_ms": -5}}, "reset_after_ms must be > 0"),
    ({"one_euro": {"min_cutoff_hz": 0}}, "min_cutoff_hz must be > 0"),
    ({"one_euro": {"d_cutoff_hz": -1.0}}, "d_cutoff_hz must be > 0"),
    ({"one_euro": {"beta": -0.1}}, "beta must be >= 0"),
    ({"one_euro": {"beta": "fast"}}, "beta must be a number"),
    ({"one_euro": {"min_cutoff_hz": math.inf}}, "min_cutoff_hz must be finite"),
    ({"one_euro": {"beta": True}}, "beta must be a number"),
])
def test_from_dict_refuses_bad_settings_in_one_line(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        SmoothingOptions.from_dict(values)
    assert "\n" not in str(info.value)


def test_non_mapping_and_direct_construction() -> None:
    with pytest.raises(ConfigError, match="must be a mapping, got list"):
        SmoothingOptions.from_dict(["kalman"])
    with pytest.raises(ConfigError, match="one_euro settings must be a mapping"):
        SmoothingOptions(one_euro={"beta": 1.0})
    with pytest.raises(ConfigError, match="beta must be >= 0"):
        OneEuroOptions(beta=-1.0)


def test_timestamp_rules() -> None:
    assert issubclass(TimestampError, GazeSDKError) and issubclass(TimestampError, ValueError)
    assert check_timestamp(None, 5) == 5.0 and check_timestamp(4.0, 4.5) == 4.5
    with pytest.raises(TimestampError, match="timestamps must increase: 4 ms follows 4 ms"):
        check_timestamp(4.0, 4.0)
    with pytest.raises(TimestampError, match="must be finite"):
        check_timestamp(None, math.nan)
    p = as_point([1, 2])
    assert p.dtype == np.float64 and p.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"shape \(2,\), got \(1, 2\)"):
        as_point([[1, 2]])
