"""Label efficiency with an unlabelled pool: U unlabelled GazeSim subjects against L labelled.

The regime the self-supervised papers target (the semi-supervised contrastive regression paper,
FRA): far more unlabelled faces than labelled ones. The pool (``--pool-subjects`` U people,
drawn from another seed than the labelled ones, so nobody is in both) is what every
pre-training method sees; the gaze model is then fine-tuned on L labelled subjects (L in
``--labelled``, out of the labelled dataset's training subjects; the seed draws which) with the
same budget (``--steps`` x ``--batch-size``) for every row. Rows:

- ``supervised``: L labelled subjects only, from random weights;
- each pre-training method (``gazesdk pretrain``'s schemes, their paper settings) on the pool,
  then fine-tuning on L;
- ``hmtl-cotrain``: HMTL co-training on the L subjects alone (the control), and
  ``hmtl-cotrain-pool``: the same with the pool feeding the SSL heads (``aux_unlabelled``:
  the unlabelled frames train the SSL heads, the labelled ones both);
- ``-long``: ``--long-methods`` (contrastive regression) pre-trained ``--long-factor`` (3)
  x longer, at the smallest L;
- ``+recipe``: supervised and pool co-training with issue 17's rendering and augmentation
  recipe (GazeSim detailed eyes, 10% lens stares, real-camera + mirror augmentation) on both
  datasets; their ratio is to ``supervised+recipe``.

Seed 0 first; seeds 1 and 2 are added wherever a row's ratio to supervised is within
``--band`` of 1 (where one seed cannot tell), smallest L first. ``--u-sweep`` re-runs the best
pool rows at the smallest L with smaller pools, every seed (what grows with U). Transfer,
for the best row at the smallest L against supervised (seed 0): error after per-session
calibration (the ``auto`` fit of :mod:`gazesdk.calibration` on each test session's 9-dot grid)
and the real-face suite of :mod:`gazesdk.mobile_bench.real_faces` (torch backend, fp32).

Every run is a ``gazesdk train`` subprocess (``--jobs`` in parallel), resumable; rerunning the
command skips finished runs. Output: ``benchmarks/results/label_efficiency_pool.{json,md}``
(rows ``{method, labelled_subjects, unlabelled_subjects, seed, error_cm, ratio}``), the
pre-training loss curves ``label_efficiency_pool_loss.png`` and the error against L,
``label_efficiency_pool.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, command, machine, write  # noqa: E402
from _runs import fine_tune, history, run_all, run_training  # noqa: E402

PRETRAIN = ("contrastive-regression", "simclr", "barlow-twins", "byol", "fra",
            "hmtl-puzzle-rotation")
COTRAIN_KIND = "puzzle-rotation"
POOL_COTRAIN = "hmtl-cotrain-pool"
RECIPE = "+recipe"
RECIPE_AUGMENT = "real-camera-mirror"
LONG = "-long"                  # the pre-training runs --long-factor x the steps
METHODS = ("supervised", *PRETRAIN, *(f"{m}{LONG}" for m in PRETRAIN), "hmtl-cotrain",
           POOL_COTRAIN, f"supervised{RECIPE}", f"{POOL_COTRAIN}{RECIPE}")
ORDERING = ("contrastive-regression", "barlow-twins", "simclr")   # the paper's, best first
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _lock(name: str) -> threading.Lock:
    with _guard:
        return _locks.setdefault(name, threading.Lock())


# -- datasets ---------------------------------------------------------------------------------

def labelled_config(args: argparse.Namespace, recipe: bool) -> dict:
    return {"subjects": args.subjects, "frames_per_subject": args.frames_per_subject,
            "sessions_per_subject": 2, "calibration_dots": 9, "stare_sequences": 1,
            "split_fractions": (args.train_fraction, 0.0, 1.0 - args.train_fraction),
            "sessions_share_device": True, "seed": args.data_seed, **_recipe(recipe)}


def pool_config(args: argparse.Namespace, subjects: int, recipe: bool) -> dict:
    return {"subjects": subjects, "frames_per_subject": args.pool_frames,
            "sessions_per_subject": 1, "split_fractions": (1.0, 0.0, 0.0),
            "seed": args.pool_seed, **_recipe(recipe)}


def _recipe(on: bool) -> dict:
    return {"eye_detail": True, "lens_fraction": 0.1} if on else {}


def dataset(path: Path, settings: dict) -> Path:
    """A GazeSim array dataset at ``path``, written once (a rerun checks its settings)."""
    from gazesdk.sim import GazeSim, SimConfig

    config = SimConfig(**settings)
    stamp = path.parent / f"{path.name}.sim.json"
    want = json.dumps(config.to_dict(), sort_keys=True)
    if (path / "manifest.json").exists():
        if stamp.exists() and stamp.read_text() != want:
            raise SystemExit(f"{path} was written with other settings; use --fresh")
        return path
    if path.exists():
        shutil.rmtree(path)
    started = time.perf_counter()
    GazeSim(config).write_arrays(path)
    stamp.write_text(want)
    print(f"GazeSim {path.name}: {time.perf_counter() - started:.0f} s", flush=True)
    return path


def datasets(args: argparse.Namespace) -> dict[str, Path]:
    w = args.work
    out = {"labelled": dataset(w / "labelled", labelled_config(args, False)),
           "pool": dataset(w / "pool", pool_config(args, args.pool_subjects, False))}
    if args.recipe:
        out["labelled+recipe"] = dataset(w / "labelled_recipe", labelled_config(args, True))
        out["pool+recipe"] = dataset(w / "pool_recipe",
                                     pool_config(args, args.pool_subjects, True))
    for u in args.u_sweep:
        out[f"pool{u}"] = dataset(w / f"pool_u{u}", pool_config(args, u, False))
    return out


def train_subjects(path: Path) -> int:
    from gazesdk.data.arrays import load_arrays
    from gazesdk.training.data import split_indices

    data = load_arrays(path)
    return len(np.unique(np.asarray(data["subject"])[split_indices(data, "train",
                                                                    stare=False)]))


# -- runs -------------------------------------------------------------------------------------

def pretrain(method: str, pool: Path, u: int, args: argparse.Namespace, *,
             factor: int = 1) -> Path:
    """Pre-train ``method`` on the pool once (threads wanting it wait for the first);
    ``factor`` x the steps for the long variant."""
    name = f"{method}_U{u}" + (f"_x{factor}" if factor > 1 else "")
    out = args.work / "pretrain" / name
    with _lock(name):
        steps = u * args.pool_frames // args.pretrain_batch_size
        epochs = max(1, math.ceil(factor * args.pretrain_steps / max(steps, 1)))
        settings = {"data": str(pool), "scheme": method, "model": args.model, "epochs": epochs,
                    "batch_size": args.pretrain_batch_size, "lr": args.lr, "seed": 0,
                    "threads": args.threads, "device": args.device, "val_split": "none"}
        seconds = run_training(settings, out, threads=args.threads, done="encoder.safetensors")
        if seconds:
            print(f"pretrain {name}: {seconds:.0f} s", flush=True)
    return out / "encoder.safetensors"


def fine_tune_epochs(rows: int, args: argparse.Namespace) -> int:
    per_epoch = rows // args.batch_size
    if per_epoch < 1:
        raise SystemExit(f"{rows} labelled rows, fewer than a batch of {args.batch_size}: use "
                         f"more frames per subject")
    return max(1, math.ceil(args.steps / per_epoch))


def labelled_rows(path: Path, fraction: float, seed: int) -> int:
    from gazesdk.data.arrays import load_arrays
    from gazesdk.training.data import labelled_subset, split_indices

    data = load_arrays(path)
    return len(labelled_subset(data, split_indices(data, "train", stare=False), fraction,
                               seed=seed))


def run_one(key: tuple, data: dict[str, Path], args: argparse.Namespace) -> dict:
    """key = (method, L, seed, U); U is the pool's subjects (0 for rows without one)."""
    method, labelled, seed, u = key
    recipe = method.endswith(RECIPE)
    base = method.removesuffix(RECIPE)
    factor = 1
    if base.endswith(LONG):
        base, factor = base.removesuffix(LONG), args.long_factor
    ldata = data["labelled+recipe" if recipe else "labelled"]
    pool = data["pool+recipe" if recipe else ("pool" if u == args.pool_subjects
                                               else f"pool{u}")] if u else None
    fraction = labelled / args.n_train
    settings = {"data": str(ldata), "model": args.model, "batch_size": args.batch_size,
                "lr": args.lr, "seed": seed, "threads": args.threads, "device": args.device,
                "label_fraction": fraction, "val_split": "none",
                "epochs": fine_tune_epochs(labelled_rows(ldata, fraction, seed), args)}
    if recipe:
        settings["augment"] = RECIPE_AUGMENT
    if base in PRETRAIN:
        settings["init"] = str(pretrain(base, pool, u, args, factor=factor))
    elif base.startswith("hmtl-cotrain"):
        settings["aux"] = COTRAIN_KIND
        if pool is not None:
            settings["aux_unlabelled"] = str(pool)
    name = f"{method}_L{labelled}_U{u}_s{seed}"
    out = args.work / "finetune" / name
    final = fine_tune(settings, out, threads=args.threads)
    return {"method": method, "labelled_subjects": labelled, "unlabelled_subjects": u,
            "seed": seed, "error_cm": final["error_cm"], "msd_cm": final.get("msd_cm"),
            "train_error_cm": final.get("train_error_cm"), "run": str(out)}


