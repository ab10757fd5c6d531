"""ONNX Runtime backend: CPU, or CUDA through ONNX Runtime's CUDA provider when installed
(``onnxruntime-gpu``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.runtime.backends.base import artifact_metadata, check_device, first_line

OUTPUT_NAME = "gaze_cm"


def ort_runner(model: bytes | str | os.PathLike, *, threads: int = 1, device: str = "cpu"
               ) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """A function running one batch {name: float32} through an ONNX model -> (N, 2)."""
    from gazesdk.export.metadata import ArtifactError

    try:
        import onnxruntime as ort
    except ImportError:
        raise ConfigError("the onnxruntime backend needs onnxruntime: pip install "
                          "onnxruntime") from None
    check_device(device, threads)
    providers = ["CPUExecutionProvider"]
    if device == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise ConfigError("device 'cuda' needs ONNX Runtime's CUDA provider (pip install "
                              "onnxruntime-gpu) and a CUDA GPU; this onnxruntime has "
                              f"{', '.join(ort.get_available_providers())}")
        providers.insert(0, "CUDAExecutionProvider")
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    try:
        session = ort.InferenceSession(source, sess_options=so, providers=providers)
    except Exception as e:   # onnxruntime raises its own types for a bad model
        raise ArtifactError(f"ONNX Runtime cannot load the model: {first_line(e)}") from None

    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return session.run([OUTPUT_NAME], dict(inputs))[0]

    return run


class OnnxRuntimeBackend:
    """An exported ``.onnx`` (with its ``.json`` metadata) on ONNX Runtime."""

    name = "onnxruntime"

    def __init__(self, path: str | os.PathLike, *, device: str = "cpu", threads: int = 1,
                 verify: bool = True) -> None:
        self.path = Path(path)
        self.metadata: dict[str, Any] = artifact_metadata(self.path, verify=verify)
        self.device = device
        self._run = ort_runner(self.path, threads=threads, device=device)

    def infer(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self._run(inputs), np.float32)

    def close(self) -> None:
        self._run = None  # type: ignore[assignment]
