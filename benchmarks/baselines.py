"""Baselines on one fixed GazeSim split (by subject): test error (cm) and jitter (MSD, cm) for
casia + ordinal, casia + L2, compact + ordinal and the predict-the-mean baseline, with the same
data and epochs. Every run goes through the same training loop (``gazesdk train``).

Resumable: data and runs live in ``--work`` (default ``out/baselines``); a killed run resumes
from its last checkpoint. Writes ``benchmarks/results/baselines.{json,md}`` with rows
``{model, head, seed, error_cm, msd_cm}``.

    python benchmarks/baselines.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import _results
import numpy as np
import torch

from gazesdk.data.arrays import is_arrays_dir, load_arrays
from gazesdk.evaluation.metrics import evaluate_predictions
from gazesdk.models.loading import load_model
from gazesdk.sim import GazeSim, SimConfig
from gazesdk.training.config import TrainConfig
from gazesdk.training.data import split_indices
from gazesdk.training.loop import CHECKPOINT, predict, train

RUNS = (("casia", "ordinal"), ("casia", "l2"), ("compact", "ordinal"))


def paired_bootstrap(err_a: np.ndarray, err_b: np.ndarray, subject: np.ndarray, *,
                     draws: int = 2000, seed: int = 0) -> dict:
    """Mean error difference a - b with a 95% interval from resampling test *subjects* (the
    unit that varies between runs of the same method), frames paired."""
    rng = np.random.default_rng(seed)
    ids = np.unique(subject)
    per = [(err_a[subject == s].sum(), err_b[subject == s].sum(), (subject == s).sum())
           for s in ids]
    per = np.array(per, float)
    diffs = []
    for _ in range(draws):
        pick = per[rng.integers(0, len(ids), len(ids))]
        diffs.append((pick[:, 0].sum() - pick[:, 1].sum()) / pick[:, 2].sum())
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return {"difference_cm": float((err_a.sum() - err_b.sum()) / len(err_a)),
            "ci95_cm": [float(lo), float(hi)], "subjects": int(len(ids))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subjects", type=int, default=120)
    ap.add_argument("--frames-per-subject", type=int, default=50)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", nargs="+", default=[f"{m}/{h}" for m, h in RUNS],
                    help="model/head pairs to train")
    ap.add_argument("--work", type=Path, default=Path("out/baselines"))
    ap.add_argument("--out", type=Path, default=_results.RESULTS)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    sim_config = SimConfig(subjects=args.subjects, frames_per_subject=args.frames_per_subject,
                           sessions_per_subject=2, stare_sequences=2, stare_frames=30,
                           split_fractions=(0.7, 0.1, 0.2), seed=args.seed)
    data_dir = args.work / "data"
    if not is_arrays_dir(data_dir):
        GazeSim(sim_config).write_arrays(data_dir, progress=True)
    data = load_arrays(data_dir)

    train_idx = split_indices(data, "train", stare=False)      # what the loop trains on
    test_idx = split_indices(data, "test")
    test = data.select(test_idx)
    mean = np.asarray(data["gaze_cm"][train_idx]).mean(0)
    mean_eval = evaluate_predictions(np.broadcast_to(mean, (len(test_idx), 2)), test,
                                     device_names=data.devices)
    rows = [{"model": "mean", "head": "-", "seed": args.seed,
             "error_cm": round(mean_eval["error_cm"], 4),
             "msd_cm": round(mean_eval.get("msd_cm", 0.0), 4)}]
    details = {}
    regular = np.asarray(test["sequence"]) < 0
    frame_errors = {}
    for run in args.runs:
        model, head = run.split("/")
        out = args.work / f"{model}-{head}-seed{args.seed}"
        config = TrainConfig(data=str(data_dir), model=model, head=head, epochs=args.epochs,
                             batch_size=args.batch_size, seed=args.seed)
        done = out / "eval_test.json"
        if not done.exists():
            print(f"== {run}", flush=True)
            train(config, out, resume=(out / CHECKPOINT).exists())
        result = json.loads(done.read_text())

        net = load_model(out / "model.safetensors")
        pred = predict(net, data, test_idx[regular], torch.device("cpu"))
        frame_errors[run] = np.linalg.norm(pred - np.asarray(test["gaze_cm"])[regular], axis=1)
        history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        details[run] = {"eval": result, "history": history}
        rows.append({"model": model, "head": head, "seed": args.seed,
                     "error_cm": round(result["error_cm"], 4),
                     "msd_cm": round(result.get("msd_cm", float("nan")), 4)})

    comparison = None
    if {"casia/ordinal", "casia/l2"} <= set(frame_errors):
        comparison = paired_bootstrap(frame_errors["casia/ordinal"], frame_errors["casia/l2"],
                                      np.asarray(test["subject"])[regular])
    payload = {"rows": rows, "ordinal_minus_l2_casia": comparison,
               "epochs": args.epochs, "batch_size": args.batch_size,
               "sim_config": sim_config.to_dict(),
               "train_rows": int(len(train_idx)), "test_rows": int(len(test_idx)),
               "details": details, "command": _results.command(),
               "machine": _results.machine(), "seconds": round(time.perf_counter() - started)}
    md = "| model | head | test error (cm) | MSD (cm) |\n|---|---|---|---|\n"
    for r in rows:
        md += f"| {r['model']} | {r['head']} | {r['error_cm']:.2f} | {r['msd_cm']:.3f} |\n"
    md += (f"\n{len(train_idx)} training rows, {len(test_idx)} test rows (held-out subjects), "
           f"{args.epochs} epochs, batch {args.batch_size}; `{payload['command']}`. The mean "
           f"predictor is constant, so its MSD is 0.\n")
    if comparison:
        md += (f"\ncasia, ordinal minus L2: {comparison['difference_cm']:+.3f} cm, 95% interval "
               f"[{comparison['ci95_cm'][0]:+.3f}, {comparison['ci95_cm'][1]:+.3f}] cm (paired "
               f"bootstrap over {comparison['subjects']} test subjects).\n")
    _results.write(args.out, "baselines", payload, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
