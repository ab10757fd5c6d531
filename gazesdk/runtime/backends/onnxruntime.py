"""ONNX Runtime backend: CPU, or CUDA through ONNX Runtime's CUDA provider when installed
(``onnxruntime-gpu``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.runtime.backends.base import (
    OUTPUT_NAME,
    artifact_metadata,
    check_device,
    check_model_io,
    first_line,
    metadata_outputs,
)


def ort_runner(model: bytes | str | os.PathLike, *, threads: int = 1, device: str = "cpu",
               outputs: Sequence[str] = (OUTPUT_NAME,), metadata: Mapping[str, Any] | None = None
               ) -> Callable[[Mapping[str, np.ndarray]], list[np.ndarray]]:
    """A function running one batch {name: float32} through an ONNX model -> the named
    ``outputs``, in that order (gaze (N, 2) first); with ``metadata``, its inputs must be the
    model's."""
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
    have = [o.name for o in session.get_outputs()]
    if not set(outputs) <= set(have):
        raise ArtifactError(f"the ONNX model has outputs {', '.join(have)}; its metadata "
                            f"names {', '.join(outputs)}")
    if metadata is not None:
        check_model_io(metadata, {i.name: i.shape for i in session.get_inputs()},
                       {o.name: o.shape for o in session.get_outputs()}, runtime="ONNX")
    names = list(outputs)

    def run(inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return session.run(names, dict(inputs))

    return run


class OnnxRuntimeBackend:
    """An exported ``.onnx`` (with its ``.json`` metadata) on ONNX Runtime: :meth:`infer` gives
    the gaze, :meth:`infer_all` every output (the features too, when exported)."""

    name = "onnxruntime"

    def __init__(self, path: str | os.PathLike, *, device: str = "cpu", threads: int = 1,
                 verify: bool = True) -> None:
        self.path = Path(path)
        self.metadata: dict[str, Any] = artifact_metadata(self.path, verify=verify)
        self.device = device
        self.output_names = metadata_outputs(self.metadata)
        self._run = ort_runner(self.path, threads=threads, device=device,
                               outputs=self.output_names, metadata=self.metadata)

    def infer(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.infer_all(inputs)[0]

    def infer_all(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(y, np.float32) for y in self._run(inputs)]

    def close(self) -> None:
        self._run = None  # type: ignore[assignment]
