"""Detect once, then follow the face with its own mesh: the face ROI of frame t comes from
frame t-1's face mesh (MediaPipe's face-mesh graph works this way), and BlazeFace runs only on
the first frame, when the mesh's face-presence score falls below ``min_track_score``, or when
the tracked ROI's centre leaves the frame. In IMAGE use (``video=False``) every call detects.

A track never outlives its face: when the mesh loses it, the tracker detects again in the same
frame, and with no face found it forgets the track, so the next frame starts from a detection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.runtime.detector import FaceDetection, FaceDetector
from gazesdk.runtime.face_mesh import FaceMesh, FaceMeshResult, roi_from_detection
from gazesdk.runtime.roi import Roi


class FaceSource(str, Enum):
    """Where a frame's face ROI came from."""

    DETECTED = "detected"
    TRACKED = "tracked"
    HELD = "held"           # the estimator's fast configuration: the last refresh's boxes


@dataclass(frozen=True)
class TrackedFace:
    """One frame's face: the mesh (frame pixels), where its ROI came from, the detection when
    one ran, and how many faces it found (None and 0 on tracked frames: nothing was
    detected)."""

    mesh: FaceMeshResult
    source: FaceSource
    detection: FaceDetection | None = None
    faces_found: int = 0


class FaceTracker:
    """Faces for a stream of frames from a detector and a face mesh (both shared, not owned).

    ``select(faces, frame_w, frame_h)`` picks the face to follow among several detections
    (default: the first, i.e. the most confident); ``min_track_score``: MediaPipe's
    face-presence threshold. ``last_detect_ms`` / ``last_mesh_ms``: the time the last
    :meth:`update` spent in each model.
    """

    def __init__(self, detector: FaceDetector, mesh: FaceMesh, *,
                 select: Callable[[list[FaceDetection], int, int], FaceDetection] | None = None,
                 min_track_score: float = 0.5) -> None:
        if not 0.0 < min_track_score < 1.0:
            raise ConfigError(f"min_track_score must lie in (0, 1), got {min_track_score}")
        self.detector, self.mesh = detector, mesh
        self.select = select or (lambda faces, w, h: faces[0])
        self.min_track_score = min_track_score
        self._roi: Roi | None = None
        self.last_detect_ms = self.last_mesh_ms = 0.0

    def reset(self) -> None:
        """Forget the track: the next frame detects."""
        self._roi = None

    def update(self, rgb: np.ndarray, *, video: bool = True) -> TrackedFace | None:
        """The face in ``rgb`` ((H, W, 3) uint8 RGB), or None when there is none (or the mesh
        does not confirm the detected one)."""
        clock = time.perf_counter_ns
        h, w = rgb.shape[:2]
        self.last_detect_ms = self.last_mesh_ms = 0.0
        if video and self._roi is not None and self._roi.inside(w, h):
            t0 = clock()
            tracked = self.mesh.run(rgb, self._roi)
            self.last_mesh_ms += (clock() - t0) / 1e6
            if tracked.score >= self.min_track_score:
                self._roi = tracked.next_roi()
                return TrackedFace(tracked, FaceSource.TRACKED)
        self._roi = None
        t0 = clock()
        faces = self.detector.detect(rgb)
        t1 = clock()
        self.last_detect_ms = (t1 - t0) / 1e6
        if not faces:
            return None
        face = self.select(faces, w, h)
        found = self.mesh.run(rgb, roi_from_detection(face))
        self.last_mesh_ms += (clock() - t1) / 1e6
        if found.score < self.min_track_score:
            return None
        if video:
            self._roi = found.next_roi()
        return TrackedFace(found, FaceSource.DETECTED, face, len(faces))
