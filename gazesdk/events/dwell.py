"""Dwell on app-given screen regions, with hysteresis: "the user looked at this button for
600 ms". Gaze-driven interfaces select by dwell times of 500-1000 ms for novices and shorter for
experts (Majaranta & Raiha 2002, "Twenty years of eye typing"); Jacob (1990) found 150-250 ms
enough for lightweight choices. Gaze jitters across a region's edge, so entering and leaving
use different borders: the gaze enters when it lands inside the region grown by
``enter_margin_pt`` and leaves only when it has stayed outside the region grown by
``exit_margin_pt`` for ``exit_grace_ms``; frames without a gaze (a blink, a lost face) leave
only after ``missing_grace_ms`` (a blink lasts 100-400 ms).

Regions are in *screen points* of the user's frame (x right, y down from the top-left corner
of the screen as the user sees it in the current orientation), as the runtime's
:class:`~gazesdk.runtime.result.ScreenPoint` is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gazesdk.errors import ConfigError
from gazesdk.events.state import EventKind, GazeEvent


@dataclass(frozen=True)
class DwellRegion:
    """A named rectangle in screen points: top-left (x_pt, y_pt), size width_pt x height_pt."""

    name: str
    x_pt: float
    y_pt: float
    width_pt: float
    height_pt: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"a dwell region needs a non-empty name, got {self.name!r}")
        for k in ("x_pt", "y_pt", "width_pt", "height_pt"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"dwell region {self.name!r}: {k} must be a finite number, "
                                  f"got {v!r}")
        if not (self.width_pt > 0 and self.height_pt > 0):
            raise ConfigError(f"dwell region {self.name!r}: width_pt and height_pt must be > 0")

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Whether (x, y) lies in the region grown by ``margin`` points on every side."""
        return (self.x_pt - margin <= x <= self.x_pt + self.width_pt + margin
                and self.y_pt - margin <= y <= self.y_pt + self.height_pt + margin)

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> DwellRegion:
        if not isinstance(values, Mapping):
            raise ConfigError(f"a dwell region must be a mapping, got {values!r}")
        known = {"name", "x_pt", "y_pt", "width_pt", "height_pt"}
        if set(values) != known:
            raise ConfigError(f"a dwell region needs exactly the keys {', '.join(sorted(known))};"
                              f" got {', '.join(sorted(map(str, values)))}")
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DwellOptions:
    """Dwell settings (see the module); ``regions`` may be empty (no dwell events)."""

    regions: tuple[DwellRegion, ...] = ()
    dwell_ms: float = 600.0
    enter_margin_pt: float = 0.0
    exit_margin_pt: float = 20.0
    exit_grace_ms: float = 150.0
    missing_grace_ms: float = 500.0

    def __post_init__(self) -> None:
        regions = self.regions
        if isinstance(regions, (str, bytes)) or not isinstance(regions, Sequence):
            raise ConfigError("dwell regions must be a list of regions")
        regions = tuple(r if isinstance(r, DwellRegion) else DwellRegion.from_dict(r)
                        for r in regions)
        object.__setattr__(self, "regions", regions)
        names = [r.name for r in regions]
        if len(set(names)) != len(names):
            raise ConfigError(f"dwell region names must be unique, got {names}")
        for k in ("dwell_ms", "enter_margin_pt", "exit_margin_pt", "exit_grace_ms",
                  "missing_grace_ms"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise ConfigError(f"dwell {k} must be a number >= 0, got {v!r}")
        if self.exit_margin_pt < self.enter_margin_pt:
            raise ConfigError("dwell exit_margin_pt must be >= enter_margin_pt (hysteresis: "
                              "leaving takes more than entering)")

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> DwellOptions:
        if not isinstance(values, Mapping):
            raise ConfigError(f"dwell settings must be a mapping, got {values!r}")
        known = {f for f in cls.__dataclass_fields__}
        bad = sorted(set(values) - known)
        if bad:
            raise ConfigError(f"unknown dwell option(s) {', '.join(bad)}; known: "
                              f"{', '.join(sorted(known))}")
        return cls(**values)  # type: ignore[arg-type]


@dataclass
class _Stay:
    entered_ms: int
    out_since_ms: int | None = None
    fired: bool = False


@dataclass
class DwellTracker:
    """Per-region dwell state over a stream (:meth:`update` once per frame)."""

    options: DwellOptions = field(default_factory=DwellOptions)

    def __post_init__(self) -> None:
        self._stays: dict[str, _Stay] = {}

    def reset(self) -> None:
        self._stays.clear()

    @property
    def inside(self) -> tuple[str, ...]:
        """The regions the gaze dwells on now, in the options' order."""
        return tuple(r.name for r in self.options.regions if r.name in self._stays)

    def update(self, timestamp_ms: int, point_pt: tuple[float, float] | None) -> list[GazeEvent]:
        """The dwell events of the frame at ``timestamp_ms`` whose gaze is ``point_pt`` (screen
        points; None when the frame has none)."""
        o, t, out = self.options, int(timestamp_ms), []
        for r in o.regions:
            stay = self._stays.get(r.name)
            if point_pt is None or not all(map(math.isfinite, point_pt)):
                if stay is not None:
                    stay.out_since_ms = t if stay.out_since_ms is None else stay.out_since_ms
                    if t - stay.out_since_ms >= o.missing_grace_ms:
                        out.append(self._exit(r.name, stay, t))
                continue
            x, y = point_pt
            if stay is None:
                if r.contains(x, y, o.enter_margin_pt):
                    self._stays[r.name] = stay = _Stay(entered_ms=t)
                    out.append(GazeEvent(EventKind.DWELL_ENTER, t, t, region=r.name))
                else:
                    continue
            if r.contains(x, y, o.exit_margin_pt):
                stay.out_since_ms = None
                if not stay.fired and t - stay.entered_ms >= o.dwell_ms:
                    stay.fired = True
                    out.append(GazeEvent(EventKind.DWELL, t, stay.entered_ms,
                                         duration_ms=t - stay.entered_ms, region=r.name))
            else:
                stay.out_since_ms = t if stay.out_since_ms is None else stay.out_since_ms
                if t - stay.out_since_ms >= o.exit_grace_ms:
                    out.append(self._exit(r.name, stay, t))
        return out

    def _exit(self, name: str, stay: _Stay, t: int) -> GazeEvent:
        del self._stays[name]
        end = stay.out_since_ms if stay.out_since_ms is not None else t
        return GazeEvent(EventKind.DWELL_EXIT, t, stay.entered_ms,
                         duration_ms=end - stay.entered_ms, region=name)
