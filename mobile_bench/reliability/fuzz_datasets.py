"""Fuzzing the two dataset forms a user hands training, evaluation and calibration.

``gazecapture``: a small GazeSim root in GazeCapture's on-disk format (two recordings) with its
JSON files corrupted as documents (a value of the wrong type anywhere, keys removed or added,
lists shortened) and as text (cut, not UTF-8, nested past the parser's recursion), boxes moved
outside the frame or made negative, frames missing or damaged, odd frame names, unknown devices
and splits, odd recording folders. Loaded by :func:`gazesdk.data.load_gazecapture` (with and
without its cache) and, for a sample, by ``gazesdk calibrate`` in-process.

``arrays``: a small GazeSim array dataset with its manifest corrupted, ``.npy`` files
truncated, bit-flipped, of the wrong dtype or shape, 0-d, pickled objects, missing, of
mismatched lengths, and labels out of range. Loaded by :func:`gazesdk.data.load_arrays` (then
split and read), and, for a sample, by ``gazesdk eval`` and ``gazesdk calibrate`` in-process.

The workers point ``$GAZESDK_CACHE`` at a private folder (the runtime's model files linked in),
so the GazeCapture cache the CLI keeps never fills the user's own.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.mobile_bench.reliability.cli_runs import cli_in_process
from gazesdk.mobile_bench.reliability.corrupt import dumps, mutate_bytes, mutate_doc, mutate_text
from gazesdk.mobile_bench.reliability.sandbox import FuzzTarget

GC_FILES = ("info.json", "frames.json", "appleFace.json", "appleLeftEye.json",
            "appleRightEye.json", "faceGrid.json", "dotInfo.json", "screen.json")
CLI_SHARE = 0.08


def private_cache(folder: Path) -> Path:
    """Point ``$GAZESDK_CACHE`` at ``folder/cache``, with the user's cached model files
    linked in (so nothing is fetched, and nothing lands in the user's cache)."""
    from gazesdk.runtime.assets import ASSETS, asset_path

    sources = {spec.name: asset_path(spec) for spec in ASSETS}
    cache = folder / "cache"
    (cache / "assets").mkdir(parents=True, exist_ok=True)
    for name, src in sources.items():
        link = cache / "assets" / name
        if src.is_file() and not link.exists():
            os.symlink(src, link)
    os.environ["GAZESDK_CACHE"] = str(cache)
    return cache


def _pick(rng: np.random.Generator, items: list) -> Any:
    return items[int(rng.integers(0, len(items)))]


@dataclass
class _Base:
    root: Path
    cache: Path


def _safely(mutation: Callable[[Path, np.random.Generator], str], root: Path,
            rng: np.random.Generator) -> str:
    """A mutation, or "noop" when an earlier one already removed or mangled what it edits."""
    try:
        return mutation(root, rng)
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            RecursionError):
        return "noop"


# -- GazeCapture -------------------------------------------------------------------------------
def _gc_setup(folder: Path) -> _Base:
    from gazesdk.sim import GazeSim, SimConfig

    cache = private_cache(folder)
    sim = GazeSim(SimConfig(subjects=2, frames_per_subject=3, sessions_per_subject=1,
                            calibration_dots=9, split_fractions=(0.0, 0.0, 1.0),
                            devices=("iPhone 6s",), seed=1))
    return _Base(sim.write_gazecapture(folder / "gc"), cache)


def _rewrite_json(path: Path, change: Callable[[Any], Any]) -> None:
    path.write_text(dumps(change(json.loads(path.read_text()))))


