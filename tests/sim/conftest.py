"""Controlled GazeSim scenes: one subject, a fixed head, chosen targets and kappa."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gazesdk.sim import Camera, GazeSim, SimConfig
from gazesdk.sim.scene import FrameState


@pytest.fixture(scope="session")
def base_sim() -> GazeSim:
    return GazeSim(SimConfig(subjects=1, frames_per_subject=1, devices=("iPhone 6s",),
                             glasses_fraction=0.0, seed=11))


def make_state(sim: GazeSim, targets: np.ndarray, *, kappa_h: float = 0.0,
               kappa_v: float = 0.0, kappa_asym: float = 0.0,
               head_pos: tuple[float, float, float] = (0.0, -4.0, 30.0),
               head_pose: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> FrameState:
    """N frames of the one subject with a fixed head, looking at ``targets`` (N, 3) cm.

    The iris is made saturated blue and the skin, sclera and hair pale, so the iris can be
    found from colour alone; kappa angles are in radians."""
    targets = np.atleast_2d(np.asarray(targets, float))
    n = len(targets)
    subj = sim.plan.subjects.take(np.zeros(n, int))
    subj = dataclasses.replace(
        subj, kappa_h=np.full(n, kappa_h), kappa_v=np.full(n, kappa_v),
        kappa_asym=np.full(n, kappa_asym), glasses=np.zeros(n, bool),
        iris_rgb=np.tile([0.05, 0.15, 0.75], (n, 1)), skin_rgb=np.tile([0.8, 0.62, 0.5], (n, 1)),
        sclera_rgb=np.tile([0.85, 0.82, 0.8], (n, 1)), hair_rgb=np.tile([0.6, 0.5, 0.3], (n, 1)))
    sess = sim.plan.sessions.take(np.zeros(n, int))
    # A plain blue background, so skin and iris can be told from it by colour.
    background = np.zeros((n, 3, 3))
    background[:, 0] = [0.15, 0.25, 0.7]
    sess = dataclasses.replace(sess, orientation=np.ones(n, int),
                               face_box_bias=np.zeros((n, 3)), eye_box_bias=np.zeros((n, 3)),
                               background=background, background_wave=np.zeros((n, 4)))
    return FrameState(subjects=subj, sessions=sess, head_pos=np.tile(head_pos, (n, 1)),
                      head_pose=np.tile(head_pose, (n, 1)), target=targets,
                      fixation=np.zeros((n, 2)), exposure=np.ones(n),
                      face_box_jitter=np.zeros((n, 3)), eye_box_jitter=np.zeros((n, 2, 3)))


@pytest.fixture(scope="session")
def camera() -> Camera:
    return Camera()
