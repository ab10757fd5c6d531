"""The benchmark's outputs: a terminal table, Markdown, JSON and PNG plots."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

PLOT_STAGES = ("decode", "detect", "mesh", "iris", "pose", "crop", "infer", "map", "smooth",
               "end_to_end")


def _f(v: Any, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}"


def rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["config", "detector p50/p95 ms", "mesh/iris/crop p50 ms", "model p50/p95 ms",
            "end to end p50/p95 ms", "fps", "tracked", "model/det", "e2e/det",
            "MSD raw/kalman/1euro cm", "model MSD cm"]
    out = []
    for c in report["configurations"]:
        st, det = c["stages"], c["detector_only"]
        msd = c["msd_cm"]
        out.append([
            c["name"], f"{_f(det['p50_ms'])} / {_f(det['p95_ms'])}",
            " / ".join(_f(st.get(s, {}).get("p50_ms")) for s in ("mesh", "iris", "crop")),
            f"{_f(st['infer']['p50_ms'])} / {_f(st['infer']['p95_ms'])}",
            f"{_f(st['end_to_end']['p50_ms'])} / {_f(st['end_to_end']['p95_ms'])}",
            _f(c["fps"], 0), f"{_f(100 * c.get('tracked_share', 0.0), 0)}%",
            f"{_f(c['model_to_detector_ratio'])} / {_f(c['model_to_detector_ratio_p95'])}",
            f"{_f(c['end_to_end_to_detector_ratio'])} / "
            f"{_f(c['end_to_end_to_detector_ratio_p95'])}",
            (f"{_f(msd['raw'], 3)} / {_f(msd['kalman'], 3)} / {_f(msd['one_euro'], 3)}"
             if msd else "-"),
            _f(c["model_msd_cm"]["raw"], 3)])
    return head, out


def text_table(report: dict[str, Any]) -> str:
    head, body = rows(report)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    lines = [line, "-" * len(line)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines) + "\n" + _footer(report)


def _footer(report: dict[str, Any]) -> str:
    out = []
    c = next(iter(report["configurations"]), None)
    if c is not None:
        lag = c["lag_frames"]
        out.append(f"lag (frames to 90% of a 5 cm step at 30 fps): kalman {lag['kalman']}, "
                   f"one_euro {lag['one_euro']}")
    h = report.get("headline")
    if h:
        out.append(f"headline {h['name']}: model/detector {_f(h['model_to_detector_ratio'])}x "
                   f"(goal <= {report['goals']['model_to_detector_ratio']}), end to end/"
                   f"detector {_f(h['end_to_end_to_detector_ratio'])}x (goal <= "
                   f"{report['goals']['end_to_end_to_detector_ratio']} when detecting every "
                   f"frame)" + (f", end to end/landmark stages (mesh + iris) "
                                f"{_f(h['end_to_end_to_landmarks_ratio'])}x (goal <= "
                                f"{report['goals']['end_to_end_to_landmarks_ratio']})"
                                if h.get("end_to_end_to_landmarks_ratio") else ""))
    cr = report.get("crops")
    if cr:
        msd, lag = cr["real_face_msd_cm"], cr["lag_frames"]
        out.append("crops (" + cr["backend"] + ", one model): real-face raw MSD cm " + ", ".join(
            f"{k} {_f(v, 3)}" for k, v in msd.items()) + "; GazeSim stares end-to-end MSD cm "
            + ", ".join(f"{k} {_f(v, 3)}" for k, v in cr.get("gazesim_msd_cm", {}).items())
            + "; GazeSim gaze-step lag frames "
            + ", ".join(f"{k} {lag[k] if lag[k] is not None else '-'}" for k in lag))
    m = report.get("memory")
    if m:
        out.append(f"memory: {m['frames']} frames, resident {m['rss_start_mb']} -> "
                   f"{m['rss_end_mb']} MB ({m['growth_percent']:+.2f}%)")
    for s in report.get("skipped", []):
        what = " ".join(str(s[k]) for k in ("backend", "precision", "threads") if k in s)
        out.append(f"skipped {what}: {s['reason']}")
    return "\n".join(out) + ("\n" if out else "")


def markdown(report: dict[str, Any], command: str = "gazesdk benchmark") -> str:
    head, body = rows(report)
    m = report["machine"]
    facts = report.get("model") or {}
    lines = [f"Command: `{command}`. Machine: {m['cpu']}, {m['cores']} cores, {m['system']} "
             f"{m['machine']}, Python {m['python']}. Frames: {report['frames']['source']} "
             f"({report['frames']['size'][0]}x{report['frames']['size'][1]}). Model: "
             f"{facts.get('name')}, {facts.get('parameters')} parameters, "
             f"{facts.get('macs')} multiply-adds per frame.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    foot = _footer(report).strip()
    if foot:
        lines += [""] + [f"- {x}" for x in foot.splitlines()]
    return "\n".join(lines) + "\n"


def plain_json(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the per-frame traces (kept for the plots only)."""
    out = dict(report)
    out["configurations"] = [{k: v for k, v in c.items() if not k.startswith("_")}
                             for c in report["configurations"]]
    return out


