"""Issue 19's soak: a long VIDEO stream through the default pipeline (bundled model, face mesh
and iris tracking, events on, 1 Euro smoothing), cycling rendered GazeSim scan-path frames,
shaken-camera frames of a real photo and a frame without a face, measuring the process's RSS,
open file descriptors and threads after a warm-up and at the end.

    python benchmarks/soak.py [--frames 100000]

Writes ``benchmarks/results/soak.{json,md}`` (``soak_frames``, ``rss_growth_fraction``, fds and
threads at warm-up and end, samples every 5,000 frames). 100,000 frames take about 14 minutes
on one core.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _results import RESULTS, command, machine, write
from tqdm.auto import tqdm

WARMUP = 2000


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def frames() -> list[np.ndarray]:
    from gazesdk.calibration.study import STUDY_SIM
    from gazesdk.mobile_bench.sequences import shaky_sequences
    from gazesdk.sim import GazeSim
    from gazesdk.sim.scanpath import ScanPathOptions, record_scan_path

    _, _, it = record_scan_path(GazeSim(STUDY_SIM), 3, options=ScanPathOptions(duration_ms=1000))
    out = [f for _, f, _ in it][:24]
    out += list(shaky_sequences(1, 6, seed=0)[0])
    out.append(np.full((640, 480, 3), 90, np.uint8))          # no face
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100_000)
    args = ap.parse_args()
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, RunningMode
    from gazesdk.runtime.smoothing import SmoothingOptions

    inputs = frames()
    options = GazeEstimatorOptions(running_mode=RunningMode.VIDEO,
                                   smoothing=SmoothingOptions(method="one_euro"))
    samples, base = [], None
    t0 = time.time()
    with GazeEstimator.create_from_options(options) as est:
        for k in tqdm(range(args.frames), desc="soak", mininterval=10):
            est.estimate_for_video(inputs[k % len(inputs)], 33 * (k + 1))
            if k % 200 == 0:
                est.pop_events()
            if k == min(WARMUP, args.frames - 1):
                base = (rss_bytes(), open_fds(), threads())
            if k % 5000 == 0:
                samples.append({"frame": k, "rss": rss_bytes(), "fds": open_fds(),
                                "threads": threads()})
        end = (rss_bytes(), open_fds(), threads())
    result = {"command": command(), "machine": machine(), "seconds": round(time.time() - t0, 1),
              "soak_frames": args.frames, "warmup_frames": WARMUP,
              "rss_after_warmup": base[0], "rss_end": end[0],
              "rss_growth_fraction": round((end[0] - base[0]) / base[0], 4),
              "fds_after_warmup": base[1], "fds_end": end[1],
              "threads_after_warmup": base[2], "threads_end": end[2], "samples": samples}
    md = (f"# Soak (`{result['command']}`)\n\n| frames | RSS after warm-up | RSS at end | growth | "
          f"fds | threads |\n|---|---|---|---|---|---|\n| {args.frames} | "
          f"{base[0] / 2**20:.1f} MiB | {end[0] / 2**20:.1f} MiB | "
          f"{100 * result['rss_growth_fraction']:.2f}% | {base[1]} -> {end[1]} | "
          f"{base[2]} -> {end[2]} |\n")
    write(RESULTS, "soak", result, md)


if __name__ == "__main__":
    main()
