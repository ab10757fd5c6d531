"""A LiteRT interpreter for one of MediaPipe's landmark models (float32 NHWC in, plain tensors
out), with one-line errors for a missing runtime or a file that is not a model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gazesdk.errors import ConfigError


class LiteRTModel:
    """``model(x)`` -> {output name: array}; ``input_size`` is the model's square input side."""

    def __init__(self, path: str | os.PathLike[str], *, threads: int = 1) -> None:
        if not isinstance(threads, int) or threads < 1:
            raise ConfigError(f"threads must be a positive integer, got {threads!r}")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ConfigError("landmark models need ai-edge-litert: pip install "
                              "'gazesdk[runtime]'") from None
        from gazesdk.runtime.quiet import quiet_native_logs

        self.path = Path(path)
        try:
            with quiet_native_logs():
                self._it = Interpreter(model_path=str(self.path), num_threads=threads)
                self._it.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ConfigError(f"{self.path} is not a usable LiteRT model: "
                              f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
        inputs = self._it.get_input_details()
        if len(inputs) != 1 or len(inputs[0]["shape"]) != 4:
            raise ConfigError(f"{self.path}: expected one NHWC image input")
        self._input = inputs[0]["index"]
        self.input_size = int(inputs[0]["shape"][1])
        self._outputs = {d["name"]: d["index"] for d in self._it.get_output_details()}

    def __call__(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """Run on one (S, S, 3) uint8 RGB image, scaled to [0, 1] as MediaPipe's graphs do."""
        x = (image.astype(np.float32) * np.float32(1 / 255))[None]
        self._it.set_tensor(self._input, x)
        self._it.invoke()
        return {name: self._it.get_tensor(i).reshape(-1).copy()
                for name, i in self._outputs.items()}

    def output(self, outputs: dict[str, np.ndarray], size: int) -> np.ndarray:
        """The output with ``size`` values (the models name theirs after layers, not roles)."""
        for v in outputs.values():
            if v.size == size:
                return v
        raise ConfigError(f"{self.path}: no output with {size} values; is it the right model?")
