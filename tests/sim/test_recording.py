"""Scripted GazeSim recordings (gazesdk.sim.recording, issue 18): determinism and noise keys,
saccade and pursuit timing worked by hand from EyeMotion's parameters, the screen transform,
head statistics, blinks, streaming, the real face detector on rendered frames, misuse."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.geometry.screen import cam_cm_to_screen, screen_to_cam_cm
from gazesdk.sim import (
    EyeMotion,
    GazeSim,
    HeadMotion,
    SimConfig,
    iter_record,
    plan_recording,
    record,
)
from gazesdk.sim.recording import _noise_keys, _plan

# No randomness in the eye: exact timings.
EXACT = EyeMotion(latency_sd_ms=0.0, undershoot_prob=0.0, landing_sd_frac=0.0, drift_sd_deg=0.0,
                  tremor_sd_deg=0.0, blink_rate_hz=0.0)
SESSION = 1     # iPhone 6s portrait, 38 cm away: the face never touches the frame's edges


@pytest.fixture(scope="module")
def sim() -> GazeSim:
    return GazeSim(SimConfig(subjects=2, frames_per_subject=4, devices=("iPhone 6s",),
                             glasses_fraction=0.0, seed=5))


def screen(sim: GazeSim, session: int = SESSION) -> tuple[np.ndarray, object, int]:
    o = int(sim.plan.sessions.orientation[session])
    dev = sim.devices[int(sim.plan.sessions.device[session])]
    return np.asarray(dev.screen_size_points(o), float), dev, o


def to_cm(sim: GazeSim, pts: np.ndarray, session: int = SESSION) -> np.ndarray:
    size, dev, o = screen(sim, session)
    pts = np.atleast_2d(pts)
    return np.stack(screen_to_cam_cm(pts[:, 0], pts[:, 1], dev, o, size), 1)


def angle_deg(a_cm: np.ndarray, b_cm: np.ndarray, eye_cm: np.ndarray) -> float:
    """By hand: the angle between the rays from the eye to two points on the screen plane."""
    ra, rb = np.r_[a_cm, 0.0] - eye_cm, np.r_[b_cm, 0.0] - eye_cm
    return float(np.degrees(np.arccos(ra @ rb / np.linalg.norm(ra) / np.linalg.norm(rb))))


def min_jerk(u: np.ndarray) -> np.ndarray:
    return 10 * u**3 - 15 * u**4 + 6 * u**5


def step_plan(sim, a, b, *, at_ms=500, total_ms=1500, eye=EXACT, seed=0):
    """1 ms frames; the dot jumps from a to b (screen points) at ``at_ms``."""
    t = np.arange(total_ms)
    dots = np.where((t >= at_ms)[:, None], b, a).astype(float)
    return t, plan_recording(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=seed, eye=eye)


def lissajous(sim, *, fps=30.0, seconds=8.0):
    size = screen(sim)[0]
    t = np.round(np.arange(int(seconds * fps)) * 1000 / fps).astype(np.int64)
    s = t / 1000.0
    dots = size * (0.5 + 0.3 * np.stack([np.sin(2 * np.pi * 0.4 * s),
                                         np.sin(2 * np.pi * 0.25 * s + 0.7)], 1))
    return t, dots


# --- determinism and noise ------------------------------------------------------------------

def test_same_arguments_same_frames_other_seed_or_noise_differs(sim):
    before = sim.plan.head_pos.copy()
    t = np.array([0, 33, 67])
    dots = np.tile(screen(sim)[0] / 2, (3, 1))
    a = record(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=3)
    b = record(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=3)
    c = record(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=4)
    clean = record(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=3, noise=False)
    assert len(a.frames) == 3 and a.frames[0].shape == (640, 480, 3)
    assert a.frames[0].dtype == np.uint8 and a.timestamps_ms.dtype == np.int64
    for x, y in zip(a.frames, b.frames, strict=True):
        assert x.tobytes() == y.tobytes()
    for name in ("gaze_cm", "gaze_pts", "head_pose_deg", "head_pos_cm", "lid_closure"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert not np.array_equal(a.head_pos_cm, c.head_pos_cm)
    assert not np.array_equal(a.frames[0], c.frames[0])
    assert not np.array_equal(a.frames[0], clean.frames[0])
    np.testing.assert_array_equal(sim.plan.head_pos, before)     # the sim's plan is untouched
    assert (a.subject, a.device, a.orientation) == (int(sim.plan.sessions.subject[SESSION]),
                                                    "iPhone 6s", 1)


def test_noise_keys_differ_from_the_sims_frames_and_between_recordings(sim):
    t, dots = np.arange(50), np.tile(screen(sim)[0] / 2, (50, 1))
    rows = np.arange(50)
    own = set(sim._noise_keys(np.arange(len(sim))).tolist())
    seen = set()
    for session in (0, 1):
        for seed in (0, 1, 2):
            plan = _plan(sim, session, t, dots if session == SESSION else
                         np.tile(screen(sim, session)[0] / 2, (50, 1)), seed, None, None)
            keys = set(_noise_keys(plan, rows).tolist())
            assert len(keys) == 50 and not keys & own and not keys & seen
            seen |= keys


# --- the eye --------------------------------------------------------------------------------

def test_saccade_waits_the_latency_then_follows_the_main_sequence(sim):
    size = screen(sim)[0]
    a, b = size * [0.2, 0.2], size * [0.8, 0.7]
    t, r = step_plan(sim, a, b)
    a_cm, b_cm = to_cm(sim, a)[0], to_cm(sim, b)[0]
    amp = angle_deg(a_cm, b_cm, r.head_pos_cm[500])       # seen from the frame showing b
    assert 5 < amp < 25
    start = 500 + EXACT.latency_ms                         # 700 ms
    dur = 2.2 * amp + 21.0                                 # Carpenter's main sequence
    before, after = t < start, t >= start + dur
    np.testing.assert_allclose(r.gaze_cm[before], np.tile(a_cm, (before.sum(), 1)), atol=1e-9)
    np.testing.assert_allclose(r.gaze_cm[after], np.tile(b_cm, (after.sum(), 1)), atol=1e-9)
    during = ~before & ~after
    u = (t[during] - start) / dur
    np.testing.assert_allclose(r.gaze_cm[during], a_cm + (b_cm - a_cm) * min_jerk(u)[:, None],
                               atol=1e-9)
    np.testing.assert_array_equal(r.in_saccade, during)
    # the labels: the dot jumps at 500 ms, the gaze only at 700 ms
    assert np.allclose(r.dot_pts[600], b) and np.allclose(r.gaze_pts[600], a)


def test_undershoot_lands_short_then_corrects(sim):
    size = screen(sim)[0]
    a, b = size * [0.2, 0.5], size * [0.8, 0.5]
    eye = dataclasses.replace(EXACT, undershoot_prob=1.0)
    t, r = step_plan(sim, a, b, eye=eye)
    a_cm, b_cm = to_cm(sim, a)[0], to_cm(sim, b)[0]
    short_cm = a_cm + 0.9 * (b_cm - a_cm)
    eye_cm = r.head_pos_cm[500]
    d1 = 2.2 * angle_deg(a_cm, short_cm, eye_cm) + 21.0
    d2 = 2.2 * angle_deg(short_cm, b_cm, eye_cm) + 21.0
    assert angle_deg(short_cm, b_cm, eye_cm) > eye.corrective_min_deg
    landed = (t >= 700 + d1) & (t < 700 + d1 + 130)
    corrected = t >= 700 + d1 + 130 + d2
    assert landed.sum() >= 129
    np.testing.assert_allclose(r.gaze_cm[landed], np.tile(short_cm, (landed.sum(), 1)), atol=1e-9)
    np.testing.assert_allclose(r.gaze_cm[corrected], np.tile(b_cm, (corrected.sum(), 1)),
                               atol=1e-9)


def test_gaze_settles_on_each_dot_within_fixation_noise(sim):
    """A 3x3 pattern at 30 fps, one dot a second, default drift and tremor; no undershoot or
    scatter: after latency (200 + 3 x 30 ms) and the longest saccade the gaze is on the dot
    within the drift's few tenths of a degree; before the latency it is on the old dot."""
    size = screen(sim)[0]
    grid = np.array([[x, y] for y in (0.1, 0.5, 0.9) for x in (0.1, 0.5, 0.9)]) * size
    t = np.round(np.arange(270) * 1000 / 30).astype(np.int64)
    which = t // 1000
    eye = EyeMotion(undershoot_prob=0.0, landing_sd_frac=0.0, blink_rate_hz=0.0)
    r = plan_recording(sim, SESSION, timestamps_ms=t, dots_pts=grid[which], eye=eye, seed=2)
    eye_cm = r.head_pos_cm.mean(0)
    longest = 2.2 * max(angle_deg(*to_cm(sim, grid[[i, i + 1]]), eye_cm) for i in range(8)) + 21
    for k in range(1, 9):
        onset = 1000 * k
        settled = (t >= onset + 290 + longest) & (t < onset + 1000)
        waiting = (t >= onset) & (t < onset + 200 - 90)
        err = [angle_deg(g, d, eye_cm) for g, d in zip(r.gaze_cm[settled],
                                                          to_cm(sim, r.dot_pts[settled]),
                                                          strict=True)]
        assert max(err) < 0.45, (k, max(err))              # 5 sigma of drift + tremor
        old = to_cm(sim, grid[k - 1])[0]
        assert max(angle_deg(g, old, eye_cm) for g in r.gaze_cm[waiting]) < 0.45, k
        assert not r.in_saccade[settled].any() and not r.in_saccade[waiting].any()