def pool_of(method: str, args: argparse.Namespace) -> int:
    base = method.removesuffix(RECIPE).removesuffix(LONG)
    return args.pool_subjects if base in PRETRAIN or base == POOL_COTRAIN else 0


def reference(method: str) -> str:
    """The supervised row a method's ratio divides by: the one with the same data recipe."""
    return f"supervised{RECIPE}" if method.endswith(RECIPE) else "supervised"


def ratios(rows: list[dict]) -> list[dict]:
    """Each row with ``ratio``: its error over its reference's on the same seed, L (and the
    reference's own pool size: 0); None until that reference has run."""
    ref = {(r["method"], r["labelled_subjects"], r["seed"]): r["error_cm"] for r in rows
           if r["method"] in ("supervised", f"supervised{RECIPE}")}
    out = []
    for r in rows:
        base = ref.get((reference(r["method"]), r["labelled_subjects"], r["seed"]))
        out.append({**r, "ratio": None if base is None else r["error_cm"] / base})
    return out


def summarise(rows: list[dict]) -> list[dict]:
    """Mean over seeds per (method, L, U); the ratio is the mean error over the mean error of
    the reference on the same seeds."""
    rows = ratios(rows)
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["method"], r["labelled_subjects"], r["unlabelled_subjects"]),
                          []).append(r)
    ref = {(r["method"], r["labelled_subjects"], r["seed"]): r["error_cm"] for r in rows}
    out = []
    for (method, labelled, u), rs in groups.items():
        err = np.array([r["error_cm"] for r in rs])
        paired = [r for r in rs if r["ratio"] is not None]      # seeds its reference has run
        ratio = (float(np.mean([r["error_cm"] for r in paired])
                       / np.mean([ref[(reference(method), labelled, r["seed"])]
                                  for r in paired])) if paired else None)
        out.append({"method": method, "labelled_subjects": labelled, "unlabelled_subjects": u,
                    "seeds": sorted(r["seed"] for r in rs), "error_cm": float(err.mean()),
                    "error_cm_std": float(err.std(ddof=1)) if len(err) > 1 else None,
                    "ratio": ratio, "ratio_seeds": sorted(r["seed"] for r in paired),
                    "ratio_std": float(np.std([r["ratio"] for r in paired], ddof=1))
                    if len(paired) > 1 else None})
    order = {m: i for i, m in enumerate(METHODS)}
    out.sort(key=lambda s: (s["labelled_subjects"], order.get(s["method"], 99),
                            -s["unlabelled_subjects"]))
    return out


