"""The drift signal: reference from poses, thresholds, smoothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gazesdk.calibration.drift import DriftMonitor, DriftOptions, HeadReference


def pose(yaw: float = 0.0, pitch: float = 0.0, pos: tuple = (0.0, 4.0, 30.0)):
    return SimpleNamespace(yaw_deg=yaw, pitch_deg=pitch, roll_deg=0.0, translation_cm=pos)


def test_reference_is_the_median() -> None:
    ref = HeadReference.from_poses([pose(1), pose(2), pose(30)])
    assert ref.yaw_deg == 2 and ref.distance_cm == pytest.approx((16 + 900) ** 0.5)
    assert HeadReference.from_poses([]) is None


def test_thresholds_by_hand() -> None:
    ref = HeadReference(0.0, 0.0, 0.0, (0.0, 0.0, 30.0))
    o = DriftOptions(max_angle_deg=10.0, max_shift=0.2)
    m = DriftMonitor(ref, o)
    assert not m.update(pose(9.0, pos=(0.0, 0.0, 30.0)))
    assert m.update(pose(11.0, pos=(0.0, 0.0, 30.0)))
    assert not m.update(pose(0.0, pos=(0.0, 0.0, 35.9)))      # 5.9 cm < 0.2 x 30
    assert m.update(pose(0.0, pos=(0.0, 0.0, 36.1)))


def test_a_single_frame_glitch_does_not_flag_in_video() -> None:
    ref = HeadReference(0.0, 0.0, 0.0, (0.0, 0.0, 30.0))
    m = DriftMonitor(ref, DriftOptions(time_constant_ms=1000.0))
    for ts in range(0, 2000, 33):
        m.update(pose(0.0, pos=(0.0, 0.0, 30.0)), ts)
    assert not m.update(pose(40.0, pos=(0.0, 0.0, 30.0)), 2033)     # 33 ms: ~3% of the way
    for ts in range(2066, 6000, 33):                                # a lasting change flags
        m.update(pose(15.0, pos=(0.0, 0.0, 30.0)), ts)
    assert m.advised
