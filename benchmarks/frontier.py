"""Issue 19's jitter-lag frontier: raw, Kalman, 1 Euro and event-aware smoothing, each over a
sweep of its parameters, scored on the held-out GazeSim scan paths of ``benchmarks/events.py``
(the bundled model's raw gaze through the runtime): MSD on fixations against lag on GazeSim
saccades, and the lag on a noise-free 5 cm step; the defaults also on real faces (MSD of the
shaken-camera stares of the real photos).

    python benchmarks/frontier.py [--work out/events_study] [--split test]

Writes ``benchmarks/results/frontier.{json,md,png}`` (rows ``{filter, params, msd_cm,
lag_frames}``; one curve per filter: its Pareto front). Uses the recordings cached by
``benchmarks/events.py`` (recorded here when missing).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _results import RESULTS, ROOT, command, machine, write

from gazesdk.evaluation.metrics import msd_cm
from gazesdk.mobile_bench.events_study import StudyPlan, collect, real_face_stares, relabel
from gazesdk.mobile_bench.frontier import frontier_rows, interpolate, pareto, score
from gazesdk.mobile_bench.jitter import smooth
from gazesdk.runtime.smoothing import SmoothingOptions

FILTERS = ("raw", "kalman", "one_euro", "event_aware")
DEFAULTS = {"raw": SmoothingOptions(method="none"), "kalman": SmoothingOptions(method="kalman"),
            "one_euro": SmoothingOptions(method="one_euro"),
            "event_aware": SmoothingOptions(method="event_aware")}


def plot(rows: list[dict], defaults: dict, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colours = {"raw": "black", "kalman": "tab:blue", "one_euro": "tab:orange",
               "event_aware": "tab:green"}
    for name in FILTERS:
        own = [r for r in rows if r["filter"] == name and r["lag_frames"] is not None]
        ax.scatter([r["lag_frames"] for r in own], [r["msd_cm"] for r in own], s=8,
                   color=colours[name], alpha=0.3)
        front = pareto(rows, name)
        ax.plot([r["lag_frames"] for r in front], [r["msd_cm"] for r in front], "-o", ms=3,
                color=colours[name], label=name)
        d = defaults[name]
        ax.scatter([d["lag_frames"]], [d["msd_cm"]], marker="*", s=140, color=colours[name],
                   edgecolor="black", zorder=5)
    ax.set_xlabel("lag on GazeSim saccades (frames to 90%, 30 fps)")
    ax.set_ylabel("MSD on fixations (cm)")
    ax.set_title("Jitter-lag frontier (held-out GazeSim scan paths; stars: defaults)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=ROOT / "out" / "events_study")
    ap.add_argument("--split", default="test", choices=("test", "val"))
    ap.add_argument("--no-real", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    plan = StudyPlan()

    def make():
        from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, RunningMode
        return GazeEstimator.create_from_options(GazeEstimatorOptions(
            running_mode=RunningMode.VIDEO))

    collect(plan, args.work, make)
    data = [d for d in relabel(plan, args.work)
            if str(d["split"]) == args.split and int(d["fps"]) == 30]
    rows = frontier_rows(data, progress=print)
    from gazesdk.mobile_bench.frontier import saccade_cases
    cases = [saccade_cases(d) for d in data]
    defaults = {name: {"filter": name, **score(o, data, cases)} for name, o in DEFAULTS.items()}
    oe, ea = defaults["one_euro"], defaults["event_aware"]
    ea_front = pareto(rows + [ea], "event_aware")
    oe_front = pareto(rows + [oe], "one_euro")
    compare = {
        "one_euro_default": {"msd_cm": oe["msd_cm"], "lag_frames": oe["lag_frames"]},
        "event_aware_default": {"msd_cm": ea["msd_cm"], "lag_frames": ea["lag_frames"]},
        "event_aware_msd_at_one_euro_lag": interpolate(ea_front, at_lag=oe["lag_frames"]),
        "event_aware_lag_at_one_euro_msd": interpolate(ea_front, at_msd=oe["msd_cm"]),
        "one_euro_msd_at_event_aware_lag": interpolate(oe_front, at_lag=ea["lag_frames"]),
        "one_euro_lag_at_event_aware_msd": interpolate(oe_front, at_msd=ea["msd_cm"]),
    }
    dominated = [r for r in oe_front if interpolate(ea_front, at_lag=r["lag_frames"]) is not None
                 and interpolate(ea_front, at_lag=r["lag_frames"]) < r["msd_cm"]]
    compare["one_euro_front_points_beaten_at_equal_lag"] = f"{len(dominated)}/{len(oe_front)}"
    real = None
    if not args.no_real:
        stares = real_face_stares()
        if stares is not None:
            ok = np.isfinite(stares["raw"]).all(1)
            real = {}
            for name, o in DEFAULTS.items():
                sm = smooth(stares["raw"][ok], stares["sequence"][ok], stares["t"][ok], o)
                real[name] = round(msd_cm(sm, stares["sequence"][ok]), 4)
    result = {"command": command(), "machine": machine(), "seconds": round(time.time() - t0, 1),
              "split": args.split, "streams": len(data),
              "saccades": int(sum(len(c) for c in cases)),
              "rows": [{k: r[k] for k in ("filter", "params", "msd_cm", "lag_frames",
                                          "step_lag_frames")} for r in rows],
              "defaults": {k: {x: v[x] for x in ("msd_cm", "lag_frames", "step_lag_frames",
                                                 "curve")} for k, v in defaults.items()},
              "default_params": {k: (o.to_dict()[o.method] if o.method != "none" else {})
                                 for k, o in DEFAULTS.items()},
              "comparison": compare, "real_face_msd_cm": real}
    plot(rows, defaults, RESULTS / "frontier.png")
    write(RESULTS, "frontier", result, markdown(result))


def markdown(r: dict) -> str:
    c = r["comparison"]
    lines = [f"# Jitter-lag frontier ({r['split']} GazeSim scan paths, {r['streams']} streams, "
             f"{r['saccades']} saccades; bundled model)\n\n`{r['command']}`\n",
             "| filter (default) | MSD on fixations cm | lag on GazeSim saccades (frames) | "
             "lag on 5 cm step | real-face stare MSD cm |", "|---|---|---|---|---|"]
    for name, d in r["defaults"].items():
        real = r["real_face_msd_cm"][name] if r["real_face_msd_cm"] else None
        lines.append(f"| {name} | {d['msd_cm']:.3f} | {d['lag_frames']} | "
                     f"{d['step_lag_frames']} | {real if real is not None else '-'} |")
    lines += ["", f"Event-aware vs 1 Euro (defaults): at the 1 Euro lag "
              f"({c['one_euro_default']['lag_frames']} frames) the event-aware front reaches MSD "
              f"{c['event_aware_msd_at_one_euro_lag']} cm "
              f"(1 Euro {c['one_euro_default']['msd_cm']});"
              f" at the 1 Euro MSD ({c['one_euro_default']['msd_cm']} cm) it needs "
              f"{c['event_aware_lag_at_one_euro_msd']} frames of lag. 1 Euro front points beaten "
              f"at equal lag: {c['one_euro_front_points_beaten_at_equal_lag']}.",
              "", "Pareto fronts (frontier.png):", "",
              "| filter | params | MSD cm | lag frames |", "|---|---|---|---|"]
    rows = r["rows"]
    for name in FILTERS:
        for x in pareto(rows, name):
            lines.append(f"| {name} | {x['params']} | {x['msd_cm']:.3f} | {x['lag_frames']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
