"""Quantization settings for every export format: one validated config.

A :class:`QuantConfig` says which precision to export (``fp32``, ``fp16`` or ``int8``) and, for
int8, how. Options left as ``None`` take the format's default (:func:`QuantConfig.resolve`);
an option that does not apply (a calibration method for fp32, activation settings for CoreML's
weight-only int8) or a precision a format cannot give is an error, not silently ignored.

Defaults and why:

- ONNX int8 is ONNX Runtime static quantization in QDQ form: uint8 activations (asymmetric) and
  int8 weights with ``reduce_range`` (7-bit weights), one scale per tensor by default
  (``per_channel`` gives one per output channel: a larger file, no better on our models).
  On x86 without VNNI (this project's CI machines) the u8s8 kernels saturate 8-bit weight
  products, which cost ~0.8 cm of mean output difference in our measurement, against ~0.3 cm
  with reduce_range.
  ``keep_head_float`` leaves the ordinal head's linear layer in float (off by default: keeping
  it changed the test error by 0.002 cm and cost 0.1 MB).
- TFLite int8 is litert-torch's PT2E quantizer: ``static`` (int8 weights and activations,
  calibrated; per-tensor weights by default) or ``dynamic`` (int8 per-channel weights, float
  activations).
- CoreML int8 is weight-only (``linear_symmetric`` per channel); compute stays float16.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gazesdk.errors import ConfigError
from gazesdk.settings import from_mapping

FORMATS = ("onnx", "coreml", "tflite")
PRECISIONS = ("fp32", "fp16", "int8")
SUPPORTED: dict[str, tuple[str, ...]] = {
    "onnx": ("fp32", "fp16", "int8"),
    "coreml": ("fp32", "fp16", "int8"),
    "tflite": ("fp32", "int8"),
}
INT8_MODES: dict[str, tuple[str, ...]] = {
    "onnx": ("static", "dynamic"), "tflite": ("static", "dynamic"), "coreml": ("weights",)}
CALIBRATION_METHODS = ("minmax", "percentile", "entropy")
ACTIVATION_DTYPES = ("uint8", "int8")
DEFAULT_CALIBRATION_SAMPLES = 800

# option -> (formats it applies to, int8 modes it applies to; None = any)
_APPLIES: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "mode": (FORMATS, None),
    "calibration_samples": (("onnx", "tflite"), ("static",)),
    "calibration_method": (("onnx",), ("static",)),
    "per_channel": (FORMATS, None),
    "activation_dtype": (("onnx",), ("static",)),
    "reduce_range": (("onnx",), ("static", "dynamic")),
    "keep_head_float": (("onnx",), ("static", "dynamic")),
    "weight_threshold": (("coreml",), ("weights",)),
}


@dataclass(frozen=True)
class QuantConfig:
    """What precision to export and, for int8, how (``None``: the format's default)."""

    precision: str = "fp32"
    mode: str | None = None                  # int8: static | dynamic (ONNX, TFLite); weights
    calibration_samples: int | None = None   # static int8: training samples to calibrate on
    calibration_method: str | None = None    # ONNX static: minmax | percentile | entropy
    per_channel: bool | None = None          # int8 weights: one scale per output channel
    activation_dtype: str | None = None      # ONNX static: uint8 | int8
    reduce_range: bool | None = None         # ONNX int8: 7-bit weights (x86 without VNNI)
    keep_head_float: bool | None = None      # ONNX int8: the ordinal head's linear stays float
    weight_threshold: int | None = None      # CoreML: quantize weights with more elements

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got "
                              f"{self.precision!r}")
        checks: list[tuple[str, type, tuple[Any, ...] | None]] = [
            ("mode", str, ("static", "dynamic", "weights")),
            ("calibration_method", str, CALIBRATION_METHODS),
            ("activation_dtype", str, ACTIVATION_DTYPES),
            ("calibration_samples", int, None), ("weight_threshold", int, None),
            ("per_channel", bool, None), ("reduce_range", bool, None),
            ("keep_head_float", bool, None)]
        for name, kind, allowed in checks:
            v = getattr(self, name)
            if v is None:
                continue
            if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
                raise ConfigError(f"quantization option {name} must be "
                                  f"{'an integer' if kind is int else kind.__name__}, got {v!r}")
            if allowed is not None and v not in allowed:
                raise ConfigError(f"quantization option {name} must be one of "
                                  f"{', '.join(allowed)}, got {v!r}")
        if self.calibration_samples is not None and self.calibration_samples < 1:
            raise ConfigError("calibration_samples must be at least 1")
        if self.weight_threshold is not None and self.weight_threshold < 0:
            raise ConfigError("weight_threshold must be >= 0")
        if self.precision != "int8":
            given = [f.name for f in dataclasses.fields(self)
                     if f.name != "precision" and getattr(self, f.name) is not None]
            if given:
                raise ConfigError(f"quantization option(s) {', '.join(given)} apply to int8 "
                                  f"only, not {self.precision}")

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> QuantConfig:
        """From a parsed YAML/JSON mapping; unknown keys are errors."""
        return from_mapping(cls, values, what="quantization")

    def applicable(self, fmt: str) -> QuantConfig:
        """A copy without the int8 options that do not apply to ``fmt`` (for exporting one
        config to several formats); :meth:`resolve` of the original would refuse them."""
        if self.precision != "int8" or fmt not in FORMATS:
            return self
        mode = self.mode if self.mode in INT8_MODES[fmt] else None
        effective = mode or INT8_MODES[fmt][0]
        drop = {name for name, (formats, modes) in _APPLIES.items()
                if name != "mode" and (fmt not in formats
                                       or (modes is not None and effective not in modes))}
        return dataclasses.replace(self, mode=mode, **{k: None for k in drop})

    def resolve(self, fmt: str) -> dict[str, Any]:
        """The settings for format ``fmt`` with every default filled in; a precision or option
        the format does not have is a :class:`ConfigError`."""
        if fmt not in FORMATS:
            raise ConfigError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")
        if self.precision not in SUPPORTED[fmt]:
            raise ConfigError(f"{fmt} export has no {self.precision} precision (it has "
                              f"{', '.join(SUPPORTED[fmt])})")
        if self.precision != "int8":
            return {"precision": self.precision}
        mode = self.mode or INT8_MODES[fmt][0]
        if mode not in INT8_MODES[fmt]:
            raise ConfigError(f"{fmt} int8 has no {mode!r} mode (it has "
                              f"{', '.join(INT8_MODES[fmt])})")
        for name, (formats, modes) in _APPLIES.items():
            if getattr(self, name) is None or name == "mode":
                continue
            if fmt not in formats or (modes is not None and mode not in modes):
                raise ConfigError(f"quantization option {name} does not apply to {fmt} int8 "
                                  f"({mode})")
        # per-tensor for static int8 (ONNX, TFLite): on the bundled model it met 0.3x of the
        # fp32 size (per-channel: 0.31-0.33x, from the per-channel scales and zero points) at
        # the same error (+0.015 / -0.017 cm vs -0.032 / -0.008 cm; benchmarks/export_table.py)
        out: dict[str, Any] = {"precision": "int8", "mode": mode,
                               "per_channel": _default(self.per_channel, mode != "static")}
        if mode == "static":
            out["calibration_samples"] = _default(self.calibration_samples,
                                                  DEFAULT_CALIBRATION_SAMPLES)
        if fmt == "onnx":
            out["reduce_range"] = _default(self.reduce_range, True)
            out["keep_head_float"] = _default(self.keep_head_float, False)
            if mode == "static":
                out["calibration_method"] = self.calibration_method or "minmax"
                out["activation_dtype"] = self.activation_dtype or "uint8"
        if fmt == "coreml":
            out["weight_threshold"] = _default(self.weight_threshold, 0)
        return out


def _default(value: Any, default: Any) -> Any:
    return default if value is None else value


def as_quant_config(quant: QuantConfig | str | Mapping[str, object]) -> QuantConfig:
    """A QuantConfig from itself, a precision name or a mapping."""
    if isinstance(quant, QuantConfig):
        return quant
    if isinstance(quant, str):
        return QuantConfig(precision=quant)
    if isinstance(quant, Mapping):
        return QuantConfig.from_dict(quant)
    raise ConfigError(f"quant must be a QuantConfig, a precision name or a mapping, got "
                      f"{type(quant).__name__}")
