"""The model zoo: backbones registered by name, and :func:`create_model` to build a
:class:`GazeModel` from one (Guo et al.'s three-branch network with an ordinal or L2 head).

A backbone is a callable (usually an ``nn.Module`` class) taking keyword options and returning a
module that maps (N, 3, 64, 64) normalised patches to (N, 128) features. ``create_model`` builds
it twice, once for the face and once for the (shared) eye branch. Backbone options apply to
both; an option prefixed ``face_`` or ``eye_`` applies to that branch only (e.g. the pruned
widths ``face_channels=[...]``, ``eye_channels=[...]`` of ``casia``).

``model.config`` is a plain dict (JSON-compatible) from which :func:`model_from_config` rebuilds
the same architecture, e.g. from a checkpoint.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from torch import nn

from gazesdk.errors import ConfigError
from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.models.gaze_model import FEATURE_DIM, GEOMETRY_MODES, GazeModel
from gazesdk.models.heads import HEADS, HeadPoseHead, L2Head, OrdinalHead

__all__ = ["FEATURE_DIM", "backbone_summary", "create_model", "list_models", "model_from_config",
           "register_backbone"]

F = TypeVar("F", bound=Callable[..., nn.Module])

_BACKBONES: dict[str, Callable[..., nn.Module]] = {}
# Config keys that are not backbone options.
RESERVED = ("name", "head", "face_grid", "bins", "x_range", "y_range", "centred", "head_pose",
            "crops", "eye_geometry", "eye_geometry_mode", "mirror_average")
BRANCHES = ("face", "eye")


def register_backbone(name: str) -> Callable[[F], F]:
    """Decorator: register a backbone factory (a class or function) under ``name``."""
    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise ValueError(f"backbone names are lower-case identifiers, got {name!r}")

    def decorate(factory: F) -> F:
        if name in _BACKBONES and _BACKBONES[name] is not factory:
            raise ValueError(f"a backbone named {name!r} is already registered")
        _BACKBONES[name] = factory
        return factory

    return decorate


def list_models() -> list[str]:
    """The registered backbone names, sorted."""
    return sorted(_BACKBONES)


def backbone_summary(name: str) -> str:
    """The first line of backbone ``name``'s docstring."""
    if name not in _BACKBONES:
        raise ConfigError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    doc = inspect.getdoc(_BACKBONES[name]) or ""
    return doc.splitlines()[0] if doc else ""


