"""Rotations for head pose and kappa, batched over a leading axis."""

from __future__ import annotations

import numpy as np


def euler_to_matrix(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations from angles in radians, applied roll, then pitch, then yaw.

    In the camera frame (x right, y up, z from the screen towards the user) a neutral face looks
    along -z. Positive yaw turns the facing direction towards +x (the user's right), positive
    pitch towards +y (up); positive roll turns the head's up axis towards -x.
    """
    yaw, pitch, roll = (np.asarray(a, np.float64) for a in (yaw, pitch, roll))
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    one, zero = np.ones_like(cy), np.zeros_like(cy)
    ry = np.stack([cy, zero, -sy, zero, one, zero, sy, zero, cy], -1).reshape(*cy.shape, 3, 3)
    rx = np.stack([one, zero, zero, zero, cp, -sp, zero, sp, cp], -1).reshape(*cy.shape, 3, 3)
    rz = np.stack([cr, -sr, zero, sr, cr, zero, zero, zero, one], -1).reshape(*cy.shape, 3, 3)
    return ry @ rx @ rz


def rotate_towards(v: np.ndarray, horizontal: np.ndarray, vertical: np.ndarray) -> np.ndarray:
    """Rotate direction vectors (N, 3) given in a head frame by small angles (radians): first
    about the vertical axis (positive moves the direction towards +x), then about the horizontal
    axis (positive moves it towards +y)."""
    ch, sh = np.cos(horizontal), np.sin(horizontal)
    x = v[:, 0] * ch - v[:, 2] * sh
    z = v[:, 0] * sh + v[:, 2] * ch
    cv, sv = np.cos(vertical), np.sin(vertical)
    y = v[:, 1] * cv - z * sv
    z2 = v[:, 1] * sv + z * cv
    return np.stack([x, y, z2], axis=1)
