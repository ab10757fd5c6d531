"""Export formats by name: each is a module with ``export_<format>`` and ``EXPORTED``, imported
only when asked for (each pulls in its own heavy toolchain)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from gazesdk.errors import ConfigError

_MODULES = {"onnx": "gazesdk.export.onnx", "coreml": "gazesdk.export.coreml",
            "tflite": "gazesdk.export.tflite"}


def list_formats() -> list[str]:
    """The export formats, in the order the CLI's ``all`` exports them."""
    return list(_MODULES)


def _module(fmt: str) -> Any:
    if fmt not in _MODULES:
        raise ConfigError(f"unknown export format {fmt!r}; known: {', '.join(_MODULES)}")
    try:
        return importlib.import_module(_MODULES[fmt])
    except ImportError as e:
        raise ConfigError(f"the {fmt} export needs the export toolchain ({e.name} is not "
                          f"installed): pip install -c constraints.txt 'gazesdk[export]'"
                          ) from None


def exporter(fmt: str) -> Callable[..., Any]:
    """``export_<fmt>``."""
    return getattr(_module(fmt), f"export_{fmt}")


def exporter_class(fmt: str) -> type:
    """The :class:`~gazesdk.export.exported.ExportedModel` subclass of ``fmt``."""
    return _module(fmt).EXPORTED
