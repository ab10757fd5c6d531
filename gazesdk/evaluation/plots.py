"""Training and evaluation figures (PNG), drawn with matplotlib's Agg canvas.

matplotlib is imported inside the functions (it is a training extra) and pyplot is never used,
so drawing works headless and leaves any interactive backend alone.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from gazesdk.evaluation.metrics import sequence_spreads


def _figure(size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def _value(row: Mapping, key: str) -> float:
    v = row.get(key)
    try:
        v = float(v) if v is not None else math.nan
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def learning_curve_png(history: Sequence[Mapping], path: str | os.PathLike) -> Path:
    """Train and validation error (cm) per epoch, like Guo et al.'s Fig. 1a; returns ``path``.

    Rows have "epoch" and optionally "train_error_cm" / "val_error_cm" (missing or None values
    are skipped); a row with "reborn" > 0 gets a dotted line: TAT re-born filters after that
    epoch (Guo et al.'s Fig. 1a, right). A history without any error value is a ValueError.
    """
    if not history:
        raise ValueError("cannot plot a learning curve: the history is empty")
    epochs = np.array([_value(r, "epoch") if "epoch" in r else i + 1
                       for i, r in enumerate(history)], dtype=float)
    series = {label: np.array([_value(r, key) for r in history])
              for key, label in (("train_error_cm", "train"), ("val_error_cm", "validation"))}
    if not any(np.isfinite(v).any() for v in series.values()):
        raise ValueError("cannot plot a learning curve: no row has train_error_cm or "
                         "val_error_cm")
    fig = _figure((6.4, 4.0))
    ax = fig.add_subplot()
    for (label, values), marker in zip(series.items(), ("o", "s"), strict=True):
        ok = np.isfinite(values) & np.isfinite(epochs)
        if ok.any():
            ax.plot(epochs[ok], values[ok], marker=marker, markersize=3, label=label)
    reborn = [e for e, r in zip(epochs, history, strict=True) if _value(r, "reborn") > 0]
    for i, e in enumerate(reborn):
        ax.axvline(e, color="0.5", linestyle=":", linewidth=1,
                   label="filters re-born (TAT)" if i == 0 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("error (cm)")
    ax.set_title("Learning curve")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return _save(fig, path)


def loss_curve_png(history: Sequence[Mapping], path: str | os.PathLike) -> Path:
    """Training loss per epoch (and each named loss term), for runs without gaze labels
    (self-supervised pre-training); returns ``path``."""
    terms = sorted({k for r in history for k in r
                    if k.startswith("train_") and np.isfinite(_value(r, k))})
    if not terms:
        raise ValueError("cannot plot a loss curve: no row has a train_* loss")
    epochs = np.array([_value(r, "epoch") for r in history], dtype=float)
    fig = _figure((6.4, 4.0))
    ax = fig.add_subplot()
    for key in terms:
        values = np.array([_value(r, key) for r in history])
        ok = np.isfinite(values) & np.isfinite(epochs)
        ax.plot(epochs[ok], values[ok], marker="o", markersize=3,
                linewidth=2.0 if key == "train_loss" else 1.0, label=key.removeprefix("train_"))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Pre-training loss")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def label_efficiency_png(summary: Sequence[Mapping], path: str | os.PathLike) -> Path:
    """Test error (cm) against the fraction of labelled training subjects (log axis), one
    line per method, error bars = sample std over seeds. Rows need ``method``,
    ``label_fraction``, ``error_cm_mean`` and optionally ``error_cm_std``."""
    methods: dict[str, list[Mapping]] = {}
    for r in summary:
        methods.setdefault(str(r["method"]), []).append(r)
    if not methods:
        raise ValueError("cannot plot label efficiency: no rows")
    fig = _figure((7.2, 4.6))
    ax = fig.add_subplot()
    styles = ["-", "--", "-.", ":"]
    for i, (method, rs) in enumerate(methods.items()):
        rs = sorted(rs, key=lambda r: float(r["label_fraction"]))
        x = np.array([float(r["label_fraction"]) * 100 for r in rs])
        y = np.array([_value(r, "error_cm_mean") for r in rs])
        e = np.array([_value(r, "error_cm_std") for r in rs])
        ax.errorbar(x, y, yerr=np.nan_to_num(e), marker="o", markersize=4, capsize=3,
                    linestyle=styles[i // 10 % len(styles)], color=f"C{i % 10}",
                    linewidth=2.5 if method == "supervised" else 1.2, label=method)
    ax.set_xscale("log")
    ax.set_xlabel("labelled training subjects (%)")
    ax.set_ylabel("test error (cm)")
    ax.set_title("Label efficiency (GazeSim)")
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return _save(fig, path)


def heatmaps_png(faces: np.ndarray, heatmaps: np.ndarray, path: str | os.PathLike) -> Path:
    """Face patches (B, S, S, 3) uint8 or [0, 1] floats, each followed by the mask that wins
    each pixel (argmax over the N heatmaps) and its N heatmaps (B, N, h, w), upsampled to the
    patch and drawn over it, each scaled to its own range (FRA's soft facial masks differ by a
    few hundredths)."""
    faces = np.asarray(faces)
    maps = np.asarray(heatmaps, dtype=float)
    if faces.ndim != 4 or faces.shape[-1] != 3 or maps.ndim != 4 or len(maps) != len(faces):
        raise ValueError(f"faces must be (B, S, S, 3) and heatmaps (B, N, h, w) with the same "
                         f"B, got {faces.shape} and {maps.shape}")
    import cv2

    img = faces.astype(float) / (255.0 if faces.dtype == np.uint8 else 1.0)
    b, n = maps.shape[:2]
    size = img.shape[1]
    fig = _figure((1.3 * (n + 2), 1.35 * b))
    cols = n + 2
    for i in range(b):
        up = np.stack([cv2.resize(maps[i, q].astype(np.float32), (size, size),
                                  interpolation=cv2.INTER_LINEAR) for q in range(n)])
        panels = [("face", None), ("winning mask", None)] + [(f"mask {q + 1}", q)
                                                            for q in range(n)]
        for j, (title, q) in enumerate(panels):
            ax = fig.add_subplot(b, cols, i * cols + j + 1)
            if j == 0:
                ax.imshow(img[i])
            elif q is None:
                ax.imshow(img[i].mean(-1), cmap="gray", vmin=0, vmax=1)
                ax.imshow(up.argmax(0), cmap="tab10", alpha=0.55, vmin=0, vmax=9,
                          interpolation="nearest")
            else:
                m = up[q]
                m = (m - m.min()) / max(float(m.max() - m.min()), 1e-12)
                ax.imshow(img[i].mean(-1), cmap="gray", vmin=0, vmax=1)
                ax.imshow(m, cmap="jet", alpha=0.5, vmin=0, vmax=1)
            ax.set_axis_off()
            if i == 0:
                ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _stare_inputs(pred: np.ndarray, true: np.ndarray, sequence: np.ndarray,
                  max_sequences: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                               np.ndarray]:
    p = np.asarray(pred, dtype=float)
    t = np.asarray(true, dtype=float)
    seq = np.asarray(sequence).reshape(-1)
    if p.ndim != 2 or p.shape[1] != 2 or t.shape != p.shape or len(seq) != len(p):
        raise ValueError(f"pred and true must be (N, 2) and sequence (N,), got {p.shape}, "
                         f"{t.shape} and {seq.shape}")
    if max_sequences < 1:
        raise ValueError(f"max_sequences must be at least 1, got {max_sequences}")
    ids, counts = np.unique(seq[seq >= 0], return_counts=True)
    ids = ids[counts >= 2]
    if not len(ids):
        raise ValueError("cannot plot stare sequences: there is no sequence of two or more "
                         "frames (sequence ids >= 0)")
    shown = ids[np.unique(np.linspace(0, len(ids) - 1, min(max_sequences, len(ids)))
                          .round().astype(int))]
    return p, t, seq, ids, shown


def _draw_stare(ax, p: np.ndarray, t: np.ndarray, seq: np.ndarray, shown: np.ndarray, *,
                adjustable: str = "datalim") -> None:
    colors = [f"C{i % 10}" for i in range(len(shown))]
    for sid, color in zip(shown.tolist(), colors, strict=True):
        rows = seq == sid
        cloud, target = p[rows], t[rows].mean(axis=0)
        ax.scatter(cloud[:, 0], cloud[:, 1], s=8, alpha=0.5, color=color, linewidths=0)
        ax.scatter([target[0]], [target[1]], marker="*", s=160, color=color,
                   edgecolors="black", linewidths=0.8, zorder=3)
    ax.scatter([0], [0], marker="s", s=30, color="black", label="camera", zorder=3)
    ax.scatter([], [], marker="*", s=100, color="grey", edgecolors="black", label="true point")
    ax.scatter([], [], s=8, color="grey", label="predictions")
    ax.set_aspect("equal", adjustable=adjustable)
    ax.set_xlabel("x from camera (cm)")
    ax.set_ylabel("y from camera (cm)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")


def stare_scatter_png(pred: np.ndarray, true: np.ndarray, sequence: np.ndarray,
                      path: str | os.PathLike, *, max_sequences: int = 6) -> Path:
    """Predictions of up to ``max_sequences`` stare sequences as point clouds around their true
    gaze points, like Guo et al.'s Fig. 1b; the title gives the MSD (Eq. 12) over all sequences.

    Sequences (``sequence`` >= 0, two or more frames) are picked evenly across their ids.
    Without any such sequence this is a ValueError.
    """
    p, t, seq, ids, shown = _stare_inputs(pred, true, sequence, max_sequences)
    msd = float(sequence_spreads(p, seq).mean())
    fig = _figure((6.4, 5.6))
    ax = fig.add_subplot()
    _draw_stare(ax, p, t, seq, shown)
    ax.set_title(f"Stare sequences ({len(shown)} of {len(ids)} shown): "
                 f"MSD {msd:.2f} cm")
    fig.tight_layout()
    return _save(fig, path)


def stare_comparison_png(preds: Mapping[str, np.ndarray], true: np.ndarray,
                         sequence: np.ndarray, path: str | os.PathLike, *,
                         max_sequences: int = 6) -> Path:
    """The same stare sequences predicted by several models (e.g. baseline vs DwO), one panel
    each with shared axes, each titled with its MSD: Guo et al.'s Fig. 1b as a comparison."""
    if not preds:
        raise ValueError("give at least one model's predictions")
    panels = {name: _stare_inputs(p, true, sequence, max_sequences)
              for name, p in preds.items()}
    # One square window around every shown point of every panel, so clouds compare by eye.
    pts = np.concatenate([np.concatenate([p[np.isin(seq, shown)], t[np.isin(seq, shown)],
                                          np.zeros((1, 2))])
                          for p, t, seq, _, shown in panels.values()])
    centre = (pts.min(0) + pts.max(0)) / 2
    half = 0.55 * float((pts.max(0) - pts.min(0)).max()) + 0.5
    fig = _figure((5.2 * len(panels), 5.2))
    for i, (name, (p, t, seq, _, shown)) in enumerate(panels.items()):
        ax = fig.add_subplot(1, len(panels), i + 1)
        _draw_stare(ax, p, t, seq, shown, adjustable="box")
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[1] - half, centre[1] + half)
        ax.set_title(f"{name}: MSD {float(sequence_spreads(p, seq).mean()):.2f} cm")
    fig.tight_layout()
    return _save(fig, path)
