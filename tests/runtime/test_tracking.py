"""Tracking by the face mesh on real frames (the astronaut portrait): detect once then track,
re-detect after the face leaves, never a stale track; IMAGE use always detects."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CountingDetector

from gazesdk.errors import ConfigError

pytest.importorskip("ai_edge_litert")


@pytest.fixture(scope="module")
def parts(landmark_models, detector_model):
    from gazesdk.runtime.detector import MediaPipeFaceDetector
    from gazesdk.runtime.face_mesh import FaceMesh

    det = MediaPipeFaceDetector(model_path=detector_model)
    yield det, FaceMesh(model_path=landmark_models[0])
    det.close()


def _shifted(img: np.ndarray, dx: int) -> np.ndarray:
    return np.ascontiguousarray(np.roll(img, dx, axis=1))


def test_detect_once_then_track_then_lose_and_redetect(parts, astronaut):
    from gazesdk.runtime.tracking import FaceSource, FaceTracker

    det, mesh = parts
    counting = CountingDetector(det)
    tracker = FaceTracker(counting, mesh)
    rgb = np.ascontiguousarray(astronaut)
    frames = [_shifted(rgb, 2 * i) for i in range(6)]     # the face drifts 2 px a frame
    out = [tracker.update(f) for f in frames]
    assert [o.source for o in out] == [FaceSource.DETECTED] + [FaceSource.TRACKED] * 5
    assert counting.calls == 1
    # tracked eye corners follow the drift (2 px a frame) to within a pixel
    drift = out[-1].mesh.points[33, 0] - out[0].mesh.points[33, 0]
    assert abs(drift - 10) < 1.0
    # the face leaves: a blank frame gives no face and no stale track
    assert tracker.update(np.full_like(rgb, 128)) is None
    assert tracker._roi is None
    again = tracker.update(frames[0])
    assert again.source is FaceSource.DETECTED and counting.calls == 3


def test_image_use_always_detects(parts, astronaut):
    from gazesdk.runtime.tracking import FaceSource, FaceTracker

    det, mesh = parts
    counting = CountingDetector(det)
    tracker = FaceTracker(counting, mesh)
    rgb = np.ascontiguousarray(astronaut)
    for _ in range(3):
        assert tracker.update(rgb, video=False).source is FaceSource.DETECTED
    assert counting.calls == 3


def test_face_replaced_by_another_place_is_redetected(parts, astronaut):
    """The face jumps far away between frames (a cut, or another person): the old ROI shows no
    face, the tracker detects again in the same frame and follows the new place."""
    from gazesdk.runtime.tracking import FaceSource, FaceTracker

    det, mesh = parts
    tracker = FaceTracker(det, mesh)
    rgb = np.ascontiguousarray(astronaut)
    first = tracker.update(rgb)
    moved = tracker.update(_shifted(rgb, 200))
    assert moved.source is FaceSource.DETECTED
    assert abs(moved.mesh.points[33, 0] - first.mesh.points[33, 0] - 200) < 2.0


def test_bad_threshold():
    from gazesdk.runtime.tracking import FaceTracker

    with pytest.raises(ConfigError, match="min_track_score"):
        FaceTracker(None, None, min_track_score=1.5)
