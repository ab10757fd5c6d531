"""MediaPipe's iris model: 71 eye-contour and 5 iris points per eye (Ablavatski et al. 2020,
"Real-time Pupil Tracking from Monocular Video for Digital Puppetry"; ``iris_landmark.tflite``).

Pre- and post-processing are ours, from the model's documented layout: a 64x64 RGB input in
[0, 1] showing one eye's ROI (the box of its two corners from the face mesh, x 2.3, square,
levelled on the corners). The model was trained on the image's left eye (the subject's right);
the other eye is mirrored in and its points mirrored back. Outputs: 213 (71 x, y, z) and 15
(5 x, y, z) values in input pixels; the first iris point is the iris centre. Points come back
in frame pixels.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from gazesdk.runtime.face_mesh import (
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
)
from gazesdk.runtime.litert_model import LiteRTModel
from gazesdk.runtime.roi import Roi, crop_roi, roi_from_points, roi_to_frame

N_CONTOUR, N_IRIS = 71, 5
ROI_SCALE = 2.3
# (corner on the image's left, corner on the image's right, mirrored) per eye, subject's names
EYE_CORNERS = {"right_eye": (RIGHT_EYE_OUTER, RIGHT_EYE_INNER, False),
               "left_eye": (LEFT_EYE_INNER, LEFT_EYE_OUTER, True)}


@dataclass(frozen=True)
class EyeLandmarks:
    """One eye: ``contour`` (71, 2) and ``iris`` (5, 2, centre first) in frame pixels, and the
    ``roi`` the model saw."""

    contour: np.ndarray
    iris: np.ndarray
    roi: Roi

    @property
    def iris_center(self) -> tuple[float, float]:
        return float(self.iris[0, 0]), float(self.iris[0, 1])

    @property
    def iris_radius(self) -> float:
        """Mean distance of the four rim points from the centre, pixels."""
        return float(np.linalg.norm(self.iris[1:] - self.iris[0], axis=1).mean())


def eye_roi(mesh_points: np.ndarray, eye: str) -> Roi:
    """The iris model's ROI for ``eye`` ("right_eye"/"left_eye") from face-mesh points."""
    a, b, _ = EYE_CORNERS[eye]
    corners = np.asarray(mesh_points)[[a, b], :2]
    return roi_from_points(corners, 0, 1, scale=ROI_SCALE)


class IrisLandmarker:
    """The iris model on the LiteRT interpreter. ``model_path`` None: the cached copy (fetched
    on first use, verified)."""

    def __init__(self, *, model_path: str | os.PathLike[str] | None = None,
                 threads: int = 1) -> None:
        from gazesdk.runtime.assets import iris_landmark_model_path

        self._model = LiteRTModel(iris_landmark_model_path(model_path), threads=threads)
        self.size = self._model.input_size

    def run_eye(self, rgb: np.ndarray, roi: Roi, *, mirrored: bool) -> EyeLandmarks:
        out = self._model(crop_roi(rgb, roi, self.size, flip=mirrored))
        contour = self._model.output(out, N_CONTOUR * 3).reshape(N_CONTOUR, 3)[:, :2]
        iris = self._model.output(out, N_IRIS * 3).reshape(N_IRIS, 3)[:, :2]
        return EyeLandmarks(roi_to_frame(roi, contour / self.size, flip=mirrored),
                            roi_to_frame(roi, iris / self.size, flip=mirrored), roi)

    def run(self, rgb: np.ndarray, mesh_points: np.ndarray) -> dict[str, EyeLandmarks]:
        """Both eyes' landmarks, keyed "right_eye" and "left_eye" (the subject's)."""
        return {eye: self.run_eye(rgb, eye_roi(mesh_points, eye), mirrored=flip)
                for eye, (_, _, flip) in EYE_CORNERS.items()}
