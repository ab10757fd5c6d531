"""I-VT (gazesdk.events.ivt): the fixed threshold worked by hand, the Engbert-Kliegl noise
estimate against numpy, the adaptive ellipse, gaps, misuse."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.events import EyeState, IVTClassifier, IVTOptions
from gazesdk.events.ivt import angular_position
from gazesdk.events.noise import NoiseEstimator

EYE = np.array([0.0, 0.0, 30.0])


def deg_to_cm(deg: float) -> float:
    return 30.0 * math.tan(math.radians(deg))


def test_fixed_threshold_by_hand() -> None:
    c = IVTClassifier(IVTOptions(noise_factor=0.0))
    assert c.update(0, np.zeros(2), EYE).state is EyeState.UNKNOWN      # no velocity yet
    # 0.9 deg in 33 ms = 27.3 deg/s < 30: fixation; 1.1 deg = 33.3 deg/s: saccade
    r = c.update(33, np.array([deg_to_cm(0.9), 0.0]), EYE)
    assert r.state is EyeState.FIXATION and math.isclose(r.velocity_deg_s, 0.9 / 0.033,
                                                         rel_tol=1e-9)
    r = c.update(66, np.array([deg_to_cm(2.0), 0.0]), EYE)
    assert r.state is EyeState.SACCADE and r.threshold_deg_s == 30.0


def test_noise_estimator_is_the_median_estimator() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(0.5, 2.0, (50, 2))
    est = NoiseEstimator(window_ms=1e9, min_samples=10)
    for i, (a, b) in enumerate(v):
        est.add(float(i), float(a), float(b))
    ref = np.sqrt(np.median(v**2, 0) - np.median(v, 0) ** 2)
    np.testing.assert_allclose(est.sigma(), ref, rtol=1e-12)
    short = NoiseEstimator(window_ms=10.0, min_samples=3)
    for i in range(20):
        short.add(float(i), float(i), 0.0)
    assert len(short._samples) == 11          # samples within 10 ms of the newest


def test_adaptive_threshold_is_the_noise_ellipse() -> None:
    rng = np.random.default_rng(1)
    o = IVTOptions(threshold_deg_s=1.0, noise_factor=5.0, min_noise_samples=20)
    c = IVTClassifier(o)
    p = np.zeros(2)
    for k in range(60):                       # fixation noise, 0.2 cm per axis
        c.update(33 * k, p + rng.normal(0, 0.2, 2), EYE)
    sx, sy = c.noise.sigma()
    v = np.array([3.0, 4.0])                  # direction (0.6, 0.8)
    radius = 1 / math.sqrt((0.6 / (5 * sx)) ** 2 + (0.8 / (5 * sy)) ** 2)
    assert math.isclose(c.threshold_along(v), max(1.0, radius), rel_tol=1e-12)
    # a 3 deg jump clears 5 sigma of 0.2 cm noise (~0.4 deg/frame, ~12 deg/s)
    r = c.update(33 * 60, np.array([deg_to_cm(3.0), 0.0]), EYE)
    assert r.state is EyeState.SACCADE and r.threshold_deg_s > 1.0


def test_a_gap_leaves_the_velocity_unknown() -> None:
    c = IVTClassifier(IVTOptions(max_gap_ms=100.0))
    c.update(0, np.zeros(2), EYE)
    assert c.update(150, np.array([5.0, 0.0]), EYE).state is EyeState.UNKNOWN
    assert c.update(183, np.array([5.0, 0.0]), EYE).state is EyeState.FIXATION
    assert c.update(216, None, EYE).state is EyeState.UNKNOWN
    assert c.update(249, np.array([np.nan, 0.0]), EYE).state is EyeState.UNKNOWN


def test_angular_position_axes() -> None:
    az, el = angular_position(np.array([30.0, 0.0]), EYE)
    assert math.isclose(az, 45.0) and el == 0.0
    az, el = angular_position(np.array([0.0, -30.0]), EYE)
    assert az == 0.0 and math.isclose(el, -45.0)


@pytest.mark.parametrize("bad", [{"threshold_deg_s": 0}, {"noise_factor": -1},
                                 {"min_noise_samples": 1}, {"max_gap_ms": 0},
                                 {"threshold_deg_s": "fast"}, {"speed": 3}])
def test_bad_options(bad: dict) -> None:
    with pytest.raises(ConfigError):
        IVTOptions.from_dict(bad)
