"""GazeEstimator with the face mesh and iris (issue 16) on the real astronaut portrait:
landmark crops, tracking in VIDEO mode and detection in IMAGE mode, iris centres, eye openness
and blinks, head pose, the fast configuration, the box stabiliser, and the misuse paths (a face
leaving, two faces swapping, corrupted model files, contradictory options)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from helpers import CountingDetector

from gazesdk.errors import ConfigError, GazeSDKError
from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, InvalidReason
from gazesdk.runtime.box_stabiliser import BoxStabiliserOptions
from gazesdk.runtime.tracking import FaceSource

pytest.importorskip("mediapipe")
pytest.importorskip("onnxruntime")
pytest.importorskip("ai_edge_litert")

# Hand-checked iris centres on the astronaut portrait (tests/runtime/test_landmarks.py)
RIGHT_IRIS, LEFT_IRIS = (203.2, 101.0), (246.3, 103.5)


@pytest.fixture(scope="module")
def parts(detector_model, landmark_models):
    from gazesdk.runtime.backends import create_backend
    from gazesdk.runtime.detector import MediaPipeFaceDetector
    from gazesdk.runtime.face_mesh import FaceMesh
    from gazesdk.runtime.iris import IrisLandmarker

    det = MediaPipeFaceDetector(model_path=detector_model)
    yield {"detector": det, "backend": create_backend(backend="onnxruntime", precision="int8"),
           "mesh": FaceMesh(model_path=landmark_models[0]),
           "iris": IrisLandmarker(model_path=landmark_models[1])}
    det.close()


def make(parts, **options):
    p = dict(parts)
    p["detector"] = CountingDetector(parts["detector"])
    options.setdefault("crop", "landmarks-v1")
    return GazeEstimator(GazeEstimatorOptions(**options), **p)


def portrait(astronaut, dx=0, dy=0, size=(480, 640)):
    """The astronaut's face in a phone-like portrait frame, moved by (dx, dy)."""
    w, h = size
    frame = np.full((h, w, 3), 90, np.uint8)
    face = astronaut[20:340, 80:380]
    y, x = 150 + dy, 90 + dx
    frame[y:y + face.shape[0], x:x + face.shape[1]] = face
    return frame


def test_image_mode_landmark_result_on_a_real_face(parts, astronaut):
    with make(parts) as est:
        r = est.estimate(astronaut)
    assert r.valid and r.face_source is FaceSource.DETECTED and r.face is not None
    assert r.landmarks.shape == (468, 3)
    assert np.hypot(*np.subtract(r.right_iris_px, RIGHT_IRIS)) < 1.5
    assert np.hypot(*np.subtract(r.left_iris_px, LEFT_IRIS)) < 1.5
    assert 0.3 < r.right_eye_openness < 0.5 and 0.3 < r.left_eye_openness < 0.5
    assert r.blink is not None and not r.blink.closed
    assert abs(r.head_pose.yaw_deg) < 10 and 30 < r.head_pose.translation_cm[2] < 90
    # landmark eye boxes are centred on the eyes' corner midpoints, which lie near the irises
    for box, iris in ((r.right_eye_box, RIGHT_IRIS), (r.left_eye_box, LEFT_IRIS)):
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        assert abs(cx - iris[0]) < 4 and abs(cy - iris[1]) < 4
    assert r.timings.mesh > 0 and r.timings.iris > 0 and r.timings.detect > 0


def test_video_tracks_after_one_detection(parts, astronaut):
    with make(parts, running_mode="video") as est:
        sources = [est.estimate_for_video(portrait(astronaut, dx=k), 33 * k).face_source
                   for k in range(6)]
        assert sources == [FaceSource.DETECTED] + [FaceSource.TRACKED] * 5
        assert est.detector.calls == 1


def test_image_mode_detects_every_time(parts, astronaut):
    with make(parts) as est:
        for _ in range(3):
            assert est.estimate(astronaut).face_source is FaceSource.DETECTED
        assert est.detector.calls == 3


