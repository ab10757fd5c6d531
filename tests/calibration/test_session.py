"""Collecting a calibration: onset rejection, blinks, outliers, pursuit lag, refusals."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from gazesdk.calibration.patterns import point_pattern, pursuit_pattern
from gazesdk.calibration.session import CalibrationSession, CollectionOptions
from gazesdk.errors import CalibrationError
from gazesdk.geometry.screen import screen_to_cam_cm
from gazesdk.runtime.smoothing import TimestampError

MODEL = ("ab" * 32, "compact")
FPS_MS = 33


def cam(pattern, pts: np.ndarray) -> np.ndarray:
    x, y = screen_to_cam_cm(pts[..., 0], pts[..., 1], pattern.device, pattern.orientation,
                            pattern.screen_pts)
    return np.stack([x, y], -1)


def user(t_cm: np.ndarray) -> np.ndarray:
    """The model's error for this user: a gain and an offset (a kappa-like bias)."""
    return 0.85 * t_cm + np.array([1.0, -0.8])


def run_points(session: CalibrationSession, *, dwell_ms: int = 1500, latency_ms: int = 200,
               saccade_ms: int = 60, seed: int = 0, blink_every: int = 0) -> None:
    """Feed a synthetic eye: at the previous target until ``latency_ms`` after the switch,
    a linear saccade of ``saccade_ms``, then the new target with fixation noise."""
    rng = np.random.default_rng(seed)
    p = session.pattern
    ts, prev = 0, None
    while (target := session.next_target(ts)) is not None:
        goal = cam(p, np.array([target.x_pt, target.y_pt]))
        start = goal if prev is None else prev
        for age in range(0, dwell_ms, FPS_MS):
            k = np.clip((age - latency_ms) / saccade_ms, 0.0, 1.0)
            eye = start + k * (goal - start)
            g = user(eye) + rng.normal(0, 0.05, 2)
            blink = bool(blink_every and (age // FPS_MS) % blink_every == 0)
            session.add_sample(None if blink else g, ts + age, blink=blink)
        ts += dwell_ms
        prev = goal


def test_onset_rejection_drops_exactly_the_settling_window() -> None:
    p = point_pattern(9, "iPhone 6s")
    s = CalibrationSession(p, model=MODEL, options=CollectionOptions(settle_ms=400))
    run_points(s)
    per_target = len(range(0, 1500, FPS_MS))
    settling = len(range(0, 400, FPS_MS))           # ages 0..396 ms
    for r in s.report():
        assert r.settling == settling
        assert r.kept + r.outliers == per_target - settling
    # the kept samples are all after the saccade: their mean is the user's gaze at the target
    samples = s.samples()
    for k in range(9):
        m = samples.gaze_cm[samples.target_id == k].mean(0)
        np.testing.assert_allclose(m, user(samples.target_cm[samples.target_id == k][0]),
                                   atol=0.05)


def test_without_onset_rejection_the_saccade_biases_the_fit() -> None:
    p = point_pattern(9, "iPhone 6s")
    errs = {}
    for settle in (0, 400):         # outlier rejection off: it would catch part of it
        s = CalibrationSession(p, model=MODEL, method="affine",
                               options=CollectionOptions(settle_ms=settle, outlier_mad=1e6,
                                                         offset_prior=0.0))
        run_points(s)
        prof = s.finish()
        t = cam(p, p.targets)
        errs[settle] = np.linalg.norm(prof.apply(user(t)) - t, axis=1).mean()
    assert errs[400] < 0.05 < errs[0]


def test_finish_recovers_the_user_and_the_guard_accepts() -> None:
    p = point_pattern(9, "iPhone 6s")
    s = CalibrationSession(p, model=MODEL, method="affine",
                           options=CollectionOptions(offset_prior=0.0))
    run_points(s)
    prof = s.finish()
    assert prof.accepted and prof.validation.source == "validation points"
    assert prof.validation.error_cm < 0.1 * prof.validation.uncalibrated_cm
    assert prof.points == 9 and len(prof.targets) == 13
    assert prof.validation.error_deg == pytest.approx(
        np.degrees(np.arctan2(prof.validation.error_cm, 30.0)))


def test_blinks_and_invalid_frames_are_counted_not_used() -> None:
    p = point_pattern(5, "iPhone 6s")
    s = CalibrationSession(p, model=MODEL)
    run_points(s, blink_every=5)
    r = s.report()[0]
    assert r.blink == len(range(0, 1500, 5 * FPS_MS))
    s2 = CalibrationSession(p, model=MODEL)
    s2.next_target(0)
    s2.add(SimpleNamespace(valid=False, raw_gaze_cm=None, timestamp_ms=10, blink=None,
                           invalid_reason=SimpleNamespace(value="no_face")))
    s2.add(SimpleNamespace(valid=False, raw_gaze_cm=None, timestamp_ms=20, blink=None,
                           invalid_reason=SimpleNamespace(value="blink")))
    assert (s2.report()[0].invalid, s2.report()[0].blink) == (1, 1)


def test_outliers_are_dropped_by_median_and_mad() -> None:
    p = point_pattern(1, "iPhone 6s")
    s = CalibrationSession(p, model=MODEL)
    s.next_target(0)
    rng = np.random.default_rng(0)
    for i in range(20):
        g = np.array([1.0, -5.0]) + rng.normal(0, 0.1, 2)
        if i == 12:
            g = g + [4.0, 0.0]                # a glance away
        s.add_sample(g, 500 + 33 * i)
    r = s.report()[0]
    assert (r.kept, r.outliers) == (19, 1)


def test_too_few_samples_is_one_clear_refusal() -> None:
    p = point_pattern(5, "iPhone 6s")
    s = CalibrationSession(p, model=MODEL)
    run_points(s, dwell_ms=500)          # 100 ms after settling: 3 samples per target
    with pytest.raises(CalibrationError, match=r"target 0 .* 3 good samples of the 5 needed"):
        s.finish()
    s2 = CalibrationSession(p, model=MODEL)
    s2.next_target(0)
    with pytest.raises(CalibrationError, match="only 1 of the pattern's 5 targets"):
        s2.finish()


def test_auto_keeps_the_offset_unless_a_richer_map_wins_by_far() -> None:
    p = point_pattern(9, "iPhone 6s")
    s = CalibrationSession(p, model=MODEL)          # the default: AUTO_PREFER_SIMPLER
    run_points(s)
    assert s.finish().map.method == "offset"
    s = CalibrationSession(p, model=MODEL, options=CollectionOptions(prefer_simpler=1.0))
    run_points(s)
    assert s.finish().map.method != "offset"        # the lowest LOTO error wins


def test_misuse() -> None:
    s = CalibrationSession(point_pattern(1, "iPhone 6s"), model=MODEL)
    with pytest.raises(CalibrationError, match="next_target"):
        s.add_sample((0.0, 0.0), 10)
    s.next_target()
    s.add_sample((0.0, 0.0), 10)
    with pytest.raises(TimestampError, match="increase"):
        s.add_sample((0.0, 0.0), 10)


def test_pursuit_lag_is_estimated_and_removed() -> None:
    p = pursuit_pattern("iPhone 6s", 1, duration_ms=8000, lead_in_ms=1000)
    s = CalibrationSession(p, model=MODEL, method="affine",
                           options=CollectionOptions(offset_prior=0.0))
    lag = 120
    rng = np.random.default_rng(1)
    target = s.next_target(0)
    assert target.moving
    for ts in range(0, p.total_ms, FPS_MS):
        eye = cam(p, p.position(ts - lag))
        s.add_sample(user(eye) + rng.normal(0, 0.05, 2), ts)
    ts = p.total_ms
    while (t := s.next_target(ts)) is not None:       # the validation points
        goal = cam(p, np.array([t.x_pt, t.y_pt]))
        for age in range(0, 1500, FPS_MS):
            s.add_sample(user(goal) + rng.normal(0, 0.05, 2), ts + age)
        ts += 1500
    prof = s.finish()
    assert abs(s.lag_ms - lag) <= 10
    assert prof.extra["pursuit_lag_ms"] == s.lag_ms
    assert prof.accepted and prof.validation.error_cm < 0.15
