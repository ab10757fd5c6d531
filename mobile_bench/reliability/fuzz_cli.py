"""The CLI sample: the same corrupted inputs as the in-process categories, given to the real
``gazesdk`` command in a fresh interpreter, judged by its exit status and stderr only (see
:func:`gazesdk.mobile_bench.reliability.outcomes.classify_cli`).

Commands: ``demo --video`` / ``--images`` (corrupted media), ``demo --model`` (a damaged
export) and ``demo --calibration`` (a damaged profile) on good frames, ``benchmark --video`` /
``--images``, ``sim generate`` / ``train`` / ``export`` with a damaged ``--config`` /
``--quant-config``, ``calibrate`` and ``eval`` on damaged datasets. Each run takes 0.5 s or
more (a valid benchmark input about 12 s), so this is a sample of a few hundred.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.mobile_bench.reliability import (
    fuzz_configs,
    fuzz_datasets,
    fuzz_media,
    fuzz_models,
    fuzz_profiles,
)
from gazesdk.mobile_bench.reliability.cli_runs import cli_subprocess
from gazesdk.mobile_bench.reliability.sandbox import FuzzTarget

# command family -> weight (the benchmark is rare: a valid input runs it for ~12 s)
FAMILIES = {"demo_video": 6, "demo_images": 6, "demo_model": 6, "demo_calibration": 6,
            "benchmark": 1, "sim_config": 4, "train_config": 2, "export_config": 2,
            "calibrate": 4, "eval": 2}


@dataclass
class _All:
    media: Any
    gazecapture: Any
    arrays: Any
    models: Any
    profiles: Any
    configs: Any
    good_images: Path


def _setup(folder: Path) -> _All:
    parts = {}
    for name, setup in (("media", fuzz_media._setup), ("gazecapture", fuzz_datasets._gc_setup),
                        ("arrays", fuzz_datasets._arrays_setup), ("models", fuzz_models._setup),
                        ("profiles", fuzz_profiles._setup), ("configs", fuzz_configs._setup)):
        sub = folder / name
        sub.mkdir()
        parts[name] = setup(sub)
    images = folder / "good_images"
    images.mkdir()
    for name, data in parts["media"].images.items():
        if name.endswith(".jpg"):
            (images / name).write_bytes(data)
    return _All(**parts, good_images=images)


def _pick_family(rng: np.random.Generator) -> str:
    names = list(FAMILIES)
    weights = np.array([FAMILIES[n] for n in names], float)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def _argv(a: _All, family: str, rng: np.random.Generator, scratch: Path
          ) -> tuple[str, list[str]]:
    out = scratch / "out.mp4"
    if family == "demo_video":
        label, path = fuzz_media._video_file(a.media, rng, scratch)
        return label, ["demo", "--video", str(path), "--out", str(out), "--max-frames", "3"]
    if family == "demo_images":
        label, folder = fuzz_media._image_folder(a.media, rng, scratch)
        return label, ["demo", "--images", str(folder), "--out", str(out), "--max-frames", "3"]
    if family == "demo_model":
        label, path = fuzz_models._case_files(a.models, rng, scratch)
        return label, ["demo", "--images", str(a.good_images), "--model", str(path), "--out",
                       str(out), "--max-frames", "2", "--quiet"]
    if family == "demo_calibration":
        label, path = fuzz_profiles._profile_file(a.profiles, rng, scratch)
        return label, ["demo", "--images", str(a.good_images), "--calibration", str(path),
                       "--out", str(out), "--max-frames", "2", "--quiet"]
    if family == "benchmark":
        if rng.random() < 0.5:
            label, path = fuzz_media._video_file(a.media, rng, scratch)
            source = ["--video", str(path)]
        else:
            label, path = fuzz_media._image_folder(a.media, rng, scratch)
            source = ["--images", str(path)]
        return label, ["benchmark", *source, "--profile", "phone", "--warmup", "0",
                       "--max-frames", "4", "--no-crop-comparison", "--no-plots", "--quiet",
                       "--out", str(scratch / "bench")]
    if family in ("sim_config", "train_config", "export_config"):
        kind = {"sim_config": "sim", "train_config": "train", "export_config": "quant"}[family]
        for _ in range(50):            # the configs target draws its kind; take ours
            label, _call = fuzz_configs._configs(a.configs, rng, scratch)
            if label.startswith(kind + "."):
                break
            for p in scratch.iterdir():
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        path = next(p for p in scratch.iterdir() if p.name.startswith("settings."))
        return label.split(" [cli")[0], fuzz_configs._cli_argv(kind, path, scratch)
    if family == "calibrate":
        if rng.random() < 0.5:
            root = scratch / "gc"
            shutil.copytree(a.gazecapture.root, root)
            label = "gc." + fuzz_datasets._safely(fuzz_datasets._gc_mutation, root, rng)
        else:
            root = scratch / "arrays"
            shutil.copytree(a.arrays.root, root)
            label = "arrays." + fuzz_datasets._safely(fuzz_datasets._arrays_mutation, root, rng)
        return label, ["calibrate", "--data", str(root), "--split", "all", "--json"]
    root = scratch / "arrays"
    shutil.copytree(a.arrays.root, root)
    label = fuzz_datasets._safely(fuzz_datasets._arrays_mutation, root, rng)
    return label, ["eval", "--checkpoint", "default", "--data", str(root), "--split", "all",
                   "--device", "cpu", "--json"]


def _cli(a: _All, rng: np.random.Generator, scratch: Path) -> tuple[str, Callable[[], Any]]:
    family = _pick_family(rng)
    label, argv = _argv(a, family, rng, scratch)
    # the models' own cache, as the in-process dataset categories use
    env = None
    if a.gazecapture.cache is not None:
        import os

        env = dict(os.environ, GAZESDK_CACHE=str(a.gazecapture.cache))
    return f"{family}:{label}", lambda: cli_subprocess(argv, env=env)


TARGETS = {
    "cli": FuzzTarget("cli", 200, _setup, _cli,
                      "the real gazesdk command (subprocess): demo, benchmark, sim, train, "
                      "export, calibrate, eval"),
}
