"""Label efficiency on GazeSim: how much labelled data each pre-training method saves.

Every self-supervised method of ``gazesdk pretrain`` pre-trains the encoder on all training
subjects with their labels hidden; then the gaze model is fine-tuned (``gazesdk train --init``)
on the labels of 1%, 10% or 100% of the training subjects (at least one subject) with the same
fine-tuning budget (steps x batch) for every row. ``supervised`` starts from random weights;
``hmtl-*-cotrain`` rows train HMTL's pretext heads together with the gaze heads (no
pre-training). Test error (cm) on held-out subjects' random-dot frames and MSD (Eq. 12 of Guo
et al.) on their stare sequences. Ablations at 10% labels: the redundancy weight gamma of
contrastive regression, and the dilated encoder with and without dilation.

Runs are `gazesdk` subprocesses in parallel (``--jobs``), each resumable; rerunning the command
skips finished runs and rewrites the results. Output: ``benchmarks/results/
label_efficiency.json`` (rows ``{method, label_fraction, seed, error_cm, msd_cm}``, ablation
rows, settings, command, machine), ``label_efficiency.md`` and ``label_efficiency.png``, and the
heatmaps FRA learned, ``fra_heatmaps.png``.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import threading
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, command, machine, write  # noqa: E402
from _runs import fine_tune, run_all, run_training, sim_dataset  # noqa: E402

PRETRAIN = ("contrastive-regression", "simclr", "barlow-twins", "byol", "fra", "hmtl-puzzle",
            "hmtl-rotation", "hmtl-puzzle-rotation")
COTRAIN = ("puzzle", "rotation", "puzzle-rotation")
METHODS = ("supervised", *PRETRAIN, *(f"hmtl-{k}-cotrain" for k in COTRAIN))
GAMMAS = (0.001, 0.01, 0.1, 1.0)
DEFAULT_GAMMA = 0.01
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _lock(name: str) -> threading.Lock:
    with _guard:
        return _locks.setdefault(name, threading.Lock())


def pretrain(name: str, extra: dict, data: Path, args: argparse.Namespace) -> Path:
    """Pre-train once (threads wanting the same encoder wait for the first)."""
    out = args.work / "pretrain" / name
    with _lock(name):
        settings = {"data": str(data), "model": args.model, "epochs": args.pretrain_epochs,
                    "batch_size": args.pretrain_batch_size, "lr": args.lr, "seed": 0,
                    "threads": args.threads, "device": args.device, **extra}
        seconds = run_training(settings, out, threads=args.threads, done="encoder.safetensors")
        if seconds:
            print(f"pretrain {name}: {seconds:.0f} s", flush=True)
    return out / "encoder.safetensors"


def fine_tune_epochs(data: Path, fraction: float, seed: int, args: argparse.Namespace) -> int:
    """Epochs giving the fixed budget of ``--steps`` steps at this label fraction."""
    from gazesdk.data.arrays import load_arrays
    from gazesdk.training.data import labelled_subset, split_indices

    arrays = load_arrays(data)
    rows = len(labelled_subset(arrays, split_indices(arrays, "train", stare=False), fraction,
                               seed=seed))
    per_epoch = rows // args.batch_size
    if per_epoch < 1:
        raise SystemExit(f"{fraction:.0%} of the subjects is {rows} rows, fewer than a batch "
                         f"of {args.batch_size}: use more frames per subject")
    return max(1, math.ceil(args.steps / per_epoch))


def run_one(key: tuple, data: Path, args: argparse.Namespace) -> dict:
    """key = (method, fraction, seed, variant); variant '' for the main rows."""
    method, fraction, seed, variant = key
    model, pre_extra = args.model, {}
    if variant.startswith("gamma"):
        pre_extra["ssl_gamma"] = float(variant[len("gamma"):])
    elif variant == "long":
        pre_extra["epochs"] = args.long_pretrain_epochs
    elif variant in ("dilated", "no-dilation"):
        model = "dilated"
    settings = {"data": str(data), "model": model, "batch_size": args.batch_size,
                "lr": args.lr, "seed": seed, "threads": args.threads, "device": args.device,
                "label_fraction": fraction, "val_split": "none",
                "epochs": fine_tune_epochs(data, fraction, seed, args)}
    if model == "dilated":
        widths = list(args.dilated_widths)
        dil = [1] if variant == "no-dilation" else list(args.dilations)
        settings["model"] = model
        pre_extra["model"] = model
        backbone = {"widths": widths, "dilations": dil}
        settings["model_options"] = backbone
        pre_extra["model_options"] = backbone
    if method in PRETRAIN:
        tag = method if not variant else f"{method}_{variant}"
        settings["init"] = str(pretrain(tag, {"scheme": method, **pre_extra}, data, args))
    elif method.endswith("-cotrain"):
        settings["aux"] = method[len("hmtl-"):-len("-cotrain")]
        if variant == "no-ssl-heads":          # the paper's "puzzled images without SSL heads"
            settings["aux_weight"] = 0.0
    name = f"{method}{'_' + variant if variant else ''}_f{fraction:g}_s{seed}"
    out = args.work / "finetune" / name
    final = fine_tune(settings, out, threads=args.threads)
    return {"method": method, "label_fraction": fraction, "seed": seed, "variant": variant,
            "error_cm": final["error_cm"], "msd_cm": final["msd_cm"],
            "train_error_cm": final.get("train_error_cm")}


def plan(args: argparse.Namespace) -> list[tuple]:
    """The 10% rows first (the acceptance comparison), then 1% and 100%, then ablations, then
    longer pre-training of ``--long-methods``."""
    keys: list[tuple] = []
    if args.part == "long":
        return long_plan(args)
    if args.part == "no-ssl-heads":
        return heads_plan(args)
    for seed in args.seeds:
        keys += [(m, 0.1, seed, "") for m in METHODS]
    for fraction in (0.01, 1.0):
        keys += [(m, fraction, args.seeds[0], "") for m in METHODS]
    for seed in args.ablation_seeds:
        keys += [("contrastive-regression", 0.1, seed, f"gamma{g:g}") for g in GAMMAS
                 if g != DEFAULT_GAMMA]
        for variant in ("dilated", "no-dilation"):
            keys += [("supervised", 0.1, seed, variant),
                     ("contrastive-regression", 0.1, seed, variant)]
    return keys + (long_plan(args) + heads_plan(args) if args.part == "all" else [])


def long_plan(args: argparse.Namespace) -> list[tuple]:
    return [(m, 0.1, seed, "long") for m in args.long_methods for seed in args.seeds]


def heads_plan(args: argparse.Namespace) -> list[tuple]:
    """HMTL's ablation: co-training on transformed patches with the SSL loss weight at 0."""
    return [(f"hmtl-{k}-cotrain", 0.1, seed, "no-ssl-heads") for k in COTRAIN
            for seed in (args.seeds if k == "puzzle-rotation" else args.seeds[:1])]