# -- the plan, in phases ----------------------------------------------------------------------

def main_keys(args: argparse.Namespace) -> list[tuple]:
    methods = [m for m in METHODS if (args.recipe or not m.endswith(RECIPE))
               and not m.endswith(LONG)]             # long variants: long_keys
    recipe = [m for m in methods if m.endswith(RECIPE)]
    plain = [m for m in methods if not m.endswith(RECIPE)]
    keys = [(m, lab, args.seeds[0], pool_of(m, args)) for lab in args.labelled for m in plain]
    return keys + [(m, lab, args.seeds[0], pool_of(m, args)) for lab in args.labelled
                   for m in recipe]


def extra_seed_keys(rows: list[dict], labelled: int, args: argparse.Namespace) -> list[tuple]:
    """Seeds 1.. for the rows at this L whose seed-0 ratio is within the band of 1, and for
    their references."""
    keys: list[tuple] = []
    rows_at = [s for s in summarise(rows) if s["labelled_subjects"] == labelled
               and s["ratio"] is not None and not s["method"].startswith("supervised")
               and s["unlabelled_subjects"] in (0, args.pool_subjects)]  # not the U sweep
    chosen = [s for s in rows_at if abs(s["ratio"] - 1.0) <= args.band]
    if labelled == min(args.labelled):     # the goal's rows get seeds wherever they lie
        pre = [s for s in rows_at if s["method"] in PRETRAIN]
        chosen += [min(group, key=lambda s: s["ratio"]) for group in (pre, rows_at) if group]
    for s in chosen:
        methods = [s["method"]] + (["hmtl-cotrain"] if s["method"] == POOL_COTRAIN else [])
        for seed in args.seeds[1:]:
            for m in methods:
                keys.append((m, labelled, seed, pool_of(m, args)))
            keys.append((reference(s["method"]), labelled, seed, 0))
    return list(dict.fromkeys(keys))


