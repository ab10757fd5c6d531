"""``gazesdk calibrate``: per-user calibration profiles from a dataset's calibration frames
(GazeSim's ``--calibration-dots`` grid, or the first dots of each GazeCapture session), with
each profile's error on the rest of its session, before and after."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from gazesdk.calibration.methods import METHODS

    p = sub.add_parser(
        "calibrate", help="fit per-user calibration profiles from calibration frames",
        description="Fit one calibration profile per session of a dataset from its calibration "
                    "frames (GazeSim's --calibration-dots grid; for datasets without them, the "
                    "first --first-dots dots each session showed), measure it on the "
                    "session's other frames, and write the profiles (JSON, one per session) "
                    "that GazeEstimatorOptions(calibration=...) applies.")
    p.add_argument("--data", required=True, type=Path,
                   help="a gazesdk array folder (gazesdk sim generate) or GazeCapture root")
    p.add_argument("--model", default="default",
                   help="'default' (the bundled model) or an exported .onnx/.tflite with its "
                        "metadata; profiles are bound to it")
    p.add_argument("--backend", default="auto")
    p.add_argument("--precision", default="int8", choices=("fp32", "int8"))
    p.add_argument("--method", default="auto", choices=("auto", *METHODS),
                   help="auto: the best by leave-one-target-out (default)")
    p.add_argument("--split", default="test", help="train, val, test or all (default test)")
    p.add_argument("--first-dots", type=int, default=9,
                   help="dots per session used when no frame is flagged as calibration "
                        "(default 9)")
    p.add_argument("--out", type=Path, help="write the profiles into this folder")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_calibrate)


def _open(path: Path):
    from gazesdk.data.arrays import is_arrays_dir, load_arrays
    from gazesdk.errors import DataFormatError

    if not path.exists():
        raise DataFormatError(f"dataset {path} does not exist")
    if is_arrays_dir(path):
        return load_arrays(path)
    from gazesdk.training.data import open_dataset  # GazeCapture: decoded once, cached

    return open_dataset(path)


def _calibrate(args: argparse.Namespace) -> int:
    import numpy as np

    from gazesdk.calibration.dataset import fit_sessions
    from gazesdk.errors import ConfigError
    from gazesdk.runtime.backends import create_backend

    if args.first_dots < 0:
        raise ConfigError(f"--first-dots must be >= 0, got {args.first_dots}")
    data = _open(args.data)
    backend = create_backend(args.model, backend=args.backend, precision=args.precision)
    try:
        fits, skipped = fit_sessions(data, backend, method=args.method, split=args.split,
                                     first_dots=args.first_dots, progress=not args.json)
    finally:
        backend.close()
    if not fits:
        raise ConfigError(f"no session of the {args.split!r} split has calibration frames to "
                          f"fit ({len(skipped)} skipped; generate them with gazesdk sim "
                          f"generate --calibration-dots 9)")
    written = []
    if args.out is not None:
        for f in fits:
            written.append(str(f.profile.save(args.out / f"session_{f.session:05d}.json")))
    before = np.array([f.uncalibrated_cm for f in fits])
    after = np.array([f.calibrated_cm for f in fits])
    summary = {
        "sessions": len(fits), "skipped": len(skipped), "method": args.method,
        "uncalibrated_cm": round(float(before.mean()), 3),
        "calibrated_cm": round(float(after.mean()), 3),
        "ratio": round(float(after.mean() / before.mean()), 3),
        "worse_share": round(float(np.mean(after > 1.05 * before)), 3),
        "rejected_share": round(float(np.mean([not f.profile.accepted for f in fits])), 3),
        "methods": {m: sum(f.profile.map.method == m for f in fits)
                    for m in sorted({f.profile.map.method for f in fits})},
        "profiles": written,
        "per_session": [{"session": f.session, "subject": f.subject, "frames": f.frames,
                         "method": f.profile.map.method, "accepted": f.profile.accepted,
                         "uncalibrated_cm": round(f.uncalibrated_cm, 3),
                         "calibrated_cm": round(f.calibrated_cm, 3)} for f in fits],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{len(fits)} sessions calibrated ({len(skipped)} skipped), method {args.method}: "
          f"{summary['uncalibrated_cm']:.2f} cm -> {summary['calibrated_cm']:.2f} cm "
          f"(x{summary['ratio']:.2f}); {summary['worse_share']:.0%} of sessions made worse by "
          f"more than 5%, {summary['rejected_share']:.0%} rejected by the guard")
    print("methods chosen: " + ", ".join(f"{m} {n}" for m, n in summary["methods"].items()))
    if written:
        print(f"profiles: {args.out}{'/'}session_*.json ({len(written)})")
    return 0
