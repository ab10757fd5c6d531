"""Training runs for benchmark scripts: each one a `gazesdk train` subprocess with its own
folder, resumed when a previous attempt was interrupted and skipped when finished."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def run_training(settings: dict, out: Path, *, threads: int = 1,
                 done: str = "eval_test.json") -> float:
    """Train ``settings`` (a TrainConfig mapping) into ``out``; returns the seconds it took
    (0 when ``out`` already holds a finished run, i.e. the file ``done``; pre-training runs
    end with ``encoder.safetensors``). A failure raises RuntimeError naming the log file."""
    if (out / done).exists():
        return 0.0
    out.mkdir(parents=True, exist_ok=True)
    config = out.parent / f"{out.name}.json"
    config.write_text(json.dumps(settings))
    cmd = [sys.executable, "-m", "gazesdk", "train", "--config", str(config), "--out", str(out),
           "--quiet"]
    if (out / "checkpoint.pt").exists():
        cmd.append("--resume")
    log_path = out.parent / f"{out.name}.log"
    started = time.time()
    with log_path.open("a") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    if proc.returncode != 0:
        raise RuntimeError(f"{out.name} failed; see {log_path}")
    return time.time() - started


def fine_tune(settings: dict, out: Path, *, threads: int = 1) -> dict:
    """``run_training`` of a gaze run (reporting its seconds when it trained), then its final
    evaluation, ``eval_test.json``."""
    seconds = run_training(settings, out, threads=threads)
    if seconds:
        print(f"{out.name}: {seconds:.0f} s", flush=True)
    return json.loads((out / "eval_test.json").read_text())


def run_all(jobs: int, runs: list[Callable[[], dict]], finish: Callable[[dict], None]) -> int:
    """Call every ``runs`` item on ``jobs`` threads (each starts a subprocess), and ``finish``
    on their rows in order; returns how many failed (each failure is printed)."""
    failed = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run) for run in runs]
        for f in futures:
            try:
                finish(f.result())
            except RuntimeError as e:
                failed += 1
                print(e, file=sys.stderr)
    return failed


def history(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def sim_dataset(path: Path, *, subjects: int, frames_per_subject: int, stare: int,
                split: tuple[float, float, float], seed: int) -> Path:
    """The benchmark's GazeSim dataset at ``path`` (written once, reused by reruns)."""
    if not (path / "manifest.json").exists():
        from gazesdk.sim import GazeSim, SimConfig

        GazeSim(SimConfig(subjects=subjects, frames_per_subject=frames_per_subject,
                          stare_sequences=stare, split_fractions=tuple(split),
                          seed=seed)).write_arrays(path)
    return path
