"""GazeSim's rendering speed on one CPU core.

Pins the process to one core, warms up (the renderer is compiled on first use), then renders
batches of triplets (face + both eyes, with labels and face grid: the array form) and full
camera frames. Reports the median of several repeats. Writes
``benchmarks/results/gazesim_speed.{json,md}``.

    python benchmarks/gazesim_speed.py
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import _results
import numpy as np

from gazesdk.sim import GazeSim, SimConfig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triplets", type=int, default=4096, help="triplets per repeat")
    ap.add_argument("--frames", type=int, default=64, help="full frames per repeat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=_results.RESULTS)
    args = ap.parse_args(argv)
    core = None
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})

    sim = GazeSim(SimConfig(subjects=max(1, args.triplets // 50), frames_per_subject=50,
                            glasses_fraction=0.25))
    sim.render_chunk(0, 16)                      # compile / load the kernel
    sim.render_frames(np.arange(2))
    n = min(args.triplets, len(sim))
    triplet_rates, frame_rates = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for i in range(0, n, 128):
            sim.render_chunk(i, min(i + 128, n))
        triplet_rates.append(n / (time.perf_counter() - start))
        start = time.perf_counter()
        sim.render_frames(np.arange(args.frames))
        frame_rates.append(args.frames / (time.perf_counter() - start))

    result = {
        "triplets_per_s_per_core": round(statistics.median(triplet_rates), 1),
        "triplets_per_s_per_core_runs": [round(r, 1) for r in triplet_rates],
        "frames_per_s_per_core": round(statistics.median(frame_rates), 1),
        "frame_size": "480x640 portrait / 640x480 landscape",
        "what": "array-form rows: face, left eye, right eye 64x64 RGB patches with noise and "
                "blur, plus labels and face grid; frames: full camera frames",
        "command": _results.command(),
        "machine": _results.machine(pinned_core=core),
    }
    md = ("| what | per second, one core (median of "
          f"{args.repeats}) |\n|---|---|\n"
          f"| triplets (3 patches + labels) | {result['triplets_per_s_per_core']:.0f} |\n"
          f"| full 480x640 frames | {result['frames_per_s_per_core']:.1f} |\n\n"
          f"`{result['command']}` on {platform.machine()}, {os.cpu_count()} CPUs, pinned to "
          f"core {core}.\n")
    _results.write(args.out, "gazesim_speed", result, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
