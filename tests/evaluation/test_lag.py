"""Step lag: frames_to_fraction on hand-made traces, step_lag_frames on known filters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.evaluation.lag import frames_to_fraction, step_lag_frames
from gazesdk.runtime.one_euro import OneEuroSmoother
from gazesdk.runtime.smoothing import OneEuroOptions


def x_trace(xs: list[float]) -> np.ndarray:
    return np.stack([np.asarray(xs, dtype=float), np.zeros(len(xs))], 1)


S, E = np.zeros(2), np.array([5.0, 0.0])


def test_frames_to_fraction_by_hand() -> None:
    # progress from the step (index 1): 0, .2, .6, .88, .92, 1, 1 -> first settled at 5 -> 4
    assert frames_to_fraction(x_trace([0, 0, 1, 3, 4.4, 4.6, 5, 5]), 1, S, E) == 4
    assert frames_to_fraction(x_trace([0, 5, 5]), 1, S, E) == 0                # no lag
    assert frames_to_fraction(x_trace([0, 6, 4.75]), 1, S, E) == 0             # overshoot counts
    # ringing: .95, .85, .95, 1 -> the dip at index 2 moves it to index 3
    assert frames_to_fraction(x_trace([0, 4.75, 4.25, 4.75, 5]), 0, S, E) == 3
    assert frames_to_fraction(x_trace([0, 2, math.nan, 4.8]), 0, S, E) == 3    # NaN: not there
    assert frames_to_fraction(x_trace([0, 2, 3, 4.8]), 0, S, E, fraction=0.5) == 2


def test_frames_to_fraction_projects_onto_the_step() -> None:
    start, end = np.array([1.0, 1.0]), np.array([4.0, 5.0])    # a 3-4-5 step
    along, across = np.array([3.0, 4.0]) / 5, np.array([4.0, -3.0]) / 5
    trace = np.array([start, start + 4.0 * along + 10 * across,    # 80%, far off the line
                      start + 4.6 * along - 7 * across, end])      # 92%
    assert frames_to_fraction(trace, 0, start, end) == 2


def test_frames_to_fraction_errors() -> None:
    with pytest.raises(ValueError, match="does not settle at 90% of the step"):
        frames_to_fraction(x_trace([0, 5, 5, 4]), 1, S, E)
    with pytest.raises(ValueError, match="must differ"):
        frames_to_fraction(x_trace([0, 5]), 1, S, S)
    with pytest.raises(ValueError, match="outside the trace"):
        frames_to_fraction(x_trace([0, 5]), 2, S, E)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        frames_to_fraction(np.zeros(4), 1, S, E)
    with pytest.raises(ValueError, match="fraction"):
        frames_to_fraction(x_trace([0, 5]), 1, S, E, fraction=1.5)


class Ema:
    """y_k = a x_k + (1 - a) y_{k-1}, started at the first point."""

    def __init__(self, alpha: float) -> None:
        self.alpha, self.y = alpha, None

    def __call__(self, point: np.ndarray, timestamp_ms: float) -> np.ndarray:
        p = np.asarray(point, dtype=float)
        self.y = p if self.y is None else self.alpha * p + (1 - self.alpha) * self.y
        return self.y.copy()

    def reset(self) -> None:
        self.y = None


def ema_lag(alpha: float) -> int:
    # On the step's own frame (counted 0) the output has 1 - (1 - a) of the step, on frame n
    # 1 - (1 - a)^(n + 1): it reaches 90% once (n + 1) >= log(0.1) / log(1 - a), so after
    # ceil(log(0.1) / log(1 - a)) outputs, i.e. on frame ceil(...) - 1.
    return math.ceil(math.log(0.1) / math.log(1 - alpha)) - 1


def test_step_lag_of_an_exponential_smoother() -> None:
    # alpha 0.3: log(0.1) / log(0.7) = 6.46 -> 7 outputs -> lag 6 (0.7^6 = 0.118, 0.7^7 = 0.082)
    assert ema_lag(0.3) == 6
    assert step_lag_frames(lambda: Ema(0.3)) == 6
    for alpha in (0.05, 0.12, 0.5, 0.85):
        assert step_lag_frames(lambda a=alpha: Ema(a), after_frames=80) == ema_lag(alpha)
    assert step_lag_frames(lambda: Ema(0.3), step_cm=(0.0, -3.0)) == 6        # any direction
    assert step_lag_frames(lambda: None) == 0                                 # no smoothing


def test_step_lag_of_a_one_euro_filter_without_beta_at_two_frame_rates() -> None:
    for fps in (30.0, 60.0):
        alpha = 1 / (1 + (1 / (2 * math.pi * 1.1)) * fps)
        lag = step_lag_frames(lambda: OneEuroSmoother(OneEuroOptions(min_cutoff_hz=1.1,
                                                                     beta=0.0)), fps=fps)
        assert lag == ema_lag(alpha)
    # 30 fps: alpha = 0.1873, log(0.1) / log(0.8127) = 11.1 -> 12 outputs -> lag 11
    assert ema_lag(1 / (1 + 30 / (2 * math.pi * 1.1))) == 11


def test_step_lag_raises_when_the_output_never_settles() -> None:
    with pytest.raises(ValueError, match="does not settle"):
        step_lag_frames(lambda: Ema(0.01), after_frames=20)
