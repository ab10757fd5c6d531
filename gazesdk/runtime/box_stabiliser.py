"""A small temporal filter on crop boxes: the eye and face boxes are a main source of gaze jitter
when they move by pixels from frame to frame, so their centre and side are smoothed with an
exponential moving average, ``b_t = b_{t-1} + alpha (m_t - b_{t-1})``, which cuts white
box noise's variance by ``alpha / (2 - alpha)``. A box that moves (or grows) by more than
``snap_fraction`` of its side in one frame is taken as it is, so a saccade or a head movement
is not smeared: the filter only ever lags on pixel-sized wobble.
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
        if not 0.0 < self.alpha <= 1.0:
            raise ConfigError(f"box stabiliser alpha must lie in (0, 1], got {self.alpha}")
        if not self.snap_fraction > 0.0:
            raise ConfigError(f"box stabiliser snap_fraction must be > 0, got "
                              f"{self.snap_fraction}")


class BoxStabiliser:
    """Smooths named boxes (cx, cy, side) in frame pixels from one frame to the next."""

    def __init__(self, options: BoxStabiliserOptions | None = None) -> None:
        self.options = options or BoxStabiliserOptions()
        self._state: dict[str, np.ndarray] = {}

    def reset(self) -> None:
        self._state.clear()

    def __call__(self, name: str, cx: float, cy: float, side: float) -> tuple[float, float,
                                                                              float]:
        m = np.array([cx, cy, side], np.float64)
        if not np.isfinite(m).all() or side <= 0:
            raise ValueError(f"box {name!r} must be finite with a positive side, got {m}")
        prev = self._state.get(name)
        o = self.options
        if prev is None or (np.abs(m - prev) > o.snap_fraction * prev[2]).any():
            out = m
        else:
            out = prev + o.alpha * (m - prev)
        self._state[name] = out
        return float(out[0]), float(out[1]), float(out[2])
