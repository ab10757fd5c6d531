"""Latency summaries: percentiles of every call's time, kept in full (no running means)."""

from __future__ import annotations

import numpy as np


def summarize(ms: np.ndarray) -> dict[str, float | int]:
    """p50/p95/p99, mean, and the frame rate the median allows, of per-call times in ms."""
    a = np.asarray(ms, float)
    if a.size == 0:
        return {"n": 0, "p50_ms": float("nan"), "p95_ms": float("nan"),
                "p99_ms": float("nan"), "mean_ms": float("nan"), "fps": float("nan")}
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"n": int(a.size), "p50_ms": round(float(p50), 4), "p95_ms": round(float(p95), 4),
            "p99_ms": round(float(p99), 4), "mean_ms": round(float(a.mean()), 4),
            "fps": round(1000.0 / float(p50), 1) if p50 > 0 else float("inf")}


def ratio(num: float, den: float) -> float:
    return round(num / den, 3) if den > 0 else float("nan")
