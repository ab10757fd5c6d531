"""The jitter-lag frontier of gaze smoothers (issue 19): every filter over a sweep of its
parameters, each setting scored by its jitter (MSD, the DwO paper's Eq. 10-12, on fixations)
against its lag (frames to 90% of a step), on the same raw streams.

- MSD: on the fixations of GazeSim scan paths (runs of at least ``MIN_FIXATION_FRAMES``
  ground-truth fixation frames), one filter running through the whole stream, so each
  fixation also carries the transient of the saccade into it.
- Lag on GazeSim saccades: for every saccade of at least 2 deg between two such fixations
  whose raw model output moved by at least ``MIN_MODEL_STEP_CM``, the filtered output's
  progress from the mean raw gaze before the saccade to the mean raw gaze of the fixation after
  it, averaged over the saccades; the lag is when that mean curve first reaches 90%
  (fractional: linear between frames), counted from the saccade's first frame.
- Lag on a step: :func:`gazesdk.evaluation.lag.step_lag_frames` (noise-free 5 cm step).

Filters are causal functions of (point, timestamp), so each setting is applied offline to the
cached raw streams, exactly as the estimator applies it live.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import product
from typing import Any

import numpy as np

from gazesdk.evaluation.lag import step_lag_frames
from gazesdk.evaluation.metrics import msd_cm
from gazesdk.runtime.smoothing import (
    EventAwareOptions,
    KalmanOptions,
    OneEuroOptions,
    SmoothingOptions,
    create_smoother,
)

FIXATION, SACCADE = 0, 1
MIN_FIXATION_FRAMES = 8
MIN_MODEL_STEP_CM = 1.0
CURVE_FRAMES = 10


def sweep() -> list[tuple[str, dict[str, float]]]:
    """(filter, params) settings of the frontier: each filter over its main parameters."""
    rows: list[tuple[str, dict[str, float]]] = [("raw", {})]
    rows += [("kalman", {"process_noise": q}) for q in (1, 3, 10, 20, 50, 200, 1000, 5000)]
    rows += [("one_euro", {"min_cutoff_hz": c, "beta": b})
             for c, b in product((0.1, 0.2, 0.4, 0.8, 1.5, 3.0), (0.0, 0.07, 0.3, 1.0))]
    rows += [("event_aware", {"window_ms": w, "noise_factor": f, "shift_factor": s})
             for w, f, s in product((300, 1000, 3000), (4.0, 5.0, 6.0, 7.0, 8.0),
                                    (0.0, 2.0, 3.0, 4.0))]
    return rows


def options_for(name: str, params: dict[str, float]) -> SmoothingOptions:
    """The SmoothingOptions of one sweep row."""
    if name == "raw":
        return SmoothingOptions(method="none")
    kinds = {"kalman": KalmanOptions, "one_euro": OneEuroOptions,
             "event_aware": EventAwareOptions}
    return SmoothingOptions(method=name, **{name: kinds[name](**{
        k: float(v) for k, v in params.items()})})


def run_filter(options: SmoothingOptions, t: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """The filtered stream (one filter through it); NaN inputs give the filter's hold."""
    f = create_smoother(options)
    if f is None:
        return raw.copy()
    return np.array([f(p, float(ts)) for p, ts in zip(raw, t.tolist(), strict=True)])


