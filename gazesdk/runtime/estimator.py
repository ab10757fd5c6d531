"""``GazeEstimator``: camera frames -> face detection -> patches -> model -> screen point ->
smoothing, in MediaPipe Tasks' shape.

    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, RunningMode
    options = GazeEstimatorOptions(running_mode=RunningMode.VIDEO,
                                   smoothing=SmoothingOptions(method="one_euro"))
    with GazeEstimator.create_from_options(options) as estimator:
        result = estimator.estimate_for_video(rgb_frame, timestamp_ms)
        if result.valid:
            print(result.screen.x_pt, result.screen.y_pt)

Frames are upright, unmirrored camera images (H, W, 3) in ``options.color_order``. See
:mod:`gazesdk.runtime.result` for the coordinate frames of every field. Estimation never opens
a network connection: the detector model is fetched (once) when the estimator is created.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.runtime.backends import Backend, ModelSpec, create_backend
from gazesdk.runtime.crops import crop_boxes, model_inputs
from gazesdk.runtime.detector import FaceDetection, FaceDetector, MediaPipeFaceDetector
from gazesdk.runtime.frames import InvalidReason, check_frame
from gazesdk.runtime.options import FaceSelection, GazeEstimatorOptions, RunningMode
from gazesdk.runtime.result import GazeResult, Patches, StageTimings
from gazesdk.runtime.screen import ScreenMapper
from gazesdk.runtime.smoothing import TimestampError, create_smoother


def select_face(faces: list[FaceDetection], policy: FaceSelection, frame_w: int,
                frame_h: int) -> FaceDetection:
    """The face to follow among several (``faces`` is not empty)."""
    if policy is FaceSelection.MOST_CONFIDENT:
        return max(faces, key=lambda f: f.score)
    if policy is FaceSelection.CENTERMOST:
        def dist(f: FaceDetection) -> float:
            x, y, w, h = f.box
            return (x + w / 2 - frame_w / 2) ** 2 + (y + h / 2 - frame_h / 2) ** 2
        return min(faces, key=dist)
    return max(faces, key=lambda f: f.area)


def _ms(t0: int, t1: int) -> float:
    return (t1 - t0) / 1e6


class GazeEstimator:
    """Estimates where on the screen a person looks, one frame at a time.

    Create it with :meth:`create_from_options`; ``detector`` and ``backend`` may be passed to
    share a detector between estimators or to run a backend you opened yourself.
    """

    def __init__(self, options: GazeEstimatorOptions, *, detector: FaceDetector | None = None,
                 backend: Backend | None = None) -> None:
        if not isinstance(options, GazeEstimatorOptions):
            raise ConfigError("options must be a GazeEstimatorOptions")
        self.options = options
        # close() closes what the estimator opened itself, not what it was handed
        self._owned = (detector is None, backend is None)
        self.backend = backend or create_backend(options.model, backend=options.backend,
                                                 precision=options.precision,
                                                 device=options.device, threads=options.threads)
        self.spec = ModelSpec.from_metadata(self.backend.metadata)
        self.detector = detector or MediaPipeFaceDetector(
            model_path=options.detector_model,
            min_detection_confidence=options.min_detection_confidence)
        self.mapper = ScreenMapper(options.device_geometry(), options.orientation)
        self.smoother = create_smoother(options.smoothing)
        self._last_ts: int | None = None
        self._closed = False

    @classmethod
    def create_from_options(cls, options: GazeEstimatorOptions) -> GazeEstimator:
        return cls(options)

    @classmethod
    def create_from_model_path(cls, path: str) -> GazeEstimator:
        return cls(GazeEstimatorOptions(model=path))

    # -- public calls --------------------------------------------------------------------------
    def estimate(self, image: np.ndarray) -> GazeResult:
        """The gaze for one picture (IMAGE mode)."""
        self._check_mode(RunningMode.IMAGE, "estimate", "estimate_for_video")
        return self._process(image, None)

    def estimate_for_video(self, frame: np.ndarray, timestamp_ms: int) -> GazeResult:
        """The gaze for one frame of a stream (VIDEO mode); ``timestamp_ms`` must increase
        from call to call (TimestampError otherwise), and drives the smoother's time step."""
        self._check_mode(RunningMode.VIDEO, "estimate_for_video", "estimate")
        if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, (int, np.integer)):
            raise TimestampError(f"timestamp_ms must be an integer, got {timestamp_ms!r}")
        ts = int(timestamp_ms)
        if self._last_ts is not None and ts <= self._last_ts:
            raise TimestampError(f"timestamp_ms must increase: {ts} after {self._last_ts}")
        self._last_ts = ts
        return self._process(frame, ts)

    def reset(self) -> None:
        """Forget the stream: timestamps and the smoother's state."""
        self._last_ts = None
        if self.smoother is not None:
            self.smoother.reset()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owned[0]:
                self.detector.close()
            if self._owned[1]:
                self.backend.close()

    def __enter__(self) -> GazeEstimator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the pipeline ------------------------------------------------------------------------
    def _check_mode(self, mode: RunningMode, call: str, other: str) -> None:
        if self._closed:
            raise ValueError("the estimator is closed")
        if self.options.running_mode is not mode:
            raise ConfigError(f"{call}() needs running_mode={mode.value!r}; this estimator "
                              f"runs in {self.options.running_mode.value!r} mode (use {other}())")

    def _process(self, image: np.ndarray, ts: int | None) -> GazeResult:
        clock = time.perf_counter_ns
        checked = check_frame(image, color_order=self.options.color_order)
        if checked.rgb is None:
            return GazeResult(False, invalid_reason=InvalidReason.BAD_FRAME,
                              message=checked.message, timestamp_ms=ts)
        rgb = checked.rgb
        h, w = rgb.shape[:2]
        t0 = clock()
        faces = self.detector.detect(rgb)
        t1 = clock()
        if not faces:
            return GazeResult(False, invalid_reason=InvalidReason.NO_FACE,
                              message="no face found", timestamp_ms=ts,
                              timings=StageTimings(detect=_ms(t0, t1)))
        face = select_face(faces, self.options.face_selection, w, h)
        boxes = crop_boxes(face, w, h, self.options.crop)
        if boxes.invalid is not None:
            t2 = clock()
            return GazeResult(False, face=face, faces_found=len(faces),
                              invalid_reason=boxes.invalid, message=boxes.message,
                              timestamp_ms=ts,
                              timings=StageTimings(detect=_ms(t0, t1), crop=_ms(t1, t2)))
        inputs, patches = model_inputs(rgb, boxes, patch_size=self.spec.patch_size,
                                       pixel_scale=self.spec.pixel_scale)
        feed = {k: inputs[k] for k in self.spec.input_names}
        t2 = clock()
        raw = self.backend.infer(feed)[0]
        t3 = clock()
        raw_xy = (float(raw[0]), float(raw[1]))
        if not np.isfinite(raw_xy).all():
            return GazeResult(False, face=face, faces_found=len(faces),
                              invalid_reason=InvalidReason.BAD_FRAME,
                              message="the model returned a non-finite gaze", timestamp_ms=ts)
        xy = raw_xy
        t4 = clock()
        if self.smoother is not None and ts is not None:
            s = self.smoother(np.asarray(raw_xy), float(ts))
            xy = (float(s[0]), float(s[1]))
        t5 = clock()
        screen = self.mapper(*xy)
        t6 = clock()
        grid = inputs["face_grid"][0].astype(np.uint8)
        return GazeResult(
            True, gaze_cm=xy, raw_gaze_cm=raw_xy, screen=screen, face=face,
            faces_found=len(faces), face_box=boxes.face, left_eye_box=boxes.left_eye,
            right_eye_box=boxes.right_eye,
            patches=(Patches(face=patches["face"], left_eye=patches["left_eye"],
                             right_eye=patches["right_eye"], face_grid=grid)
                     if self.options.return_patches else None),
            timestamp_ms=ts,
            timings=StageTimings(detect=_ms(t0, t1), crop=_ms(t1, t2), infer=_ms(t2, t3),
                                 smooth=_ms(t4, t5), map=_ms(t5, t6)))
