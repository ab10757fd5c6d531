"""``GazeEstimator``: camera frames -> face detection (or tracking by the face mesh) -> iris,
blink, head pose -> patches -> model -> screen point -> smoothing, in MediaPipe Tasks' shape.

    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, RunningMode
    options = GazeEstimatorOptions(running_mode=RunningMode.VIDEO,
                                   smoothing=SmoothingOptions(method="one_euro"))
    with GazeEstimator.create_from_options(options) as estimator:
        result = estimator.estimate_for_video(rgb_frame, timestamp_ms)
        if result.valid:
            print(result.screen.x_pt, result.screen.y_pt)

Frames are upright, unmirrored camera images (H, W, 3) in ``options.color_order``. See
:mod:`gazesdk.runtime.result` for the coordinate frames of every field. Estimation never opens
a network connection: the detector and landmark models are fetched (once) when the estimator is
created.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import replace
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.events import EventDetector, GazeEvent
from gazesdk.events.angles import DEFAULT_DISTANCE_CM, TYPICAL_DISTANCE_CM
from gazesdk.runtime.backends import Backend, ModelSpec, create_backend
from gazesdk.runtime.backends.base import FEATURES_NAME
from gazesdk.runtime.blink import BlinkDetector
from gazesdk.runtime.box_stabiliser import BoxStabiliser
from gazesdk.runtime.calibrate import CalibrationStage
from gazesdk.runtime.crops import (
    BoxPlacement,
    CropBoxes,
    boxes_from_placement,
    model_inputs,
    place_from_keypoints,
    place_from_mesh,
)
from gazesdk.runtime.detector import FaceDetection, FaceDetector, MediaPipeFaceDetector
from gazesdk.runtime.eye_geometry import GEOMETRY_NAME, eye_geometry
from gazesdk.runtime.eye_openness import eye_openness
from gazesdk.runtime.frames import InvalidReason, check_frame
from gazesdk.runtime.head_pose import estimate_head_pose
from gazesdk.runtime.options import FaceSelection, GazeEstimatorOptions, RunningMode
from gazesdk.runtime.result import GazeResult, Patches, StageTimings
from gazesdk.runtime.screen import ScreenMapper
from gazesdk.runtime.smoothing import TimestampError, create_smoother
from gazesdk.runtime.tracking import FaceSource, FaceTracker

EVENT_QUEUE = 10_000        # events kept for pop_events() when nobody pops them


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

    Create it with :meth:`create_from_options`; ``detector``, ``backend``, ``mesh`` (a
    :class:`~gazesdk.runtime.face_mesh.FaceMesh`) and ``iris`` (an
    :class:`~gazesdk.runtime.iris.IrisLandmarker`) may be passed to share models between
    estimators or to run a backend you opened yourself.
    """

    def __init__(self, options: GazeEstimatorOptions, *, detector: FaceDetector | None = None,
                 backend: Backend | None = None, mesh: Any = None, iris: Any = None) -> None:
        if not isinstance(options, GazeEstimatorOptions):
            raise ConfigError("options must be a GazeEstimatorOptions")
        self.options = options
        # close() closes what the estimator opened itself, not what it was handed
        self._owned = (detector is None, backend is None)
        self.detector: Any = None
        self.backend: Any = None
        self._closed = False
        try:
            self._open(options, detector, backend, mesh, iris)
        except BaseException:
            self.close()        # a detector left to the garbage collector can hang MediaPipe
            raise

    def _open(self, options: GazeEstimatorOptions, detector: FaceDetector | None,
              backend: Backend | None, mesh: Any, iris: Any) -> None:
        self.backend = backend or create_backend(options.model, backend=options.backend,
                                                 precision=options.precision,
                                                 device=options.device, threads=options.threads)
        self.spec = ModelSpec.from_metadata(self.backend.metadata)
        self.detector = detector or MediaPipeFaceDetector(
            model_path=options.detector_model,
            min_detection_confidence=options.min_detection_confidence)
        self.crop = options.crop or self.spec.crops
        if self.crop.source == "landmarks" and not options.landmarks:
            raise ConfigError(f"this model was trained on {self.crop.name!r} crops, placed from "
                              f"the face mesh: it needs landmarks=True (or pass "
                              f"crop='keypoints-v1' to override)")
        self.needs_geometry = GEOMETRY_NAME in self.spec.input_names
        if self.needs_geometry and not (options.landmarks and options.iris):
            raise ConfigError("this hybrid model takes the iris-in-eye geometry: it needs "
                              "landmarks=True and iris=True")
        self.mesh = self.iris = self.tracker = None
        if options.landmarks:
            from gazesdk.runtime.face_mesh import FaceMesh

            self.mesh = mesh or FaceMesh(model_path=options.face_landmark_model,
                                         threads=options.threads,
                                         mirror_average=options.mesh_mirror_average)
            if options.iris:
                from gazesdk.runtime.iris import IrisLandmarker

                self.iris = iris or IrisLandmarker(model_path=options.iris_landmark_model,
                                                   threads=options.threads)
            self.tracker = FaceTracker(self.detector, self.mesh, select=self._select,
                                       min_track_score=options.min_track_score)
        self.blinks = BlinkDetector(options.blink) if options.blink and self.iris else None
        video = options.running_mode is RunningMode.VIDEO
        self.stabiliser = (BoxStabiliser(options.box_stabiliser)
                           if options.box_stabiliser is not None and video else None)
        self.mapper = ScreenMapper(options.device_geometry(), options.orientation)
        self.has_features = FEATURES_NAME in getattr(self.spec, "output_names", ())
        self.calibration = CalibrationStage(
            metadata=self.backend.metadata, device=options.device_geometry(),
            orientation=options.orientation, has_features=self.has_features,
            calibration=options.calibration, guard=options.calibration_guard,
            implicit=options.implicit, drift=options.drift)
        self.smoother = create_smoother(options.smoothing)
        self.events = None
        if options.events is not None and video:
            kind = options.device_geometry().kind
            self.events = EventDetector(options.events, typical_distance_cm=TYPICAL_DISTANCE_CM
                                        .get(kind, DEFAULT_DISTANCE_CM))
        self._queue: deque[GazeEvent] = deque(maxlen=EVENT_QUEUE)
        self._last_ts: int | None = None
        self._frame = 0
        self._held: dict[str, Any] | None = None
        self._held_size: tuple[int, int] | None = None

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
        result = self._process(frame, ts)
        return result if self.events is None else self._add_events(result, ts)

    def pop_events(self) -> list[GazeEvent]:
        """The events of the frames since the last call, oldest first (VIDEO mode with
        ``events`` on; the queue keeps the latest ``EVENT_QUEUE`` if never popped)."""
        out = list(self._queue)
        self._queue.clear()
        return out

    def _add_events(self, result: GazeResult, ts: int) -> GazeResult:
        gaze = result.calibrated_gaze_cm or result.raw_gaze_cm if result.valid else None
        pose = result.head_pose
        screen = result.screen
        ev = self.events.update(
            ts, gaze, head_translation_cm=None if pose is None else pose.translation_cm,
            blink=result.invalid_reason is InvalidReason.BLINK,
            screen_pt=None if screen is None else (screen.x_pt, screen.y_pt))
        self._queue.extend(ev.events)
        if self.options.on_event is not None:
            for e in ev.events:
                self.options.on_event(e)
        return replace(result, eye_events=ev)

    def set_calibration(self, calibration: Any) -> None:
        """Apply another profile (a CalibrationProfile, a path, or None for none) from the next
        frame on, e.g. one just fitted by a CalibrationSession on this stream; checked as at
        creation. Taps learnt so far are forgotten."""
        o = self.options
        self.calibration = CalibrationStage(
            metadata=self.backend.metadata, device=o.device_geometry(),
            orientation=o.orientation, has_features=self.has_features,
            calibration=calibration, guard=o.calibration_guard, implicit=o.implicit,
            drift=o.drift)

    def add_implicit_sample(self, screen_point: tuple[float, float], timestamp_ms: int) -> bool:
        """Implicit calibration: the user looked at ``screen_point`` (screen points, the
        user's frame) at ``timestamp_ms`` (the frames' clock), e.g. a tap on a button. The
        correction is updated from the gaze of the frames just before (bounded and recency
        weighted: :mod:`gazesdk.calibration.implicit`); False when no recent frame had a
        gaze to pair it with."""
        if self._closed:
            raise ValueError("the estimator is closed")
        return self.calibration.add_implicit_sample(screen_point, timestamp_ms)

    def reset(self) -> None:
        """Forget the stream: timestamps, the face track and the smoother's, stabiliser's,
        blink detector's and drift monitor's state (taps learnt are kept)."""
        self._last_ts = None
        self.calibration.reset()
        self._queue.clear()
        if self.events is not None:
            self.events.reset()
        self._forget_face()
        if self.smoother is not None:
            self.smoother.reset()

    def _forget_face(self) -> None:
        self._held = None
        self._frame = 0
        for part in (self.tracker, self.stabiliser, self.blinks):
            if part is not None:
                part.reset()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._owned[0] and self.detector is not None:
                self.detector.close()
            if self._owned[1] and self.backend is not None:
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

    def _select(self, faces: list[FaceDetection], w: int, h: int) -> FaceDetection:
        return select_face(faces, self.options.face_selection, w, h)

    def _process(self, image: np.ndarray, ts: int | None) -> GazeResult:
        checked = check_frame(image, color_order=self.options.color_order)
        if checked.rgb is None:
            return GazeResult(False, invalid_reason=InvalidReason.BAD_FRAME,
                              message=checked.message, timestamp_ms=ts)
        rgb = checked.rgb
        h, w = rgb.shape[:2]
        n = self.options.refresh_every
        if (ts is not None and n > 1 and self._held is not None and self._frame % n
                and self._held_size == (w, h)):
            self._frame += 1
            # a blink is a state of its own frame: held frames carry no blink state
            return self._finish(rgb, ts, dict(self._held, face_source=FaceSource.HELD,
                                              blink=None), StageTimings())
        found, timings = self._find_face(rgb, ts)
        if "invalid_reason" in found:
            found.pop(GEOMETRY_NAME, None)
            self._forget_face()
            return GazeResult(False, timestamp_ms=ts, timings=timings, **found)
        if ts is not None and n > 1:
            self._held, self._held_size = found, (w, h)
            self._frame = 1
        return self._finish(rgb, ts, found, timings)

    def _find_face(self, rgb: np.ndarray, ts: int | None) -> tuple[dict[str, Any],
                                                                   StageTimings]:
        """This frame's face: the GazeResult fields it gives and the boxes (``"boxes"``), or
        the fields of an invalid result."""
        clock = time.perf_counter_ns
        h, w = rgb.shape[:2]
        video = ts is not None
        landmark_crops = self.crop.source == "landmarks"
        fields: dict[str, Any] = {}
        t = {"detect": 0.0, "mesh": 0.0, "iris": 0.0, "pose": 0.0}
        if self.tracker is None:
            t0 = clock()
            faces = self.detector.detect(rgb)
            t["detect"] = _ms(t0, clock())
            if not faces:
                return ({"invalid_reason": InvalidReason.NO_FACE, "message": "no face found"},
                        StageTimings(**t))
            face = select_face(faces, self.options.face_selection, w, h)
            fields.update(face=face, faces_found=len(faces))
            points = None
        else:
            # keypoint crops need this frame's detection: track only for landmark crops
            tracked = self.tracker.update(rgb, video=video and landmark_crops)
            t["detect"], t["mesh"] = self.tracker.last_detect_ms, self.tracker.last_mesh_ms
            if tracked is None:
                return ({"invalid_reason": InvalidReason.NO_FACE, "message": "no face found"},
                        StageTimings(**t))
            face, points = tracked.detection, tracked.mesh.points
            fields.update(face=face, faces_found=tracked.faces_found,
                          face_source=tracked.source, landmarks=points)
            if self.iris is not None:
                t0 = clock()
                eyes = self.iris.run(rgb, points)
                t["iris"] = _ms(t0, clock())
                if self.needs_geometry:
                    fields[GEOMETRY_NAME] = eye_geometry(points, eyes)
                fields.update(right_iris_px=eyes["right_eye"].iris_center,
                              left_iris_px=eyes["left_eye"].iris_center,
                              right_eye_openness=eye_openness(eyes["right_eye"].contour),
                              left_eye_openness=eye_openness(eyes["left_eye"].contour))
                if self.blinks is not None:
                    mean = (fields["right_eye_openness"] + fields["left_eye_openness"]) / 2
                    fields["blink"] = (self.blinks.update(mean, ts) if video
                                       else self.blinks.image(mean))
            if self.options.head_pose:
                t0 = clock()
                fields["head_pose"] = estimate_head_pose(points, w, h,
                                                         focal_px=self.options.camera_focal_px)
                t["pose"] = _ms(t0, clock())
        t0 = clock()
        place = (place_from_mesh(points, self.crop) if landmark_crops
                 else place_from_keypoints(face, self.crop))
        if self.stabiliser is not None:
            place = self._stabilise(place, points)
        boxes = boxes_from_placement(place, w, h, self.crop)
        t["crop"] = _ms(t0, clock())
        if boxes.invalid is not None:
            return (dict(fields, invalid_reason=boxes.invalid, message=boxes.message),
                    StageTimings(**t))
        fields["boxes"] = boxes
        return fields, StageTimings(**t)

    def _stabilise(self, place: BoxPlacement, points: np.ndarray | None) -> BoxPlacement:
        """The boxes through the stabiliser, anchored on the mesh's centroid and RMS spread
        (None without a mesh); a degenerate face is left to the box checks."""
        if not (place.face[2] > 0 and np.isfinite(place.face).all()):
            return place
        anchor = None
        if points is not None:
            c = points[:, :2].mean(axis=0)
            spread = float(np.sqrt(((points[:, :2] - c) ** 2).sum(axis=1).mean()))
            anchor = (float(c[0]), float(c[1]), spread) if spread > 0 else None
        s = self.stabiliser
        face = s("face", *place.face, anchor=anchor)
        eye_side = place.eye_side * face[2] / place.face[2]
        right = s("right_eye", *place.right_eye, place.eye_side, anchor=anchor)[:2]
        left = s("left_eye", *place.left_eye, place.eye_side, anchor=anchor)[:2]
        return BoxPlacement(face=face, right_eye=right, left_eye=left, eye_side=eye_side)

    def _finish(self, rgb: np.ndarray, ts: int | None, found: dict[str, Any],
                timings: StageTimings) -> GazeResult:
        """Patches -> model -> smoothing -> screen, for a frame whose face was found."""
        clock = time.perf_counter_ns
        fields = dict(found)
        boxes: CropBoxes = fields.pop("boxes")
        geometry = fields.pop(GEOMETRY_NAME, None)
        box_fields = {"face_box": boxes.face, "left_eye_box": boxes.left_eye,
                      "right_eye_box": boxes.right_eye}
        blink = fields.get("blink")
        if blink is not None and blink.closed:
            return GazeResult(False, invalid_reason=InvalidReason.BLINK,
                              message="the eyes are closed (blink)", timestamp_ms=ts,
                              timings=timings, **box_fields, **fields)
        t1 = clock()
        inputs, patches = model_inputs(rgb, boxes, patch_size=self.spec.patch_size,
                                       pixel_scale=self.spec.pixel_scale)
        if geometry is not None:
            inputs[GEOMETRY_NAME] = geometry[None]
        feed = {k: inputs[k] for k in self.spec.input_names}
        t2 = clock()
        features = None
        if self.has_features:
            out = self.backend.infer_all(feed)
            raw, features = out[0][0], np.asarray(out[1][0], np.float32)
        else:
            raw = self.backend.infer(feed)[0]
        t3 = clock()
        raw_xy = (float(raw[0]), float(raw[1]))
        if not np.isfinite(raw_xy).all():
            return GazeResult(False, invalid_reason=InvalidReason.BAD_FRAME,
                              message="the model returned a non-finite gaze", timestamp_ms=ts,
                              timings=timings, **box_fields, **fields)
        cal = self.calibration(raw_xy, features, fields.get("head_pose"), ts)
        xy = cal.gaze_cm
        t4 = clock()
        if self.smoother is not None and ts is not None:
            s = self.smoother(np.asarray(xy), float(ts))
            xy = (float(s[0]), float(s[1]))
        t5 = clock()
        screen = self.mapper(*xy)
        t6 = clock()
        grid = inputs["face_grid"][0].astype(np.uint8)
        return GazeResult(
            True, gaze_cm=xy, raw_gaze_cm=raw_xy, screen=screen, **box_fields,
            calibrated_gaze_cm=cal.calibrated_cm, calibration_applied=cal.applied,
            recalibration_advised=cal.recalibration_advised, features=features,
            patches=(Patches(face=patches["face"], left_eye=patches["left_eye"],
                             right_eye=patches["right_eye"], face_grid=grid)
                     if self.options.return_patches else None),
            timestamp_ms=ts,
            timings=replace(timings, crop=timings.crop + _ms(t1, t2), infer=_ms(t2, t3),
                            smooth=_ms(t4, t5), map=_ms(t5, t6)),
            **fields)
