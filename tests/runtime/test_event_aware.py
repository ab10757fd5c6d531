"""Event-aware smoothing (gazesdk.runtime.event_aware): the running mean worked by hand, no lag
across a step, a wild frame undone, a small shift caught, the protocol's rules, misuse."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.evaluation.lag import step_lag_frames
from gazesdk.runtime.event_aware import EventAwareSmoother
from gazesdk.runtime.smoothing import (
    EventAwareOptions,
    SmoothingOptions,
    TimestampError,
    create_smoother,
)


def feed(f: EventAwareSmoother, points: np.ndarray, step_ms: int = 33) -> np.ndarray:
    return np.array([f(p, k * step_ms) for k, p in enumerate(points)])


def test_inside_a_fixation_the_output_is_the_running_mean() -> None:
    rng = np.random.default_rng(0)
    pts = rng.normal(0, 0.1, (20, 2))
    f = EventAwareSmoother(EventAwareOptions(window_ms=1e6, shift_factor=0.0))
    out = feed(f, pts)
    ref = np.cumsum(pts, 0) / np.arange(1, 21)[:, None]
    np.testing.assert_allclose(out, ref, atol=1e-12)


def test_after_the_window_it_is_an_exponential_smoother() -> None:
    pts = np.zeros((40, 2))
    pts[30:] = 0.01                       # too small to be a saccade or a shift
    f = EventAwareSmoother(EventAwareOptions(window_ms=100.0, shift_factor=0.0))
    out = feed(f, pts)
    a = 1 - np.exp(-33 / 100.0)           # max(1/n, a) = a once n > 1/a (~3.5 frames)
    y = 0.0
    for _ in range(30, 40):
        y += a * (0.01 - y)
    assert np.isclose(out[-1, 0], y, rtol=1e-9)


def test_no_lag_on_a_step_and_none_on_a_noisy_saccade() -> None:
    assert step_lag_frames(lambda: create_smoother(SmoothingOptions(method="event_aware"))) == 0
    rng = np.random.default_rng(1)
    pts = rng.normal(0, 0.2, (80, 2))
    pts[40:] += [5.0, 0.0]
    out = feed(EventAwareSmoother(), pts)
    assert abs(out[40, 0] - pts[40, 0]) < 1e-12          # the onset frame passes through
    # inside each fixation the output is far steadier than the input
    assert out[50:80].std(0).max() < 0.5 * pts[50:80].std(0).min()


def test_a_wild_frame_is_undone() -> None:
    pts = np.zeros((30, 2))
    rng = np.random.default_rng(2)
    pts += rng.normal(0, 0.1, pts.shape)
    pts[20] += [6.0, 0.0]                 # one frame far off, then back
    f = EventAwareSmoother()
    out = feed(f, pts)
    assert abs(out[21, 0]) < 0.2          # back on the fixation's mean, not restarted
    assert f._n > 15


def test_a_small_shift_is_caught_in_two_frames() -> None:
    rng = np.random.default_rng(3)
    pts = rng.normal(0, 0.05, (60, 2))
    pts[40:] += [0.6, 0.0]                # under the speed threshold at 30 fps, 12 sigma
    out = feed(EventAwareSmoother(), pts)
    assert out[41, 0] > 0.45 and out[45:, 0].mean() > 0.5


def test_protocol_rules() -> None:
    f = EventAwareSmoother()
    assert np.isnan(f(np.array([np.nan, 0.0]), 0)).all()
    f(np.zeros(2), 33)
    np.testing.assert_array_equal(f(np.array([np.inf, 0.0]), 66), [0.0, 0.0])   # held
    with pytest.raises(TimestampError):
        f(np.zeros(2), 66)
    out = f(np.array([3.0, 3.0]), 1000)                      # after a gap: a fresh start
    np.testing.assert_array_equal(out, [3.0, 3.0])


@pytest.mark.parametrize("bad", [{"window_ms": 0}, {"noise_factor": -1}, {"shift_factor": -2},
                                 {"distance_cm": 0}, {"windows": 3}])
def test_bad_options(bad: dict) -> None:
    with pytest.raises(ConfigError):
        SmoothingOptions.from_dict({"method": "event_aware", "event_aware": bad})
