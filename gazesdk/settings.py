"""What every config dataclass does at the CLI/YAML edge: refuse unknown keys, check types.

Used by :class:`gazesdk.sim.SimConfig` and :class:`gazesdk.training.config.TrainConfig`.
Fields are checked by their annotation: ``int``, ``float`` (finite), ``bool``, ``str``, and
tuples of numbers such as ``tuple[float, float]``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, TypeVar

from gazesdk.errors import ConfigError

T = TypeVar("T")


def from_mapping(cls: type[T], values: Mapping[str, object], *, what: str) -> T:
    """Build a config dataclass from a parsed YAML/JSON mapping; lists become tuples."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{what} settings must be a mapping, got {type(values).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown {what} setting(s) {unknown}; known: {sorted(known)}")
    floats = {f.name for f in dataclasses.fields(cls) if str(f.type) == "float"}
    clean = {}
    for k, v in values.items():
        if isinstance(v, list):
            v = tuple(v)
        elif k in floats and isinstance(v, str):   # YAML 1.1 reads "2e-3" as a string
            try:
                v = float(v)
            except ValueError:
                pass                               # check_types names the bad value
        clean[k] = v
    return cls(**clean)


def to_plain_dict(obj: Any) -> dict[str, object]:
    """The config as JSON-ready values (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(obj).items()}


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def check_types(obj: Any) -> None:
    """One-line ConfigError for the first field whose value does not fit its annotation."""
    for f in dataclasses.fields(obj):
        v, kind = getattr(obj, f.name), str(f.type)
        if kind == "int" and (not isinstance(v, int) or isinstance(v, bool)):
            raise ConfigError(f"{f.name} must be an integer, got {v!r}")
        if kind == "float" and not _number(v):
            raise ConfigError(f"{f.name} must be a number, got {v!r}")
        if kind == "bool" and not isinstance(v, bool):
            raise ConfigError(f"{f.name} must be true or false, got {v!r}")
        if kind.startswith("dict[str") and not (isinstance(v, Mapping)
                                                and all(isinstance(k, str) for k in v)):
            raise ConfigError(f"{f.name} must be a mapping of names to values, got {v!r}")
        if kind == "str" and not isinstance(v, str):
            raise ConfigError(f"{f.name} must be a string, got {v!r}")
        if kind.startswith("tuple[float") or kind.startswith("tuple[int"):
            size = kind.count(",") + 1
            if not (isinstance(v, tuple) and len(v) == size and all(map(_number, v))):
                raise ConfigError(f"{f.name} must be {size} numbers, got {v!r}")
        values = v if isinstance(v, tuple) else (v,)
        if any(_number(x) and not math.isfinite(x) for x in values):
            raise ConfigError(f"{f.name} must be finite, got {v!r}")
