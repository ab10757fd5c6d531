"""Re-export the bundled model for the runtime: ONNX and TFLite at fp32 and int8, with parity
checks and metadata, into ``gazesdk/models/assets/exported/`` (golden vectors are left out of
the package: ``gazesdk export`` writes them for app developers).

    python tools/export_bundled_models.py        # a few minutes on 2 cores

Run it after retraining the bundled model (``tools/train_default_model.py``): int8 calibration
and the parity check then use that run's dataset (``--data``, default the landmark-cropped
``out/real_eyes/data_geometry`` with eye geometry), whose crops match the model's; without it,
the built-in GazeSim samples (landmark crops for a hybrid model). The exports carry the
``features`` output (the penultimate 128-D feature, for per-user calibration on the phone;
issue 18) unless ``--no-features``; the gaze output is the same either way.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEST = Path(__file__).resolve().parents[1] / "gazesdk" / "models" / "assets" / "exported"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("out/real_eyes/data_geometry"))
    ap.add_argument("--no-features", dest="features", action="store_false",
                    help="export gaze_cm alone, without the features output")
    args = ap.parse_args()
    extra = ["--data", str(args.data)] if (args.data / "manifest.json").is_file() else []
    extra += ["--features"] if args.features else []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("onnx", "tflite"):
            for precision in ("fp32", "int8"):
                cmd = [sys.executable, "-m", "gazesdk", "export", "--checkpoint", "default",
                       "--format", fmt, "--precision", precision, "--out", tmp,
                       "--name", "gaze_compact", "--quiet", *extra]
                print(" ".join(cmd[2:]), flush=True)
                subprocess.run(cmd, check=True)
        DEST.mkdir(parents=True, exist_ok=True)
        for f in sorted(Path(tmp).iterdir()):
            if f.suffix in (".onnx", ".tflite", ".json"):
                shutil.copy2(f, DEST / f.name)
                print(f"-> {DEST / f.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
