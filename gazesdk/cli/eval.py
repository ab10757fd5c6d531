"""``gazesdk eval``: a trained model on a dataset: error in cm and, on stare sequences, MSD."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate a model: error (cm) and jitter (MSD, cm)",
                       description="Evaluate a checkpoint (.pt from `gazesdk train`), exported "
                                   "weights (.safetensors) or the bundled model (`default`) on "
                                   "a dataset folder.")
    p.add_argument("--checkpoint", required=True,
                   help="checkpoint.pt, model.safetensors, or 'default' (the bundled model)")
    p.add_argument("--data", required=True, help="a gazesdk array folder or GazeCapture root")
    p.add_argument("--split", default="test", help="train, val, test or all (default test)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_eval)


def _eval(args: argparse.Namespace) -> int:

    from gazesdk.errors import DataFormatError
    from gazesdk.evaluation.metrics import evaluate_predictions, format_table
    from gazesdk.models.loading import load_model
    from gazesdk.training.data import open_dataset, split_indices
    from gazesdk.training.loop import Dist, pick_device, predict

    device = pick_device(args.device, Dist())
    model = load_model(args.checkpoint, map_location=device).to(device)
    data = open_dataset(Path(args.data), progress=not args.json)
    index = split_indices(data, args.split)
    if not len(index):
        raise DataFormatError(f"the {args.split!r} split of {args.data} is empty")
    if getattr(model, "uses_eye_geometry", False) and not data.has("eye_geometry"):
        from gazesdk.errors import ConfigError

        raise ConfigError(f"{args.checkpoint} is a hybrid model (it takes the eye geometry), "
                          f"which {args.data} lacks: evaluate it on a dataset written with "
                          f"landmark crops (gazesdk sim generate --crops landmarks)")
    pred = predict(model, data, index, device)
    result = evaluate_predictions(pred, data.select(index), device_names=data.devices)
    result["split"] = args.split
    result["checkpoint"] = str(args.checkpoint)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
