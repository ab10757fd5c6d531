"""TAT ablation on GazeSim: the structure of Guo et al.'s Tables 1-4 (baseline, L2 baseline,
TAT, and its teacher / pruning / re-initialisation variants), every row on the same data with
the same total epochs (K L + 1), through the one training loop (`gazesdk train`).

The regime is the one TAT is for: few training subjects with many frames each, so standard
training over-fits (the gap between training and test error is reported per row). Runs go in
parallel subprocesses (``--jobs``), each one resumable: rerunning the command skips finished
runs, resumes interrupted ones and rewrites the tables. ``--core-seeds`` apply to ``baseline``
and ``tat`` (the acceptance comparison), ``--variant-seeds`` to the other rows.

Output: ``benchmarks/results/tat_ablation.json`` (rows ``{variant, seed, mg_errors_cm,
test_error_cm, train_error_cm}``, the command and the machine) and ``tat_ablation.md``.
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
from _runs import history, run_all, run_training  # noqa: E402

# variant -> training settings on top of the common ones (Tables 1-4 of the paper)
VARIANTS: dict[str, dict[str, object]] = {
    "baseline": {"scheme": "supervised", "head": "ordinal", "schedule": "onecycle"},
    "l2": {"scheme": "supervised", "head": "l2", "schedule": "onecycle"},
    "baseline_cycles": {"scheme": "supervised", "head": "ordinal", "schedule": "generations"},
    "tat": {"scheme": "tat"},
    "teacher_last": {"scheme": "tat", "tat_teacher": "last"},
    "teacher_best": {"scheme": "tat", "tat_teacher": "best"},
    "teacher_mean": {"scheme": "tat", "tat_teacher": "mean"},
    "pruning_repr": {"scheme": "tat", "tat_pruning": "repr"},
    "pruning_none": {"scheme": "tat", "tat_pruning": "none"},
    "reinit_orthogonal": {"scheme": "tat", "tat_reinit": "orthogonal"},
    "reinit_uniform": {"scheme": "tat", "tat_reinit": "uniform"},
    "no_mixup": {"scheme": "tat", "tat_l_mix": 0.0},
    "mixup_only": {"scheme": "tat", "tat_pruning": "none", "tat_l_teacher": 0.0},
}
CORE = ("baseline", "tat")
NOTES = {
    "baseline": "standard training, ordinal loss, one learning-rate cycle (Table 1)",
    "l2": "iTracker-style L2 regression (Table 1)",
    "baseline_cycles": "standard training with TAT's per-generation learning-rate cycles",
    "tat": "TAT: random teacher, CSP, AOI, mixup (Eq. 9)",
    "teacher_last": "teacher = last generation (Table 2)",
    "teacher_best": "teacher = best generation on validation (Table 2)",
    "teacher_mean": "teacher = mean of all eligible generations (Table 2)",
    "pruning_repr": "RePr-style absolute-cosine ranking, no per-layer cap (Table 3)",
    "pruning_none": "no pruning: teachers and mixup only (Table 3)",
    "reinit_orthogonal": "orthogonal re-init without BN-aligned norms (Table 4)",
    "reinit_uniform": "PyTorch's default uniform re-init (Table 4)",
    "no_mixup": "TAT without the mixup term (l_mix = 0)",
    "mixup_only": "hard + mixup loss with TAT's cycles; no teachers, no pruning",
}


def make_data(work: Path, args: argparse.Namespace) -> Path:
    data = work / "data"
    if (data / "manifest.json").exists():
        return data
    from gazesdk.sim import SimConfig
    from gazesdk.sim.generator import GazeSim

    cfg = SimConfig(subjects=args.subjects, frames_per_subject=args.frames_per_subject,
                    split_fractions=tuple(args.split), seed=args.data_seed)
    GazeSim(cfg).write_arrays(data, progress=False)
    return data


def run_one(variant: str, seed: int, data: Path, work: Path, args: argparse.Namespace) -> dict:
    out = work / "runs" / f"{variant}_s{seed}"
    settings = {"data": str(data), "model": args.model, "batch_size": args.batch_size,
                "lr": args.lr, "seed": seed, "threads": args.threads, "device": "cpu",
                "epochs": args.generations * args.generation_epochs + 1,
                "tat_generations": args.generations,
                "tat_generation_epochs": args.generation_epochs, **VARIANTS[variant]}
    seconds = run_training(settings, out, threads=args.threads)
    if seconds:
        print(f"{variant} seed {seed}: {seconds:.0f} s", flush=True)
    return collect(variant, seed, out, args)


def collect(variant: str, seed: int, out: Path, args: argparse.Namespace) -> dict:
    """One row: validation error at the end of each mini-generation (the MG.k columns; for
    supervised rows, at the same epochs), test error and eval-mode training error."""
    rows = history(out)
    ends = [args.generation_epochs + 1 + k * args.generation_epochs
            for k in range(args.generations)]
    mg = [rows[e - 1]["val_error_cm"] for e in ends]
    final = json.loads((out / "eval_test.json").read_text())
    row = {"variant": variant, "seed": seed, "mg_errors_cm": mg,
           "test_error_cm": final["error_cm"], "train_error_cm": final["train_error_cm"]}
    gens = out / "generations.json"
    if gens.exists():
        log = json.loads(gens.read_text())
        row["reborn_per_generation"] = [g.get("reborn", 0) for g in log]
        row["teacher_choices"] = [g["teacher_choices"] for g in log]
    return row


def summarise(rows: list[dict], order: list[str]) -> list[dict]:
    out = []
    base = [r["test_error_cm"] for r in rows if r["variant"] == "baseline"]
    base_mean = float(np.mean(base)) if base else float("nan")
    for v in order:
        rs = [r for r in rows if r["variant"] == v]
        if not rs:
            continue
        test = np.array([r["test_error_cm"] for r in rs])
        train = np.array([r["train_error_cm"] for r in rs])
        mg = np.array([r["mg_errors_cm"] for r in rs])
        out.append({"variant": v, "seeds": [r["seed"] for r in rs],
                    "mg_errors_cm_mean": mg.mean(0).round(4).tolist(),
                    "test_error_cm_mean": float(test.mean()),
                    "test_error_cm_std": float(test.std(ddof=1)) if len(test) > 1 else 0.0,
                    "test_error_cm_min": float(test.min()), "test_error_cm_max": float(test.max()),
                    "train_error_cm_mean": float(train.mean()),
                    "gap_cm_mean": float((test - train).mean()),
                    "ratio_to_baseline": float(test.mean() / base_mean)})
    return out


def markdown(summary: list[dict], args: argparse.Namespace, cmd: str) -> str:
    k = args.generations
    head = ("| variant | seeds | " + " | ".join(f"MG.{i}" for i in range(k))
            + " | test (cm) | train (cm) | gap | x baseline | what |\n")
    head += "|" + "---|" * (k + 7) + "\n"
    lines = []
    for s in summary:
        spread = (f" ± {s['test_error_cm_std']:.2f}" if len(s["seeds"]) > 1 else "")
        lines.append(f"| {s['variant']} | {len(s['seeds'])} | "
                     + " | ".join(f"{v:.2f}" for v in s["mg_errors_cm_mean"])
                     + f" | {s['test_error_cm_mean']:.2f}{spread} | "
                       f"{s['train_error_cm_mean']:.2f} | {s['gap_cm_mean']:.2f} | "
                       f"{s['ratio_to_baseline']:.3f} | {NOTES[s['variant']]} |")
    return (f"# TAT ablation on GazeSim\n\n{args.subjects} subjects x {args.frames_per_subject} "
            f"frames, splits {args.split}; model {args.model}; {k} mini-generations x "
            f"{args.generation_epochs} epochs (+1) = {k * args.generation_epochs + 1} epochs "
            f"for every row; batch {args.batch_size}, lr {args.lr}. MG.k: validation error at "
            f"the end of mini-generation k (same epochs for supervised rows); test: held-out "
            f"subjects, mean ± sample std over seeds; train: eval-mode error on training rows.\n"
            f"Command: `{cmd}`\n\n" + head + "\n".join(lines) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("out/tat_ablation"))
    ap.add_argument("--subjects", type=int, default=30)
    ap.add_argument("--frames-per-subject", type=int, default=100)
    ap.add_argument("--split", type=float, nargs=3, default=(0.4, 0.2, 0.4))
    ap.add_argument("--data-seed", type=int, default=7)
    ap.add_argument("--model", default="compact")
    ap.add_argument("--generations", type=int, default=5)
    ap.add_argument("--generation-epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--core-seeds", type=int, nargs="+", default=(0, 1, 2))
    ap.add_argument("--variant-seeds", type=int, nargs="*", default=(0,))
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per run")
    ap.add_argument("--name", default="tat_ablation")
    args = ap.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    data = make_data(args.work, args)
    plan = [(v, s) for s in args.core_seeds for v in args.variants if v in CORE]
    plan += [(v, s) for s in args.variant_seeds for v in args.variants
             if v not in CORE and (v, s) not in plan]
    cmd = command()
    rows: list[dict] = []

    def finish(row: dict) -> None:
        rows.append(row)
        rows.sort(key=lambda r: (list(VARIANTS).index(r["variant"]), r["seed"]))
        summary = summarise(rows, list(VARIANTS))
        result = {"command": cmd, "machine": machine(torch_threads_per_run=args.threads,
                                                      parallel_runs=args.jobs),
                  "settings": {k: (list(v) if isinstance(v, tuple) else v)
                               for k, v in vars(args).items() if k != "work"}
                  | {"variants": {v: VARIANTS[v] for v in args.variants}},
                  "rows": rows, "summary": summary}
        write(RESULTS, args.name, result, markdown(summary, args, cmd))

    failed = run_all(args.jobs, [partial(run_one, v, s, data, args.work, args)
                                 for v, s in plan], finish)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
