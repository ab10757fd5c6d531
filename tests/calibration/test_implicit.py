"""Implicit calibration from taps: pairing, recency, bounds."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.calibration.implicit import ImplicitCalibrator, ImplicitOptions
from gazesdk.errors import ConfigError


def test_tap_pairs_with_the_median_gaze_just_before() -> None:
    c = ImplicitCalibrator(ImplicitOptions(lookback_ms=250, offset_prior=0.0))
    for ts, g in [(0, (9.0, 9.0)), (800, (1.0, -5.0)), (900, (1.2, -5.0)), (950, (1.1, -5.2)),
                  (1200, (7.0, 7.0))]:
        c.observe(g, ts)
    assert c.add_tap((0.0, -6.0), 1000)
    # the frames 750..1000: median (1.1, -5.0); one tap, no prior: the offset is the residual
    np.testing.assert_allclose(c.apply((1.1, -5.0)), (0.0, -6.0), atol=1e-9)
    assert not c.add_tap((0.0, 0.0), 5000)          # nothing seen in the 250 ms before


def test_recency_weighting_follows_a_changed_bias() -> None:
    c = ImplicitCalibrator(ImplicitOptions(half_life=3.0, offset_prior=0.1, affine_after=99))
    rng = np.random.default_rng(0)
    residuals = []
    for i in range(30):
        t = rng.uniform(-3, 3, 2) + [0, -7]
        bias = np.array([2.0, 0.0]) if i < 20 else np.array([-1.0, 0.5])
        c.add_pair(t + bias, t)
        residuals.append(-bias)
    # by hand: weights 0.5^(age / 3), the offset is sum w r / (sum w + prior)
    w = 0.5 ** (np.arange(30)[::-1] / 3.0)
    expected = (w[:, None] * np.asarray(residuals)).sum(0) / (w.sum() + 0.1)
    np.testing.assert_allclose(c.map.coefficients[0], expected, atol=1e-9)
    assert np.linalg.norm(expected - [1.0, -0.5]) < 0.4     # the recent bias dominates
    assert c.samples == 30


def test_correction_is_bounded() -> None:
    o = ImplicitOptions(max_offset_cm=1.5, max_gain=0.2, offset_prior=0.0, slope_lambda=0.0)
    c = ImplicitCalibrator(o)
    rng = np.random.default_rng(1)
    for _ in range(20):
        t = rng.uniform(-3, 3, 2) + [0, -7]
        c.add_pair(3.0 * t + 10.0, t)               # wild taps: the user looked elsewhere
    coef = c.map.coefficients
    assert np.linalg.norm(coef[0]) == pytest.approx(1.5)
    gains = np.linalg.svd(coef[1:3] / c.map.scale_cm, compute_uv=False)
    assert gains.max() <= 0.2 + 1e-9


def test_bad_options_and_taps() -> None:
    with pytest.raises(ConfigError):
        ImplicitOptions(lookback_ms=0)
    c = ImplicitCalibrator()
    c.observe((0.0, 0.0), 0)
    with pytest.raises(ConfigError, match="finite"):
        c.add_tap((np.nan, 0.0), 10)