def summarise(rows: list[dict], ablation_seeds: tuple[int, ...] = ()) -> list[dict]:
    """Mean and spread per (method, variant, fraction); the ratio to supervised training is
    paired: over the same seeds (hence the same labelled subjects) and the same encoder."""
    rows = list(rows)
    # The gamma ablation's default gamma is the main row (same seeds as the other gammas).
    rows += [{**r, "variant": f"gamma{DEFAULT_GAMMA:g}"} for r in rows
             if r["method"] == "contrastive-regression" and not r["variant"]
             and r["label_fraction"] == 0.1 and r["seed"] in ablation_seeds]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["method"], r["variant"], r["label_fraction"]), []).append(r)
    supervised = {(r["variant"], r["label_fraction"], r["seed"]): r["error_cm"] for r in rows
                  if r["method"] == "supervised"}
    out = []
    for (method, variant, fraction), rs in sorted(
            groups.items(), key=lambda kv: (kv[0][1], kv[0][2], METHODS.index(kv[0][0]))):
        err = np.array([r["error_cm"] for r in rs])
        msd = np.array([r["msd_cm"] for r in rs])
        sd = (lambda a: float(a.std(ddof=1)) if len(a) > 1 else 0.0)  # noqa: E731
        ref_variant = variant if variant in ("dilated", "no-dilation") else ""
        refs = [supervised.get((ref_variant, fraction, r["seed"])) for r in rs]
        ref = (float(np.mean(refs)) if all(x is not None for x in refs)
               else None)
        out.append({"method": method, "variant": variant, "label_fraction": fraction,
                    "seeds": [r["seed"] for r in rs], "error_cm_mean": float(err.mean()),
                    "error_cm_std": sd(err), "msd_cm_mean": float(msd.mean()),
                    "msd_cm_std": sd(msd),
                    "error_vs_supervised": float(err.mean() / ref) if ref else None})
    return out


