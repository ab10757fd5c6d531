"""Export formats by name: each is a module with ``export_<format>`` and ``EXPORTED``, imported
only when asked for (each pulls in its own heavy toolchain)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from gazesdk.errors import ConfigError

_MODULES = {"onnx": "gazesdk.export.onnx", "coreml": "gazesdk.export.coreml",
            "tflite": "gazesdk.export.tflite"}
# What each format imports when it converts or runs (the modules import them lazily).
_TOOLCHAINS = {"onnx": ("torch", "onnx", "onnxscript", "onnxruntime"),
               "coreml": ("torch", "coremltools"),
               "tflite": ("torch", "litert_torch", "torchao", "ai_edge_litert", "flatbuffers")}


def list_formats() -> list[str]:
    """The export formats, in the order the CLI's ``all`` exports them."""
    return list(_MODULES)


def _module(fmt: str) -> Any:
    if fmt not in _MODULES:
        raise ConfigError(f"unknown export format {fmt!r}; known: {', '.join(_MODULES)}")
    missing = [m for m in _TOOLCHAINS[fmt] if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"the {fmt} export needs the export toolchain ({', '.join(missing)} "
                          f"not installed): pip install -c constraints.txt 'gazesdk[export]'")
    return importlib.import_module(_MODULES[fmt])


def exporter(fmt: str) -> Callable[..., Any]:
    """``export_<fmt>``."""
    return getattr(_module(fmt), f"export_{fmt}")


def exporter_class(fmt: str) -> type:
    """The :class:`~gazesdk.export.exported.ExportedModel` subclass of ``fmt``."""
    return _module(fmt).EXPORTED
