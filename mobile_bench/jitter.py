"""Jitter and lag: MSD (the DwO paper's Eq. 10-12, :func:`gazesdk.evaluation.metrics.msd_cm`)
of raw and smoothed gaze, and each smoother's lag on a step of the gaze target.

Smoothers are deterministic given the raw points and timestamps, so the benchmark runs the
model once per frame and applies every smoother to the same raw sequence; the ``smooth`` stage
time is measured live in the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gazesdk.evaluation.lag import step_lag_frames
from gazesdk.evaluation.metrics import msd_cm
from gazesdk.mobile_bench.inputs import FPS, stare_timestamps
from gazesdk.runtime.smoothing import SmoothingOptions, create_smoother

FILTERS = ("kalman", "one_euro")
GAZESIM_STARES = {"subjects": 8, "frames_per_subject": 2, "stare_sequences": 2,
                  "stare_frames": 30, "split_fractions": (0.0, 0.0, 1.0), "seed": 90_909}


def smooth(raw: np.ndarray, sequence: np.ndarray, timestamps_ms: np.ndarray,
           options: SmoothingOptions) -> np.ndarray:
    """(N, 2) smoothed points: a fresh smoother per sequence id (rows of one id in time
    order); rows with id -1 are copied as they are."""
    out = np.array(raw, float, copy=True)
    for s in np.unique(sequence[sequence >= 0]):
        rows = np.flatnonzero(sequence == s)
        f = create_smoother(options)
        if f is None:
            continue
        for i in rows:
            out[i] = f(raw[i], float(timestamps_ms[i]))
    return out


def msd_by_filter(raw: np.ndarray, sequence: np.ndarray, timestamps_ms: np.ndarray,
                  smoothing: SmoothingOptions) -> dict[str, float]:
    """{"raw", "kalman", "one_euro"}: MSD in cm of the raw and smoothed points (NaN rows, from
    frames without a valid estimate, are left out)."""
    ok = np.isfinite(raw).all(1)
    raw, sequence, ts = raw[ok], sequence[ok], timestamps_ms[ok]
    out = {"raw": round(msd_cm(raw, sequence), 4)}
    for name in FILTERS:
        sm = smooth(raw, sequence, ts, SmoothingOptions(method=name, kalman=smoothing.kalman,
                                                        one_euro=smoothing.one_euro))
        out[name] = round(msd_cm(sm, sequence), 4)
    return out


def lag_by_filter(smoothing: SmoothingOptions, *, step_cm: tuple[float, float] = (5.0, 0.0),
                  fps: float = FPS) -> dict[str, int]:
    """{"kalman", "one_euro"}: frames until 90% of a noise-free 5 cm step of the gaze target."""
    return {name: step_lag_frames(
        lambda name=name: create_smoother(SmoothingOptions(
            method=name, kalman=smoothing.kalman, one_euro=smoothing.one_euro)),
        step_cm=step_cm, fps=fps) for name in FILTERS}


_STARES: dict[str, object] = {}


def gazesim_stares(crops: str = "truth") -> object:
    """GazeSim stare sequences of 8 new subjects (480 frames), cut with GazeSim's truth boxes
    or the runtime's landmark crops, made once per process."""
    if crops not in _STARES:
        from gazesdk.export.samples import ExportSamples, gazesim_arrays

        data = gazesim_arrays(crops=crops, **GAZESIM_STARES)
        _STARES[crops] = ExportSamples.from_arrays(data, split="test",
                                                   source=f"GazeSim stare sequences, {crops} "
                                                          f"crops")
    return _STARES[crops]


def model_level_msd(infer: object, names: tuple[str, ...],
                    smoothing: SmoothingOptions, *, crops: str = "truth") -> dict[str, float]:
    """MSD of a backend's ``infer`` on the GazeSim stares (30 fps timestamps), raw and
    smoothed: the model's own jitter, before detection and cropping add theirs. ``crops``:
    "landmarks" for a model trained on landmark crops (what it will be fed)."""
    samples = gazesim_stares(crops)
    rows = np.flatnonzero(samples.sequence >= 0)
    pred = np.concatenate([
        infer({k: samples.inputs[k][rows[i:i + 64]] for k in names})
        for i in range(0, len(rows), 64)])
    seq = samples.sequence[rows]
    return msd_by_filter(pred, seq, stare_timestamps(seq), smoothing)


def stage_msd(results: Mapping[str, np.ndarray], smoothing: SmoothingOptions
              ) -> dict[str, float]:
    """End-to-end MSD from the pipeline's raw outputs per frame."""
    return msd_by_filter(results["raw"], results["sequence"], results["timestamp_ms"],
                         smoothing)
