"""Face detection behind a small protocol; the adapter is MediaPipe Tasks' ``FaceDetector``
(BlazeFace short range; Bazarevsky et al. 2019, "BlazeFace: Sub-millisecond Neural Face
Detection on Mobile GPUs").

Frames: boxes and keypoints are in pixels of the upright, unmirrored camera frame, x to the
right and y down from its top-left corner. Eye keypoints are named after the subject's eyes:
the subject's left eye appears on the right of the image.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from gazesdk.errors import ConfigError

# BlazeFace's six keypoints in MediaPipe's order.
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion",
                  "left_ear_tragion")


@dataclass(frozen=True)
class FaceDetection:
    """One face: ``box`` (x, y, w, h) and ``keypoints`` {name: (x, y)} in frame pixels."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: dict[str, tuple[float, float]]

    @property
    def area(self) -> float:
        return self.box[2] * self.box[3]


class FaceDetector(Protocol):
    """What the runtime needs from a detector: faces in an RGB uint8 frame."""

    def detect(self, rgb: np.ndarray) -> list[FaceDetection]: ...

    def close(self) -> None: ...


class MediaPipeFaceDetector:
    """MediaPipe Tasks ``FaceDetector`` in IMAGE mode (the runtime checks video timestamps
    itself; BlazeFace has no tracking state for VIDEO mode to use).

    ``model_path``: the BlazeFace short-range ``.tflite``; None finds (and on first use
    fetches) it with :func:`gazesdk.runtime.assets.detector_model_path`.
    """

    def __init__(self, *, model_path: str | os.PathLike | None = None,
                 min_detection_confidence: float = 0.5,
                 min_suppression_threshold: float = 0.3) -> None:
        for name, v in (("min_detection_confidence", min_detection_confidence),
                        ("min_suppression_threshold", min_suppression_threshold)):
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"{name} must lie in [0, 1], got {v}")
        from gazesdk.runtime.quiet import quiet_native_logs

        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError:
            raise ConfigError("face detection needs mediapipe: pip install "
                              "'gazesdk[runtime]' (mediapipe==0.10.31)") from None
        from gazesdk.runtime.assets import detector_model_path

        self.model_path = detector_model_path(model_path)
        self._mp = mp
        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=min_detection_confidence,
            min_suppression_threshold=min_suppression_threshold)
        with quiet_native_logs():
            self._detector = vision.FaceDetector.create_from_options(options)
            # the first call sets up XNNPACK, which logs; later calls are silent
            self._detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB,
                                           data=np.zeros((64, 64, 3), np.uint8)))

    def detect(self, rgb: np.ndarray) -> list[FaceDetection]:
        """Faces in ``rgb`` ((H, W, 3) uint8, C-contiguous), best score first."""
        if self._detector is None:
            raise ValueError("the face detector is closed")
        h, w = rgb.shape[:2]
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        found = []
        for d in self._detector.detect(image).detections:
            b = d.bounding_box
            kp = {name: (float(k.x) * w, float(k.y) * h)
                  for name, k in zip(KEYPOINT_NAMES, d.keypoints, strict=False)}
            found.append(FaceDetection(box=(float(b.origin_x), float(b.origin_y),
                                            float(b.width), float(b.height)),
                                       score=float(d.categories[0].score), keypoints=kp))
        return sorted(found, key=lambda f: -f.score)

    def close(self) -> None:
        if self._detector is not None:
            self._detector.close()
            self._detector = None

    def __del__(self) -> None:
        # MediaPipe's own finaliser fails at interpreter exit; close while modules still exist
        try:
            self.close()
        except Exception:   # noqa: BLE001 - nothing to report during garbage collection
            pass
