"""The constant-velocity Kalman smoother against the textbook equations done in numpy."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.evaluation.lag import step_lag_frames
from gazesdk.runtime.kalman import KalmanSmoother, process_noise, transition
from gazesdk.runtime.smoothing import KalmanOptions, Smoother, TimestampError

H = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]])


def by_hand_f(dt: float) -> np.ndarray:
    return np.array([[1, 0, dt, 0], [0, 1, 0, dt], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)


def by_hand_q(dt: float, q: float) -> np.ndarray:
    a, b, c = dt**3 / 3, dt**2 / 2, dt
    return q * np.array([[a, 0, b, 0], [0, a, 0, b], [b, 0, c, 0], [0, b, 0, c]])


def kf_step(x, p, z, dt, q, r):
    """One textbook predict + update: x = F x, P = F P F' + Q; K = P H' (H P H' + R)^-1."""
    f = by_hand_f(dt)
    x, p = f @ x, f @ p @ f.T + by_hand_q(dt, q)
    k = p @ H.T @ np.linalg.inv(H @ p @ H.T + r**2 * np.eye(2))
    return x + k @ (z - H @ x), (np.eye(4) - k @ H) @ p


def test_matrices_by_hand() -> None:
    assert transition(0.04).tolist() == by_hand_f(0.04).tolist()
    assert process_noise(0.04, 7.0) == pytest.approx(by_hand_q(0.04, 7.0), rel=1e-15)
    # the continuous model composes: one long interval = two short ones back to back
    f2 = by_hand_f(0.02)
    assert f2 @ process_noise(0.03, 7.0) @ f2.T + process_noise(0.02, 7.0) \
        == pytest.approx(process_noise(0.05, 7.0), rel=1e-12)


def test_predict_update_match_the_textbook_equations() -> None:
    kf = KalmanSmoother(KalmanOptions(measurement_std_cm=0.8, process_noise=50.0,
                                      initial_velocity_std_cm_s=20.0))
    z0, z1, z2 = np.array([1.0, -2.0]), np.array([1.5, -1.0]), np.array([2.5, -1.25])
    assert kf(z0, 1000.0).tolist() == z0.tolist()
    x = np.array([1.0, -2.0, 0.0, 0.0])
    p = np.diag([0.8**2, 0.8**2, 400.0, 400.0])
    assert kf.state.tolist() == x.tolist() and kf.covariance.tolist() == p.tolist()
    for z, t, dt in ((z1, 1040.0, 0.04), (z2, 1065.0, 0.025)):     # F and Q follow each dt
        out = kf(z, t)
        x, p = kf_step(x, p, z, dt, 50.0, 0.8)
        assert kf.state == pytest.approx(x, rel=1e-10)
        assert kf.covariance == pytest.approx(p, rel=1e-9, abs=1e-12)
        assert out == pytest.approx(x[:2], rel=1e-10)


def test_constant_velocity_ramp_has_no_steady_state_error() -> None:
    kf = KalmanSmoother()
    v = np.array([6.0, -3.0])                       # cm/s
    for k in range(300):
        t = k / 30
        out = kf(np.array([1.0, 2.0]) + v * t, t * 1000)
    assert out == pytest.approx(np.array([1.0, 2.0]) + v * t, abs=1e-6)
    assert kf.state[2:] == pytest.approx(v, abs=1e-4)


def test_smooths_a_stare_and_keeps_up_with_a_saccade_at_defaults() -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(0.0, 1.0, (1500, 2)) + np.array([3.0, -4.0])
    kf = KalmanSmoother()
    out = np.array([kf(p, k * 1000 / 30) for k, p in enumerate(raw)])
    ratio = out[30:].std(axis=0) / raw[30:].std(axis=0)
    assert np.all(ratio < 0.5)                       # steady state: 0.40
    assert step_lag_frames(KalmanSmoother) <= 6


@pytest.mark.parametrize("second", [1000.0, 999.0, math.nan])
def test_timestamps_must_increase(second: float) -> None:
    kf = KalmanSmoother()
    kf(np.zeros(2), 1000.0)
    with pytest.raises(TimestampError, match="timestamp"):
        kf(np.ones(2), second)


def test_gap_restarts_at_the_measurement() -> None:
    kf = KalmanSmoother(KalmanOptions(reset_after_ms=200.0))
    for k in range(5):
        kf(np.array([k * 1.0, 0.0]), k * 33.0)
    assert kf(np.array([7.0, 7.0]), 132.0 + 200.5).tolist() == [7.0, 7.0]
    assert kf.state.tolist() == [7.0, 7.0, 0.0, 0.0]
    assert kf.covariance.tolist() == np.diag([1.0, 1.0, 100.0, 100.0]).tolist()


def test_nan_predicts_only_and_equals_skipping_the_frame() -> None:
    kf, ref = KalmanSmoother(), KalmanSmoother()
    assert np.isnan(kf(np.array([math.nan, math.nan]), 0.0)).all()  # never started
    pts = [np.array([0.0, 0.0]), np.array([0.5, 0.2]), np.array([1.0, 0.3]),
           np.array([1.6, 0.5])]
    for p, t in zip(pts[:3], (33.0, 66.0, 99.0), strict=True):
        kf(p, t)
        ref(p, t)
    x = kf.state
    out = kf(np.array([math.nan, 0.0]), 132.0)
    assert out == pytest.approx(x[:2] + 0.033 * x[2:], rel=1e-12)    # the prediction F x
    assert kf.state[2:] == pytest.approx(x[2:], rel=1e-12)
    # Predicting 33 ms twice equals predicting 66 ms once (continuous Q), so the next
    # update matches a filter that never saw the bad frame.
    assert kf(pts[3], 165.0) == pytest.approx(ref(pts[3], 165.0), rel=1e-9)
    assert kf.covariance == pytest.approx(ref.covariance, rel=1e-9)


def test_nan_run_longer_than_the_gap_gives_nan_then_restarts() -> None:
    kf = KalmanSmoother(KalmanOptions(reset_after_ms=100.0))
    kf(np.ones(2), 0.0)
    assert np.isfinite(kf(np.full(2, math.nan), 50.0)).all()
    assert np.isnan(kf(np.full(2, math.nan), 150.0)).all()
    assert kf(np.array([3.0, 3.0]), 200.0).tolist() == [3.0, 3.0]


def test_reset_and_protocol() -> None:
    kf = KalmanSmoother()
    assert isinstance(kf, Smoother)
    kf(np.zeros(2), 0.0)
    kf(np.ones(2), 33.0)
    kf.reset()
    assert kf(np.array([2.0, 3.0]), 0.0).tolist() == [2.0, 3.0]


def test_missing_filterpy_is_a_one_line_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "filterpy", None)
    monkeypatch.setitem(sys.modules, "filterpy.kalman", None)
    with pytest.raises(ConfigError, match="pip install filterpy") as info:
        KalmanSmoother()
    assert "\n" not in str(info.value)
