"""``sessions_share_device``: a subject's sessions on one phone, nothing else changed."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gazesdk.sim import GazeSim, SimConfig


def test_sessions_share_device_changes_only_device_and_orientation() -> None:
    cfg = SimConfig(subjects=30, frames_per_subject=4, sessions_per_subject=3, seed=5)
    a, b = GazeSim(cfg), GazeSim(replace(cfg, sessions_share_device=True))
    sa, sb = a.plan.sessions, b.plan.sessions
    for k in range(30):
        m = sb.subject == k
        assert (sb.device[m] == sb.device[m][0]).all()
        assert (sb.orientation[m] == sb.orientation[m][0]).all()
        first = np.flatnonzero(sa.subject == k)[0]     # the first session is as drawn
        assert (sb.device[first], sb.orientation[first]) == (sa.device[first],
                                                             sa.orientation[first])
    assert (sa.device != sb.device).any()              # off, sessions draw their own
    np.testing.assert_array_equal(a.plan.subject_split, b.plan.subject_split)
    np.testing.assert_array_equal(a.plan.subjects.kappa_v, b.plan.subjects.kappa_v)
    np.testing.assert_array_equal(sa.pose_mean, sb.pose_mean)
    np.testing.assert_array_equal(sa.light_rgb, sb.light_rgb)