def test_pursuit_lag_and_gain_are_recovered(sim):
    """Cross-correlating gaze against the dot finds the recording's lag; the slope of gaze on
    the lagged dot is its gain. Different recordings draw different lags within 80-150 ms."""
    t, dots = lissajous(sim)
    fine = np.arange(1000, t[-1] + 1)                      # after the start, on 1 ms
    lags = []
    still = dataclasses.replace(EyeMotion(blink_rate_hz=0.0), drift_sd_deg=0.0, tremor_sd_deg=0.0)
    for seed, eye, tol, tol_gain in ((0, EyeMotion(blink_rate_hz=0.0), 10, 0.03),
                                     (1, still, 1, 0.002)):
        r = plan_recording(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=seed, eye=eye)
        assert 80 <= r.pursuit_lag_ms <= 150 and 0.9 <= r.pursuit_gain <= 0.98
        assert not r.in_saccade[t > 1000].any()            # smooth: no catch-ups needed
        gaze = np.stack([np.interp(fine, t, r.gaze_pts[:, i]) for i in (0, 1)], 1)
        corr = []
        for shift in range(301):
            dot = np.stack([np.interp(fine - shift, t, dots[:, i]) for i in (0, 1)], 1)
            corr.append(sum(np.corrcoef(gaze[:, i], dot[:, i])[0, 1] for i in (0, 1)))
        found = int(np.argmax(corr))
        assert abs(found - r.pursuit_lag_ms) <= tol, (found, r.pursuit_lag_ms)
        dot = np.interp(fine - r.pursuit_lag_ms, t, dots[:, 0])
        slope = np.polyfit(dot, gaze[:, 0], 1)[0]
        assert slope == pytest.approx(r.pursuit_gain, abs=tol_gain)
        lags.append(r.pursuit_lag_ms)
    assert lags[0] != lags[1]


