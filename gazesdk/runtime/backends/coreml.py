"""Core ML backend: an exported ``.mlpackage`` through coremltools. Core ML predictions run on
macOS only (coremltools says "Model prediction is only supported on macOS"); elsewhere this
backend refuses to open with that reason. The converted program can still be checked on any
machine with :func:`gazesdk.export.coreml.program_summary`."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.runtime.backends.base import (
    artifact_metadata,
    check_device,
    first_line,
    metadata_outputs,
)


def coreml_available() -> tuple[bool, str]:
    """(whether Core ML can predict here, why not)."""
    if platform.system() != "Darwin":
        return False, "Core ML predictions need macOS"
    try:
        import coremltools  # noqa: F401
    except ImportError:
        return False, "coremltools is not installed (pip install coremltools==9.0)"
    return True, ""


class CoreMLBackend:
    """An ``.mlpackage`` on Core ML (CPU only when ``device='cpu'``; otherwise all units, as
    an app would run it): :meth:`infer` gives the gaze, :meth:`infer_all` every output."""

    name = "coreml"

    def __init__(self, path: str | os.PathLike, *, device: str = "cpu", threads: int = 1,
                 verify: bool = True) -> None:
        check_device(device, threads)
        ok, why = coreml_available()
        if not ok:
            raise ConfigError(f"the coreml backend cannot run here: {why}")
        import coremltools as ct

        self.path = Path(path)
        self.metadata: dict[str, Any] = artifact_metadata(self.path, verify=verify)
        self.output_names = metadata_outputs(self.metadata)
        self._tails = [tuple(t["shape"][1:]) for t in self.metadata["outputs"]]
        units = ct.ComputeUnit.CPU_ONLY if device == "cpu" else ct.ComputeUnit.ALL
        try:
            self._model = ct.models.MLModel(str(self.path), compute_units=units)
        except Exception as e:  # coremltools raises several types for a bad package
            raise ConfigError(f"Core ML cannot load {self.path.name}: {first_line(e)}") from None

    def infer(self, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return self.infer_all(inputs)[0]

    def infer_all(self, inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        n = len(next(iter(inputs.values())))
        got = [self._model.predict({k: v[i:i + 1] for k, v in inputs.items()})
               for i in range(n)]
        return [np.concatenate([np.asarray(g[name], np.float32).reshape(-1, *tail)
                                for g in got])
                for name, tail in zip(self.output_names, self._tails, strict=True)]

    def close(self) -> None:
        self._model = None
