"""MediaPipe's face mesh: 468 points on a face from a ROI (Kartynnik et al. 2019, "Real-time
Facial Surface Geometry from Monocular Video on Mobile GPUs"; ``face_landmark.tflite``).

Pre- and post-processing are ours, written from the model's documented layout: a 192x192 RGB
input in [0, 1] showing the ROI (the face's box scaled by 1.5, square, levelled on the eyes),
1404 outputs (468 x, y, z in input pixels) and a face-presence logit. Points come back in frame
pixels (see :mod:`gazesdk.runtime.roi`); z is in the same pixel scale, towards the camera
negative, relative to the face's centre.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from gazesdk.runtime.detector import FaceDetection
from gazesdk.runtime.litert_model import LiteRTModel
from gazesdk.runtime.mesh_mirror import average_with_mirrored
from gazesdk.runtime.roi import Roi, crop_roi, roi_from_box, roi_from_points, roi_to_frame

N_POINTS = 468
ROI_SCALE = 1.5
# Mesh indices, named for the subject (the subject's right eye is on the image's left).
RIGHT_EYE_OUTER, RIGHT_EYE_INNER = 33, 133
LEFT_EYE_INNER, LEFT_EYE_OUTER = 362, 263


@dataclass(frozen=True)
class FaceMeshResult:
    """``points`` (468, 3) in frame pixels; ``score`` the face-presence probability; ``roi``
    the region the model saw."""

    points: np.ndarray
    score: float
    roi: Roi

    def next_roi(self) -> Roi:
        """Where to look in the next frame: the mesh's box, levelled on the outer eye corners
        (MediaPipe's landmarks-to-ROI rule)."""
        return roi_from_points(self.points, RIGHT_EYE_OUTER, LEFT_EYE_OUTER, scale=ROI_SCALE)


def roi_from_detection(face: FaceDetection) -> Roi:
    """The mesh's ROI for a BlazeFace detection: its box x 1.5, levelled on the eyes."""
    return roi_from_box(face.box, np.asarray(face.keypoints["right_eye"]),
                        np.asarray(face.keypoints["left_eye"]), scale=ROI_SCALE)


class FaceMesh:
    """The face mesh model on the LiteRT interpreter. ``model_path`` None: the cached copy
    (fetched on first use, verified). ``mirror_average``: also run on the mirrored ROI and
    average (:mod:`gazesdk.runtime.mesh_mirror`; two inferences per frame)."""

    def __init__(self, *, model_path: str | os.PathLike[str] | None = None,
                 threads: int = 1, mirror_average: bool = False) -> None:
        from gazesdk.runtime.assets import face_landmark_model_path

        self._model = LiteRTModel(face_landmark_model_path(model_path), threads=threads)
        self.size = self._model.input_size
        self.mirror_average = bool(mirror_average)

    def _infer(self, rgb: np.ndarray, roi: Roi, flip: bool) -> tuple[np.ndarray, float]:
        out = self._model(crop_roi(rgb, roi, self.size, flip=flip))
        raw = self._model.output(out, N_POINTS * 3).reshape(N_POINTS, 3) / self.size
        logit = float(self._model.output(out, 1)[0])
        points = np.empty((N_POINTS, 3))
        points[:, :2] = roi_to_frame(roi, raw[:, :2], flip=flip)
        points[:, 2] = raw[:, 2] * roi.side
        # the face-presence logit through a sigmoid that cannot overflow on a garbage frame
        return points, float(np.exp(-np.logaddexp(0.0, -logit)))

    def run(self, rgb: np.ndarray, roi: Roi) -> FaceMeshResult:
        """The mesh of the face in ``roi`` of ``rgb`` ((H, W, 3) uint8 RGB)."""
        points, score = self._infer(rgb, roi, False)
        if self.mirror_average:
            mirrored, score_m = self._infer(rgb, roi, True)
            points = average_with_mirrored(points, mirrored)
            score = (score + score_m) / 2
        return FaceMeshResult(points, score, roi)
