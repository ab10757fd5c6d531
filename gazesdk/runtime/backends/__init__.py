"""Inference backends by name: ``onnxruntime``, ``litert``, ``coreml``, ``torch``.

Each adapter imports its runtime only when created, so the SDK installs without the ones an
app does not use. ``auto`` picks by the model file's suffix, and for the bundled default model
the first installed of ONNX Runtime, LiteRT and torch.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

from gazesdk.errors import ConfigError
from gazesdk.runtime.backends.base import Backend, ModelSpec, bundled_artifact

DEFAULT_MODEL = "default"
# name -> (module, class, model suffixes, the module that must be importable)
_BACKENDS = {
    "onnxruntime": ("onnxruntime", "OnnxRuntimeBackend", (".onnx",), "onnxruntime"),
    "litert": ("litert", "LiteRTBackend", (".tflite",), "ai_edge_litert"),
    "coreml": ("coreml", "CoreMLBackend", (".mlpackage",), "coremltools"),
    "torch": ("torch", "TorchBackend", (".pt", ".safetensors"), "torch"),
}
PRECISIONS = ("fp32", "int8")


def list_backends() -> list[str]:
    return list(_BACKENDS)


def installed_backends() -> list[str]:
    """Backends whose runtime is importable here (Core ML also needs macOS to predict)."""
    return [n for n, spec in _BACKENDS.items() if importlib.util.find_spec(spec[3]) is not None]


def backend_for_path(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    for name, (_, _, suffixes, _) in _BACKENDS.items():
        if suffix in suffixes:
            return name
    known = ", ".join(s for spec in _BACKENDS.values() for s in spec[2])
    raise ConfigError(f"cannot tell the backend of {Path(path).name}: model files end in {known}")


def resolve_model(model: str | os.PathLike, backend: str, precision: str
                  ) -> tuple[str, str | Path]:
    """(backend name, model source) for ``model`` ("default" or a path) and ``backend``
    ("auto" or a name); ``precision`` picks the bundled default's fp32 or int8 export."""
    if backend != "auto" and (not isinstance(backend, str) or backend not in _BACKENDS):
        raise ConfigError(f"unknown backend {backend!r}; choose auto or one of "
                          f"{', '.join(_BACKENDS)}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if not isinstance(model, (str, os.PathLike)):
        raise ConfigError(f"model must be 'default' or a path, got {type(model).__name__} "
                          f"{model!r:.80}")
    if str(model) == DEFAULT_MODEL:
        if backend == "auto":
            have = installed_backends()
            backend = next((b for b in ("onnxruntime", "litert", "torch") if b in have), "")
            if not backend:
                raise ConfigError("no inference runtime is installed: pip install onnxruntime "
                                  "(or ai-edge-litert, or torch)")
        if backend == "torch":
            if precision != "fp32":
                raise ConfigError("the torch backend runs the bundled model in fp32 only")
            return backend, DEFAULT_MODEL
        if backend == "coreml":
            raise ConfigError("the bundled model ships as ONNX and TFLite; export a Core ML "
                              "model with `gazesdk export --format coreml` and pass its path")
        suffix = _BACKENDS[backend][2][0]
        return backend, bundled_artifact(suffix, precision)
    path = Path(model)
    if not path.exists():
        raise ConfigError(f"no model at {path}")
    guessed = backend_for_path(path)
    if backend not in ("auto", guessed):
        raise ConfigError(f"{path.name} is a {guessed} model, not one for the {backend} backend")
    return guessed, path


def create_backend(model: str | os.PathLike = DEFAULT_MODEL, *, backend: str = "auto",
                   precision: str = "int8", device: str = "cpu", threads: int = 1) -> Backend:
    """An opened backend for ``model`` (see :func:`resolve_model`)."""
    name, source = resolve_model(model, backend, precision)
    module, cls, _, requires = _BACKENDS[name]
    if importlib.util.find_spec(requires) is None:
        raise ConfigError(f"the {name} backend needs the {requires} package, which is not "
                          f"installed")
    impl = getattr(importlib.import_module(f"gazesdk.runtime.backends.{module}"), cls)
    return impl(source, device=device, threads=threads)


__all__ = ["Backend", "ModelSpec", "backend_for_path", "create_backend", "installed_backends",
           "list_backends", "resolve_model"]