def test_slow_motion_is_not_pursued_but_caught_up(sim):
    """A target creeping at 0.5 deg/s (below pursuit_min_deg_s) is followed by small saccades
    whenever the error reaches catch_up_deg."""
    size = screen(sim)[0]
    t = np.arange(0, 12000, 10)
    dots = np.stack([size[0] * (0.2 + 0.6 * t / 12000), np.full(len(t), size[1] / 2)], 1)
    r = plan_recording(sim, SESSION, timestamps_ms=t, dots_pts=dots, eye=EXACT)
    speed = angle_deg(*to_cm(sim, dots[[0, -1]]), r.head_pos_cm.mean(0)) / 12
    assert speed < EXACT.pursuit_min_deg_s
    starts = np.flatnonzero(np.diff(r.in_saccade.astype(int)) == 1)
    assert 2 <= len(starts) <= 1 + 12 * speed / EXACT.catch_up_deg
    err = [angle_deg(g, d, r.head_pos_cm[i]) for i, (g, d) in
           enumerate(zip(r.gaze_cm, to_cm(sim, dots), strict=True))]
    assert max(err) < EXACT.catch_up_deg + 0.2


def test_blinks_at_the_configured_rate_and_length(sim):
    t = np.round(np.arange(30 * 120) * 1000 / 30).astype(np.int64)        # 2 minutes
    dots = np.tile(screen(sim)[0] / 2, (len(t), 1))
    r = plan_recording(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=1)
    shut = r.lid_closure > 0
    starts = np.flatnonzero(np.diff(shut.astype(int)) == 1) + 1
    ends = np.flatnonzero(np.diff(shut.astype(int)) == -1) + 1
    assert 18 <= len(starts) <= 45                            # 0.25 per second: 30 expected
    lengths = (ends[: len(starts)] - starts[: len(ends)])
    assert lengths.max() <= 13 and lengths.min() >= 2      # 100-400 ms at 30 fps
    assert r.lid_closure.max() > 0.9 and r.lid_closure.min() == 0.0
    off = plan_recording(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=1,
                         eye=EyeMotion(blink_rate_hz=0.0))
    assert not off.lid_closure.any()
    np.testing.assert_array_equal(off.gaze_cm, r.gaze_cm)  # blinks have their own draws


