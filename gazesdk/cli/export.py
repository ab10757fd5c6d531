"""``gazesdk export``: a trained model to ONNX, Core ML and/or TFLite, checked and documented.

Each artifact is written with ``<artifact>.json`` (metadata, sha256, parity report) and
``<artifact>.golden/`` (golden vectors). Calibration (static int8) and parity samples come from
``--data`` (its train and test splits) or, by default, from a small GazeSim set made on the spot.
``--features`` adds the model's penultimate 128-D feature as a second output, for per-user
calibration fitted on the phone.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

PRECISIONS = ("fp32", "fp16", "int8")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a model to ONNX, Core ML or TFLite (fp32/fp16/int8)",
        description="Convert a trained model, check its outputs against the torch model on "
                    "held-out samples (parity), and write it with metadata and golden vectors "
                    "for app developers.")
    p.add_argument("--checkpoint", required=True,
                   help="checkpoint.pt, model.safetensors, or 'default' (the bundled model)")
    p.add_argument("--format", required=True, choices=("onnx", "coreml", "tflite", "all"))
    p.add_argument("--precision", default="fp32", choices=(*PRECISIONS, "all"),
                   help="fp32 (default), fp16 (ONNX, Core ML), int8, or all; with --format "
                        "all, combinations a format lacks (TFLite fp16) are skipped")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--int8-mode", choices=("static", "dynamic"),
                   help="int8 for ONNX and TFLite: static (default; calibrated) or dynamic "
                        "(weights only); Core ML int8 is always weight-only")
    p.add_argument("--quant-config", type=Path,
                   help="YAML or JSON of int8 settings (gazesdk.export.QuantConfig; strict: "
                        "unknown keys and options the format lacks are errors; with --format "
                        "all, options a format lacks are dropped for that format)")
    p.add_argument("--data", help="dataset for calibration (train split) and parity (test "
                                  "split); default: a GazeSim set made on the spot")
    p.add_argument("--name", help="artifact base name (default gaze_<backbone>)")
    p.add_argument("--features", action="store_true",
                   help="also output the penultimate 128-D gaze feature ('features', after "
                        "gaze_cm), for per-user calibration on the phone; gaze is unchanged")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_export)


def _jobs(fmt: str, precision: str) -> list[tuple[str, str]]:
    from gazesdk.errors import ConfigError
    from gazesdk.export.quant import SUPPORTED
    from gazesdk.export.registry import list_formats

    formats = list_formats() if fmt == "all" else [fmt]
    precisions = list(PRECISIONS) if precision == "all" else [precision]
    jobs = [(f, p) for f in formats for p in precisions if p in SUPPORTED[f]]
    if not jobs:
        raise ConfigError(f"{fmt} export has no {precision} precision (it has "
                          f"{', '.join(SUPPORTED[fmt])})")
    return jobs


def _quant(precision: str, args: argparse.Namespace, fmt: str) -> Any:
    from gazesdk.errors import ConfigError

    try:
        return _quant_config(precision, args, fmt)
    except ConfigError as e:
        if args.quant_config is None:
            raise
        raise ConfigError(f"{args.quant_config}: {e}") from None


def _quant_config(precision: str, args: argparse.Namespace, fmt: str) -> Any:
    """Strict: every key of --quant-config must exist and apply to the format (with --format
    all, options a format lacks are dropped for that format); --precision wins only where the
    file does not contradict it."""
    from gazesdk.cli.sim import load_settings
    from gazesdk.errors import ConfigError
    from gazesdk.export.quant import QuantConfig

    if args.int8_mode and precision != "int8" and args.precision != "all":
        raise ConfigError("--int8-mode applies to --precision int8 only")
    if precision != "int8" and (args.precision == "all" or args.quant_config is None):
        return QuantConfig(precision=precision)
    settings: dict[str, Any] = dict(load_settings(args.quant_config)) if args.quant_config \
        else {}
    if settings.get("precision", precision) != precision:
        raise ConfigError(f"its precision {settings['precision']!r} contradicts --precision "
                          f"{precision}")
    settings["precision"] = precision
    if args.int8_mode:
        settings["mode"] = args.int8_mode
    quant = QuantConfig.from_dict(settings)
    return quant.applicable(fmt) if args.format == "all" else quant


def _training_data(source: str) -> str:
    if source == "default":
        return "GazeSim only (simulated people; see gazesdk/models/assets/default.md)"
    try:
        from gazesdk.training.checkpoint import load_checkpoint

        run = load_checkpoint(Path(source)).run_config or {}
        return f"{run['data']}" if run.get("data") else "unknown"
    except Exception:                      # exported weights (.safetensors) have no run config
        return "unknown"


def _samples(data: str | None, quiet: bool, model: Any = None) -> tuple[Any, Any]:
    from gazesdk.export.samples import ExportSamples, built_in_samples

    if data is None:
        return built_in_samples(model)
    from gazesdk.training.data import open_dataset

    arrays = open_dataset(Path(data), progress=not quiet)
    if getattr(model, "uses_eye_geometry", False) and not arrays.has("eye_geometry"):
        from gazesdk.errors import ConfigError

        raise ConfigError(f"the model is a hybrid one (it takes the eye geometry), which {data} "
                          f"lacks: export it with a dataset written with landmark crops "
                          f"(gazesdk sim generate --crops landmarks), or without --data")
    calib = ExportSamples.from_arrays(arrays, split="train", stare=False, limit=2000,
                                      source=f"{data} train split")
    held = ExportSamples.from_arrays(arrays, split="test", source=f"{data} test split")
    return calib, held


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _export(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from gazesdk.errors import ConfigError
    from gazesdk.export.registry import exporter
    from gazesdk.models.loading import load_model

    jobs = _jobs(args.format, args.precision)
    quants = {(f, p): _quant(p, args, f) for f, p in jobs}     # bad settings fail before work
    for (f, _), q in quants.items():
        q.resolve(f)
    model = load_model(args.checkpoint)
    name = args.name or f"gaze_{model.config['name']}"
    if not name or "/" in name or name.startswith("."):
        raise ConfigError(f"--name must be a plain file name, got {name!r}")
    calib, held = _samples(args.data, args.quiet or args.json, model)
    training = _training_data(str(args.checkpoint))
    rows = []
    bar = tqdm(jobs, unit="export", disable=args.quiet or args.json)
    for fmt, precision in bar:
        bar.set_description(f"{fmt} {precision}")
        kwargs: dict[str, Any] = {"quant": quants[(fmt, precision)], "samples": held,
                                  "source": str(args.checkpoint), "training_data": training,
                                  "features": args.features}
        if fmt != "coreml":
            kwargs["calibration"] = calib
        exported = exporter(fmt)(model, **kwargs)
        suffix = type(exported).suffix
        path = exported.export(args.out / f"{name}_{precision}{suffix}")
        meta = json.loads(Path(f"{path}.json").read_text())
        par = meta["parity"]
        rows.append({"format": fmt, "precision": precision, "path": str(path),
                     "size_bytes": meta["artifact"]["size_bytes"],
                     "parity_max_cm": par["max_abs_cm"], "parity_mean_cm": par["mean_abs_cm"],
                     "error_cm": par["error_cm_export"], "error_cm_torch": par["error_cm_torch"],
                     "msd_cm": par["msd_cm_export"], "parity": "passed" if par["passed"]
                     else ("not run: " + par["note"] if not par["ran"] else "failed"),
                     "outputs": [t["name"] for t in meta["outputs"]],
                     "features_max_rel": par.get("features_max_rel"),
                     "features_mean_rel": par.get("features_mean_rel")})
    bar.close()
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "samples": held.source,
                          "exports": rows}, indent=2))
        return 0
    print(f"\nparity on {len(held)} samples ({held.source}); torch test error "
          f"{_fmt(rows[0]['error_cm_torch'])} cm")
    head = f"{'format':<7} {'prec':<5} {'size':>9} {'max|diff|':>10} {'error':>7} {'MSD':>6}  " \
           f"{'parity':<8} file"
    print(head)
    print("-" * len(head))
    for r in rows:
        status = r["parity"] if len(r["parity"]) < 9 else "not run"
        print(f"{r['format']:<7} {r['precision']:<5} {r['size_bytes'] / 1e6:>7.2f}MB "
              f"{_fmt(r['parity_max_cm'], 4):>10} {_fmt(r['error_cm']):>7} "
              f"{_fmt(r['msd_cm']):>6}  {status:<8} {Path(r['path']).name}")
    if args.features:
        print("features output (N, 128), exported vs torch, |diff| relative to the features' "
              "size: " + "; ".join(f"{r['format']} {r['precision']} max "
                                   f"{_fmt(r['features_max_rel'], 4)}, mean "
                                   f"{_fmt(r['features_mean_rel'], 4)}" for r in rows))
    if any(r["parity"].startswith("not run") for r in rows):
        print("Core ML: parity not run (prediction needs macOS); its program was checked "
              "(inputs, outputs, op types, int8 weights).")
    print("cm from the front camera; each file has <file>.json (metadata) and <file>.golden/")
    return 0
