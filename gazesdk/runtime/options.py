"""How a :class:`~gazesdk.runtime.estimator.GazeEstimator` is set up (MediaPipe Tasks' shape:
an options dataclass handed to ``create_from_options``)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

from gazesdk.calibration.drift import DriftOptions
from gazesdk.calibration.implicit import ImplicitOptions
from gazesdk.calibration.profile import CalibrationProfile
from gazesdk.errors import ConfigError
from gazesdk.events.detector import EventOptions
from gazesdk.geometry.devices import DeviceGeometry, check_orientation, get_device
from gazesdk.runtime.blink import BlinkOptions
from gazesdk.runtime.box_stabiliser import BoxStabiliserOptions
from gazesdk.runtime.crops import CropGeometry, get_crop_geometry
from gazesdk.runtime.smoothing import SmoothingOptions

DEFAULT_GEOMETRY = "iPhone 6s"          # GazeCapture's most common phone


class RunningMode(str, Enum):
    """IMAGE: independent pictures, ``estimate(image)``. VIDEO: frames of one stream,
    ``estimate_for_video(frame, timestamp_ms)`` with increasing timestamps (smoothing needs
    them)."""

    IMAGE = "image"
    VIDEO = "video"


class FaceSelection(str, Enum):
    """Which face to follow when the detector finds several."""

    LARGEST = "largest"                 # the user holding the phone is closest to it
    MOST_CONFIDENT = "most_confident"
    CENTERMOST = "centermost"           # nearest the frame's centre


@dataclass(frozen=True)
class GazeEstimatorOptions:
    """Settings of a gaze estimator.

    ``model``: "default" (the bundled compact model) or a path: an exported ``.onnx``,
    ``.tflite`` or ``.mlpackage`` with its ``.json`` metadata beside it, or a torch
    ``checkpoint.pt`` / ``.safetensors``. ``backend``: auto, onnxruntime, litert, coreml or
    torch. ``precision``: fp32 or int8, for the bundled model. ``device``: cpu or cuda.
    ``geometry``: a device name from :func:`gazesdk.geometry.list_devices` or a
    :class:`~gazesdk.geometry.DeviceGeometry`; ``orientation``: GazeCapture's 1-4.
    ``smoothing``: VIDEO mode only. ``detector_model``: the BlazeFace ``.tflite`` (None: the
    cached copy, fetched on first use). ``color_order``: of the frames you pass (OpenCV reads
    BGR). ``return_patches``: include the model's three patches in each result.

    Landmarks (issue 16): ``landmarks`` runs MediaPipe's face mesh (and, with ``iris``, the iris
    model) after the detector: in VIDEO mode with landmark crops the face is then tracked from
    the previous frame's mesh and BlazeFace runs only when the track is lost
    (``min_track_score``); keypoint crops need BlazeFace's keypoints, so they detect every frame
    (the mesh then follows each detection). Without ``landmarks``, ``iris`` and ``head_pose``
    have nothing to run on and are ignored. ``mesh_mirror_average`` (issue 17): run the mesh
    on the ROI and on its mirror image and average the two
    (:mod:`gazesdk.runtime.mesh_mirror`): landmarks, crops and eye geometry become
    mirror-consistent, at a second mesh inference per frame. ``crop``: a
    geometry name (``keypoints-v1``, ``landmarks-v1``), a :class:`CropGeometry`, or None for the
    one the model was trained with (its metadata says; keypoints-v1 for models that do not).
    Landmark crops need ``landmarks``. ``iris`` gives iris centres, eye openness and blinks
    (``blink``: None turns the blink gate off); ``head_pose`` the PnP head pose, with
    ``camera_focal_px`` (None: GazeSim's camera scaled to the frame, see
    :mod:`gazesdk.runtime.head_pose`). ``box_stabiliser`` (VIDEO mode; None, the default: off)
    smooths the crop boxes; on the real-face stares it does not lower the jitter of the bundled
    model (``benchmarks/results/landmarks.md``), so it is off unless asked for.
    ``refresh_every`` N > 1 is the fast configuration for low-end phones: VIDEO mode runs the
    detector, mesh and iris only every N-th frame and keeps that frame's boxes (and face,
    openness, pose) for the frames in between (``face_source`` HELD): a face that leaves is
    noticed at the next refresh. ``face_landmark_model`` / ``iris_landmark_model``: the
    ``.tflite`` files (None: cached copies, fetched once).

    Calibration (issue 18): ``calibration`` is a :class:`~gazesdk.calibration.CalibrationProfile`
    or the path of its JSON file, applied to the model's gaze before smoothing; a profile whose
    guard rejected it is not applied unless ``calibration_guard`` is False. ``implicit``: how
    taps passed to ``add_implicit_sample`` update the correction. ``drift``: when
    ``recalibration_advised`` turns on (None: never computed).

    Events (issue 19, VIDEO mode): ``events`` sets the eye-movement classifier (I-VT by
    default), dwell regions and timings (:class:`~gazesdk.events.EventOptions`; None: off);
    each result then carries ``eye_events`` (state, speed, dwell regions, the frame's events),
    and the events also queue for :meth:`GazeEstimator.pop_events` and go to ``on_event``
    (called with each :class:`~gazesdk.events.GazeEvent`, on the calling thread, before the
    frame's result returns). IMAGE mode has no stream: no events.
    """

    model: str = "default"
    backend: str = "auto"
    precision: str = "int8"
    device: str = "cpu"
    threads: int = 1
    geometry: str | DeviceGeometry = DEFAULT_GEOMETRY
    orientation: int = 1
    running_mode: RunningMode = RunningMode.IMAGE
    smoothing: SmoothingOptions = field(
        default_factory=lambda: SmoothingOptions(method="none"))
    face_selection: FaceSelection = FaceSelection.LARGEST
    min_detection_confidence: float = 0.5
    detector_model: str | None = None
    crop: CropGeometry | str | None = None
    color_order: str = "RGB"
    return_patches: bool = False
    landmarks: bool = True
    iris: bool = True
    mesh_mirror_average: bool = False
    head_pose: bool = True
    blink: BlinkOptions | None = field(default_factory=BlinkOptions)
    box_stabiliser: BoxStabiliserOptions | None = None
    refresh_every: int = 1
    min_track_score: float = 0.5
    camera_focal_px: float | None = None
    face_landmark_model: str | None = None
    iris_landmark_model: str | None = None
    calibration: CalibrationProfile | str | None = None
    calibration_guard: bool = True
    implicit: ImplicitOptions = field(default_factory=ImplicitOptions)
    drift: DriftOptions | None = field(default_factory=DriftOptions)
    events: EventOptions | None = field(default_factory=EventOptions)
    on_event: Callable[[Any], None] | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "running_mode", RunningMode(self.running_mode))
            object.__setattr__(self, "face_selection", FaceSelection(self.face_selection))
        except ValueError as e:
            raise ConfigError(str(e)) from None
        if isinstance(self.model, os.PathLike):
            object.__setattr__(self, "model", os.fspath(self.model))
        if self.color_order not in ("RGB", "BGR"):
            raise ConfigError(f"color_order must be RGB or BGR, got {self.color_order!r}")
        if not isinstance(self.smoothing, SmoothingOptions):
            raise ConfigError("smoothing must be a SmoothingOptions (or a mapping in from_dict)")
        if self.smoothing.method != "none" and self.running_mode is RunningMode.IMAGE:
            raise ConfigError("smoothing needs running_mode='video': IMAGE mode has no "
                              "timestamps to smooth over")
        if not 0.0 <= self.min_detection_confidence <= 1.0:
            raise ConfigError(f"min_detection_confidence must lie in [0, 1], got "
                              f"{self.min_detection_confidence}")
        if self.crop is not None:
            if not isinstance(self.crop, (str, CropGeometry, Mapping)):
                raise ConfigError(f"crop must be a geometry name, a CropGeometry or None, got "
                                  f"{self.crop!r}")
            object.__setattr__(self, "crop", get_crop_geometry(self.crop))
            if self.crop.source == "landmarks" and not self.landmarks:
                raise ConfigError(f"crop geometry {self.crop.name!r} places the boxes from the "
                                  f"face mesh: it needs landmarks=True")
        if isinstance(self.calibration, os.PathLike):
            object.__setattr__(self, "calibration", os.fspath(self.calibration))
        if self.calibration is not None and not isinstance(self.calibration,
                                                           (str, CalibrationProfile)):
            raise ConfigError("calibration must be a CalibrationProfile, a profile path or None")
        if not isinstance(self.implicit, ImplicitOptions):
            raise ConfigError("implicit must be an ImplicitOptions (or a mapping in from_dict)")
        if self.events is not None and not isinstance(self.events, EventOptions):
            raise ConfigError("events must be an EventOptions, a mapping in from_dict, or None")
        if self.on_event is not None and not callable(self.on_event):
            raise ConfigError(f"on_event must be a callable taking a GazeEvent, got "
                              f"{self.on_event!r}")
        if self.drift is not None and not isinstance(self.drift, DriftOptions):
            raise ConfigError("drift must be a DriftOptions, a mapping in from_dict, or None")
        for name in ("landmarks", "iris", "head_pose", "return_patches", "calibration_guard",
                     "mesh_mirror_average"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.blink is not None and not isinstance(self.blink, BlinkOptions):
            raise ConfigError("blink must be a BlinkOptions, a mapping in from_dict, or None")
        if self.box_stabiliser is not None and not isinstance(self.box_stabiliser,
                                                              BoxStabiliserOptions):
            raise ConfigError("box_stabiliser must be a BoxStabiliserOptions, a mapping in "
                              "from_dict, or None")
        r = self.refresh_every
        if isinstance(r, bool) or not isinstance(r, int) or not 1 <= r <= 30:
            raise ConfigError(f"refresh_every must be an integer from 1 to 30, got {r!r}")
        if r > 1 and self.running_mode is RunningMode.IMAGE:
            raise ConfigError("refresh_every > 1 needs running_mode='video': IMAGE mode has no "
                              "previous frame to keep boxes from")
        if self.box_stabiliser is not None and self.running_mode is RunningMode.IMAGE:
            raise ConfigError("box_stabiliser needs running_mode='video': IMAGE mode has no "
                              "previous boxes to smooth with")
        if not _number(self.min_track_score) or not 0.0 < self.min_track_score < 1.0:
            raise ConfigError(f"min_track_score must be a number in (0, 1), got "
                              f"{self.min_track_score!r}")
        f = self.camera_focal_px
        if f is not None and (not _number(f) or not math.isfinite(f) or not f > 0):
            raise ConfigError(f"camera_focal_px must be a finite number > 0, got {f!r}")
        check_orientation(self.orientation)
        self.device_geometry()          # an unknown device name fails here, not mid-stream

    def device_geometry(self) -> DeviceGeometry:
        g = self.geometry
        return g if isinstance(g, DeviceGeometry) else get_device(str(g))

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> GazeEstimatorOptions:
        """Strict construction from YAML/JSON/CLI values: unknown keys are errors;
        ``smoothing`` and ``crop`` may be mappings."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"estimator options must be a mapping, got {type(values).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown estimator option(s) {', '.join(unknown)}; known: "
                              f"{', '.join(sorted(known))}")
        v = dict(values)
        try:
            return cls(**cls._nested(v))
        except TypeError as e:
            raise ConfigError(f"estimator options: {e}") from None

    @staticmethod
    def _nested(v: dict[str, object]) -> dict[str, object]:
        if isinstance(v.get("smoothing"), Mapping):
            v["smoothing"] = SmoothingOptions.from_dict(v["smoothing"])
        if isinstance(v.get("crop"), Mapping):
            v["crop"] = CropGeometry.from_dict(v["crop"])
        if isinstance(v.get("events"), Mapping):
            v["events"] = EventOptions.from_dict(v["events"])
        for key, kind in (("blink", BlinkOptions), ("box_stabiliser", BoxStabiliserOptions),
                          ("implicit", ImplicitOptions), ("drift", DriftOptions)):
            if isinstance(v.get(key), Mapping):
                kind_known = {f.name for f in fields(kind)}
                bad = sorted(set(v[key]) - kind_known)
                if bad:
                    raise ConfigError(f"unknown {key} option(s) {', '.join(bad)}; known: "
                                      f"{', '.join(sorted(kind_known))}")
                v[key] = kind(**v[key])
        return v


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
