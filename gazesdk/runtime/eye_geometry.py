"""Where each iris sits in its eye, as numbers a model can take beside the patches (issue 17).

MediaPipe's iris model learnt from real eyes; its iris centre, measured against the face mesh's
eye corners, carries what a real eye says about gaze even where our simulator's eye appearance
does not transfer. Per eye, with c_a and c_b the eye's corners on the image's left and right:

    m = (c_a + c_b) / 2,  w = |c_b - c_a|,  e1 = (c_b - c_a) / w,  e2 = e1 rotated +90 degrees
    u = (iris - m) . e1 / w,  v = (iris - m) . e2 / w

u is the iris's offset along the eye line (image right positive), v across it (image down
positive), both in eye widths: invariant to scale, position and roll, and under a mirror of the
frame the eyes swap and u changes sign. The model input is
``eye_geometry`` (N, 4) = (left u, left v, right u, right v), the subject's eyes in the order of
the eye patches.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gazesdk.runtime.iris import EYE_CORNERS, EyeLandmarks

GEOMETRY_NAME = "eye_geometry"
GEOMETRY_ORDER = ("left_eye", "right_eye")      # as the patches: left, then right
GEOMETRY_DIM = 4


def iris_in_eye(iris: np.ndarray, corner_a: np.ndarray, corner_b: np.ndarray
                ) -> tuple[float, float]:
    """(u, v) of one iris centre against its eye corners (image-left ``corner_a``, image-right
    ``corner_b``), in eye widths; raises ValueError for coincident corners."""
    a, b = np.asarray(corner_a, np.float64)[:2], np.asarray(corner_b, np.float64)[:2]
    axis = b - a
    width = float(np.hypot(*axis))
    if not width > 0:
        raise ValueError("the eye's corners coincide: no eye line to measure the iris on")
    e1 = axis / width
    e2 = np.array([-e1[1], e1[0]])
    d = np.asarray(iris, np.float64)[:2] - (a + b) / 2
    return float(d @ e1 / width), float(d @ e2 / width)


def eye_geometry(mesh_points: np.ndarray, eyes: Mapping[str, EyeLandmarks]) -> np.ndarray:
    """(4,) float32 (left u, left v, right u, right v) from face-mesh points (468, >=2, frame
    pixels) and both eyes' iris landmarks (:meth:`gazesdk.runtime.iris.IrisLandmarker.run`)."""
    pts = np.asarray(mesh_points)
    out = []
    for eye in GEOMETRY_ORDER:
        a, b, _ = EYE_CORNERS[eye]
        out.extend(iris_in_eye(np.asarray(eyes[eye].iris_center), pts[a], pts[b]))
    return np.asarray(out, np.float32)

