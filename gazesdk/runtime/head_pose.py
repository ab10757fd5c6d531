"""Head pose from the face mesh: PnP of the mesh's 468 image points against a canonical 3-D face
(``data/canonical_face.npy``, cm) with pinhole intrinsics.

Frames (GazeSim's and GazeCapture's camera frame, :mod:`gazesdk.sim.rotation`): x right and y up
as the user sees the screen, z from the screen towards the user. The head frame has its origin
at the midpoint of the eyeball centres, x towards the subject's right, y up, z towards the back
of the head; ``R`` maps head to camera, ``t`` is the eye midpoint in camera cm. Angles follow
:func:`gazesdk.sim.rotation.euler_to_matrix` (R = Ry(yaw) Rx(pitch) Rz(roll)): positive yaw
turns the face towards +x (the user's right), positive pitch up, positive roll turns the head's
up axis towards -x; 0 is an upright face looking into the camera.

The canonical face is ours, measured (``tools/fit_canonical_face.py``): every mesh point
triangulated over GazeSim frames whose head poses are known exactly (a linear least-squares
solve per point), in cm. The camera's focal length in pixels is not in a phone's screen
geometry; :func:`default_focal_px` assumes GazeSim's camera (500 px for a 640 px long side,
about 65 degrees across the long side, typical of phones' front cameras). Angles barely depend
on it; the distance scales with it, so pass the real one (iOS's camera intrinsic matrix,
Android's ``LENS_INFO_AVAILABLE_FOCAL_LENGTHS`` over the sensor size) for metric translation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

FOCAL_PER_LONG_SIDE = 500.0 / 640.0
_TO_OPENCV = np.diag([-1.0, -1.0, 1.0])     # OpenCV's camera: x right, y down in the image


@dataclass(frozen=True)
class HeadPose:
    """Yaw, pitch, roll in degrees and the eye midpoint (x, y, z) in camera cm (see the
    module for both frames); ``reprojection_px``: the mesh's RMS distance from the fitted
    face, in frame pixels."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    translation_cm: tuple[float, float, float]
    reprojection_px: float


@cache
def canonical_face() -> np.ndarray:
    """(468, 3) canonical face in head-frame cm (read-only)."""
    with resources.files("gazesdk.runtime").joinpath("data/canonical_face.npy").open("rb") as f:
        face = np.load(f)
    face.setflags(write=False)
    return face


def default_focal_px(frame_w: int, frame_h: int) -> float:
    """GazeSim's focal length scaled to the frame's long side."""
    return FOCAL_PER_LONG_SIDE * max(frame_w, frame_h)


def matrix_to_euler(rot: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in radians of a head-to-camera rotation, the inverse of
    :func:`gazesdk.sim.rotation.euler_to_matrix` (pitch within +-90 degrees)."""
    r = np.asarray(rot, np.float64)
    pitch = math.asin(max(-1.0, min(1.0, -r[1, 2])))
    yaw = math.atan2(-r[0, 2], r[2, 2])
    roll = math.atan2(r[1, 0], r[1, 1])
    return yaw, pitch, roll


def estimate_head_pose(points: np.ndarray, frame_w: int, frame_h: int, *,
                       focal_px: float | None = None,
                       model: np.ndarray | None = None) -> HeadPose | None:
    """The head pose for mesh ``points`` ((468, >=2) frame pixels), or None when PnP fails."""
    import cv2

    obj = canonical_face() if model is None else np.asarray(model, np.float64)
    img = np.ascontiguousarray(np.asarray(points, np.float64)[:, :2])
    if img.shape != (len(obj), 2) or not np.isfinite(img).all():
        raise ValueError(f"head pose needs ({len(obj)}, 2) finite points, got {img.shape}")
    f = default_focal_px(frame_w, frame_h) if focal_px is None else float(focal_px)
    k = np.array([[f, 0.0, frame_w / 2.0], [0.0, f, frame_h / 2.0], [0.0, 0.0, 1.0]])
    # SQPnP (Terzakis and Lourakis 2020): the global least-squares optimum, ~0.1 ms for 468
    # points, where EPnP + Levenberg-Marquardt takes ~1 ms for the same answer
    ok, rvec, tvec = cv2.solvePnP(obj, img, k, None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok or not np.isfinite(tvec).all() or tvec[2, 0] <= 0:
        return None
    rot_cv = cv2.Rodrigues(rvec)[0]
    cam = obj @ rot_cv.T + tvec[:, 0]
    proj = cam[:, :2] / cam[:, 2:3] * f + k[:2, 2]
    rms = float(np.sqrt(np.mean(np.sum((proj - img) ** 2, axis=1))))
    yaw, pitch, roll = matrix_to_euler(_TO_OPENCV @ rot_cv)
    t = _TO_OPENCV @ tvec[:, 0]
    return HeadPose(math.degrees(yaw), math.degrees(pitch), math.degrees(roll),
                    (float(t[0]), float(t[1]), float(t[2])), rms)


def triangulate_canonical(points: np.ndarray, rotations: np.ndarray, translations: np.ndarray,
                          frame_wh: np.ndarray, focal_px: float) -> np.ndarray:
    """(P, 3) head-frame points that best explain image points ``points`` (N, P, 2) seen in N
    frames with known head-to-camera ``rotations`` (N, 3, 3), eye midpoints ``translations``
    (N, 3, camera cm) and frame sizes (N, 2): per point, the linear least-squares solution of
    (u - cx) z + f x = 0 and (v - cy) z + f y = 0 with (x, y, z) = R X + t (GazeSim's pinhole,
    :class:`gazesdk.sim.camera.Camera`)."""
    pts = np.asarray(points, np.float64)
    rot = np.asarray(rotations, np.float64)
    t = np.asarray(translations, np.float64)
    a = pts - np.asarray(frame_wh, np.float64)[:, None, :] / 2.0          # (N, P, 2)
    out = np.zeros((pts.shape[1], 3))
    for j in range(pts.shape[1]):
        rows, rhs = [], []
        for axis in (0, 1):
            aj = a[:, j, axis][:, None]                                     # (N, 1)
            rows.append(aj * rot[:, 2] + focal_px * rot[:, axis])
            rhs.append(-(aj[:, 0] * t[:, 2] + focal_px * t[:, axis]))
        out[j] = np.linalg.lstsq(np.concatenate(rows), np.concatenate(rhs), rcond=None)[0]
    return out