# --- geometry and head ----------------------------------------------------------------------

def test_gaze_cm_is_the_screen_transform_of_gaze_pts(sim):
    for session in range(len(sim.plan.sessions)):           # portrait and upside down
        size, dev, o = screen(sim, session)
        t, dots = np.arange(0, 3000, 40), np.tile(size * [0.3, 0.6], (75, 1))
        dots[30:] = size * [0.7, 0.2]
        r = plan_recording(sim, session, timestamps_ms=t, dots_pts=dots)
        back = np.stack(cam_cm_to_screen(r.gaze_cm[:, 0], r.gaze_cm[:, 1], dev, o, size), 1)
        np.testing.assert_allclose(back, r.gaze_pts, atol=1e-9)
        np.testing.assert_array_equal(r.screen_pts, size)
        exact = plan_recording(sim, session, timestamps_ms=t, dots_pts=dots, eye=EXACT)
        np.testing.assert_allclose(exact.gaze_pts[:30], dots[:30], atol=1e-9)
        np.testing.assert_allclose(exact.gaze_pts[-5:], dots[-5:], atol=1e-9)


def test_head_statistics_match_the_session_and_drift_slowly(sim):
    """Pooled over recordings the head follows the session's distribution (the walk is
    stationary in it); within one, it moves a few mm over ten seconds."""
    sess = sim.plan.sessions
    t = np.arange(0, 600_000, 500)                          # 10 min at 2 frames/s
    dots = np.tile(screen(sim)[0] / 2, (len(t), 1))
    still = HeadMotion(turn_gain=0.0)
    pos, pose = [], []
    for seed in range(40):
        r = plan_recording(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=seed, head=still,
                           eye=EyeMotion(blink_rate_hz=0.0))
        pos.append(r.head_pos_cm)
        pose.append(np.radians(r.head_pose_deg))
    for x, mean, std in ((np.concatenate(pos), sess.head_mean_cm[SESSION],
                          sess.head_std_cm[SESSION]),
                         (np.concatenate(pose), sess.pose_mean[SESSION], sess.pose_std[SESSION])):
        np.testing.assert_array_less(np.abs(x.mean(0) - mean), 0.35 * std)
        np.testing.assert_array_less(np.abs(x.std(0) / std - 1), 0.2)
    steps = np.concatenate([p[20:] - p[:-20] for p in pos])            # 10 s apart
    expected = sess.head_std_cm[SESSION] * np.sqrt(2 * (1 - np.exp(-10 / 120)))
    np.testing.assert_allclose(steps.std(0), expected, rtol=0.15)
    assert np.all(expected < 1.0)


def test_head_turns_towards_the_gaze_as_the_generator_does(sim):
    size = screen(sim)[0]
    t = np.arange(0, 4000, 10)
    dots = np.where((t >= 2000)[:, None], size * [0.9, 0.5], size * [0.1, 0.5])
    kw = dict(timestamps_ms=t, dots_pts=dots, eye=EXACT)
    turned = plan_recording(sim, SESSION, head=HeadMotion(), **kw)
    still = plan_recording(sim, SESSION, head=HeadMotion(turn_gain=0.0), **kw)
    np.testing.assert_array_equal(turned.head_pos_cm, still.head_pos_cm)
    settled = (t > 1000) & (t < 2000) | (t > 3500)         # 5 time constants after a move
    rel = np.c_[turned.gaze_cm, np.zeros(len(t))] - turned.head_pos_cm
    want = 0.3 * np.degrees(np.arctan2(rel[:, :2], turned.head_pos_cm[:, 2:]))
    got = turned.head_pose_deg[:, :2] - still.head_pose_deg[:, :2]
    np.testing.assert_allclose(got[settled], want[settled], atol=0.1)   # head jitter, late
    assert abs(got[t > 3500, 0].mean() - got[(t > 1000) & (t < 2000), 0].mean()) > 2


# --- rendering ------------------------------------------------------------------------------

