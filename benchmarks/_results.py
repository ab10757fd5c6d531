"""What every benchmark records: the command that produced a figure, the machine, and the
result as JSON plus a short Markdown table next to it."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = RESULTS.parents[1]
EXPORTED = "gazesdk/models/assets/exported"


def git_bundled_model(rev: str, folder: Path) -> Path | None:
    """The bundled int8 ONNX export (with its metadata) of git revision ``rev``, written into
    ``folder``; None when git or the revision's files are not there."""
    for suffix in ("", ".json"):
        name = f"gaze_compact_int8.onnx{suffix}"
        try:
            data = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{EXPORTED}/{name}"],
                                  check=True, capture_output=True).stdout
        except (subprocess.CalledProcessError, FileNotFoundError):
            return None
        (folder / name).write_bytes(data)
    return folder / "gaze_compact_int8.onnx"


def command() -> str:
    return "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])


def machine(**extra: object) -> dict[str, object]:
    return {"platform": platform.platform(), "processor": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(), **extra}


def write(out_dir: Path, name: str, result: dict, markdown: str) -> None:
    """``out_dir/name.json`` and ``out_dir/name.md``; the Markdown is also printed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out_dir / f"{name}.md").write_text(markdown)
    print(markdown)
