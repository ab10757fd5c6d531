"""``gazesdk assets``: the model files the runtime fetches (not shipped): status, fetch, verify.

Without options it shows each file the runtime would use (``$GAZESDK_DETECTOR_MODEL`` if set,
else the cached copy), checked by size and sha256. ``--fetch`` fills the cache; ``--verify``
turns the check into an exit code (1: a file is missing or damaged) for scripts and CI.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

SOURCE_CHOICES = {"url": ("url",), "wheel": ("wheel",), "any": ("url", "wheel")}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "assets", help="show, fetch or verify the model files the runtime downloads",
        description="The runtime's face detector (MediaPipe BlazeFace short-range), face mesh "
                    "(face_landmark) and iris (iris_landmark) models, all Apache-2.0, ship with "
                    "neither gazesdk nor current mediapipe: they are fetched once into a "
                    "per-user cache ($GAZESDK_CACHE, else the platform's cache folder) and "
                    "checked by size and sha256. Without options: the status of the files the "
                    "runtime would use ($GAZESDK_DETECTOR_MODEL, $GAZESDK_FACE_LANDMARK_MODEL, "
                    "$GAZESDK_IRIS_LANDMARK_MODEL if set, else the cache).")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--fetch", action="store_true",
                      help="fetch missing or damaged files into the cache")
    what.add_argument("--path", type=Path, metavar="FILE",
                      help="check FILE as the face detector model instead")
    p.add_argument("--source", choices=tuple(SOURCE_CHOICES),
                   help="with --fetch: the official URL, the mediapipe 0.10.21 wheel from the "
                        "package index (pip download), or any (default: URL, then wheel)")
    p.add_argument("--verify", action="store_true",
                   help="exit 1 if a file is missing or damaged")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.add_argument("--quiet", action="store_true",
                   help="no progress and no table (errors still print; see the exit code)")
    p.set_defaults(func=_assets)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 16):
            digest.update(chunk)
    return digest.hexdigest()


def _row(spec: Any, path: Path, source: str) -> dict[str, Any]:
    from gazesdk.runtime.assets import AssetError, fetched_from, verify_asset

    row: dict[str, Any] = {"name": spec.name, "path": str(path), "status": "ok",
                           "size_bytes": None, "sha256": None, "expected_sha256": spec.sha256,
                           "problem": None, "source": source, "fetched_from": None,
                           "fetched_now": False, "license": spec.license}
    if source == "cache":
        row["fetched_from"] = fetched_from(spec)
    if not path.exists():
        row["status"] = "missing"
        return row
    try:
        verify_asset(path, spec)
    except AssetError as e:
        row["status"], row["problem"] = "bad", str(e)
    if path.is_file():
        row["size_bytes"], row["sha256"] = path.stat().st_size, _sha256(path)
    return row


def _assets(args: argparse.Namespace) -> int:
    from gazesdk.errors import ConfigError
    from gazesdk.runtime.assets import (
        ASSETS,
        FACE_DETECTOR,
        asset_path,
        cache_dir,
        fetch_asset,
    )

    if args.source and not args.fetch:
        raise ConfigError("--source applies to --fetch only")
    progress = not (args.quiet or args.json)
    envs = {spec.name: spec.env for spec in ASSETS}
    overrides = {name: (os.environ.get(env) or None) if env else None
                 for name, env in envs.items()}
    rows = []
    if args.path is not None:
        rows.append(_row(FACE_DETECTOR, args.path.expanduser(), "--path"))
    for spec in ASSETS if args.path is None else ():
        if overrides[spec.name] and not args.fetch:
            rows.append(_row(spec, Path(overrides[spec.name]).expanduser(), envs[spec.name]))
            continue
        row = _row(spec, asset_path(spec), "cache")
        if args.fetch and row["status"] != "ok":
            fetch_asset(spec, sources=SOURCE_CHOICES[args.source or "any"], progress=progress)
            row = {**_row(spec, asset_path(spec), "cache"), "fetched_now": True}
        rows.append(row)
    failed = args.verify and any(r["status"] != "ok" for r in rows)
    if args.json:
        print(json.dumps({"cache_dir": str(cache_dir()), "assets": rows}, indent=2))
    elif not args.quiet:
        _print_table(rows)
        for r in rows:
            if r["fetched_now"]:
                print(f"fetched {r['name']} from {r['fetched_from'] or 'an unknown source'}")
        for name, override in overrides.items() if args.fetch else ():
            if override:
                print(f"note: {envs[name]} is set, so the runtime uses {override} instead "
                      f"of the cached {name}", file=sys.stderr)
        if any(r["status"] != "ok" and r["source"] == "cache" for r in rows):
            print("run `gazesdk assets --fetch` to fetch missing or damaged files (official URL, "
                  "else the mediapipe wheel from the package index)")
    return 1 if failed else 0


def _print_table(rows: list[dict[str, Any]]) -> None:
    head = f"{'asset':<34} {'sha256':<7} {'bytes':>7}  {'source':<22} path"
    print(head)
    print("-" * len(head))
    for r in rows:
        size = "-" if r["size_bytes"] is None else str(r["size_bytes"])
        source = r["source"] + (f" ({_short(r['fetched_from'])})" if r["fetched_from"] else "")
        print(f"{r['name']:<34} {r['status']:<7} {size:>7}  {source:<22} {r['path']}")
        if r["problem"]:
            print(f"  {r['problem']}")


def _short(origin: str) -> str:
    """'url' or 'wheel', for the table; the full origin is in --json."""
    return "url" if "://" in origin else "wheel"
