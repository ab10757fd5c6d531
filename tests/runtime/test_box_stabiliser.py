"""Box stabiliser: the moving average by hand, the variance cut of alpha / (2 - alpha) on white
box noise, no lag on a jump (the step test of gazesdk.evaluation.lag), bad options."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.evaluation.lag import frames_to_fraction
from gazesdk.runtime.box_stabiliser import BoxStabiliser, BoxStabiliserOptions


def test_moving_average_by_hand():
    s = BoxStabiliser(BoxStabiliserOptions(alpha=0.5, snap_fraction=0.1))
    assert s("eye", 100.0, 50.0, 40.0) == (100.0, 50.0, 40.0)
    assert s("eye", 102.0, 50.0, 40.0) == (101.0, 50.0, 40.0)
    assert s("eye", 102.0, 52.0, 41.0) == (101.5, 51.0, 40.5)
    # another name has its own state
    assert s("face", 10.0, 10.0, 100.0) == (10.0, 10.0, 100.0)


def test_white_noise_variance_cut():
    rng = np.random.default_rng(0)
    alpha = 0.4
    s = BoxStabiliser(BoxStabiliserOptions(alpha=alpha, snap_fraction=0.5))
    noise = rng.normal(0, 1.0, 20000)
    out = np.array([s("eye", 200.0 + n, 100.0, 60.0)[0] for n in noise])
    assert np.var(out[100:]) == pytest.approx(alpha / (2 - alpha), rel=0.05)


def test_a_jump_passes_through_without_lag():
    s = BoxStabiliser(BoxStabiliserOptions(alpha=0.3, snap_fraction=0.1))
    xs = [100.0] * 10 + [130.0] * 10            # a 30 px jump of a 60 px box (saccade / move)
    trace = np.array([[s("eye", x, 80.0, 60.0)[0], 0.0] for x in xs])
    assert frames_to_fraction(trace, 10, np.array([100.0, 0]), np.array([130.0, 0])) == 0
    # a 3 px nudge (under the 6 px threshold) is smoothed and so lags
    s.reset()
    xs = [100.0] * 10 + [103.0] * 20
    trace = np.array([[s("eye", x, 80.0, 60.0)[0], 0.0] for x in xs])
    # 1 - 0.7^k >= 0.9 first at k = 7 (0.7^6 = 0.118, 0.7^7 = 0.082): 6 frames after the step
    assert frames_to_fraction(trace, 10, np.array([100.0, 0]), np.array([103.0, 0])) == 6


def test_the_face_motion_carried_by_the_anchor_is_not_lagged():
    s = BoxStabiliser(BoxStabiliserOptions(alpha=0.3, snap_fraction=0.1))
    # the face drifts 2 px a frame (under the 6 px snap) and grows 1% a frame; the box moves
    # and grows with it, so carried by the anchor the box follows it exactly
    for k in range(20):
        a = (300.0 + 2 * k, 200.0, 50.0 * 1.01 ** k)
        cx = a[0] + (100.0 - 300.0) * 1.01 ** k        # 200 px left of the anchor, scaled
        cy = a[1] + (80.0 - 200.0) * 1.01 ** k
        got = s("eye", cx, cy, 60.0 * 1.01 ** k, anchor=a)
        assert got == pytest.approx((cx, cy, 60.0 * 1.01 ** k), abs=1e-9)
    # without the anchor a 1 px/frame drift lags by (1 - alpha) / alpha x 1 px in the steady
    # state (an exponential average's ramp lag)
    s.reset()
    xs = [100.0 + k for k in range(60)]
    out = [s("eye", x, 80.0, 60.0)[0] for x in xs]
    assert xs[-1] - out[-1] == pytest.approx(0.7 / 0.3, rel=1e-3)
    # wobble relative to the face is still averaged: the hand-worked first step
    s.reset()
    s("eye", 100.0, 80.0, 60.0, anchor=(300.0, 200.0, 50.0))
    got = s("eye", 106.0, 80.0, 60.0, anchor=(305.0, 200.0, 50.0))   # predicted 105
    assert got == pytest.approx((105.0 + 0.3 * 1.0, 80.0, 60.0))
    with pytest.raises(ValueError, match="anchor"):
        s("eye", 1.0, 2.0, 3.0, anchor=(1.0, 2.0, 0.0))


@pytest.mark.parametrize("kw", [{"alpha": 0.0}, {"alpha": 1.5}, {"snap_fraction": 0.0}])
def test_bad_options(kw):
    with pytest.raises(ConfigError):
        BoxStabiliserOptions(**kw)


def test_bad_box():
    with pytest.raises(ValueError, match="positive side"):
        BoxStabiliser()("eye", 1.0, 2.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        BoxStabiliser()("eye", float("nan"), 2.0, 3.0)
