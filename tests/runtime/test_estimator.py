"""GazeEstimator end to end on a real photo, its modes, misuse, fuzzed frames and no network."""

from __future__ import annotations

import socket

import cv2
import numpy as np
import pytest

from gazesdk.errors import ConfigError, GazeSDKError
from gazesdk.geometry.devices import get_device
from gazesdk.geometry.screen import cam_cm_to_screen
from gazesdk.runtime import (
    FaceDetection,
    FaceSelection,
    GazeEstimator,
    GazeEstimatorOptions,
    InvalidReason,
    RunningMode,
    SmoothingOptions,
    TimestampError,
    select_face,
)
from gazesdk.runtime.smoothing import create_smoother

pytest.importorskip("mediapipe")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def shared(detector_model):
    """One detector and one int8 ONNX backend shared by the estimators of this module."""
    from gazesdk.runtime.backends import create_backend
    from gazesdk.runtime.detector import MediaPipeFaceDetector

    det = MediaPipeFaceDetector(model_path=detector_model)
    backend = create_backend(backend="onnxruntime", precision="int8")
    yield det, backend
    det.close()


def make(shared, **options) -> GazeEstimator:
    det, backend = shared
    return GazeEstimator(GazeEstimatorOptions(**options), detector=det, backend=backend)


def test_astronaut_end_to_end(shared, astronaut):
    with make(shared, return_patches=True, crop="keypoints-v1") as est:
        r = est.estimate(astronaut)
    assert r.valid and r.invalid_reason is None and r.faces_found == 1
    assert r.face_box == (168, 68, 109, 109)
    assert r.left_eye_box == (231, 94, 30, 30) and r.right_eye_box == (186, 90, 30, 30)
    assert np.isfinite(r.gaze_cm).all() and r.gaze_cm == r.raw_gaze_cm
    d = get_device("iPhone 6s")
    x, y = cam_cm_to_screen(*r.gaze_cm, d, 1, d.screen_size_points(1))
    assert r.screen.x_pt == pytest.approx(float(x)) and r.screen.y_pt == pytest.approx(float(y))
    # the face patch is the face box resized with area averaging
    x0, y0, s, _ = r.face_box
    want = cv2.resize(astronaut[y0:y0 + s, x0:x0 + s], (64, 64), interpolation=cv2.INTER_AREA)
    assert np.array_equal(r.patches.face, want)
    assert r.patches.face_grid.sum() > 0 and r.timings.detect > 0 and r.timings.infer > 0


def test_backends_agree_on_the_photo(detector_model, astronaut):
    pytest.importorskip("torch")
    pytest.importorskip("ai_edge_litert")
    out = {}
    for backend in ("onnxruntime", "litert", "torch"):
        opts = GazeEstimatorOptions(backend=backend, precision="fp32",
                                    detector_model=str(detector_model))
        with GazeEstimator.create_from_options(opts) as est:
            out[backend] = np.array(est.estimate(astronaut).gaze_cm)
    assert np.abs(out["onnxruntime"] - out["torch"]).max() < 1e-3
    assert np.abs(out["litert"] - out["torch"]).max() < 1e-3


def test_bgr_frames_with_color_order_bgr_give_the_same_result(shared, astronaut):
    with make(shared) as a, make(shared, color_order="BGR") as b:
        assert a.estimate(astronaut).gaze_cm == b.estimate(astronaut[:, :, ::-1].copy()).gaze_cm


def test_video_mode_timestamps(shared, astronaut):
    with make(shared, running_mode=RunningMode.VIDEO) as est:
        assert est.estimate_for_video(astronaut, 0).valid
        est.estimate_for_video(astronaut, 33)
        with pytest.raises(TimestampError, match="increase"):
            est.estimate_for_video(astronaut, 33)
        with pytest.raises(TimestampError, match="increase"):
            est.estimate_for_video(astronaut, 10)
        with pytest.raises(TimestampError, match="integer"):
            est.estimate_for_video(astronaut, 50.5)
        with pytest.raises(ConfigError, match="running_mode='image'"):
            est.estimate(astronaut)
        est.reset()
        assert est.estimate_for_video(astronaut, 0).valid     # a new stream after reset()
    with make(shared) as est, pytest.raises(ConfigError, match="running_mode='video'"):
        est.estimate_for_video(astronaut, 0)


def test_smoothing_equals_the_smoother_run_on_the_raw_points(shared, astronaut):
    rng = np.random.default_rng(0)
    frames = [np.clip(astronaut + rng.normal(0, 6, astronaut.shape), 0, 255).astype(np.uint8)
              for _ in range(6)]
    sm = SmoothingOptions(method="one_euro")
    with make(shared, running_mode="video", smoothing=sm) as est:
        results = [est.estimate_for_video(f, 33 * i) for i, f in enumerate(frames)]
    ref = create_smoother(sm)
    for i, r in enumerate(results):
        assert np.allclose(r.gaze_cm, ref(np.array(r.raw_gaze_cm), 33.0 * i), atol=1e-9)
    assert results[-1].gaze_cm != results[-1].raw_gaze_cm


def test_closed_estimator_refuses(shared, astronaut):
    est = make(shared)
    est.close()
    with pytest.raises(ValueError, match="closed"):
        est.estimate(astronaut)