def _options(factory: Callable[..., nn.Module]) -> tuple[list[str], bool]:
    params = inspect.signature(factory).parameters.values()
    names = [p.name for p in params
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def _branch_kwargs(name: str, kwargs: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Split backbone options into those of the face and of the eye branch."""
    known, any_option = _options(_BACKBONES[name])
    shared: dict[str, Any] = {}
    own: dict[str, dict[str, Any]] = {b: {} for b in BRANCHES}
    for key, value in kwargs.items():
        if key in RESERVED:
            raise ConfigError(f"{key!r} is not a backbone option; pass bins=OrdinalBins(...) "
                              f"for the ranges and centring")
        branch = next((b for b in BRANCHES if key.startswith(b + "_")), None)
        option = key[len(branch) + 1:] if branch else key
        if not any_option and option not in known:
            listed = ", ".join(known) or "none"
            raise ConfigError(f"backbone {name!r} has no option {option!r} (its options: "
                              f"{listed}; prefix one with face_ or eye_ for one branch)")
        (own[branch] if branch else shared)[option] = value
    return {b: {**shared, **own[b]} for b in BRANCHES}


def _plain(value: Any) -> Any:
    """Tuples -> lists (recursively), so that the config survives a JSON round trip."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def create_model(name: str, *, head: str = "ordinal", face_grid: bool = True,
                 bins: OrdinalBins | None = None, head_pose: bool = False,
                 eye_geometry: bool = False, eye_geometry_mode: str = "per_eye",
                 **backbone_kwargs: Any) -> GazeModel:
    """Build a :class:`GazeModel` with backbone ``name`` (see :func:`list_models`).

    ``head`` is ``"ordinal"`` (Guo et al.'s binned regression, with ``bins``; default
    :class:`OrdinalBins`) or ``"l2"`` (plain regression in cm). ``face_grid`` adds iTracker's
    face-grid input. ``head_pose`` adds a HopeNet-style head-pose head on the gaze feature
    (:meth:`GazeModel.predict_head_pose`). ``eye_geometry`` makes a hybrid model that also
    takes the iris model's iris-in-eye geometry (:mod:`gazesdk.runtime.eye_geometry`);
    ``eye_geometry_mode`` ``"binocular"`` makes it read only the two eyes' mean of it (see
    :mod:`gazesdk.models.gaze_model`). Other
    keywords are backbone options (``face_``/
    ``eye_`` prefix: one branch).
    """
    if not isinstance(name, str) or name not in _BACKBONES:
        raise ConfigError(f"unknown model {name!r}; known models: {', '.join(list_models())}")
    if head not in HEADS:
        raise ConfigError(f"unknown head {head!r}; known heads: {', '.join(HEADS)}")
    if not isinstance(face_grid, bool):
        raise ConfigError(f"face_grid must be true or false, got {face_grid!r}")
    if not isinstance(head_pose, bool):
        raise ConfigError(f"head_pose must be true or false, got {head_pose!r}")
    if not isinstance(eye_geometry, bool):
        raise ConfigError(f"eye_geometry must be true or false, got {eye_geometry!r}")
    if eye_geometry_mode not in GEOMETRY_MODES:
        raise ConfigError(f"unknown eye_geometry_mode {eye_geometry_mode!r}; known: "
                          f"{', '.join(GEOMETRY_MODES)}")
    if eye_geometry_mode != "per_eye" and not eye_geometry:
        raise ConfigError(f"eye_geometry_mode {eye_geometry_mode!r} is for hybrid models: "
                          f"set eye_geometry too")
    if eye_geometry and not face_grid:      # inputs stay positional: face_grid comes first
        raise ConfigError("a hybrid model (eye_geometry) takes the face grid too: "
                          "face_grid must be true")
    if bins is None:
        bins = OrdinalBins()
    elif not isinstance(bins, OrdinalBins):
        raise ConfigError(f"bins must be an OrdinalBins, got {type(bins).__name__}")
    branch_kwargs = _branch_kwargs(name, backbone_kwargs)
    factory = _BACKBONES[name]
    face, eye = (factory(**branch_kwargs[b]) for b in BRANCHES)
    head_module: nn.Module = (OrdinalHead(FEATURE_DIM, bins) if head == "ordinal"
                              else L2Head(FEATURE_DIM))
    config = {"name": name, "head": head, "face_grid": face_grid, "bins": bins.bins,
              "x_range": [float(v) for v in bins.x_range],
              "y_range": [float(v) for v in bins.y_range], "centred": bins.centred,
              **_plain(backbone_kwargs)}
    if head_pose:                   # only then: configs of models without it stay as they were
        config["head_pose"] = True
    if eye_geometry:
        config["eye_geometry"] = True
    if eye_geometry_mode != "per_eye":      # only then: per-eye configs stay as they were
        config["eye_geometry_mode"] = eye_geometry_mode
    return GazeModel(face, eye, head_module, face_grid=face_grid, bins=bins, config=config,
                     pose=HeadPoseHead(FEATURE_DIM) if head_pose else None,
                     eye_geometry=eye_geometry, eye_geometry_mode=eye_geometry_mode)


def _range(config: Mapping[str, Any], key: str, default: tuple[float, float]
           ) -> tuple[float, float]:
    value = config.get(key, default)
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"config {key} must be two numbers, got {value!r}") from None
    return lo, hi


def model_from_config(config: Mapping[str, Any]) -> GazeModel:
    """Rebuild the model that ``model.config`` describes (untrained: load its state dict)."""
    if not isinstance(config, Mapping) or "name" not in config:
        raise ConfigError("a model config must be a mapping with at least a 'name'")
    rest = {k: v for k, v in config.items() if k not in RESERVED}
    bins = config.get("bins")
    if not isinstance(bins, OrdinalBins):
        defaults = OrdinalBins()
        bins = OrdinalBins(bins=defaults.bins if bins is None else bins,
                           x_range=_range(config, "x_range", defaults.x_range),
                           y_range=_range(config, "y_range", defaults.y_range),
                           centred=bool(config.get("centred", defaults.centred)))
    model = create_model(config["name"], head=config.get("head", "ordinal"),
                         face_grid=config.get("face_grid", True), bins=bins,
                         head_pose=bool(config.get("head_pose", False)),
                         eye_geometry=bool(config.get("eye_geometry", False)),
                         eye_geometry_mode=str(config.get("eye_geometry_mode", "per_eye")),
                         **rest)
    if config.get("crops"):
        model.set_crops(str(config["crops"]))
    if config.get("mirror_average"):
        model.set_mirror_average(True)
    return model
