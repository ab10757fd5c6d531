"""MediaPipe's BlazeFace on a real photo, against the values noted for it (../shared notes:
score 0.922, box (177.6, 82.9, 95.3, 95.3), six keypoints)."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.runtime.detector import KEYPOINT_NAMES, MediaPipeFaceDetector

KEYPOINTS = {"right_eye": (201.5, 104.9), "left_eye": (245.8, 109.1),
             "nose_tip": (220.4, 127.3), "mouth_center": (219.8, 148.6),
             "right_ear_tragion": (178.2, 115.7), "left_ear_tragion": (272.2, 123.9)}


@pytest.fixture(scope="module")
def detector(detector_model):
    pytest.importorskip("mediapipe")
    d = MediaPipeFaceDetector(model_path=detector_model)
    yield d
    d.close()


def test_astronaut_box_score_and_keypoints(detector, astronaut):
    faces = detector.detect(np.ascontiguousarray(astronaut))
    assert len(faces) == 1
    f = faces[0]
    assert f.score == pytest.approx(0.922, abs=0.01)
    # Tasks rounds the box to whole pixels: (177.6, 82.9, 95.3, 95.3) -> within 1 px
    assert np.allclose(f.box, (177.6, 82.9, 95.3, 95.3), atol=1.0)
    assert tuple(f.keypoints) == KEYPOINT_NAMES
    for name, xy in KEYPOINTS.items():
        assert np.allclose(f.keypoints[name], xy, atol=0.6), name
    # the subject's left eye is on the image's right (an unmirrored photo)
    assert f.keypoints["left_eye"][0] > f.keypoints["right_eye"][0]


def test_no_face_in_a_blank_or_noise_frame(detector):
    assert detector.detect(np.zeros((240, 320, 3), np.uint8)) == []
    noise = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    assert detector.detect(noise) == []


def test_options_are_checked(detector_model):
    with pytest.raises(ValueError, match="min_detection_confidence"):
        MediaPipeFaceDetector(model_path=detector_model, min_detection_confidence=1.5)


def test_closed_detector_refuses(detector_model, astronaut):
    d = MediaPipeFaceDetector(model_path=detector_model)
    d.close()
    d.close()                                    # closing twice is fine
    with pytest.raises(ValueError, match="closed"):
        d.detect(astronaut)