def _gc_mutation(root: Path, rng: np.random.Generator) -> str:
    recs = sorted(p for p in root.iterdir() if p.is_dir())
    rec = _pick(rng, recs)
    kind = str(_pick(rng, ["doc", "doc", "doc", "text", "boxes", "missing", "frame_bytes",
                           "frame_swap", "names", "device", "odd_folder", "orientation"]))
    file = rec / str(_pick(rng, list(GC_FILES)))
    if kind == "doc":
        name, doc = mutate_doc(json.loads(file.read_text()), rng)
        file.write_text(dumps(doc))
        return f"doc.{file.stem}.{name}"
    if kind == "text":
        name, text = mutate_text(file.read_text(), rng)
        (file.write_bytes if isinstance(text, bytes) else file.write_text)(text)
        return f"text.{file.stem}.{name}"
    if kind == "boxes":
        which = str(_pick(rng, ["appleFace", "appleLeftEye", "appleRightEye", "faceGrid"]))
        key = str(_pick(rng, ["X", "Y", "W", "H"]))
        value = _pick(rng, [-10_000, -1, 0, 10_000, 1e300, -1e300, 0.4, 2**63, 1e19])

        def move(d: dict) -> dict:
            d[key] = [value] * len(d[key])
            return d
        _rewrite_json(rec / f"{which}.json", move)
        return f"boxes.{which}.{key}={value}"
    if kind == "missing":
        what = _pick(rng, [*GC_FILES, "frames/00000.jpg", "frames"])
        target = rec / what
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        return f"missing.{what}"
    if kind == "frame_bytes":
        jpg = _pick(rng, sorted((rec / "frames").iterdir()))
        name, data = mutate_bytes(jpg.read_bytes(), rng)
        jpg.write_bytes(data)
        return f"frame_bytes.{name}"
    if kind == "frame_swap":
        import cv2

        jpg = _pick(rng, sorted((rec / "frames").iterdir()))
        size = _pick(rng, [(1, 1), (8, 8), (64, 48), (4000, 10)])
        img = np.full((size[1], size[0], 3), 128, np.uint8)
        ext = str(_pick(rng, [".png", ".jpg"]))
        jpg.write_bytes(cv2.imencode(ext, img)[1].tobytes())
        return f"frame_swap.{size[0]}x{size[1]}{ext}"
    if kind == "names":
        bad = _pick(rng, ["../info.json", "", "/etc/passwd", "..", ".", "00000.jpg",
                          "missing.jpg", "a/b.jpg", "\u00e9.jpg", "x" * 300])

        def rename(names: list) -> list:
            names[int(rng.integers(0, len(names)))] = bad
            return names
        _rewrite_json(rec / "frames.json", rename)
        return f"names.{bad[:20]!r}"
    if kind == "device":
        field, value = _pick(rng, [("DeviceName", "iPhone 99"), ("DeviceName", "iphone 6s"),
                                   ("DeviceName", 6), ("DeviceName", ["iPhone 6s"]),
                                   ("Dataset", "holdout"), ("Dataset", None),
                                   ("Dataset", ["test"]), ("Dataset", {"a": 1})])

        def set_field(d: dict) -> dict:
            d[field] = value
            return d
        _rewrite_json(rec / "info.json", set_field)
        return f"device.{field}={value!r}"
    if kind == "odd_folder":
        odd = str(_pick(rng, ["99999999999", "00099", "000a1", "00100"]))
        target = root / odd
        if odd == "00100":
            target.write_text("a file named like a recording")
        else:
            target.mkdir()
        return f"odd_folder.{odd}"
    value = _pick(rng, [0, 5, -1, 1.5, None, "1", float("nan")])

    def orient(d: dict) -> dict:
        d["Orientation"] = [value] * len(d["Orientation"])
        return d
    _rewrite_json(rec / "screen.json", orient)
    return f"orientation={value!r}"


def _gazecapture(base: _Base, rng: np.random.Generator, scratch: Path
                 ) -> tuple[str, Callable[[], Any]]:
    from gazesdk.data.gazecapture import load_gazecapture

    root = scratch / "gc"
    shutil.copytree(base.root, root)
    labels = [_safely(_gc_mutation, root, rng) for _ in range(int(rng.integers(1, 4)))]
    label = "+".join(labels)
    mode = rng.random()
    if mode < CLI_SHARE:
        return f"{label} [calibrate]", lambda: cli_in_process(
            ["calibrate", "--data", str(root), "--json", "--split", "all"])
    if mode < 0.3:
        def cached() -> Any:
            load_gazecapture(root, cache_dir=scratch / "cache", progress=False)
            return load_gazecapture(root, cache_dir=scratch / "cache", progress=False)
        return f"{label} [cached]", cached
    return label, lambda: load_gazecapture(root, progress=False)


# -- arrays ------------------------------------------------------------------------------------
def _arrays_setup(folder: Path) -> _Base:
    from gazesdk.sim import GazeSim, SimConfig

    cache = private_cache(folder)
    sim = GazeSim(SimConfig(subjects=3, frames_per_subject=4, sessions_per_subject=1,
                            calibration_dots=9, split_fractions=(0.34, 0.33, 0.33),
                            stare_sequences=1, stare_frames=16, stare_blinks=1, seed=2))
    return _Base(sim.write_arrays(folder / "arrays"), cache)