def test_iter_record_streams_the_same_frames(sim):
    t = np.array([0, 40, 80, 120, 160])
    dots = screen(sim)[0] * np.array([[0.2, 0.2]] * 2 + [[0.7, 0.8]] * 3)
    whole = record(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=7)
    stream = list(iter_record(sim, SESSION, timestamps_ms=t, dots_pts=dots, seed=7,
                              chunk_frames=2))
    assert [s[0] for s in stream] == t.tolist()
    for i, (_, frame, truth) in enumerate(stream):
        assert truth.index == i
        np.testing.assert_array_equal(frame, whole.frames[i])
        np.testing.assert_array_equal(truth.gaze_cm, whole.gaze_cm[i])
        np.testing.assert_array_equal(truth.head_pose_deg, whole.head_pose_deg[i])
        assert truth.lid_closure == whole.lid_closure[i]


def test_the_runtime_detector_finds_the_rendered_face(sim, detector_model):
    pytest.importorskip("mediapipe")
    from gazesdk.runtime.detector import MediaPipeFaceDetector

    size = screen(sim, 0)[0]
    t = np.array([0, 500, 1000])
    dots = size * np.array([[0.2, 0.2], [0.8, 0.5], [0.5, 0.9]])
    for session in (0, SESSION):
        rec = record(sim, session, timestamps_ms=t, dots_pts=dots,
                     eye=EyeMotion(blink_rate_hz=0.0))
        w, h = (int(v) for v in sim.camera.frame_size(np.array(rec.orientation)))
        eyes = sim.camera.project(rec.head_pos_cm, np.full(3, w), np.full(3, h))
        det = MediaPipeFaceDetector(model_path=detector_model)
        try:
            for frame, (u, v) in zip(rec.frames, eyes, strict=True):
                found = det.detect(np.ascontiguousarray(frame))
                assert found, f"no face in session {session}"
                x, y, bw, bh = found[0].box
                assert x < u < x + bw and y < v < y + bh
        finally:
            det.close()


# --- misuse ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "match"), [
    (dict(timestamps_ms=np.array([0, 33, 33])), "strictly increasing"),
    (dict(timestamps_ms=np.array([0, 50, 20])), "strictly increasing"),
    (dict(timestamps_ms=np.array([0.0, 33.3, 66.7])), "whole milliseconds"),
    (dict(timestamps_ms=np.zeros((3, 1))), "1-D"),
    (dict(timestamps_ms=np.array([], int), dots_pts=np.zeros((0, 2))), "non-empty"),
    (dict(dots_pts=np.zeros((2, 2))), r"shape \(F, 2\) = \(3, 2\)"),
    (dict(dots_pts=np.zeros((3, 3))), r"shape \(F, 2\)"),
    (dict(dots_pts=np.array([[10.0, 10.0], [10.0, np.nan], [0.0, 0.0]])), "finite"),
    (dict(dots_pts=np.array([[10.0, 10.0], [10.0, 900.0], [0.0, 0.0]])), "off the screen"),
    (dict(dots_pts=np.array([[-40.0, 10.0]] * 3)), "off the screen"),
    (dict(session=4), r"session must be an integer in 0..3"),
    (dict(session=-1), "session must be"),
    (dict(session=True), "session must be"),
    (dict(seed=-2), "seed must be"),
    (dict(eye="fast"), "EyeMotion"),
])
def test_bad_inputs_give_one_clear_line(sim, change, match):
    args = dict(session=SESSION, timestamps_ms=np.array([0, 33, 67]),
                dots_pts=np.array([[10.0, 10.0], [-5.0, 680.0], [370.0, 600.0]]))
    args.update(change)
    session = args.pop("session")
    for fn in (plan_recording, record, iter_record):       # iter_record checks at the call
        with pytest.raises(ConfigError, match=match) as e:
            fn(sim, session, **args)
        assert "\n" not in str(e.value)


@pytest.mark.parametrize(("kw", "match"), [
    (dict(pursuit_gain=(0.9, 1.2)), "pursuit_gain"),
    (dict(latency_ms=-1.0), "latency"),
    (dict(blink_ms=(300.0, 100.0)), "blink_ms"),
    (dict(undershoot_prob=2.0), "undershoot_prob"),
    (dict(jump_deg="big"), "jump_deg must be a number"),
])
def test_bad_motion_parameters(kw, match):
    with pytest.raises(ConfigError, match=match):
        EyeMotion(**kw)
    with pytest.raises(ConfigError, match="HeadMotion"):
        HeadMotion(drift_tau_s=0.0)


def test_bad_chunk_size_and_sim(sim):
    t, dots = np.array([0]), np.array([[10.0, 10.0]])
    with pytest.raises(ConfigError, match="chunk_frames"):
        iter_record(sim, 0, timestamps_ms=t, dots_pts=dots, chunk_frames=0)
    with pytest.raises(ConfigError, match="GazeSim"):
        record(object(), 0, timestamps_ms=t, dots_pts=dots)
