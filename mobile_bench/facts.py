"""Model facts: parameters, multiply-adds, and the file size of every exported format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gazesdk.runtime.backends.base import bundled_dir


def model_facts(metadata: dict[str, Any], model: str) -> dict[str, Any]:
    """Parameters (from the metadata), multiply-adds per frame (counted on the torch model
    built from the metadata's config, when torch is installed), and file sizes."""
    facts: dict[str, Any] = {"name": metadata["model"]["name"],
                             "parameters": metadata["model"].get("parameters"),
                             "macs": None, "files": {}}
    try:
        from gazesdk.models.complexity import count_macs
        from gazesdk.models.registry import model_from_config

        facts["macs"] = int(count_macs(model_from_config(metadata["model"]["config"])))
    except ImportError:
        facts["macs_note"] = "install torch to count multiply-adds"
    if model == "default":
        for f in sorted(bundled_dir().iterdir()):
            if f.suffix in (".onnx", ".tflite"):
                facts["files"][f.name] = f.stat().st_size
    else:
        p = Path(model)
        size = (sum(q.stat().st_size for q in p.rglob("*") if q.is_file()) if p.is_dir()
                else p.stat().st_size)
        facts["files"][p.name] = size
    return facts