def _npy_variant(path: Path, rng: np.random.Generator) -> str:
    a = np.load(path)
    kind = str(_pick(rng, ["bytes", "bytes", "dtype", "shape", "zero_d", "object", "fortran",
                           "length", "big_endian", "values", "empty"]))
    if kind == "bytes":
        name, data = mutate_bytes(path.read_bytes(), rng)
        path.write_bytes(data)
        return f"npy_bytes.{path.stem}.{name}"
    if kind == "dtype":
        dtype = _pick(rng, ["float64", "int8", "uint8", "bool", "complex64", "<U3"])
        np.save(path, a.astype(dtype))
        return f"npy_dtype.{path.stem}.{dtype}"
    if kind == "shape":
        np.save(path, a.reshape(len(a), -1) if a.ndim > 1 else a[:, None])
        return f"npy_shape.{path.stem}"
    if kind == "zero_d":
        np.save(path, np.array(a.reshape(-1)[0] if a.size else 0, a.dtype))
        return f"npy_zero_d.{path.stem}"
    if kind == "object":
        np.save(path, np.array([{"a": 1}] * len(a), dtype=object), allow_pickle=True)
        return f"npy_object.{path.stem}"
    if kind == "fortran":
        np.save(path, np.asfortranarray(a))
        return f"npy_fortran.{path.stem}"
    if kind == "length":
        np.save(path, a[:max(len(a) - int(rng.integers(1, 5)), 0)])
        return f"npy_length.{path.stem}"
    if kind == "big_endian":
        np.save(path, a.astype(a.dtype.newbyteorder(">")))
        return f"npy_big_endian.{path.stem}"
    if kind == "values":
        b = a.copy()
        if b.dtype.kind == "f":
            b.reshape(-1)[rng.integers(0, b.size, 3)] = _pick(rng, [np.nan, np.inf, 1e38])
        elif b.dtype.kind in "iu":
            info = np.iinfo(b.dtype)
            b.reshape(-1)[rng.integers(0, b.size, 3)] = _pick(rng, [info.max, info.min, 99])
        np.save(path, b)
        return f"npy_values.{path.stem}"
    np.save(path, a[:0])
    return f"npy_empty.{path.stem}"


def _arrays_mutation(root: Path, rng: np.random.Generator) -> str:
    kind = str(_pick(rng, ["manifest_doc", "manifest_doc", "manifest_text", "npy", "npy",
                           "npy", "missing"]))
    manifest = root / "manifest.json"
    if kind == "manifest_doc":
        name, doc = mutate_doc(json.loads(manifest.read_text()), rng)
        manifest.write_text(dumps(doc))
        return f"manifest.{name}"
    if kind == "manifest_text":
        name, text = mutate_text(manifest.read_text(), rng)
        (manifest.write_bytes if isinstance(text, bytes) else manifest.write_text)(text)
        return f"manifest_text.{name}"
    files = sorted(root.glob("*.npy"))
    path = _pick(rng, files)
    if kind == "missing":
        path.unlink()
        return f"missing.{path.stem}"
    return _npy_variant(path, rng)


def _use_arrays(root: Path) -> Any:
    from gazesdk.data.arrays import SPLITS, load_arrays

    data = load_arrays(root)
    for split in SPLITS:
        part = data.split(split)
        for name in part.fields:
            np.asarray(part[name][:3])
    return data


def _arrays(base: _Base, rng: np.random.Generator, scratch: Path
            ) -> tuple[str, Callable[[], Any]]:
    root = scratch / "arrays"
    shutil.copytree(base.root, root)
    label = "+".join(_safely(_arrays_mutation, root, rng)
                     for _ in range(int(rng.integers(1, 3))))
    mode = rng.random()
    if mode < CLI_SHARE / 2:
        return f"{label} [eval]", lambda: cli_in_process(
            ["eval", "--checkpoint", "default", "--data", str(root), "--split", "all",
             "--device", "cpu", "--json"])
    if mode < CLI_SHARE:
        return f"{label} [calibrate]", lambda: cli_in_process(
            ["calibrate", "--data", str(root), "--json", "--split", "all"])
    return label, lambda: _use_arrays(root)


TARGETS = {
    "gazecapture": FuzzTarget("gazecapture", 1200, _gc_setup, _gazecapture,
                              "GazeCapture-format folders: load_gazecapture, gazesdk calibrate"),
    "arrays": FuzzTarget("arrays", 1200, _arrays_setup, _arrays,
                         "array datasets: load_arrays, gazesdk eval / calibrate"),
}