def write_json(report: dict[str, Any], path: str | os.PathLike) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(plain_json(report), indent=2, allow_nan=True) + "\n")
    return p


def plots(report: dict[str, Any], folder: str | os.PathLike) -> list[Path]:
    """``latency.png`` (a histogram per stage for each configuration) and ``jitter.png``
    (raw vs smoothed gaze of each stare, headline configuration)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gazesdk.mobile_bench.jitter import smooth
    from gazesdk.runtime.smoothing import SmoothingOptions

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    configs = report["configurations"]
    if not configs:
        return []
    out = []
    fig, axes = plt.subplots(1, len(PLOT_STAGES), figsize=(3.2 * len(PLOT_STAGES), 3.2))
    for ax, stage in zip(axes, PLOT_STAGES, strict=True):
        for c in configs:
            v = c["_trace"]["stages"][stage]
            v = v[np.isfinite(v)]
            if v.size:
                hi = np.percentile(v, 99.5)
                ax.hist(v[v <= hi], bins=40, histtype="step", label=c["name"])
        ax.set_title(stage)
        ax.set_xlabel("ms")
    axes[0].set_ylabel("frames")
    axes[-1].legend(fontsize=6)
    fig.tight_layout()
    out.append(folder / "latency.png")
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)

    head = next((c for c in configs if c["name"] == (report.get("headline") or {}).get("name")),
                configs[0])
    tr = head["_trace"]
    sm = SmoothingOptions.from_dict(report["smoothing"])
    fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharex=True, sharey=True)
    for ax, name in zip(axes, ("raw", "kalman", "one_euro"), strict=True):
        pts = tr["raw"] if name == "raw" else smooth(
            tr["raw"], tr["sequence"], tr["timestamp_ms"],
            SmoothingOptions(method=name, kalman=sm.kalman, one_euro=sm.one_euro))
        for s in np.unique(tr["sequence"]):
            rows_ = tr["sequence"] == s
            ax.scatter(pts[rows_, 0], pts[rows_, 1], s=6, alpha=0.7)
        msd = (head["msd_cm"] or {}).get(name)
        ax.set_title(f"{name}" + (f": MSD {msd:.3f} cm" if msd is not None else ""))
        ax.set_xlabel("x (cm from camera)")
        ax.set_aspect("equal", adjustable="box")
    axes[0].set_ylabel("y (cm from camera)")
    fig.suptitle(f"end-to-end gaze on real-face stares ({head['name']}; a colour per stare)")
    fig.tight_layout()
    out.append(folder / "jitter.png")
    fig.savefig(out[-1], dpi=110)
    plt.close(fig)
    return out
