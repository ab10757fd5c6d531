"""What every benchmark records: the command that produced a figure, the machine, and the
result as JSON plus a short Markdown table next to it."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


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
