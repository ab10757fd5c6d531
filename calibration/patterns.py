"""Where calibration targets appear: 1, 5, 9 and 13-point layouts, validation points, and a
smooth-pursuit path, in screen points for any device and orientation.

Frames: screen points from the top-left corner of the screen as the user sees it in the given
orientation, x right and y down (:mod:`gazesdk.geometry.screen`).

The point layouts nest (1 in 5 in 9 in 13): the centre; the four corners of a rectangle inset
by ``margin`` (a fraction of each side; 0.1 as in GazeCapture's and iTracker's 3x3 grid); the
3x3 grid on that rectangle; plus the four points halfway between the centre and the corners.
They are shown in a greedy nearest-neighbour tour from the centre, so no saccade crosses the
whole screen (long saccades are slow to settle and end in corrective saccades). Validation
points (kept out of every fit) sit on the four arms of a plus between the fit points.

The pursuit pattern is a Lissajous figure (frequencies 3:2 over ``duration_ms``) inside the
same rectangle, after a ``lead_in_ms`` pause at its first point so the eye can catch it; its
peak speed stays well below the ~30 deg/s at which smooth pursuit stops keeping up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.geometry.devices import DeviceGeometry, check_orientation, get_device

POINT_COUNTS = (1, 5, 9, 13)
# fit points as fractions of the inset rectangle (0 = inset edge, 1 = the other inset edge)
_CENTRE = [(0.5, 0.5)]
_CORNERS = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
_EDGES = [(0.5, 0.0), (1.0, 0.5), (0.5, 1.0), (0.0, 0.5)]
_INNER = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]
_VALIDATION = [(0.5, 0.25), (0.75, 0.5), (0.5, 0.75), (0.25, 0.5)]
_LAYOUTS = {1: _CENTRE, 5: _CENTRE + _CORNERS, 9: _CENTRE + _CORNERS + _EDGES,
            13: _CENTRE + _CORNERS + _EDGES + _INNER}


def _device(device: DeviceGeometry | str) -> DeviceGeometry:
    return device if isinstance(device, DeviceGeometry) else get_device(str(device))


def _inset(size: tuple[float, float], margin: float, frac: np.ndarray) -> np.ndarray:
    w, h = size
    x = margin * w + frac[:, 0] * (1 - 2 * margin) * w
    y = margin * h + frac[:, 1] * (1 - 2 * margin) * h
    return np.stack([x, y], 1)


def short_tour(points: np.ndarray, start: int = 0) -> np.ndarray:
    """Visiting order of ``points`` (K, 2) from ``start``: greedy nearest neighbour (ties to
    the lower index), then 2-opt reversals of the open path while one shortens it
    (deterministic)."""
    pts = np.asarray(points, float)
    left = list(range(len(pts)))
    order = [left.pop(left.index(start))]
    while left:
        d = np.linalg.norm(pts[left] - pts[order[-1]], axis=1)
        order.append(left.pop(int(np.argmin(d))))
    improved = True
    while improved:
        improved = False
        for i in range(1, len(order) - 1):
            for j in range(i + 1, len(order)):
                cand = order[:i] + order[i:j + 1][::-1] + order[j + 1:]
                if tour_length(pts[cand]) < tour_length(pts[order]) - 1e-9:
                    order, improved = cand, True
    return np.asarray(order)


@dataclass(frozen=True)
class PointPattern:
    """A point-calibration layout on one screen: ``targets`` (K, 2) screen points in the order
    shown, then ``validation`` (V, 2) points shown after them and kept out of the fit."""

    points: int
    targets: np.ndarray
    validation: np.ndarray
    device: DeviceGeometry
    orientation: int
    margin: float

    @property
    def name(self) -> str:
        return str(self.points)

    @property
    def screen_pts(self) -> tuple[float, float]:
        return self.device.screen_size_points(self.orientation)

    def all_targets(self) -> list[tuple[np.ndarray, bool]]:
        """Every target as shown, (point, is_validation), fit points first."""
        return ([(p, False) for p in self.targets] + [(p, True) for p in self.validation])


def point_pattern(points: int, device: DeviceGeometry | str, orientation: int = 1, *,
                  margin: float = 0.1, validation: bool = True) -> PointPattern:
    """The ``points``-point layout (1, 5, 9 or 13) for ``device`` held in ``orientation``,
    inset by ``margin`` of each side, with the four validation points unless ``validation``
    is False."""
    if points not in _LAYOUTS:
        raise ConfigError(f"a calibration pattern has 1, 5, 9 or 13 points, got {points!r}")
    if not 0.02 <= margin <= 0.3:
        raise ConfigError(f"margin must lie in [0.02, 0.3] of the screen side, got {margin}")
    check_orientation(orientation)
    dev = _device(device)
    size = dev.screen_size_points(orientation)
    fit = _inset(size, margin, np.asarray(_LAYOUTS[points], float))
    fit = fit[short_tour(fit)]
    val = (_inset(size, margin, np.asarray(_VALIDATION, float)) if validation
           else np.zeros((0, 2)))
    if len(val):
        val = val[short_tour(np.vstack([fit[-1:], val]))[1:] - 1]
    return PointPattern(points=points, targets=fit, validation=val, device=dev,
                        orientation=orientation, margin=margin)


@dataclass(frozen=True)
class PursuitPattern:
    """A smooth-pursuit path: a dot resting ``lead_in_ms`` at the path's start, then moving
    along x = cx + ax sin(2 pi 3 s + pi/2), y = cy + ay sin(2 pi 2 s), s = t / duration, for
    ``duration_ms``. :meth:`position` gives the dot at a time since the pattern began."""

    device: DeviceGeometry
    orientation: int
    duration_ms: int
    lead_in_ms: int
    margin: float

    @property
    def name(self) -> str:
        return "pursuit"

    @property
    def screen_pts(self) -> tuple[float, float]:
        return self.device.screen_size_points(self.orientation)

    @property
    def total_ms(self) -> int:
        return self.lead_in_ms + self.duration_ms

    def position(self, t_ms: np.ndarray | float) -> np.ndarray:
        """(..., 2) screen points of the dot at ``t_ms`` after the pattern began (held at the
        start before ``lead_in_ms`` and at the end after it finishes)."""
        w, h = self.screen_pts
        ax, ay = (0.5 - self.margin) * w, (0.5 - self.margin) * h
        s = np.clip((np.asarray(t_ms, float) - self.lead_in_ms) / self.duration_ms, 0.0, 1.0)
        x = w / 2 + ax * np.sin(2 * np.pi * 3 * s + np.pi / 2)
        y = h / 2 + ay * np.sin(2 * np.pi * 2 * s)
        return np.stack([x, y], -1)

    def peak_speed_deg_s(self, distance_cm: float = 30.0) -> float:
        """The dot's highest angular speed seen from ``distance_cm`` (deg/s)."""
        t = np.linspace(self.lead_in_ms, self.total_ms, 4001)
        p = self.position(t)
        mm = np.asarray(self.device.screen_size_mm(self.orientation)) / np.asarray(
            self.screen_pts)
        step_cm = np.linalg.norm(np.diff(p, axis=0) * mm, axis=1) / 10
        return float(np.degrees(np.max(step_cm) / distance_cm) / (t[1] - t[0]) * 1000)