@pytest.mark.parametrize("options, words", [
    ({"smoothing": SmoothingOptions(method="kalman")}, "running_mode='video'"),
    ({"orientation": 5}, "orientation"),
    ({"color_order": "RGBA"}, "color_order"),
    ({"running_mode": "live"}, "live"),
    ({"face_selection": "nearest"}, "nearest"),
    ({"min_detection_confidence": 2.0}, "min_detection_confidence"),
])
def test_bad_options(options, words):
    with pytest.raises(ConfigError, match=words):
        GazeEstimatorOptions(**options)


def test_unknown_device_geometry():
    with pytest.raises(GazeSDKError, match="unknown device"):
        GazeEstimatorOptions(geometry="Pixel 9")


def test_options_from_dict_is_strict():
    o = GazeEstimatorOptions.from_dict({"running_mode": "video", "threads": 2,
                                        "smoothing": {"method": "kalman"},
                                        "crop": {"min_face_px": 40}})
    assert o.running_mode is RunningMode.VIDEO and o.smoothing.method == "kalman"
    assert o.crop.min_face_px == 40
    with pytest.raises(ConfigError, match="unknown estimator option"):
        GazeEstimatorOptions.from_dict({"treads": 2})
    with pytest.raises(ConfigError, match="unknown crop option"):
        GazeEstimatorOptions.from_dict({"crop": {"scale": 1}})


def test_face_selection_policies():
    big = FaceDetection((300.0, 100.0, 120.0, 120.0), 0.80, {})
    small_central = FaceDetection((180.0, 200.0, 60.0, 60.0), 0.95, {})
    faces = [small_central, big]
    assert select_face(faces, FaceSelection.LARGEST, 400, 500) is big
    assert select_face(faces, FaceSelection.MOST_CONFIDENT, 400, 500) is small_central
    assert select_face(faces, FaceSelection.CENTERMOST, 400, 500) is small_central


def test_two_faces_the_largest_is_followed(shared, astronaut):
    face = astronaut[40:300, 120:330]                 # 260 x 210 around the face
    small = cv2.resize(face, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    canvas = np.zeros((260, small.shape[1] + 20 + 210, 3), np.uint8)
    canvas[:small.shape[0], :small.shape[1]] = small   # the small face on the left
    canvas[:, small.shape[1] + 20:] = face
    with make(shared) as est:
        r = est.estimate(canvas)
    assert r.faces_found == 2 and r.face.box[0] > small.shape[1]
    with make(shared, face_selection="centermost") as est:
        assert est.estimate(canvas).face.box[0] > small.shape[1]


def _fuzz_frames(n: int, astronaut: np.ndarray):
    rng = np.random.default_rng(1234)
    for i in range(n):
        kind = i % 10
        h, w = int(rng.integers(0, 160)), int(rng.integers(0, 160))
        if kind == 0:
            yield np.zeros((h, w, 3), np.uint8)
        elif kind == 1:
            yield rng.integers(0, 256, (h, w), dtype=np.uint8)
        elif kind == 2:
            yield rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        elif kind == 3:
            f = rng.random((h, w, 3)).astype(np.float32)
            if f.size:
                f.flat[rng.integers(0, f.size)] = np.nan
            yield f
        elif kind == 4:
            yield rng.integers(-500, 500, (h, w, 3)).astype(
                [np.int16, np.int32, np.float64, bool, np.uint16][i % 5])
        elif kind == 5:                               # a real face, cut, shifted or scaled
            s = float(rng.uniform(0.05, 1.2))
            f = cv2.resize(astronaut, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            y0, x0 = int(rng.integers(0, max(1, f.shape[0] // 2))), int(
                rng.integers(0, max(1, f.shape[1] // 2)))
            yield f[y0:, x0:]
        elif kind == 6:
            yield rng.random((h, w, 3)) * rng.choice([1.0, 3.0, -1.0])
        elif kind == 7:
            yield rng.integers(0, 256, (int(rng.integers(1, 5)), 300, 3), dtype=np.uint8)
        elif kind == 8:
            yield np.full((h + 1, w + 1, 3), np.inf if i % 20 == 8 else 255, np.float32 if
                          i % 20 == 8 else np.uint8)
        else:
            yield rng.integers(0, 256, (h, w, int(rng.integers(1, 6))), dtype=np.uint8)
    yield np.zeros((6000, 8000, 3), np.uint8)         # huge frames
    big = np.zeros((3000, 4000, 3), np.uint8)
    big[1000:1512, 1500:2012] = astronaut
    yield big


def test_fuzzed_frames_never_crash(shared, astronaut):
    seen = set()
    with make(shared, running_mode="video", smoothing=SmoothingOptions(method="kalman")) as est:
        for i, frame in enumerate(_fuzz_frames(1000, astronaut)):
            r = est.estimate_for_video(frame, i)
            if r.valid:
                assert np.isfinite(r.gaze_cm).all() and r.screen is not None
                seen.add("valid")
            else:
                assert isinstance(r.invalid_reason, InvalidReason) and r.message
                assert r.gaze_cm is None
                seen.add(r.invalid_reason)
    assert {"valid", InvalidReason.BAD_FRAME, InvalidReason.NO_FACE} <= seen


def test_no_network_during_estimation(monkeypatch, detector_model, astronaut):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.delenv("GAZESDK_DETECTOR_MODEL", raising=False)
    opts = GazeEstimatorOptions(running_mode="video", smoothing=SmoothingOptions())
    with GazeEstimator.create_from_options(opts) as est:     # the cached detector model
        for i in range(5):
            assert est.estimate_for_video(astronaut, i * 33).valid
    assert attempts == []