def long_keys(args: argparse.Namespace) -> list[tuple]:
    """``--long-methods`` pre-trained ``--long-factor`` x longer, at the smallest L, every
    seed (a loss that had not flattened)."""
    lab = min(args.labelled)
    return [(f"{m}{LONG}", lab, seed, args.pool_subjects) for m in args.long_methods
            for seed in args.seeds]


def u_sweep_keys(rows: list[dict], args: argparse.Namespace) -> list[tuple]:
    """The pool co-training and the best pre-training method at the smallest L, every seed,
    with each smaller pool."""
    if not args.u_sweep:
        return []
    lab = min(args.labelled)
    at = [s for s in summarise(rows) if s["labelled_subjects"] == lab
          and s["method"] in PRETRAIN and s["ratio"] is not None]
    methods = [POOL_COTRAIN] + ([min(at, key=lambda s: s["ratio"])["method"]] if at else [])
    return [(m, lab, seed, u) for seed in args.seeds for m in methods for u in args.u_sweep]


# -- results ----------------------------------------------------------------------------------

def loss_curves(args: argparse.Namespace) -> dict[str, list[float]]:
    curves = {}
    for run in sorted((args.work / "pretrain").glob("*_U*")):
        if (run / "metrics.jsonl").exists() and (run / "encoder.safetensors").exists():
            curves[run.name] = [h["train_loss"] for h in history(run)]
    return curves


def flattening(curve: list[float]) -> float | None:
    """Relative drop of the loss over the last epoch, |l[-1] - l[-2]| / |l[0] - l[-1]|: how
    much of the whole decrease the last epoch still made."""
    if len(curve) < 3 or curve[-1] >= curve[0]:
        return None                         # no decrease to share out (the loss rose)
    return abs(curve[-1] - curve[-2]) / (curve[0] - curve[-1])


def ordering_check(summary: list[dict], rows: list[dict], args: argparse.Namespace
                   ) -> list[dict]:
    """Per L, the three methods ordered by mean error over the seeds all three have run."""
    out = []
    for lab in args.labelled:
        found = {s["method"]: s for s in summary if s["labelled_subjects"] == lab
                 and s["unlabelled_subjects"] == args.pool_subjects and s["method"] in ORDERING}
        if len(found) < len(ORDERING):
            continue
        seeds = sorted(set.intersection(*(set(found[m]["seeds"]) for m in ORDERING)))
        errs = {m: float(np.mean([r["error_cm"] for r in rows if r["method"] == m
                                  and r["labelled_subjects"] == lab and r["seed"] in seeds
                                  and r["unlabelled_subjects"] == args.pool_subjects]))
                for m in ORDERING}
        got = sorted(ORDERING, key=lambda m: errs[m])
        out.append({"labelled_subjects": lab, "order": got, "seeds": seeds,
                    "paper_order_holds": got == list(ORDERING),
                    "errors_cm": {m: round(errs[m], 3) for m in ORDERING}})
    return out


