"""DwO sweep on GazeSim: the structure of Guo et al.'s Table 5 (center bins, PGD steps T,
fraction of original samples Org.), error and jitter (MSD) per row, through the one training
loop (`gazesdk train --scheme dwo`).

Jitter is measured on stare sequences of held-out test subjects (training and validation never
see stare frames): 60 frames of one dot in which only tiny things vary (sub-millimetre head
drift, fixational eye movements, exposure flicker, face-detector box jitter). Runs go in
parallel subprocesses (``--jobs``), each resumable; rerunning the command skips finished runs.
``--core-seeds`` apply to ``baseline`` and the recommended row (8 center bins, T = 1, Org. 90%),
``--variant-seeds`` to the other rows.

Output: ``benchmarks/results/dwo_sweep.json`` (rows ``{variant, center_bins, T, org, seed,
error_cm, msd_cm}`` plus seconds per epoch, the command and the machine), ``dwo_sweep.md`` and
``dwo_stare.png`` (stare predictions of baseline vs recommended DwO, first core seed).
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, command, machine, write  # noqa: E402
from _runs import history, run_all, run_training, sim_dataset  # noqa: E402

RECOMMENDED = (8, 1, 0.9)          # center bins, T, Org. (the paper's Table 5 choice)


def rows_plan(args: argparse.Namespace) -> list[tuple[str, int | None, int | None,
                                                       float | None, int]]:
    """(variant, center_bins, T, org, seed) for every run, core rows first."""
    plan: list = []
    for s in args.core_seeds:
        plan += [("baseline", None, None, None, s), ("dwo", *RECOMMENDED, s)]
    others = [(cb, 1, 0.9) for cb in (0, 32, 16)] + [(8, t, 0.9) for t in (2, 3)] \
        + [(8, 1, org) for org in (0.8, 0.5, 0.0)]
    for s in args.variant_seeds:
        plan += [("dwo", *o, s) for o in others]
        if s not in args.core_seeds:
            plan += [("baseline", None, None, None, s), ("dwo", *RECOMMENDED, s)]
    return plan


def name_of(variant: str, cb: int | None, t: int | None, org: float | None, seed: int) -> str:
    if variant == "baseline":
        return f"baseline_s{seed}"
    return f"dwo_cb{cb}_T{t}_org{round(org * 100)}_s{seed}"


def run_one(key: tuple, data: Path, work: Path, args: argparse.Namespace) -> dict:
    variant, cb, t, org, seed = key
    out = work / "runs" / name_of(*key)
    settings = {"data": str(data), "model": args.model, "batch_size": args.batch_size,
                "lr": args.lr, "seed": seed, "threads": args.threads, "device": "cpu",
                "epochs": args.epochs, "scheme": "supervised" if variant == "baseline" else "dwo"}
    if variant == "dwo":
        settings |= {"dwo_center_bins": cb, "dwo_steps": t, "dwo_org": org}
    seconds = run_training(settings, out, threads=args.threads)
    if seconds:
        print(f"{out.name}: {seconds:.0f} s", flush=True)
    final = json.loads((out / "eval_test.json").read_text())
    epochs = history(out)
    return {"variant": variant, "center_bins": cb, "T": t, "org": org, "seed": seed,
            "error_cm": final["error_cm"], "msd_cm": final["msd_cm"],
            "train_error_cm": final.get("train_error_cm"),
            "samples_per_s": float(np.median([h["samples_per_s"] for h in epochs]))}


def summarise(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["variant"], r["center_bins"], r["T"], r["org"]), []).append(r)
    base = groups.get(("baseline", None, None, None), [])
    be = float(np.mean([r["error_cm"] for r in base])) if base else float("nan")
    bm = float(np.mean([r["msd_cm"] for r in base])) if base else float("nan")
    bs = float(np.mean([r["samples_per_s"] for r in base])) if base else float("nan")
    out = []
    for (variant, cb, t, org), rs in groups.items():
        err = np.array([r["error_cm"] for r in rs])
        msd = np.array([r["msd_cm"] for r in rs])
        sd = (lambda a: float(a.std(ddof=1)) if len(a) > 1 else 0.0)  # noqa: E731
        out.append({"variant": variant, "center_bins": cb, "T": t, "org": org,
                    "seeds": [r["seed"] for r in rs],
                    "error_cm_mean": float(err.mean()), "error_cm_std": sd(err),
                    "msd_cm_mean": float(msd.mean()), "msd_cm_std": sd(msd),
                    "error_ratio": float(err.mean() / be), "msd_ratio": float(msd.mean() / bm),
                    "cost_ratio": float(bs / np.mean([r["samples_per_s"] for r in rs]))})
    return out


def markdown(summary: list[dict], args: argparse.Namespace, cmd: str) -> str:
    lines = ["| variant | center bins | T | Org. | seeds | error (cm) | MSD (cm) | error x base "
             "| MSD x base | time x base |", "|---|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        def pm(key: str, s: dict = s) -> str:
            return f"{s[key + '_mean']:.3f}" + (f" ± {s[key + '_std']:.3f}"
                                                  if len(s["seeds"]) > 1 else "")
        cb = "-" if s["center_bins"] is None else ("all" if s["center_bins"] == 0
                                                   else str(s["center_bins"]))
        org = "-" if s["org"] is None else f"{round(s['org'] * 100)}%"
        lines.append(f"| {s['variant']} | {cb} | {s['T'] or '-'} | {org} | "
                     f"{len(s['seeds'])} | {pm('error_cm')} | {pm('msd_cm')} | "
                     f"{s['error_ratio']:.3f} | {s['msd_ratio']:.3f} | {s['cost_ratio']:.2f} |")
    return (f"# DwO sweep on GazeSim\n\n{args.subjects} subjects x {args.frames_per_subject} "
            f"frames + {args.stare} stare sequences of 60 frames each, splits {args.split}; "
            f"model {args.model}, {args.epochs} epochs, batch {args.batch_size}, lr {args.lr}. "
            f"Error: test subjects' random-dot frames; MSD: their stare sequences (Eq. 12); "
            f"mean ± sample std over seeds; time: training time per sample relative to the "
            f"baseline (same machine, runs in parallel).\nCommand: `{cmd}`\n\n"
            + "\n".join(lines) + "\n")


def stare_figure(data: Path, work: Path, seed: int) -> Path | None:
    from gazesdk.data.arrays import load_arrays
    from gazesdk.evaluation.plots import stare_comparison_png
    from gazesdk.models.loading import load_model
    from gazesdk.training.data import split_indices
    from gazesdk.training.loop import predict

    runs = {"baseline": work / "runs" / name_of("baseline", None, None, None, seed),
            "DwO (8 bins, T=1, Org. 90%)": work / "runs" / name_of("dwo", *RECOMMENDED, seed)}
    if not all((p / "model.safetensors").exists() for p in runs.values()):
        return None
    arrays = load_arrays(data)
    index = split_indices(arrays, "test")
    index = index[np.asarray(arrays["sequence"])[index] >= 0]
    import torch

    preds = {name: predict(load_model(p / "model.safetensors"), arrays, index,
                           torch.device("cpu")) for name, p in runs.items()}
    return stare_comparison_png(preds, np.asarray(arrays["gaze_cm"])[index],
                                np.asarray(arrays["sequence"])[index],
                                RESULTS / "dwo_stare.png")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("out/dwo_sweep"))
    ap.add_argument("--subjects", type=int, default=50)
    ap.add_argument("--frames-per-subject", type=int, default=60)
    ap.add_argument("--stare", type=int, default=2, help="stare sequences per subject")
    ap.add_argument("--split", type=float, nargs=3, default=(0.7, 0.1, 0.2))
    ap.add_argument("--data-seed", type=int, default=11)
    ap.add_argument("--model", default="compact")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--core-seeds", type=int, nargs="+", default=(0, 1, 2))
    ap.add_argument("--variant-seeds", type=int, nargs="*", default=(0,))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    data = sim_dataset(args.work / "data", subjects=args.subjects,
                       frames_per_subject=args.frames_per_subject, stare=args.stare,
                       split=args.split, seed=args.data_seed)
    cmd = command()
    rows: list[dict] = []

    def finish(row: dict) -> None:
        rows.append(row)
        summary = summarise(rows)
        result = {"command": cmd, "machine": machine(torch_threads_per_run=args.threads,
                                                      parallel_runs=args.jobs),
                  "settings": {k: (list(v) if isinstance(v, tuple) else v)
                               for k, v in vars(args).items() if k != "work"},
                  "rows": rows, "summary": summary}
        write(RESULTS, "dwo_sweep", result, markdown(summary, args, cmd))

    failed = run_all(args.jobs, [partial(run_one, key, data, args.work, args)
                                 for key in rows_plan(args)], finish)
    if args.core_seeds:
        fig = stare_figure(data, args.work, args.core_seeds[0])
        if fig:
            print(f"stare figure: {fig}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
