"""Fuzz cases run in a worker process that is allowed to die.

A native library (OpenCV's decoders, ONNX Runtime, LiteRT) can segfault or hang on a hostile
file, and such a crash must be counted, not end the campaign. So the cases of a category run in
a child process (``python -m gazesdk.mobile_bench.reliability.sandbox``) that reports each case
as one JSON line on a private pipe; when it dies or stops answering, the case it was running is
a crash and a fresh worker carries on from the next one.

A target (:class:`FuzzTarget`) builds its base inputs once per worker (``setup``) and turns a
case's generator into a label and a call (``case``); every case gets an empty scratch folder.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import selectors
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.mobile_bench.reliability.corrupt import case_rng
from gazesdk.mobile_bench.reliability.outcomes import CRASH, Tally, run_case

# category -> module defining TARGETS (a dict of FuzzTarget by name)
MODULES = {
    "frames": "fuzz_frames", "timestamps": "fuzz_frames",
    "videos": "fuzz_media", "image_folders": "fuzz_media",
    "cli": "fuzz_cli",
    "gazecapture": "fuzz_datasets", "arrays": "fuzz_datasets",
    "model_artifacts": "fuzz_models",
    "configs": "fuzz_configs", "estimator_options": "fuzz_configs",
    "calibration_profiles": "fuzz_profiles",
}
SELFTEST = {"selftest": "selftest"}      # not part of the campaign: the sandbox's own check
CASE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class FuzzTarget:
    """One category of fuzz inputs: ``setup(folder) -> context`` once per worker, then
    ``case(context, rng, scratch) -> (label, call)`` per input; ``count`` is the campaign's
    default number of inputs."""

    name: str
    count: int
    setup: Callable[[Path], Any]
    case: Callable[[Any, np.random.Generator, Path], tuple[str, Callable[[], Any]]]
    what: str = ""


def get_target(category: str) -> FuzzTarget:
    known = {**MODULES, **SELFTEST}
    if category not in known:
        raise KeyError(f"unknown fuzz category {category!r}; known: {', '.join(MODULES)}")
    module = importlib.import_module(f"gazesdk.mobile_bench.reliability.{known[category]}")
    return module.TARGETS[category]


def _worker(category: str, seed: int, start: int, stop: int, folder: Path) -> None:
    """Run cases start..stop-1, one JSON line each on the protocol pipe (the original
    stdout); the native libraries' chatter goes to stderr."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    warnings.simplefilter("ignore")
    target = get_target(category)
    base = folder / "base"
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    context = target.setup(base)
    proto.write(json.dumps({"ready": True}) + "\n")
    for i in range(start, stop):
        scratch = folder / f"case_{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        rng = case_rng(seed, category, i)
        try:
            label, call = target.case(context, rng, scratch)
        except Exception as e:  # noqa: BLE001 - a harness bug: reported, not hidden
            proto.write(json.dumps({"i": i, "label": "harness", "outcome": CRASH,
                                    "kind": "harness " + type(e).__name__,
                                    "message": str(e)[:300]}) + "\n")
            continue
        proto.write(json.dumps({"start": i, "label": label}) + "\n")
        outcome, kind, message = run_case(call)
        proto.write(json.dumps({"i": i, "label": label, "outcome": outcome, "kind": kind,
                                "message": message[:500]}) + "\n")
        shutil.rmtree(scratch, ignore_errors=True)
    proto.close()


def run_category(category: str, count: int, *, seed: int, folder: Path,
                 progress: bool = True, timeout_s: float = CASE_TIMEOUT_S) -> Tally:
    """Run ``count`` cases of ``category`` in sandboxed workers; a worker that dies or hangs
    turns its current case into a crash and is replaced."""
    tally = Tally(category)
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "worker.log"
    next_i, t0, last_print = 0, time.monotonic(), 0.0
    while next_i < count:
        cmd = [sys.executable, "-m", "gazesdk.mobile_bench.reliability.sandbox", category,
               "--seed", str(seed), "--start", str(next_i), "--stop", str(count),
               "--folder", str(folder)]
        with open(log, "ab") as err:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        current: dict[str, Any] | None = None
        buf = b""
        hung = False
        while True:
            if not sel.select(timeout=timeout_s):
                hung = True
                proc.kill()
                break
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                msg = json.loads(line)
                if "start" in msg:
                    current = msg
                elif "i" in msg:
                    tally.add(msg["label"], msg["outcome"], msg["kind"], msg["message"],
                              msg["i"])
                    current, next_i = None, msg["i"] + 1
            now = time.monotonic()
            if progress and now - last_print > 15:
                last_print = now
                print(f"  fuzz {category}: {tally.inputs}/{count} inputs, {tally.crashes} "
                      f"crashes ({now - t0:.0f} s)", flush=True)
        proc.wait()
        sel.close()
        proc.stdout.close()
        if current is not None:            # the worker died or hung in this case
            why = (f"hang (no answer in {timeout_s:g} s)" if hung
                   else f"worker died (exit {proc.returncode})")
            tally.add(current["label"], CRASH, why, f"case {current['start']}: {why}",
                      current["start"])
            next_i = current["start"] + 1
        elif proc.returncode != 0 and next_i < count:
            raise RuntimeError(f"the {category} fuzz worker failed outside any case (exit "
                               f"{proc.returncode}); see {log}")
    if progress:
        print(f"  fuzz {category}: {tally.inputs} inputs, {tally.crashes} crashes "
              f"({time.monotonic() - t0:.0f} s)", flush=True)
    return tally


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="a fuzz worker (run by run_category)")
    p.add_argument("category")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--stop", type=int, required=True)
    p.add_argument("--folder", type=Path, required=True)
    p.add_argument("--replay", action="store_true",
                   help="run the cases here, printing each one's traceback (to debug a crash)")
    a = p.parse_args(argv)
    if a.replay:
        replay(a.category, a.seed, range(a.start, a.stop), a.folder)
    else:
        _worker(a.category, a.seed, a.start, a.stop, a.folder)


def replay(category: str, seed: int, cases: range, folder: Path) -> None:
    """Run cases in this process with their tracebacks shown: a crash found by
    :func:`run_category` replayed from its index."""
    import traceback

    target = get_target(category)
    base = folder / "replay_base"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    context = target.setup(base)
    for i in cases:
        scratch = folder / "replay_case"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        label, call = target.case(context, case_rng(seed, category, i), scratch)
        print(f"case {i}: {label}", flush=True)
        try:
            result = call()
            print(f"  -> {type(result).__name__}", flush=True)
        except Exception:  # noqa: BLE001 - shown, for debugging
            traceback.print_exc()


if __name__ == "__main__":
    main()
