"""LiteRT backend: the TFLite interpreter Android runs (``ai-edge-litert``), with XNNPACK.

Statically quantized models may take integer inputs (the face grid of an int8 export); the
runner quantizes and dequantizes with each tensor's scale and zero point.
"""

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
from gazesdk.runtime.quiet import quiet_native_logs

SIGNATURE = "serving_default"


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


def litert_runner(model: bytes | str | os.PathLike, *, threads: int = 1,
                  outputs: Sequence[str] = (OUTPUT_NAME,),
                  metadata: Mapping[str, Any] | None = None
                  ) -> Callable[[Mapping[str, np.ndarray]], list[np.ndarray]]:
    """A function running one batch {name: float32} at the model's fixed batch -> the named
    signature ``outputs`` as float32 (dequantized where integer), in that order; with
    ``metadata``, its inputs and batch must be the model's."""
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
    details = runner.get_output_details()
    if not set(outputs) <= set(details):
        raise ArtifactError(f"the .tflite signature has outputs {', '.join(sorted(details))}; "
                            f"its metadata names {', '.join(outputs)}")
    if metadata is not None:
        shapes = {k: list(d["shape"]) for k, d in ins.items()}
        check_model_io(metadata, shapes, {k: list(d["shape"]) for k, d in details.items()},
                       runtime="TFLite")
        batches = {int(s[0]) for s in shapes.values() if s}
        if [metadata["artifact"]["batch"]] != sorted(batches):
            raise ArtifactError(f"the .tflite model runs batch {sorted(batches)}; its metadata "
                                f"says {metadata['artifact']['batch']!r}")
    outs = [(name, details[name]) for name in outputs]

    def run(inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        feed = {k: to_tensor(v, ins[k]) for k, v in inputs.items()}
        got = runner(**feed)
        return [from_tensor(got[name], d) for name, d in outs]

    return run


class LiteRTBackend:
    """An exported ``.tflite`` (with its ``.json`` metadata) on the LiteRT interpreter (CPU;
    phones add GPU/NPU delegates, which this Python runtime does not): :meth:`infer` gives the
    gaze, :meth:`infer_all` every output (the features too, when exported)."""

    name = "litert"

    def __init__(self, path: str | os.PathLike, *, device: str = "cpu", threads: int = 1,
                 verify: bool = True) -> None:
        check_device(device, threads)
        if device != "cpu":
            raise ConfigError("the litert backend runs on the CPU only (device='cpu')")
        self.path = Path(path)
        self.metadata: dict[str, Any] = artifact_metadata(self.path, verify=verify)
        self.device = device
        self.output_names = metadata_outputs(self.metadata)
        self._tails = [tuple(t["shape"][1:]) for t in self.metadata["outputs"]]
        self._run = litert_runner(self.path, threads=threads, outputs=self.output_names,
                                  metadata=self.metadata)
        self._batch = int(self.metadata["artifact"]["batch"])      # the model's: checked

    def infer(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.infer_all(inputs)[0]

    def infer_all(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        n = len(next(iter(inputs.values())))
        rows: list[list[np.ndarray]] = [[] for _ in self._tails]
        for i in range(0, n, self._batch):
            part = {k: v[i:i + self._batch] for k, v in inputs.items()}
            m = len(next(iter(part.values())))
            if m < self._batch:
                part = {k: np.concatenate([v, np.repeat(v[-1:], self._batch - m, 0)])
                        for k, v in part.items()}
            for out, y, tail in zip(rows, self._run(part), self._tails, strict=True):
                out.append(np.asarray(y, np.float32).reshape(-1, *tail)[:m])
        return [np.concatenate(r) for r in rows]

    def close(self) -> None:
        self._run = None  # type: ignore[assignment]