def markdown(summary: list[dict], args: argparse.Namespace, cmd: str) -> str:
    lines = ["| method | variant | labels | seeds | error (cm) | MSD (cm) | error x supervised |",
             "|---|---|---|---|---|---|---|"]
    for s in summary:
        def pm(key: str, s: dict = s) -> str:
            return f"{s[key + '_mean']:.3f}" + (f" ± {s[key + '_std']:.3f}"
                                                  if len(s["seeds"]) > 1 else "")
        ratio = "-" if s["error_vs_supervised"] is None else f"{s['error_vs_supervised']:.3f}"
        lines.append(f"| {s['method']} | {s['variant'] or '-'} | {s['label_fraction']:.0%} | "
                     f"{len(s['seeds'])} | {pm('error_cm')} | {pm('msd_cm')} | {ratio} |")
    return (f"# Label efficiency on GazeSim\n\n{args.subjects} subjects x "
            f"{args.frames_per_subject} frames (+ {args.stare} stare sequences each), splits "
            f"{args.split}; model {args.model}. Pre-training: all training subjects, labels "
            f"hidden, {args.pretrain_epochs} epochs, batch {args.pretrain_batch_size}. "
            f"Fine-tuning: {args.steps} steps of batch {args.batch_size} (whole epochs: at "
            f"100% labels a few more; lr {args.lr}, one-cycle) on the labels of the given "
            f"fraction of training subjects. Error: "
            f"test subjects' random-dot frames; MSD: their stare sequences; mean ± sample std "
            f"over seeds (the seed also draws the labelled subjects); error x supervised "
            f"divides by supervised training on the same seeds and encoder. Ablation variants "
            f"(10% labels): gammaX = contrastive regression with redundancy weight X (default "
            f"{DEFAULT_GAMMA}); dilated / no-dilation = the `dilated` encoder with widths "
            f"{list(args.dilated_widths)} and rates {list(args.dilations)} or [1], compared "
            f"with supervised training of the same encoder; long = {args.long_pretrain_epochs} "
            f"pre-training epochs instead of {args.pretrain_epochs}; no-ssl-heads = HMTL "
            f"co-training with the SSL loss weight 0 (transformed patches and the 0.5 dropout, "
            f"no SSL heads: the paper's ablation).\nCommand: `{cmd}`\n\n"
            + "\n".join(lines) + "\n")


def figure(summary: list[dict], path: Path) -> Path | None:
    from gazesdk.evaluation.plots import label_efficiency_png

    main = [s for s in summary if not s["variant"]]
    if not main:
        return None
    return label_efficiency_png(main, path)


def heatmap_figure(args: argparse.Namespace) -> Path | None:
    made = args.work / "pretrain" / "fra" / "fra_heatmaps.png"
    if not made.exists():
        return None
    return Path(shutil.copyfile(made, RESULTS / "fra_heatmaps.png"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("out/label_efficiency"))
    ap.add_argument("--subjects", type=int, default=40)
    ap.add_argument("--frames-per-subject", type=int, default=50)
    ap.add_argument("--stare", type=int, default=2, help="stare sequences per subject")
    ap.add_argument("--split", type=float, nargs=3, default=(0.7, 0.1, 0.2))
    ap.add_argument("--data-seed", type=int, default=21)
    ap.add_argument("--model", default="compact")
    ap.add_argument("--pretrain-epochs", type=int, default=5)
    ap.add_argument("--pretrain-batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=120, help="fine-tuning steps, every row")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seeds", type=int, nargs="+", default=(0, 1, 2),
                    help="seeds at 10%% labels (the first also runs 1%% and 100%%)")
    ap.add_argument("--ablation-seeds", type=int, nargs="*", default=(0,))
    ap.add_argument("--dilated-widths", type=int, nargs="+", default=(16, 32, 64, 96))
    ap.add_argument("--dilations", type=int, nargs="+", default=(1, 2, 4))
    ap.add_argument("--long-pretrain-epochs", type=int, default=15,
                    help="the 'long' variant: pre-training epochs")
    ap.add_argument("--long-methods", nargs="*", default=("contrastive-regression", "simclr"),
                    choices=PRETRAIN)
    ap.add_argument("--part", choices=("all", "main", "long", "no-ssl-heads"), default="all",
                    help="which runs: main = without the long and no-ssl-heads variants")
    ap.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                    help="where every run trains (cuda on a GPU machine)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fresh", action="store_true", help="delete --work first")
    args = ap.parse_args()

    if args.fresh and args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True, exist_ok=True)
    data = sim_dataset(args.work / "data", subjects=args.subjects,
                       frames_per_subject=args.frames_per_subject, stare=args.stare,
                       split=args.split, seed=args.data_seed)
    cmd = command()
    rows: list[dict] = []

    def finish(row: dict) -> None:
        rows.append(row)
        summary = summarise(rows, tuple(args.ablation_seeds))
        main_rows = [{k: r[k] for k in ("method", "label_fraction", "seed", "error_cm",
                                         "msd_cm")} for r in rows if not r["variant"]]
        result = {"command": cmd, "machine": machine(torch_threads_per_run=args.threads,
                                                      parallel_runs=args.jobs),
                  "settings": {k: (list(v) if isinstance(v, tuple) else v)
                               for k, v in vars(args).items() if k not in ("work", "fresh")},
                  "rows": main_rows,
                  "ablation_rows": [r for r in rows if r["variant"]],
                  "summary": summary}
        write(RESULTS, "label_efficiency", result, markdown(summary, args, cmd))
        figure(summary, RESULTS / "label_efficiency.png")

    failed = run_all(args.jobs, [partial(run_one, key, data, args) for key in plan(args)],
                     finish)
    fig = heatmap_figure(args)
    if fig:
        print(f"FRA heatmaps: {fig}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
