"""How a :class:`~gazesdk.runtime.estimator.GazeEstimator` is set up (MediaPipe Tasks' shape:
an options dataclass handed to ``create_from_options``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum

from gazesdk.errors import ConfigError
from gazesdk.geometry.devices import DeviceGeometry, check_orientation, get_device
from gazesdk.runtime.crops import CropGeometry
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
    crop: CropGeometry = field(default_factory=CropGeometry)
    color_order: str = "RGB"
    return_patches: bool = False

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
        if isinstance(v.get("smoothing"), Mapping):
            v["smoothing"] = SmoothingOptions.from_dict(v["smoothing"])
        if isinstance(v.get("crop"), Mapping):
            crop_known = {f.name for f in fields(CropGeometry)}
            bad = sorted(set(v["crop"]) - crop_known)
            if bad:
                raise ConfigError(f"unknown crop option(s) {', '.join(bad)}; known: "
                                  f"{', '.join(sorted(crop_known))}")
            v["crop"] = CropGeometry(**v["crop"])
        try:
            return cls(**v)
        except TypeError as e:
            raise ConfigError(str(e)) from None
