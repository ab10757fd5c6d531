"""GazeSim scan paths (gazesdk.sim.scanpath) and the recordings' event labels
(RecordingTruth.event_labels, saccade table, microsaccades): labels worked by hand from the
minimum-jerk profile, the script's statistics against its options, 30 vs 60 fps, misuse."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.geometry.devices import get_device
from gazesdk.sim import EyeMotion, GazeSim, SimConfig, plan_recording
from gazesdk.sim.recording import BLINK, FIXATION, PURSUIT, SACCADE
from gazesdk.sim.scanpath import ScanPathOptions, plan_scan_path, scan_path

EXACT = EyeMotion(latency_sd_ms=0.0, undershoot_prob=0.0, landing_sd_frac=0.0, drift_sd_deg=0.0,
                  tremor_sd_deg=0.0, blink_rate_hz=0.0)


@pytest.fixture(scope="module")
def sim() -> GazeSim:
    return GazeSim(SimConfig(subjects=2, frames_per_subject=4, devices=("iPhone 6s",),
                             glasses_fraction=0.0, seed=5))


def min_jerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0, 1)
    return 10 * u**3 - 15 * u**4 + 6 * u**5


def test_saccade_labels_follow_the_displacement_share(sim) -> None:
    t = np.arange(0, 1500, 33)                       # 30 fps
    dev = sim.devices[0]
    w, h = dev.screen_size_points(int(sim.plan.sessions.orientation[1]))
    dots = np.where((t >= 500)[:, None], [0.8 * w, 0.7 * h], [0.2 * w, 0.2 * h]).astype(float)
    r = plan_recording(sim, 1, timestamps_ms=t, dots_pts=dots, eye=EXACT)
    assert len(r.saccades) == 1
    start, end, amp, kind = r.saccades[0]
    assert kind == 0 and math.isclose(end - start, 2.2 * amp + 21.0)
    assert math.isclose(start, 528 + 200.0)          # first frame showing the dot + latency
    share = min_jerk((t - start) / (end - start)) - min_jerk((np.r_[t[0], t[:-1]] - start)
                                                             / (end - start))
    labels = r.event_labels()
    expected = np.where((share >= 0.2) | (share == share.max()), SACCADE, FIXATION)
    np.testing.assert_array_equal(labels, expected)
    assert 1 <= (labels == SACCADE).sum() <= 3


def test_blinks_override_and_microsaccades_stay_fixations(sim) -> None:
    eye = EyeMotion(microsaccade_rate_hz=2.0, blink_rate_hz=0.5)
    t = np.arange(0, 20_000, 33)
    dev = sim.devices[0]
    w, h = dev.screen_size_points(int(sim.plan.sessions.orientation[1]))
    dots = np.tile([w / 2, h / 2], (len(t), 1))
    r = plan_recording(sim, 1, timestamps_ms=t, dots_pts=dots, eye=eye)
    micro = r.saccades[r.saccades[:, 3] == 3]
    # a Poisson process of 2 Hz over 20 s minus the busy time: dozens, all under 1 deg
    assert 15 <= len(micro) <= 45 and (micro[:, 2] < 0.8 + 1e-12).all()
    labels = r.event_labels()
    assert not (labels == SACCADE).any()             # only microsaccades here
    np.testing.assert_array_equal(labels == BLINK, r.lid_closure >= 0.5)
    # the default EyeMotion has none: the issue 18 recordings are unchanged
    r0 = plan_recording(sim, 1, timestamps_ms=t, dots_pts=dots)
    assert not (r0.saccades[:, 3] == 3).any()


def test_scan_path_statistics() -> None:
    dev = get_device("iPhone 6s")
    o = ScanPathOptions(duration_ms=600_000, pursuit_share=0.0, long_fixation_share=0.0)
    sp = scan_path(dev, 1, options=o, distance_cm=30.0, seed=3)
    seg = sp.segments
    dur = seg[:, 1] - seg[:, 0]
    # gamma(4, 330/4) clipped below at 120 ms: mean within 3% of 330 (+ the clip's tiny lift)
    assert abs(dur.mean() - 330) < 0.03 * 330 and dur.min() >= 120
    size = np.asarray(dev.screen_size_points(1))
    assert (sp.dots_pts >= 0.05 * size - 1e-9).all() and (sp.dots_pts <= 0.95 * size + 1e-9).all()
    amp = seg[1:, 3]
    local = (amp >= 2.0 - 1e-9) & (amp <= 5.0 + 1e-9)
    assert 0.25 < local.mean() < 0.5          # 30% local plus the far ones that land near


def test_same_script_at_30_and_60_fps(sim) -> None:
    a, ta = plan_scan_path(sim, 1, options=ScanPathOptions(duration_ms=10_000, fps=30), seed=1)
    b, tb = plan_scan_path(sim, 1, options=ScanPathOptions(duration_ms=10_000, fps=60), seed=1)
    np.testing.assert_array_equal(a.segments, b.segments)
    assert len(tb) == 2 * len(ta)
    big = lambda tr: tr.saccades[(tr.saccades[:, 3] == 0), :3]   # noqa: E731
    # the same saccades (the head drifts a little differently between the two frame grids)
    np.testing.assert_allclose(big(ta)[:, 2], big(tb)[:, 2], rtol=0.05)
    # pursuit segments are labelled pursuit on most of their frames
    pursue = a.segments[a.segments[:, 2] == 1]
    for s, e, _, _ in pursue:
        rows = (ta.timestamps_ms > s + 200) & (ta.timestamps_ms < e)
        if rows.any():
            assert (ta.event_labels()[rows] == PURSUIT).mean() > 0.5


@pytest.mark.parametrize("bad", [{"duration_ms": 0}, {"fps": 0}, {"fps": 1000},
                                 {"local_share": 1.5}, {"local_deg": (5.0, 2.0)},
                                 {"fixation_mean_ms": -1}])
def test_bad_options(bad: dict) -> None:
    with pytest.raises(ConfigError):
        ScanPathOptions(**bad)


def test_bad_calls(sim) -> None:
    with pytest.raises(ConfigError):
        scan_path(get_device("iPhone 6s"), 1, distance_cm=1.0)
    with pytest.raises(ConfigError):
        scan_path(get_device("iPhone 6s"), 1, seed=-1)
    with pytest.raises(ConfigError):
        plan_scan_path(sim, 99)
    with pytest.raises(ConfigError):
        EyeMotion(microsaccade_deg=(0.0, 1.0))
