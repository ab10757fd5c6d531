"""Lag of a gaze smoother: how many frames its output takes to follow a step (a saccade).

Smoothing cuts the jitter of a stare (MSD, :mod:`gazesdk.evaluation.metrics`) at the price of
lag on saccades; this measures the price. A noise-free step from (0, 0) to ``step_cm`` is fed
through the smoother and the lag is the number of frames, after the step's own frame, until
the output has covered 90% of the step for good (the "90% rise time" of control engineering,
counted in frames).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gazesdk.runtime.smoothing import Smoother


def _vector(a: object, name: str) -> np.ndarray:
    v = np.asarray(a, dtype=np.float64)
    if v.shape != (2,):
        raise ValueError(f"{name} must be a point (x, y) in cm, got shape {v.shape}")
    return v


def frames_to_fraction(trace: np.ndarray, step_index: int, start: np.ndarray, end: np.ndarray,
                       fraction: float = 0.9) -> int:
    """Frames from ``step_index`` until ``trace`` has covered ``fraction`` of the step for good.

    Each point's progress is its projection onto the step direction, (p - start) . (end -
    start) / |end - start|^2 (0 at ``start``, 1 at ``end``). The result is k - step_index for
    the first frame k >= step_index from which every progress, to the end of the trace, is
    >= ``fraction``: 0 when the output is there on the step's own frame. Overshoot counts as
    arrived; a later dip below ``fraction`` (ringing) moves k past the dip; a NaN point never
    counts as arrived. ValueError when the last frame is not there (it never settles) or the
    inputs are malformed.
    """
    pts = np.asarray(trace, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"trace must be an (N, 2) array of gaze points in cm, got shape "
                         f"{pts.shape}")
    s, e = _vector(start, "start"), _vector(end, "end")
    d = e - s
    length_sq = float(d @ d)
    if not length_sq > 0:
        raise ValueError("start and end must differ: a step of zero length has no lag")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if not 0 <= step_index < len(pts):
        raise ValueError(f"step_index {step_index} is outside the trace of {len(pts)} frames")
    progress = (pts[step_index:] - s) @ d / length_sq
    below = np.flatnonzero(~(progress >= fraction))          # NaN counts as below
    if len(below) and below[-1] == len(progress) - 1:
        raise ValueError(f"the trace does not settle at {fraction:.0%} of the step: its last "
                         f"frame is at {progress[-1]:.1%}")
    return int(below[-1] + 1) if len(below) else 0


def step_lag_frames(smoother_factory: Callable[[], Smoother | None], *,
                    step_cm: tuple[float, float] = (5.0, 0.0), fps: float = 30.0,
                    before_frames: int = 30, after_frames: int = 60,
                    fraction: float = 0.9) -> int:
    """The lag, in frames, of a fresh smoother from ``smoother_factory`` on a noise-free step.

    The input rests at (0, 0) for ``before_frames`` frames, then jumps to ``step_cm`` (frame
    index ``before_frames``) and stays for ``after_frames`` frames; timestamps are k * 1000 /
    ``fps`` ms. Returns :func:`frames_to_fraction` of the output: 0 when the factory gives
    None (no smoothing). ValueError when the output has not settled by the last frame.
    """
    if before_frames < 1 or after_frames < 1:
        raise ValueError("before_frames and after_frames must be at least 1")
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    end = _vector(step_cm, "step_cm")
    start = np.zeros(2)
    smoother = smoother_factory()
    if smoother is None:
        return 0
    n = before_frames + after_frames
    inputs = np.where((np.arange(n) >= before_frames)[:, None], end, start)
    trace = np.array([smoother(p, k * 1000.0 / fps) for k, p in enumerate(inputs)])
    return frames_to_fraction(trace, before_frames, start, end, fraction)
