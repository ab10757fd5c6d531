"""MediaPipe's face mesh and iris models through our pre- and post-processing, on a real face
(skimage's astronaut portrait): iris centres on the irises (positions checked by hand on an 8x
enlargement of the eyes), the mirror invariant, and bad model files."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.errors import ConfigError

pytest.importorskip("ai_edge_litert")

# Pupil centres read by hand off the enlarged photo (frame pixels, continuous coordinates).
HAND_IRIS = {"right_eye": (203.2, 101.0), "left_eye": (246.3, 103.5)}


@pytest.fixture(scope="module")
def models(landmark_models, detector_model):
    from gazesdk.runtime.detector import MediaPipeFaceDetector
    from gazesdk.runtime.face_mesh import FaceMesh
    from gazesdk.runtime.iris import IrisLandmarker

    det = MediaPipeFaceDetector(model_path=detector_model)
    yield det, FaceMesh(model_path=landmark_models[0]), IrisLandmarker(
        model_path=landmark_models[1])
    det.close()


def _landmarks(models, rgb):
    from gazesdk.runtime.face_mesh import roi_from_detection

    det, mesh, iris = models
    first = mesh.run(rgb, roi_from_detection(det.detect(rgb)[0]))
    tracked = mesh.run(rgb, first.next_roi())
    return first, tracked, iris.run(rgb, tracked.points)


def test_iris_centres_on_the_astronauts_irises(models, astronaut):
    first, tracked, eyes = _landmarks(models, np.ascontiguousarray(astronaut))
    assert first.score > 0.9 and tracked.score > 0.9
    for eye, (hx, hy) in HAND_IRIS.items():
        cx, cy = eyes[eye].iris_center
        assert np.hypot(cx - hx, cy - hy) < 1.5, (eye, cx, cy)
        # an iris of about 12 mm against eyes 44 px apart (about 63 mm): about 4 px radius
        assert 3.0 < eyes[eye].iris_radius < 5.0
    # the subject's right eye is on the image's left; corners bracket the iris
    from gazesdk.runtime.face_mesh import RIGHT_EYE_INNER, RIGHT_EYE_OUTER

    p = tracked.points
    assert p[RIGHT_EYE_OUTER, 0] < eyes["right_eye"].iris_center[0] < p[RIGHT_EYE_INNER, 0]


def test_mirrored_frame_gives_mirrored_landmarks(models, astronaut):
    rgb = np.ascontiguousarray(astronaut)
    flipped = np.ascontiguousarray(rgb[:, ::-1])
    w = rgb.shape[1]
    _, _, eyes = _landmarks(models, rgb)
    _, _, eyes_m = _landmarks(models, flipped)
    # mirroring swaps the eyes: the subject's right eye becomes the mirrored subject's left
    for eye, other in (("right_eye", "left_eye"), ("left_eye", "right_eye")):
        x, y = eyes[eye].iris_center
        xm, ym = eyes_m[other].iris_center
        assert abs((w - xm) - x) < 1.0 and abs(ym - y) < 1.0


def test_corrupted_model_file_is_one_line(tmp_path, landmark_models):
    from gazesdk.runtime.assets import AssetError
    from gazesdk.runtime.face_mesh import FaceMesh

    bad = tmp_path / "face_landmark.tflite"
    data = bytearray(landmark_models[0].read_bytes())
    data[1000:1100] = bytes(100)
    bad.write_bytes(bytes(data))
    with pytest.raises(AssetError, match="is not the expected face_landmark.tflite"):
        FaceMesh(model_path=bad)
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a model")
    from gazesdk.runtime.litert_model import LiteRTModel

    with pytest.raises(ConfigError) as e:
        LiteRTModel(junk)
    assert "\n" not in str(e.value) and "not a usable LiteRT model" in str(e.value)
