"""LiteRT backend: the TFLite interpreter Android runs (``ai-edge-litert``), with XNNPACK.

Statically quantized models may take integer inputs (the face grid of an int8 export); the
runner quantizes and dequantizes with each tensor's scale and zero point.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.runtime.backends.base import artifact_metadata, check_device, first_line
from gazesdk.runtime.quiet import quiet_native_logs

SIGNATURE = "serving_default"
OUTPUT_NAME = "gaze_cm"


def to_tensor(x: np.ndarray, detail: Mapping[str, Any]) -> np.ndarray:
    """Float input -> the tensor's dtype (quantized with its scale and zero point)."""
    dtype = detail["dtype"]
    if dtype == np.float32:
        return x.astype(np.float32, copy=False)
    scale, zero = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.rint(x / scale) + zero, info.min, info.max).astype(dtype)


def from_tensor(y: np.ndarray, detail: Mapping[str, Any]) -> np.ndarray:
    """An output tensor -> float32 (dequantized when it is integer)."""
    if detail["dtype"] == np.float32:
        return y
    scale, zero = detail["quantization"]
    return (y.astype(np.float32) - zero) * scale


def litert_runner(model: bytes | str | os.PathLike, *, threads: int = 1
                  ) -> Callable[[Mapping[str, np.ndarray]], np.ndarray]:
    """A function running one batch {name: float32} at the model's fixed batch -> (N, 2)."""
    from gazesdk.export.metadata import ArtifactError

    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise ConfigError("the litert backend needs ai-edge-litert: pip install "
                          "ai-edge-litert") from None
    check_device("cpu", threads)
    kwargs = ({"model_content": model} if isinstance(model, bytes)
              else {"model_path": str(model)})
    try:
        with quiet_native_logs():
            interp = Interpreter(num_threads=threads, **kwargs)
            runner = interp.get_signature_runner(SIGNATURE)
            ins = runner.get_input_details()
            runner(**{k: np.zeros(d["shape"], d["dtype"]) for k, d in ins.items()})
    except (ValueError, RuntimeError) as e:
        raise ArtifactError(f"the LiteRT interpreter cannot load the model: "
                            f"{first_line(e)}") from None
    out = runner.get_output_details()[OUTPUT_NAME]

    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        feed = {k: to_tensor(v, ins[k]) for k, v in inputs.items()}
        return from_tensor(runner(**feed)[OUTPUT_NAME], out)

    return run


class LiteRTBackend:
    """An exported ``.tflite`` (with its ``.json`` metadata) on the LiteRT interpreter (CPU;
    phones add GPU/NPU delegates, which this Python runtime does not)."""

    name = "litert"

    def __init__(self, path: str | os.PathLike, *, device: str = "cpu", threads: int = 1,
                 verify: bool = True) -> None:
        check_device(device, threads)
        if device != "cpu":
            raise ConfigError("the litert backend runs on the CPU only (device='cpu')")
        self.path = Path(path)
        self.metadata: dict[str, Any] = artifact_metadata(self.path, verify=verify)
        self.device = device
        self._batch = int(self.metadata["artifact"]["batch"])
        self._run = litert_runner(self.path, threads=threads)

    def infer(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(inputs.values())))
        rows = []
        for i in range(0, n, self._batch):
            part = {k: v[i:i + self._batch] for k, v in inputs.items()}
            m = len(next(iter(part.values())))
            if m < self._batch:
                part = {k: np.concatenate([v, np.repeat(v[-1:], self._batch - m, 0)])
                        for k, v in part.items()}
            rows.append(np.asarray(self._run(part), np.float32).reshape(-1, 2)[:m])
        return np.concatenate(rows)

    def close(self) -> None:
        self._run = None  # type: ignore[assignment]
