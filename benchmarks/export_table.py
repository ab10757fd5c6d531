"""Export table (issue 8): for the bundled default model and a trained `casia` model, every
format x precision -> file size, parity with torch, test error and MSD on held-out GazeSim, and
latency at batch 1 on 1 and 2 threads (ONNX Runtime, LiteRT; Core ML: size and program checks
only, its prediction needs macOS).

    python benchmarks/export_table.py

Resumable: finished rows are kept in ``--work`` (``rows.json``) and skipped on a rerun. The
casia model comes from ``benchmarks/baselines.py`` (trained here first if missing). Latency is
measured last, for every runnable artifact in one interleaved pass (random order per round),
so that ratios between rows are fair on a shared machine: those are the figures to quote.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _results  # noqa: E402

CASIA = Path("out/baselines/casia-ordinal-seed0/model.safetensors")
CASIA_COMMAND = [sys.executable, "benchmarks/baselines.py", "--subjects", "90",
                 "--frames-per-subject", "40", "--epochs", "5", "--runs", "casia/ordinal"]
# (format, precision label, quant settings); "int8-per-tensor" is what --precision int8 gives
# for ONNX and TFLite, "int8" the per-channel variant
PLAN = (
    ("onnx", "fp32", {"precision": "fp32"}),
    ("onnx", "fp16", {"precision": "fp16"}),
    ("onnx", "int8", {"precision": "int8", "per_channel": True}),
    ("onnx", "int8-per-tensor", {"precision": "int8", "per_channel": False}),
    ("onnx", "int8-dynamic", {"precision": "int8", "mode": "dynamic", "per_channel": True}),
    ("tflite", "fp32", {"precision": "fp32"}),
    ("tflite", "int8", {"precision": "int8", "per_channel": True}),
    ("tflite", "int8-per-tensor", {"precision": "int8", "per_channel": False}),
    ("tflite", "int8-dynamic", {"precision": "int8", "mode": "dynamic", "per_channel": True}),
    ("coreml", "fp32", {"precision": "fp32"}),
    ("coreml", "fp16", {"precision": "fp16"}),
    ("coreml", "int8", {"precision": "int8"}),
)


def interleaved_latency(targets: dict, inputs: dict, *, warmup: int, rounds: int, calls: int,
                        seed: int = 0) -> dict:
    """Batch-1 latency of every (key, runner): ``rounds`` rounds, each visiting every runner
    in a new random order for ``calls`` timed calls, so that the machine's load drifts over
    all of them alike. Returns key -> (median ms, p95 ms)."""
    rng = np.random.default_rng(seed)
    keys = list(targets)
    for k in keys:
        for _ in range(warmup):
            targets[k](inputs[k])
    times: dict = {k: [] for k in keys}
    for _ in range(rounds):
        for i in rng.permutation(len(keys)):
            k = keys[i]
            run, x = targets[k], inputs[k]
            for _ in range(calls):
                t = time.perf_counter()
                run(x)
                times[k].append(time.perf_counter() - t)
    return {k: (float(np.median(v) * 1e3), float(np.percentile(v, 95) * 1e3))
            for k, v in times.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["default", "casia"])
    ap.add_argument("--variants-for", nargs="*", default=["default"],
                    help="models that also get the int8 variants (per-channel, dynamic); the "
                         "others get fp32, fp16 and the default int8 only")
    ap.add_argument("--casia", type=Path, default=CASIA)
    ap.add_argument("--test-subjects", type=int, default=40,
                    help="held-out GazeSim subjects for error, MSD and parity")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=10, help="latency rounds over all artifacts")
    ap.add_argument("--calls", type=int, default=40, help="timed calls per artifact per round")
    ap.add_argument("--work", type=Path, default=Path("out/export_table"))
    ap.add_argument("--out", type=Path, default=_results.RESULTS)
    args = ap.parse_args(argv)

    from gazesdk.export.parity import ParityTolerance
    from gazesdk.export.registry import exporter
    from gazesdk.export.samples import built_in_samples, gazesim_samples
    from gazesdk.models.complexity import count_params
    from gazesdk.models.loading import load_model

    args.work.mkdir(parents=True, exist_ok=True)
    done_file = args.work / "rows.json"
    rows = json.loads(done_file.read_text()) if done_file.exists() else []
    done = {(r["model"], r["format"], r["precision"]) for r in rows}
    if "casia" in args.models and not args.casia.exists():
        print(f"training the casia model first: {' '.join(CASIA_COMMAND[1:])}", flush=True)
        subprocess.run(CASIA_COMMAND, check=True)
    calib = built_in_samples()[0]
    held = gazesim_samples(subjects=2 * args.test_subjects, seed=90_909)[1]
    print(f"{len(calib)} calibration samples, {len(held)} held-out samples", flush=True)
    loose = ParityTolerance()           # record every figure; the acceptance is judged below
    for name in args.models:
        model = load_model("default" if name == "default" else args.casia)
        for fmt, label, quant in PLAN:
            variant = label in ("int8", "int8-dynamic") and fmt != "coreml"
            if (name, fmt, label) in done or (variant and name not in args.variants_for):
                continue
            t0 = time.time()
            kwargs = {} if fmt == "coreml" else {"calibration": calib}
            e = exporter(fmt)(model, quant=quant, samples=held, tolerance=loose,
                              source=name, **kwargs)
            path = e.export(args.work / name / f"gaze_{name}_{label}{type(e).suffix}")
            meta = json.loads(Path(f"{path}.json").read_text())
            p = meta["parity"]
            row = {"model": name, "format": fmt, "precision": label,
                   "size_bytes": meta["artifact"]["size_bytes"],
                   "parameters": count_params(model),
                   "parity_max_cm": p["max_abs_cm"], "parity_mean_cm": p["mean_abs_cm"],
                   "error_cm": p["error_cm_export"], "error_cm_torch": p["error_cm_torch"],
                   "msd_cm": p["msd_cm_export"], "msd_cm_torch": p["msd_cm_torch"],
                   "latency_ms_1t": None, "latency_ms_2t": None,
                   "latency_p95_ms_1t": None, "latency_p95_ms_2t": None,
                   "export_s": round(time.time() - t0, 1)}
            row["path"] = str(path)
            if not e.can_run:
                row["checks"] = e.program_summary()
            rows.append(row)
            done_file.write_text(json.dumps(rows, indent=2))
            print(json.dumps({k: v for k, v in row.items() if k != "checks"}), flush=True)

    from gazesdk.export import load_exported

    targets, inputs = {}, {}
    for r in rows:
        if r["format"] == "coreml" and r["error_cm"] is None:
            continue
        suffix = {"onnx": ".onnx", "tflite": ".tflite", "coreml": ".mlpackage"}[r["format"]]
        r.setdefault("path", str(args.work / r["model"]
                                 / f"gaze_{r['model']}_{r['precision']}{suffix}"))
        e = load_exported(r["path"])
        for threads in (1, 2):
            key = (r["model"], r["format"], r["precision"], threads)
            targets[key] = e.runner(threads)
            inputs[key] = held.take(slice(0, 1)).for_model(e.input_names)
    print(f"latency: {len(targets)} runners x {args.rounds} rounds x {args.calls} calls",
          flush=True)
    measured = interleaved_latency(targets, inputs, warmup=args.warmup, rounds=args.rounds,
                                   calls=args.calls)
    for r in rows:
        for threads in (1, 2):
            key = (r["model"], r["format"], r["precision"], threads)
            if key in measured:
                r[f"latency_ms_{threads}t"], r[f"latency_p95_ms_{threads}t"] = measured[key]

    def fmt(v: float | None, d: int = 3) -> str:
        return "-" if v is None else f"{v:.{d}f}"

    md = ["| model | format | precision | size (MB) | x fp32 | parity max (cm) | error (cm) "
          "| Δ error | MSD (cm) | 1 thread (ms) | 2 threads (ms) |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        base = next(x for x in rows if x["model"] == r["model"] and x["format"] == r["format"]
                    and x["precision"] == "fp32")
        r["size_ratio_to_fp32"] = r["size_bytes"] / base["size_bytes"]
        delta = None if r["error_cm"] is None else r["error_cm"] - r["error_cm_torch"]
        md.append(f"| {r['model']} | {r['format']} | {r.get('label', r['precision'])} | "
                  f"{r['size_bytes'] / 1e6:.2f} | {r['size_ratio_to_fp32']:.2f} | "
                  f"{fmt(r['parity_max_cm'], 5)} | {fmt(r['error_cm'])} | "
                  f"{'-' if delta is None else f'{delta:+.3f}'} | {fmt(r['msd_cm'])} | "
                  f"{fmt(r['latency_ms_1t'])} | {fmt(r['latency_ms_2t'])} |")
    md.append("")
    md.append(f"Held-out GazeSim: {len(held)} samples of {args.test_subjects} subjects (test "
              f"error; MSD over their stare sequences); torch error per model in the JSON. "
              f"Static int8 calibrated on {len(calib)} GazeSim training frames. Latency: "
              f"median of {args.rounds} x {args.calls} calls at batch 1 (every artifact "
              f"visited in a random order in each of {args.rounds} rounds), after "
              f"{args.warmup} warm-up calls. "
              f"Core ML rows: parity, error and latency need macOS (not run here).")
    md.append(f"`{_results.command()}`")
    # contract: precision is fp32 / fp16 / int8; the int8 variant has its own field
    for r in rows:
        label = r.pop("label", r["precision"])
        r["label"] = label
        r["precision"] = label.split("-")[0]
        r["variant"] = ("static per-channel" if label == "int8" else
                        "static per-tensor (the default)" if label == "int8-per-tensor" else
                        "dynamic, per-channel weights" if label == "int8-dynamic" else "")
        if r["format"] == "coreml" and r["precision"] == "int8":
            r["variant"] = "weights per-channel"
    result = {"rows": rows, "command": _results.command(),
              "machine": _results.machine(), "held_out_samples": len(held),
              "calibration_samples": len(calib)}
    _results.write(args.out, "export", result, "\n".join(md) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