def fixation_runs(labels: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(F,) run id of each frame in a ground-truth fixation run of valid frames at least
    ``MIN_FIXATION_FRAMES`` long, else -1."""
    ok = (labels == FIXATION) & valid
    ids = np.full(len(labels), -1)
    k, run = 0, 0
    while k < len(ok):
        if not ok[k]:
            k += 1
            continue
        j = k
        while j < len(ok) and ok[j]:
            j += 1
        if j - k >= MIN_FIXATION_FRAMES:
            ids[k:j] = run
            run += 1
        k = j
    return ids


def saccade_cases(d: dict[str, np.ndarray]) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(onset frame, start point, end point) per usable saccade of a stream (see the module)."""
    labels, raw = d["labels"], d["raw"]
    valid = np.isfinite(raw).all(1)
    runs = fixation_runs(labels, valid)
    cases = []
    for k in np.flatnonzero((labels == SACCADE) & np.r_[True, labels[:-1] != SACCADE]).tolist():
        before = runs[k - 1] if k > 0 else -1
        j = k
        while j < len(labels) and labels[j] == SACCADE:
            j += 1
        if before < 0 or j >= len(labels) or runs[j] < 0:
            continue
        start = raw[np.flatnonzero(runs == before)[-5:]].mean(0)
        after = np.flatnonzero(runs == runs[j])[:CURVE_FRAMES]
        end = raw[after].mean(0)
        if np.hypot(*(end - start)) < MIN_MODEL_STEP_CM or k + CURVE_FRAMES > len(labels):
            continue
        cases.append((k, start, end))
    return cases


def mean_progress(streams: Iterable[tuple[np.ndarray, list[tuple[int, np.ndarray, np.ndarray]]]]
                  ) -> np.ndarray:
    """The mean progress curve over saccade cases, frames 0..CURVE_FRAMES-1 from the onset."""
    curves = []
    for out, cases in streams:
        for k, s, e in cases:
            d = e - s
            seg = out[k:k + CURVE_FRAMES]
            curves.append((seg - s) @ d / (d @ d))
    return np.nanmean(np.array(curves), 0) if curves else np.full(CURVE_FRAMES, np.nan)


def crossing(curve: np.ndarray, fraction: float = 0.9) -> float:
    """The first (fractional) frame from which ``curve`` is at or above ``fraction`` for good."""
    below = np.flatnonzero(~(curve >= fraction))
    if not len(below):
        return 0.0
    k = int(below[-1])
    if k == len(curve) - 1:
        return float("nan")
    a, b = curve[k], curve[k + 1]
    return float(k + (fraction - a) / (b - a)) if b != a else float(k + 1)


def score(options: SmoothingOptions, data: list[dict[str, np.ndarray]],
          cases: list[list[tuple[int, np.ndarray, np.ndarray]]]) -> dict[str, float]:
    """MSD on the fixations, lag on the GazeSim saccades and on a noise-free 5 cm step."""
    preds, seqs, outs = [], [], []
    offset = 0
    for d in data:
        out = run_filter(options, d["t"], d["raw"])
        valid = np.isfinite(d["raw"]).all(1)
        runs = fixation_runs(d["labels"], valid)
        keep = runs >= 0
        preds.append(out[keep])
        seqs.append(runs[keep] + offset)
        offset += int(runs.max()) + 1 if keep.any() else 0
        outs.append(out)
    msd = msd_cm(np.concatenate(preds), np.concatenate(seqs))
    curve = mean_progress(zip(outs, cases, strict=True))
    try:
        step: float | None = step_lag_frames(lambda: create_smoother(options), after_frames=150)
    except ValueError:              # not settled within 5 s: off the useful range
        step = None
    lag = crossing(curve)
    return {"msd_cm": round(float(msd), 4),
            "lag_frames": round(lag, 3) if np.isfinite(lag) else None,
            "step_lag_frames": step, "curve": [round(float(c), 4) for c in curve]}


def frontier_rows(data: list[dict[str, np.ndarray]],
                  settings: list[tuple[str, dict[str, float]]] | None = None,
                  progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """One row ``{filter, params, msd_cm, lag_frames, step_lag_frames}`` per setting."""
    cases = [saccade_cases(d) for d in data]
    rows = []
    for name, params in sweep() if settings is None else settings:
        r = score(options_for(name, params), data, cases)
        rows.append({"filter": name, "params": params, **r})
        if progress is not None:
            progress(f"{name} {params}: MSD {r['msd_cm']:.3f} cm, lag {r['lag_frames']} frames")
    return rows


def pareto(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The rows of filter ``name`` not beaten on both MSD and lag by another of its rows,
    ordered by lag."""
    own = [r for r in rows if r["filter"] == name and r["lag_frames"] is not None]
    keep = [r for r in own if not any(
        (o["msd_cm"] <= r["msd_cm"] and o["lag_frames"] <= r["lag_frames"])
        and (o["msd_cm"] < r["msd_cm"] or o["lag_frames"] < r["lag_frames"]) for o in own)]
    return sorted(keep, key=lambda r: (r["lag_frames"], r["msd_cm"]))


def interpolate(front: list[dict[str, Any]], *, at_lag: float | None = None,
                at_msd: float | None = None) -> float | None:
    """On a Pareto front (lag ascending, MSD descending): the MSD reached at lag ``at_lag`` (the
    best point with lag <= it, linear between points), or the lag needed for MSD ``at_msd``;
    None when the front does not reach it."""
    lag = np.array([r["lag_frames"] for r in front], float)
    msd = np.array([r["msd_cm"] for r in front], float)
    if at_lag is not None:
        if not len(lag) or at_lag < lag[0]:
            return None
        return float(np.interp(at_lag, lag, msd))
    if at_msd is not None:
        if not len(msd) or at_msd < msd.min():
            return None
        order = np.argsort(msd)
        return float(np.interp(at_msd, msd[order], lag[order]))
    raise ValueError("give at_lag or at_msd")
