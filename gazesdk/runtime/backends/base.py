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
        geometry = pre.get("crops", {}).get("geometry")
        crops = (get_crop_geometry(geometry) if geometry is not None
                 else CROP_GEOMETRIES[DEFAULT_CROPS])
        return cls(name=str(doc["model"]["name"]), precision=str(doc["artifact"]["precision"]),
                   input_names=tuple(t["name"] for t in doc["inputs"]),
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
