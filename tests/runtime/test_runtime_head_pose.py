"""Head pose: the Euler decomposition against GazeSim's own rotation, triangulation and PnP on
exact synthetic projections (known answers), the canonical face's shape, and on the real
astronaut portrait the mirror invariant (yaw and roll change sign, pitch stays)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.runtime.head_pose import (
    canonical_face,
    default_focal_px,
    estimate_head_pose,
    matrix_to_euler,
    triangulate_canonical,
)
from gazesdk.sim.camera import Camera
from gazesdk.sim.rotation import euler_to_matrix


def _project(model, yaw, pitch, roll, t, w=480, h=640, f=500.0):
    rot = euler_to_matrix(np.radians(yaw), np.radians(pitch), np.radians(roll))
    cam = model @ rot.T + np.asarray(t)
    return Camera(focal_px=f).project(cam, w, h)


def test_euler_round_trip_against_gazesim():
    rng = np.random.default_rng(0)
    for yaw, pitch, roll in rng.uniform(-1.2, 1.2, (50, 3)):
        got = matrix_to_euler(euler_to_matrix(yaw, pitch, roll))
        assert np.allclose(got, (yaw, pitch, roll), atol=1e-9)


def test_canonical_face_is_a_face_in_cm():
    face = canonical_face()
    assert face.shape == (468, 3) and np.isfinite(face).all() and not face.flags.writeable
    # outer eye corners (mesh 33: the subject's right, at +x) about 8.8 cm apart, level
    assert 7.5 < face[33, 0] - face[263, 0] < 10.0 and face[33, 0] > 0
    assert abs(face[33, 1] - face[263, 1]) < 0.3
    assert face[1, 2] < face[33, 2] - 1.0        # the nose tip (1) stands out towards the camera


def test_pnp_recovers_a_known_pose_exactly():
    model = canonical_face().astype(np.float64)
    for pose in ((0, 0, 0), (15, -10, 5), (-25, 12, -8)):
        pts = _project(model, *pose, t=(2.0, -3.0, 35.0))
        hp = estimate_head_pose(pts, 480, 640, focal_px=500.0)
        assert (hp.yaw_deg, hp.pitch_deg, hp.roll_deg) == pytest.approx(pose, abs=0.05)
        assert hp.translation_cm == pytest.approx((2.0, -3.0, 35.0), abs=0.05)
        assert hp.reprojection_px < 0.01


def test_triangulation_recovers_the_model():
    rng = np.random.default_rng(1)
    model = rng.normal(0, 4, (20, 3))
    poses = rng.uniform(-20, 20, (12, 3))
    ts = np.column_stack([rng.uniform(-3, 3, 12), rng.uniform(-3, 3, 12), rng.uniform(25, 45, 12)])
    pts = np.stack([_project(model, *p, t=t) for p, t in zip(poses, ts, strict=True)])
    rots = euler_to_matrix(*np.radians(poses).T)
    got = triangulate_canonical(pts, rots, ts, np.tile([480, 640], (12, 1)), 500.0)
    assert np.allclose(got, model, atol=1e-6)


def test_default_focal_and_bad_input():
    assert default_focal_px(480, 640) == pytest.approx(500.0)
    assert default_focal_px(1920, 1080) == pytest.approx(1500.0)
    with pytest.raises(ValueError, match="468"):
        estimate_head_pose(np.zeros((10, 2)), 480, 640)
    bad = np.zeros((468, 2))
    bad[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        estimate_head_pose(bad, 480, 640)


def test_mirror_invariant_on_a_real_face(landmark_models, detector_model, astronaut):
    pytest.importorskip("ai_edge_litert")
    from gazesdk.runtime.detector import MediaPipeFaceDetector
    from gazesdk.runtime.face_mesh import FaceMesh, roi_from_detection

    det = MediaPipeFaceDetector(model_path=detector_model)
    mesh = FaceMesh(model_path=landmark_models[0])
    poses = []
    for img in (np.ascontiguousarray(astronaut), np.ascontiguousarray(astronaut[:, ::-1])):
        m = mesh.run(img, roi_from_detection(det.detect(img)[0]))
        m = mesh.run(img, m.next_roi())
        poses.append(estimate_head_pose(m.points, img.shape[1], img.shape[0]))
    det.close()
    a, b = poses
    assert a.yaw_deg == pytest.approx(-b.yaw_deg, abs=1.5)
    assert a.roll_deg == pytest.approx(-b.roll_deg, abs=1.5)
    assert a.pitch_deg == pytest.approx(b.pitch_deg, abs=1.5)
    assert a.translation_cm[0] == pytest.approx(-b.translation_cm[0], abs=0.5)
    # she faces the lens: the face points at the camera (a head turned from the optical axis
    # by the direction to her face), so yaw stays small; the distance is a portrait's
    assert abs(a.yaw_deg) < 10 and 30 < a.translation_cm[2] < 90
    assert math.isfinite(a.reprojection_px) and a.reprojection_px < 6