def pursuit_pattern(device: DeviceGeometry | str, orientation: int = 1, *,
                    duration_ms: int = 10000, lead_in_ms: int = 1000,
                    margin: float = 0.1) -> PursuitPattern:
    """The smooth-pursuit path for ``device`` in ``orientation`` (see :class:`PursuitPattern`);
    10 s at the default, about 10 deg/s at the peak on a phone at 30 cm."""
    check_orientation(orientation)
    if not 0.02 <= margin <= 0.3:
        raise ConfigError(f"margin must lie in [0.02, 0.3] of the screen side, got {margin}")
    if not (isinstance(duration_ms, int) and 3000 <= duration_ms <= 120000):
        raise ConfigError(f"duration_ms must be an integer from 3000 to 120000, got "
                          f"{duration_ms!r}")
    if not (isinstance(lead_in_ms, int) and 0 <= lead_in_ms <= 5000):
        raise ConfigError(f"lead_in_ms must be an integer from 0 to 5000, got {lead_in_ms!r}")
    return PursuitPattern(device=_device(device), orientation=orientation,
                          duration_ms=duration_ms, lead_in_ms=lead_in_ms, margin=margin)


def create_pattern(name: str | int, device: DeviceGeometry | str, orientation: int = 1,
                   **kwargs: object) -> PointPattern | PursuitPattern:
    """A pattern by name: "1", "5", "9", "13" or "pursuit"."""
    key = str(name)
    if key == "pursuit":
        return pursuit_pattern(device, orientation, **kwargs)  # type: ignore[arg-type]
    if key.isdigit() and int(key) in POINT_COUNTS:
        return point_pattern(int(key), device, orientation, **kwargs)  # type: ignore[arg-type]
    raise ConfigError(f"unknown calibration pattern {name!r}; known: "
                      f"{', '.join(map(str, POINT_COUNTS))}, pursuit")


def list_patterns() -> list[str]:
    return [*map(str, POINT_COUNTS), "pursuit"]


def tour_length(points: np.ndarray) -> float:
    """Total path length of visiting ``points`` in order (same unit as the points)."""
    p = np.asarray(points, float)
    return float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()) if len(p) > 1 else 0.0