def test_a_face_leaving_leaves_no_stale_track(parts, astronaut):
    blank = np.full((640, 480, 3), 90, np.uint8)
    with make(parts, running_mode="video") as est:
        assert est.estimate_for_video(portrait(astronaut), 0).valid
        assert est.estimate_for_video(portrait(astronaut), 33).face_source is FaceSource.TRACKED
        gone = est.estimate_for_video(blank, 66)
        assert not gone.valid and gone.invalid_reason is InvalidReason.NO_FACE
        assert gone.landmarks is None and gone.face_box is None
        back = est.estimate_for_video(portrait(astronaut, dx=60, dy=80), 99)
        assert back.valid and back.face_source is FaceSource.DETECTED
        # the new boxes are where the face is now, not where it was
        cx = back.face_box[0] + back.face_box[2] / 2
        assert abs(cx - (90 + 60 + 150)) < 30


def test_two_faces_swapping_follow_a_face_that_is_there(parts, astronaut):
    face = astronaut[30:330, 90:370]
    canvas_a = np.full((640, 720, 3), 80, np.uint8)
    small = cv2.resize(face, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
    canvas_a[40:40 + face.shape[0], 20:20 + face.shape[1]] = face
    canvas_a[340:340 + small.shape[0], 480:480 + small.shape[1]] = small
    canvas_b = np.full_like(canvas_a, 80)                 # the two faces swap places
    canvas_b[40:40 + small.shape[0], 20:20 + small.shape[1]] = small
    canvas_b[320:320 + face.shape[0], 430:430 + face.shape[1]] = face
    with make(parts, running_mode="video") as est:
        for k, canvas in enumerate([canvas_a] * 3 + [canvas_b] * 3):
            r = est.estimate_for_video(canvas, 33 * k)
            assert r.valid, r.message
            cx, cy = (r.face_box[0] + r.face_box[2] / 2, r.face_box[1] + r.face_box[3] / 2)
            # every box lies on one of the faces of the current frame
            faces_now = ([(20, 40, face.shape), (480, 340, small.shape)] if k < 3
                         else [(20, 40, small.shape), (430, 320, face.shape)])
            assert any(x <= cx <= x + s[1] and y <= cy <= y + s[0] for x, y, s in faces_now)


def test_blinks_on_a_real_face(parts, astronaut, astronaut_shut):
    frames = [astronaut] * 3 + [astronaut_shut] * 2 + [astronaut] * 2
    with make(parts, running_mode="video") as est:
        results = [est.estimate_for_video(f, 33 * k) for k, f in enumerate(frames)]
    closed = [r.blink.closed for r in results]
    assert closed == [False, False, False, True, True, False, False]
    assert results[3].blink.onset and not results[4].blink.onset and results[5].blink.offset
    assert results[3].blink.start_ms == 99
    for r in results[3:5]:        # a blink frame: no gaze, but the face and eyes are kept
        assert not r.valid and r.invalid_reason is InvalidReason.BLINK and r.gaze_cm is None
        assert r.landmarks is not None and r.left_eye_openness < 0.2
    assert results[5].valid
    with make(parts) as est:      # IMAGE mode: against the reference openness
        r = est.estimate(astronaut_shut)
        assert r.invalid_reason is InvalidReason.BLINK
    with make(parts, blink=None) as est:
        assert est.estimate(astronaut_shut).valid


def test_fast_configuration_holds_boxes_between_refreshes(parts, astronaut):
    with make(parts, running_mode="video", refresh_every=3) as est:
        rs = [est.estimate_for_video(portrait(astronaut), 33 * k) for k in range(7)]
        assert [r.face_source for r in rs] == [FaceSource.DETECTED, FaceSource.HELD,
                                               FaceSource.HELD, FaceSource.TRACKED,
                                               FaceSource.HELD, FaceSource.HELD,
                                               FaceSource.TRACKED]
        assert all(r.valid for r in rs) and est.detector.calls == 1
        assert rs[1].face_box == rs[0].face_box and rs[1].timings.mesh == 0
        # held frames reuse the last refresh's iris and eye geometry (no iris model run)
        assert rs[1].right_iris_px == rs[0].right_iris_px and rs[1].timings.iris == 0
        # a face that leaves is noticed at the next refresh (frame 7 held, 8 held, 9 refreshes),
        # and the track is gone
        blank = np.full((640, 480, 3), 90, np.uint8)
        r = [est.estimate_for_video(blank, 300 + 33 * k) for k in range(3)]
        assert [x.face_source for x in r[:2]] == [FaceSource.HELD, FaceSource.HELD]
        assert r[2].invalid_reason is InvalidReason.NO_FACE and r[2].face_box is None
        back = est.estimate_for_video(portrait(astronaut), 500)
        assert back.face_source is FaceSource.DETECTED and est.detector.calls == 3
        # a new frame size is a refresh, never a held box cut from a frame it does not fit
        small = cv2.resize(portrait(astronaut), (360, 480), interpolation=cv2.INTER_AREA)
        r = est.estimate_for_video(small, 533)
        assert r.valid and r.face_source is not FaceSource.HELD
        assert r.face_box[0] + r.face_box[2] <= 360 and r.face_box[1] + r.face_box[3] <= 480


def test_held_frames_carry_no_blink(parts, astronaut, astronaut_shut):
    with make(parts, running_mode="video", refresh_every=3) as est:
        rs = [est.estimate_for_video(f, 33 * k) for k, f in
              enumerate([astronaut, astronaut, astronaut, astronaut_shut, astronaut_shut])]
    assert rs[3].invalid_reason is InvalidReason.BLINK and rs[3].blink.onset
    assert rs[4].face_source is FaceSource.HELD and rs[4].blink is None


def test_box_stabiliser_steadies_boxes_on_a_shaken_real_face(parts, astronaut):
    rng = np.random.default_rng(3)
    frames = []
    for _ in range(12):
        noisy = portrait(astronaut).astype(np.int16) + rng.normal(0, 25, (640, 480, 3))
        frames.append(np.clip(noisy, 0, 255).astype(np.uint8))

    def spread(**kw):
        with make(parts, running_mode="video", head_pose=False, **kw) as est:
            boxes = np.array([est.estimate_for_video(f, 33 * k).right_eye_box
                              for k, f in enumerate(frames)], float)
        return boxes[2:].std(axis=0).sum()

    assert spread(box_stabiliser=BoxStabiliserOptions(alpha=0.3)) < spread(box_stabiliser=None)


def test_keypoint_crops_by_name_match_the_old_pipeline(parts, astronaut):
    with make(parts, crop="keypoints-v1") as est:
        r = est.estimate(astronaut)
    assert r.face_box == (168, 68, 109, 109) and r.landmarks is not None
    # the bundled model is hybrid (it takes the iris-in-eye geometry): without landmarks
    # there is nothing to feed it, and the estimator says so in one line
    with pytest.raises(ConfigError, match="hybrid model"):
        make(parts, crop="keypoints-v1", landmarks=False)


@pytest.mark.parametrize(("options", "words"), [
    ({"crop": "landmarks-v1", "landmarks": False}, "needs landmarks"),
    ({"refresh_every": 3}, "running_mode='video'"),
    ({"running_mode": "video", "refresh_every": 0}, "refresh_every"),
    ({"crop": "nose-v9"}, "unknown crop geometry"),
    ({"min_track_score": 1.0}, "min_track_score"),
    ({"camera_focal_px": -5.0}, "camera_focal_px"),
    ({"landmarks": "yes"}, "true or false"),
])
def test_contradictory_options(options, words):
    with pytest.raises(ConfigError, match=words):
        GazeEstimatorOptions(**options)


def test_options_from_dict_take_landmark_settings_strictly():
    o = GazeEstimatorOptions.from_dict({"running_mode": "video", "crop": "landmarks-v1",
                                        "blink": {"close_ratio": 0.6},
                                        "box_stabiliser": {"alpha": 0.4}})
    assert o.crop.name == "landmarks-v1" and o.blink.close_ratio == 0.6
    assert o.box_stabiliser.alpha == 0.4
    with pytest.raises(ConfigError, match="unknown blink option"):
        GazeEstimatorOptions.from_dict({"blink": {"close": 0.6}})


def test_corrupted_landmark_model_files(tmp_path, detector_model, monkeypatch):
    from gazesdk.runtime.detector import MediaPipeFaceDetector

    closed = []
    real_close = MediaPipeFaceDetector.close
    monkeypatch.setattr(MediaPipeFaceDetector, "close",
                        lambda self: closed.append(1) or real_close(self))
    bad = tmp_path / "face_landmark.tflite"
    bad.write_bytes(b"not a model" * 100)
    for key in ("face_landmark_model", "iris_landmark_model"):
        with pytest.raises(GazeSDKError, match="is not the expected") as e:
            GazeEstimator(GazeEstimatorOptions(detector_model=str(detector_model),
                                               **{key: str(bad)}))
        assert "\n" not in str(e.value)
    # the detector each failed estimator had opened was closed, not left to the collector
    assert len(closed) >= 2
