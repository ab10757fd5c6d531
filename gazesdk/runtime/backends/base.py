"""What every inference backend is to the runtime, and the model facts it works from.

A backend runs one gaze model on prepared inputs and returns gaze in cm. The model's metadata
(the export schema of issue 8: ``preprocessing``, ``inputs``, ``decoding``) says how the
inputs are made, so the runtime prepares them once, identically, for every backend; decoding
is inside every exported graph (and inside the torch model's ``predict``). Its ``outputs`` say
whether the model also gives the penultimate ``features`` (for per-user calibration).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.runtime.crops import CROP_GEOMETRIES, DEFAULT_CROPS, CropGeometry, get_crop_geometry

DEVICES = ("cpu", "cuda")
# The exported outputs (gazesdk.export.graph names them too; this module must not import torch)
OUTPUT_NAME = "gaze_cm"
FEATURES_NAME = "features"
# the inputs the runtime knows how to make (gazesdk.runtime.crops.model_inputs, eye_geometry)
PATCH_INPUTS = ("face", "left_eye", "right_eye")
INPUT_NAMES = (*PATCH_INPUTS, "face_grid", "eye_geometry")


class Backend(Protocol):
    """Runs the model: ``infer({name: float32 array}) -> (N, 2) float32`` gaze in cm from the
    camera (GazeCapture axes: x right, y up, in the screen's orientation);
    ``infer_all(...)`` -> every output in metadata order, ``[gaze (N, 2), features (N, 128)]``
    for a model exported with features (``infer`` is ``infer_all(...)[0]``)."""

    name: str
    metadata: dict[str, Any]

    def infer(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray: ...

    def infer_all(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ModelSpec:
    """The preprocessing facts the runtime reads from a model's metadata, and its outputs."""

    name: str
    precision: str
    input_names: tuple[str, ...]
    patch_size: int
    pixel_scale: float
    crops: CropGeometry = CROP_GEOMETRIES[DEFAULT_CROPS]
    output_names: tuple[str, ...] = (OUTPUT_NAME,)

    @property
    def has_features(self) -> bool:
        """Whether the model gives its penultimate features (``infer_all(...)[1]``)."""
        return FEATURES_NAME in self.output_names

    @classmethod
    def from_metadata(cls, doc: Mapping[str, Any]) -> ModelSpec:
        pre = doc["preprocessing"]
        if pre.get("colour_order") != "RGB" or pre.get("layout") != "NCHW":
            raise ConfigError(f"the runtime prepares RGB NCHW inputs; this model wants "
                              f"{pre.get('colour_order')} {pre.get('layout')}")
        names = tuple(t["name"] for t in doc["inputs"])
        unknown = [n for n in names if n not in INPUT_NAMES]
        if unknown or len(set(names)) != len(names) or not set(PATCH_INPUTS) <= set(names):
            raise ConfigError(f"the runtime makes the inputs {', '.join(INPUT_NAMES)} (the "
                              f"three patches always); this model's metadata names "
                              f"{', '.join(names)}")
        geometry = pre.get("crops", {}).get("geometry")
        crops = (get_crop_geometry(geometry) if geometry is not None
                 else CROP_GEOMETRIES[DEFAULT_CROPS])
        return cls(name=str(doc["model"]["name"]), precision=str(doc["artifact"]["precision"]),
                   input_names=names,
                   patch_size=int(pre["patch_size"]), pixel_scale=float(pre["pixel_scale"]),
                   crops=crops, output_names=metadata_outputs(doc))


def metadata_outputs(doc: Mapping[str, Any]) -> tuple[str, ...]:
    """The output names of a model's metadata, in order (``gaze_cm`` alone when it names
    none); the runtime reads the gaze as the first."""
    names = tuple(str(t["name"]) for t in doc.get("outputs") or [{"name": OUTPUT_NAME}])
    if names[0] != OUTPUT_NAME:
        raise ConfigError(f"the runtime reads {OUTPUT_NAME} as a model's first output; this "
                          f"model's outputs are {', '.join(names)}")
    return names


def check_model_io(metadata: Mapping[str, Any], inputs: Mapping[str, Any],
                   outputs: Mapping[str, Any], *, runtime: str) -> None:
    """Refuse metadata that does not describe the loaded model: its inputs must be the
    model's (same names), and every input and output it names must have the model's sizes
    past the batch axis (``inputs``/``outputs``: name -> shape as the runtime reports it, None
    or a string for a free axis). Caught at load, not as a runtime's exception mid-stream."""
    from gazesdk.export.metadata import ArtifactError

    declared = {str(t["name"]): list(t["shape"]) for t in metadata["inputs"]}
    if set(declared) != set(inputs):
        raise ArtifactError(f"the {runtime} model takes inputs {', '.join(sorted(inputs))}; "
                            f"its metadata names {', '.join(sorted(declared))}")
    named_outputs = {str(t["name"]): list(t["shape"]) for t in metadata.get("outputs") or []}
    for kind, actual, wanted in (("input", inputs, declared), ("output", outputs, named_outputs)):
        for name, shape in wanted.items():
            if name not in actual:
                continue                    # a missing output: the runner names it
            have = [int(d) if isinstance(d, (int, np.integer)) else None for d in actual[name]]
            if len(have) != len(shape) or any(
                    h is not None and isinstance(d, int) and h != d
                    for h, d in zip(have[1:], shape[1:], strict=True)):
                raise ArtifactError(f"the {runtime} model's {kind} {name} has shape {have}; "
                                    f"its metadata says {shape}")


def check_device(device: str, threads: int) -> None:
    if device not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ConfigError(f"threads must be an integer >= 1, got {threads!r}")


def bundled_dir() -> Path:
    """Where the bundled default model's exported files live."""
    # resolved from the gazesdk package: importing gazesdk.models would import torch
    return Path(str(resources.files("gazesdk") / "models" / "assets" / "exported"))


def bundled_artifact(suffix: str, precision: str) -> Path:
    """The bundled default model exported as ``suffix`` (".onnx", ".tflite") at
    ``precision`` (fp32 or int8)."""
    if precision not in ("fp32", "int8"):
        raise ConfigError(f"the bundled model comes in fp32 and int8, not {precision!r}")
    path = bundled_dir() / f"gaze_compact_{precision}{suffix}"
    if not path.is_file():
        raise ConfigError(f"the bundled model {path.name} is missing from this installation; "
                          f"reinstall gazesdk or pass a model path")
    return path


def first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def artifact_metadata(path: str | os.PathLike, *, verify: bool = True) -> dict[str, Any]:
    """The validated side-file metadata of an exported model (sha256 checked with verify)."""
    from gazesdk.export.metadata import read_metadata

    return read_metadata(path, verify=verify)
