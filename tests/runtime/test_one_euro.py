"""The 1 Euro filter (Casiez et al., CHI 2012) against hand-worked numbers and an EMA."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.errors import GazeSDKError
from gazesdk.evaluation.lag import step_lag_frames
from gazesdk.runtime.one_euro import OneEuroSmoother, smoothing_factor
from gazesdk.runtime.smoothing import OneEuroOptions, Smoother, TimestampError


def test_smoothing_factor_is_the_papers_alpha() -> None:
    # tau = 1 / (2 pi f): f = 5/pi Hz gives tau = 0.1 s; with T_e = 0.1 s, alpha = 1/2.
    assert smoothing_factor(5 / math.pi, 0.1) == pytest.approx(0.5)
    # f = 1 Hz at 30 fps: 1 / (1 + (1 / 2pi) / (1 / 30)) = 2pi / (2pi + 30).
    assert smoothing_factor(1.0, 1 / 30) == pytest.approx(2 * math.pi / (2 * math.pi + 30))


def test_three_frames_worked_by_hand() -> None:
    # dt = 0.1 s; min_cutoff = d_cutoff = 5/pi Hz (tau 0.1 s, alpha_d = 1/2); beta = 1/(20 pi)
    # makes f_C = (10 + |dx_hat| / 10) / (2 pi), so alpha = (10 + |dx_hat|/10) / (20 + |dx_hat|/10).
    # x: 0, 2, 2.  Frame 0 passes through.  Frame 1: dX = 20, dx_hat = 10, alpha = 11/21,
    #    x_hat = 22/21.  Frame 2: dX = (2 - 22/21) / 0.1 = 200/21, dx_hat = 100/21 + 5 = 205/21,
    #    alpha = (10 + 41/42) / (20 + 41/42) = 461/881, x_hat = 922/881 + (420/881)(22/21)
    #    = 1362/881.
    # y: 0, -1, -1.  Frame 1: dY = -10, dy_hat = -5, alpha = 10.5/20.5 = 21/41, y_hat = -21/41.
    #    Frame 2: dY = (-1 + 21/41) / 0.1 = -200/41, dy_hat = -100/41 - 5/2 = -405/82,
    #    alpha = (10 + 81/164) / (20 + 81/164) = 1721/3361,
    #    y_hat = -1721/3361 - (1640/3361)(21/41) = -2561/3361.
    f = OneEuroSmoother(OneEuroOptions(min_cutoff_hz=5 / math.pi, beta=1 / (20 * math.pi),
                                       d_cutoff_hz=5 / math.pi))
    out = [f(np.array(p), t) for p, t in (((0.0, 0.0), 0.0), ((2.0, -1.0), 100.0),
                                          ((2.0, -1.0), 200.0))]
    assert out[0].tolist() == [0.0, 0.0]
    assert out[1] == pytest.approx([22 / 21, -21 / 41], rel=1e-12)
    assert out[2] == pytest.approx([1362 / 881, -2561 / 3361], rel=1e-12)
    assert out[2].dtype == np.float64 and out[2].shape == (2,)


def test_beta_zero_is_an_exponential_smoother_with_the_papers_alpha() -> None:
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(50, 2)) * 3
    f = OneEuroSmoother(OneEuroOptions(min_cutoff_hz=1.3, beta=0.0))
    alpha = 1 / (1 + (1 / (2 * math.pi * 1.3)) / (1 / 30))
    expected = pts[0].copy()
    for k, p in enumerate(pts):
        if k:
            expected = alpha * p + (1 - alpha) * expected
        assert f(p, k * 1000 / 30) == pytest.approx(expected, rel=1e-12)


def test_alpha_follows_the_actual_frame_interval() -> None:
    f = OneEuroSmoother(OneEuroOptions(min_cutoff_hz=2.0, beta=0.0))
    f(np.zeros(2), 1000.0)
    out = f(np.ones(2), 1080.0)                      # an 80 ms frame, not 33 ms
    assert out == pytest.approx(np.full(2, 1 / (1 + (1 / (4 * math.pi)) / 0.08)))


def test_smooths_a_stare_and_keeps_up_with_a_saccade_at_defaults() -> None:
    rng = np.random.default_rng(0)
    raw = rng.normal(0.0, 1.0, (1500, 2))
    f = OneEuroSmoother()
    out = np.array([f(p, k * 1000 / 30) for k, p in enumerate(raw)])
    ratio = out[30:].std(axis=0) / raw[30:].std(axis=0)
    assert np.all(ratio < 0.5)
    assert step_lag_frames(OneEuroSmoother) <= 6                   # 5 cm at 30 fps
    assert step_lag_frames(OneEuroSmoother, step_cm=(0.0, -2.0)) <= 6


@pytest.mark.parametrize("second", [0.0, -5.0, math.nan, math.inf])
def test_timestamps_must_increase(second: float) -> None:
    f = OneEuroSmoother()
    f(np.zeros(2), 0.0)
    with pytest.raises(TimestampError, match="timestamp") as info:
        f(np.ones(2), second)
    assert isinstance(info.value, GazeSDKError) and isinstance(info.value, ValueError)
    assert f(np.ones(2), 10.0)[0] > 0                # the bad frame changed nothing


def test_gap_restarts_the_filter() -> None:
    f = OneEuroSmoother(OneEuroOptions(reset_after_ms=500.0))
    f(np.zeros(2), 0.0)
    assert f(np.array([4.0, 4.0]), 500.0)[0] < 4.0   # exactly the limit: still filtering
    assert f(np.array([9.0, -9.0]), 1000.5).tolist() == [9.0, -9.0]
    assert f(np.array([9.0, -9.0]), 1033.0).tolist() == [9.0, -9.0]   # speed restarted at 0


def test_nan_points_hold_the_output_and_are_skipped() -> None:
    f, g = OneEuroSmoother(), OneEuroSmoother()
    assert np.isnan(f(np.array([math.nan, 1.0]), 0.0)).all()       # never started
    pts = [np.array([1.0, 2.0]), np.array([3.0, 1.0]), np.array([4.0, 0.0])]
    a0 = f(pts[0], 40.0)
    a1 = f(pts[1], 80.0)
    assert f(np.array([math.inf, 0.0]), 120.0).tolist() == a1.tolist()
    a3 = f(pts[2], 160.0)
    # The same as a filter that never saw the bad frame: T_e spans it.
    b = [g(p, t) for p, t in zip(pts, (40.0, 80.0, 160.0), strict=True)]
    assert a0.tolist() == b[0].tolist() and a3 == pytest.approx(b[2], rel=1e-12)


def test_nan_run_longer_than_the_gap_gives_nan_then_restarts() -> None:
    f = OneEuroSmoother(OneEuroOptions(reset_after_ms=100.0))
    f(np.ones(2), 0.0)
    assert f(np.full(2, math.nan), 50.0).tolist() == [1.0, 1.0]
    assert np.isnan(f(np.full(2, math.nan), 150.0)).all()
    assert f(np.array([3.0, 3.0]), 200.0).tolist() == [3.0, 3.0]


def test_reset_and_protocol() -> None:
    f = OneEuroSmoother()
    assert isinstance(f, Smoother)
    f(np.zeros(2), 0.0)
    f.reset()
    assert f(np.array([2.0, 3.0]), 0.0).tolist() == [2.0, 3.0]     # time may restart too
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        f(np.zeros(3), 10.0)