def plots(summary: list[dict], curves: dict[str, list[float]], args: argparse.Namespace
          ) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name, c in curves.items():
        c = np.asarray(c)
        span = (c.max() - c.min()) or 1.0
        ax.plot(np.arange(1, len(c) + 1), (c - c.min()) / span, marker="o", ms=3, label=name)
    ax.set_xlabel("pre-training epoch")
    ax.set_ylabel("loss (min-max scaled per run)")
    ax.set_title("Pre-training loss on the unlabelled pool")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / "label_efficiency_pool_loss.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for method in METHODS:
        pts = sorted((s["labelled_subjects"], s["error_cm"]) for s in summary
                     if s["method"] == method and s["unlabelled_subjects"] in
                     (0, args.pool_subjects))
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", ms=3, label=method,
                    ls="--" if method.startswith("supervised") else "-")
    ax.set_xscale("log")
    ax.set_xticks(list(args.labelled), [str(x) for x in args.labelled])
    ax.set_xlabel("labelled subjects L")
    ax.set_ylabel("test error (cm)")
    ax.set_title(f"Fine-tuned on L subjects; pool U = {args.pool_subjects}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / "label_efficiency_pool.png", dpi=110)
    plt.close(fig)


def markdown(result: dict, args: argparse.Namespace) -> str:
    lines = ["# Label efficiency with an unlabelled pool (GazeSim)\n",
             f"`{result['command']}`\n",
             f"Labelled: {args.subjects} subjects ({args.n_train} for training, the rest test), "
             f"{args.frames_per_subject} random-dot frames each; pool: U = {args.pool_subjects} "
             f"other subjects x {args.pool_frames} frames, labels never read. Pre-training "
             f"{args.pretrain_steps}+ steps of batch {args.pretrain_batch_size}; fine-tuning "
             f"{args.steps} steps of batch {args.batch_size} on L subjects. Ratio: error over "
             f"supervised (the same recipe) on the same seeds. Machine: "
             f"{result['machine']['processor']}, {result['machine']['cpus']} cores, CPU.\n",
             "| L | U | method | seeds | error cm | ratio |", "|---|---|---|---|---|---|"]
    for s in result["summary"]:
        ratio = "-" if s["ratio"] is None else (
            f"{s['ratio']:.3f}" + (f" ± {s['ratio_std']:.3f}" if s["ratio_std"] is not None
                                   else ""))
        err = f"{s['error_cm']:.3f}" + (f" ± {s['error_cm_std']:.3f}"
                                        if s["error_cm_std"] is not None else "")
        lines.append(f"| {s['labelled_subjects']} | {s['unlabelled_subjects']} | "
                     f"{s['method']} | {len(s['seeds'])} | {err} | {ratio} |")
    lines.append("\nPre-training loss (first -> last epoch; share of the decrease made in the "
                 "last epoch):\n")
    lines += ["| run | epochs | first | last | last-epoch share |", "|---|---|---|---|---|"]
    for name, c in result["loss_curves"].items():
        f = flattening(c)
        lines.append(f"| {name} | {len(c)} | {c[0]:.4g} | {c[-1]:.4g} | "
                     f"{'rose' if f is None else f'{f:.3f}'} |")
    if result["ordering"]:
        lines.append("\nThe paper's ordering (contrastive regression < Barlow Twins < SimCLR, "
                     "error):\n")
        for o in result["ordering"]:
            lines.append(f"- L = {o['labelled_subjects']}: {' < '.join(o['order'])} "
                         f"({'holds' if o['paper_order_holds'] else 'does not hold'}; "
                         f"{o['errors_cm']})")
    b = result.get("best_pool_row")
    if b:
        lines.append(f"\nBest row using the pool at L = {b['labelled_subjects']}: {b['method']} "
                     f"{b['ratio']:.3f} (seeds {b['seeds']}).")
    g = result.get("goal")
    if g:
        lines.append(f"\nGoal (best pre-training method <= {g['target']}x supervised at L = "
                     f"{g['labelled_subjects']}): best {g['method']} {g['ratio']:.3f} over seeds "
                     f"{g['seeds']} ({'met' if g['met'] else 'not met'}).")
    t = result.get("transfer")
    if t:
        lines.append("\nTransfer (L = {}, seed {}):\n".format(t["labelled_subjects"], t["seed"]))
        lines += ["| model | GazeSim test error cm | session frames: uncalibrated -> "
                  "calibrated cm (ratio) | real-face lens bias cm | mirror cm | iris response "
                  "h / v | real-face stare MSD cm |", "|---|---|---|---|---|---|---|"]
        for name, m in t["models"].items():
            rf = m["real_faces"]
            lines.append(f"| {name} | {m['error_cm']:.3f} | {m['uncalibrated_cm']:.3f} -> "
                         f"{m['calibrated_cm']:.3f} ({m['calibration_ratio']:.3f}) | "
                         f"{_fmt(rf['lens_bias_cm'])} | {_fmt(rf['mirror_cm'])} | "
                         f"{_fmt(rf['iris_response_ratio'].get('horizontal'))} / "
                         f"{_fmt(rf['iris_response_ratio'].get('vertical'))} | "
                         f"{_fmt(rf['real_face_msd_cm'])} |")
    return "\n".join(lines) + "\n"


def _fmt(v: object) -> str:
    return "-" if v is None else f"{v:.2f}"


def transfer(rows: list[dict], data: dict[str, Path], args: argparse.Namespace) -> dict | None:
    """Calibration and real-face figures of the best row at the smallest L against supervised
    (seed 0), both through the torch backend on the runs' model.safetensors."""
    from gazesdk.calibration.dataset import fit_sessions
    from gazesdk.data.arrays import load_arrays
    from gazesdk.mobile_bench.real_faces import build_suite, run_estimator, score
    from gazesdk.runtime import GazeEstimatorOptions
    from gazesdk.runtime.backends import create_backend

    lab, seed = min(args.labelled), args.seeds[0]
    at = [s for s in summarise(rows) if s["labelled_subjects"] == lab and s["ratio"] is not None
          and not s["method"].startswith("supervised") and not s["method"].endswith(RECIPE)
          and s["unlabelled_subjects"] in (0, args.pool_subjects)]
    if not at:
        return None
    best = min(at, key=lambda s: s["ratio"])
    chosen = {}
    for method, u in (("supervised", 0), (best["method"], best["unlabelled_subjects"])):
        match = [r for r in rows if r["method"] == method and r["labelled_subjects"] == lab
                 and r["seed"] == seed and r["unlabelled_subjects"] == u]
        if not match:
            return None
        chosen[method] = match[0]
    labelled = load_arrays(data["labelled"])
    suite = build_suite()
    out = {"labelled_subjects": lab, "seed": seed, "models": {}}
    for method, r in chosen.items():
        model = Path(r["run"]) / "model.safetensors"
        backend = create_backend(model, backend="torch", precision="fp32", threads=args.threads)
        try:
            fits, _ = fit_sessions(labelled, backend, method="auto", split="test",
                                   progress=False)
        finally:
            backend.close()
        w = np.array([f.frames for f in fits], float)
        cal = float(np.average([f.calibrated_cm for f in fits], weights=w))
        unc = float(np.average([f.uncalibrated_cm for f in fits], weights=w))
        options = GazeEstimatorOptions(model=str(model), backend="torch", precision="fp32",
                                       threads=1)
        gaze, _ = run_estimator(options, suite)
        rf = score(suite, gaze)["all"]
        out["models"][method] = {
            "error_cm": r["error_cm"], "uncalibrated_cm": unc, "calibrated_cm": cal,
            "calibration_ratio": cal / unc, "sessions": len(fits),
            "real_faces": {k: rf[k] for k in ("lens_bias_cm", "mirror_cm",
                                              "iris_response_ratio", "iris_right_sign",
                                              "real_face_msd_cm")}}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("out/label_efficiency_pool"))
    ap.add_argument("--subjects", type=int, default=50, help="labelled dataset's subjects")
    ap.add_argument("--train-fraction", type=float, default=0.6,
                    help="of them, the share for training (the rest is the test split)")
    ap.add_argument("--frames-per-subject", type=int, default=40)
    ap.add_argument("--data-seed", type=int, default=21)
    ap.add_argument("--pool-subjects", type=int, default=300)
    ap.add_argument("--pool-frames", type=int, default=4, help="frames per pool subject")
    ap.add_argument("--pool-seed", type=int, default=1021)
    ap.add_argument("--labelled", type=int, nargs="+", default=(3, 10, 30))
    ap.add_argument("--model", default="compact")
    ap.add_argument("--pretrain-steps", type=int, default=120,
                    help="pre-training steps at least (whole epochs over the pool)")
    ap.add_argument("--pretrain-batch-size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100, help="fine-tuning steps, every row")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seeds", type=int, nargs="+", default=(0, 1, 2))
    ap.add_argument("--band", type=float, default=0.1,
                    help="rows within this of ratio 1 get the other seeds")
    ap.add_argument("--no-recipe", dest="recipe", action="store_false",
                    help="leave out the +recipe rows")
    ap.add_argument("--u-sweep", type=int, nargs="*", default=(30, 100),
                    help="smaller pools for the best rows at the smallest L")
    ap.add_argument("--long-methods", nargs="*", default=("contrastive-regression",),
                    choices=PRETRAIN, help="pre-trained --long-factor x longer too")
    ap.add_argument("--long-factor", type=int, default=3)
    ap.add_argument("--goal", type=float, default=0.8)
    ap.add_argument("--no-transfer", dest="transfer", action="store_false")
    ap.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fresh", action="store_true", help="delete --work first")
    args = ap.parse_args()
    if any(10 * lab > args.pool_subjects for lab in args.labelled):
        print(f"note: U = {args.pool_subjects} is under 10 L for some L", file=sys.stderr)

    if args.fresh and args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = datasets(args)
    args.n_train = train_subjects(data["labelled"])
    if max(args.labelled) > args.n_train:
        raise SystemExit(f"L = {max(args.labelled)} > the {args.n_train} training subjects")
    cmd = command()
    rows: list[dict] = []
    state: dict = {}

    def result() -> dict:
        summary = summarise(rows)
        curves = loss_curves(args)
        res = {"command": cmd,
               "machine": machine(torch_threads_per_run=args.threads, parallel_runs=args.jobs,
                                  device=args.device),
               "settings": {k: (list(v) if isinstance(v, tuple) else v)
                            for k, v in vars(args).items() if k not in ("work", "fresh")},
               "rows": [{k: r[k] for k in ("method", "labelled_subjects",
                                           "unlabelled_subjects", "seed", "error_cm",
                                           "ratio")} for r in ratios(rows)],
               "extra": [{k: r[k] for k in ("method", "labelled_subjects",
                                            "unlabelled_subjects", "seed", "msd_cm",
                                            "train_error_cm")} for r in rows],
               "summary": summary, "loss_curves": curves,
               "loss_last_epoch_share": {k: flattening(c) for k, c in curves.items()},
               "ordering": ordering_check(summary, rows, args),
               "seconds": round(time.perf_counter() - started)}
        lab = min(args.labelled)
        at = [s for s in summary if s["labelled_subjects"] == lab and s["ratio"] is not None
              and s["unlabelled_subjects"] == args.pool_subjects
              and not s["method"].endswith(RECIPE)]
        pre = [s for s in at if s["method"].removesuffix(LONG) in PRETRAIN]
        if pre:
            b = min(pre, key=lambda s: s["ratio"])
            res["goal"] = {"labelled_subjects": lab, "target": args.goal, "method": b["method"],
                           "ratio": b["ratio"], "seeds": b["ratio_seeds"],
                           "met": b["ratio"] <= args.goal}
        if at:
            b = min(at, key=lambda s: s["ratio"])
            res["best_pool_row"] = {"labelled_subjects": lab, "method": b["method"],
                                    "ratio": b["ratio"], "seeds": b["ratio_seeds"]}
        if state.get("transfer"):
            res["transfer"] = state["transfer"]
        return res

    def finish(row: dict) -> None:
        rows.append(row)
        res = result()
        write(RESULTS, "label_efficiency_pool", res, markdown(res, args))

    def run(keys: list[tuple]) -> int:
        done = {(r["method"], r["labelled_subjects"], r["seed"], r["unlabelled_subjects"])
                for r in rows}
        todo = [k for k in dict.fromkeys(keys) if k not in done]
        return run_all(args.jobs, [partial(run_one, k, data, args) for k in todo], finish)

    failed = run(main_keys(args))
    failed += run(extra_seed_keys(rows, min(args.labelled), args))
    failed += run(u_sweep_keys(rows, args))
    failed += run(long_keys(args))
    if args.transfer:           # the best row at the smallest L is known from here on
        try:
            state["transfer"] = transfer(rows, data, args)
        except Exception as e:  # noqa: BLE001 - reported; the other seeds still run
            failed += 1
            print(f"transfer failed: {type(e).__name__}: {e}", file=sys.stderr)
    for lab in sorted(args.labelled)[1:]:
        failed += run(extra_seed_keys(rows, lab, args))
    res = result()
    write(RESULTS, "label_efficiency_pool", res, markdown(res, args))
    plots(res["summary"], res["loss_curves"], args)
    print(f"done in {res['seconds']} s; {failed} runs failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
