"""The pinhole camera: GazeCapture's frame conventions and the projection's Jacobian."""

from __future__ import annotations

import numpy as np

from gazesdk.sim import Camera
from gazesdk.sim.rotation import euler_to_matrix, rotate_towards


def test_projection_conventions():
    cam = Camera(focal_px=500.0)
    w, h = np.array([480.0]), np.array([640.0])
    # On the optical axis: the frame centre.
    np.testing.assert_allclose(cam.project(np.array([[0.0, 0.0, 30.0]]), w, h), [[240, 320]])
    # The user's right (+x) appears on the image's left (the camera faces the user);
    # up (+y) appears higher (smaller v). 3 cm at 30 cm with f = 500 px: 50 px.
    np.testing.assert_allclose(cam.project(np.array([[3.0, 0.0, 30.0]]), w, h), [[190, 320]])
    np.testing.assert_allclose(cam.project(np.array([[0.0, 3.0, 30.0]]), w, h), [[240, 270]])


def test_frame_size_follows_orientation():
    w, h = Camera().frame_size(np.array([1, 2, 3, 4]))
    assert w.tolist() == [480, 480, 640, 640] and h.tolist() == [640, 640, 480, 480]


def test_jacobian_matches_finite_differences():
    rng = np.random.default_rng(0)
    cam = Camera()
    p = np.c_[rng.uniform(-10, 10, (5, 2)), rng.uniform(20, 60, 5)]
    axes = rng.normal(size=(5, 2, 3))
    w, h = np.full(5, 480.0), np.full(5, 640.0)
    eps = 1e-6
    for k in range(2):
        numeric = (cam.project(p + eps * axes[:, k], w, h)
                   - cam.project(p - eps * axes[:, k], w, h)) / (2 * eps)
        np.testing.assert_allclose(cam.jacobian(p, axes)[:, :, k], numeric, rtol=1e-5)


def test_euler_conventions():
    forward = np.array([0.0, 0.0, -1.0])                 # a neutral face looks at the screen
    r = euler_to_matrix(np.array([0.3]), np.array([0.0]), np.array([0.0]))[0]
    np.testing.assert_allclose(r @ forward, [np.sin(0.3), 0, -np.cos(0.3)], atol=1e-12)
    r = euler_to_matrix(np.array([0.0]), np.array([0.2]), np.array([0.0]))[0]
    np.testing.assert_allclose(r @ forward, [0, np.sin(0.2), -np.cos(0.2)], atol=1e-12)
    r = euler_to_matrix(*np.random.default_rng(1).normal(size=(3, 4)))
    np.testing.assert_allclose(r @ r.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (4, 3, 3)),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0)


def test_rotate_towards_moves_direction_as_documented():
    v = np.array([[0.0, 0.0, -1.0]])
    np.testing.assert_allclose(rotate_towards(v, np.array([0.1]), np.array([0.0])),
                               [[np.sin(0.1), 0, -np.cos(0.1)]], atol=1e-12)
    np.testing.assert_allclose(rotate_towards(v, np.array([0.0]), np.array([0.1])),
                               [[0, np.sin(0.1), -np.cos(0.1)]], atol=1e-12)
