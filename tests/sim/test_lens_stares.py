"""GazeSim's lens stares: a share of the random-dot frames look into the camera, their dots lie
off the screen where the camera is, and nothing else of the dataset changes."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.geometry.screen import screen_to_cam_cm
from gazesdk.sim import GazeSim, SimConfig
from gazesdk.sim.generator import REGULAR


def _pair(**kw):
    base = dict(subjects=4, frames_per_subject=50, calibration_dots=3, stare_sequences=1,
                stare_frames=5, seed=11)
    return GazeSim(SimConfig(**base, lens_fraction=0.2, **kw)), GazeSim(SimConfig(**base))


def test_lens_frames_look_into_the_lens_and_the_rest_is_unchanged():
    lens, plain = _pair()
    a, b = lens.plan, plain.plan
    changed = np.abs(a.target - b.target).max(1) > 0
    # about a fifth of the random-dot frames, never a calibration or stare frame
    assert 0.1 < changed.sum() / (a.kind == REGULAR).sum() < 0.3
    assert (a.kind[changed] == REGULAR).all()
    assert np.hypot(*a.target[changed, :2].T).max() < 1.5         # at the lens, +- mm
    assert np.array_equal(a.subjects.iris_radius_cm, b.subjects.iris_radius_cm)
    assert np.array_equal(a.target[~changed], b.target[~changed])
    # the dots map back to the lens through the screen geometry, and sit off the screen
    for i in np.flatnonzero(changed)[:10]:
        dev = lens.devices[a.sessions.device[a.session[i]]]
        o = a.sessions.orientation[a.session[i]]
        x, y = screen_to_cam_cm(a.dot_pts[i, 0], a.dot_pts[i, 1], dev, o, a.screen_pts[i])
        assert (float(x), float(y)) == pytest.approx(tuple(a.target[i, :2]), abs=1e-6)
        inside = (0 <= a.dot_pts[i]).all() and (a.dot_pts[i] <= a.screen_pts[i]).all()
        assert not inside


def test_lens_fraction_is_checked():
    with pytest.raises(ConfigError, match="lens_fraction"):
        SimConfig(lens_fraction=0.8)
    with pytest.raises(ConfigError):
        SimConfig(lens_fraction=-0.1)
