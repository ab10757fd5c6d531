"""A small temporal filter on crop boxes: the eye and face boxes are a main source of gaze jitter
when they move by pixels from frame to frame, so their centre and side are smoothed with an
exponential moving average, ``b_t = b_{t-1} + alpha (m_t - b_{t-1})``, which cuts white
box noise's variance by ``alpha / (2 - alpha)``. A box that moves (or grows) by more than
``snap_fraction`` of its side in one frame is taken as it is, so a saccade or a head movement
is not smeared: the filter only ever lags on pixel-sized wobble.

The face's own motion is not wobble: a hand-held phone shakes the face across the frame by
pixels every frame, and a box that lagged it would cut a different patch each frame. So each
box is first carried along with an ``anchor`` that moves with the face (the estimator passes
the face mesh's centroid and RMS spread, averages of 468 points, far steadier than the few
points a box is placed from): the previous box is translated with the anchor's centre and
scaled about it by its spread's ratio, and only what remains, the box's wobble relative to the
face, is averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gazesdk.errors import ConfigError


@dataclass(frozen=True)
class BoxStabiliserOptions:
    """``alpha`` in (0, 1]: 1 turns the filter off; ``snap_fraction`` > 0: jumps beyond this
    fraction of the box side pass through."""

    alpha: float = 0.5
    snap_fraction: float = 0.1

    def __post_init__(self) -> None:
        for name in ("alpha", "snap_fraction"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"box stabiliser {name} must be a number, got {v!r}")
        if not 0.0 < self.alpha <= 1.0:
            raise ConfigError(f"box stabiliser alpha must lie in (0, 1], got {self.alpha}")
        if not self.snap_fraction > 0.0:
            raise ConfigError(f"box stabiliser snap_fraction must be > 0, got "
                              f"{self.snap_fraction}")


class BoxStabiliser:
    """Smooths named boxes (cx, cy, side) in frame pixels from one frame to the next."""

    def __init__(self, options: BoxStabiliserOptions | None = None) -> None:
        self.options = options or BoxStabiliserOptions()
        self._state: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}

    def reset(self) -> None:
        self._state.clear()

    def __call__(self, name: str, cx: float, cy: float, side: float, *,
                 anchor: tuple[float, float, float] | None = None) -> tuple[float, float,
                                                                            float]:
        """The smoothed (cx, cy, side) of box ``name``; ``anchor`` (x, y, spread) in frame
        pixels moves with the face (see the module), None: the box is smoothed in place."""
        m = np.array([cx, cy, side], np.float64)
        if not np.isfinite(m).all() or side <= 0:
            raise ValueError(f"box {name!r} must be finite with a positive side, got {m}")
        a = None if anchor is None else np.asarray(anchor, np.float64)
        if a is not None and (a.shape != (3,) or not np.isfinite(a).all() or a[2] <= 0):
            raise ValueError(f"anchor must be finite (x, y, spread > 0), got {anchor}")
        prev = self._state.get(name)
        o = self.options
        pred = None
        if prev is not None:
            pred = prev[0].copy()
            if a is not None and prev[1] is not None:
                k = a[2] / prev[1][2]
                pred[:2] = a[:2] + k * (prev[0][:2] - prev[1][:2])
                pred[2] = prev[0][2] * k
        if pred is None or (np.abs(m - pred) > o.snap_fraction * pred[2]).any():
            out = m
        else:
            out = pred + o.alpha * (m - pred)
        self._state[name] = (out, a)
        return float(out[0]), float(out[1]), float(out[2])
