"""The runtime and ``gazesdk benchmark`` with the network blocked at the socket level: once the
assets are cached, nothing may open a socket (an SDK that phones home, or fetches on every
start, fails here).

Each run is a fresh interpreter (:data:`_CHILD`) that, before importing gazesdk, installs an
audit hook (PEP 578) refusing every Python socket creation, connection and name lookup, and
counts them; a thread also samples ``/proc/self/fd`` for socket descriptors, which catches
sockets opened by native code (ONNX Runtime, LiteRT, OpenCV, MediaPipe) that no Python hook
sees. Runs: a VIDEO session of the default estimator on shaken-camera frames of a real face
(``skimage.data.astronaut()``), an IMAGE session on GazeSim frames, and the whole default
``gazesdk benchmark``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

RUN_TIMEOUT_S = 1800.0

_CHILD = r'''
import json, os, sys, threading, time
attempts = []
BLOCKED = {"socket.__new__", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
           "socket.bind", "socket.sendto"}

def hook(event, args):
    if event in BLOCKED:
        attempts.append(event)
        raise OSError(f"network blocked by the reliability campaign ({event})")

sys.addaudithook(hook)
native = set()

def sample():
    while True:
        try:
            for fd in os.listdir("/proc/self/fd"):
                try:
                    if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                        native.add(os.readlink(f"/proc/self/fd/{fd}"))
                except OSError:
                    pass
        except OSError:
            pass
        time.sleep(0.05)

threading.Thread(target=sample, daemon=True).start()
what, out, report = sys.argv[1], sys.argv[2], sys.argv[3]
frames = 0
code = 0
if what == "runtime":
    import numpy as np
    from gazesdk.mobile_bench.sequences import shaky_sequences
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, RunningMode
    from gazesdk.sim import GazeSim, SimConfig

    video = shaky_sequences(4, 30, seed=0)
    video = video.reshape(-1, *video.shape[2:])
    with GazeEstimator.create_from_options(
            GazeEstimatorOptions(running_mode=RunningMode.VIDEO)) as est:
        for i, f in enumerate(video):
            est.estimate_for_video(f, 33 * i)
            frames += 1
    sim = GazeSim(SimConfig(subjects=4, frames_per_subject=5, sessions_per_subject=1))
    images, _ = sim.render_frames(np.arange(len(sim)))
    with GazeEstimator.create_from_options(GazeEstimatorOptions()) as est:
        for f in images:
            est.estimate(f)
            frames += 1
elif what == "probe":               # the harness's own check: one Python, one native socket
    import ctypes, socket
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    except OSError:
        pass
    libc = ctypes.CDLL(None)
    fd = libc.socket(2, 1, 0)
    time.sleep(0.3)
    os.close(fd)
else:
    from gazesdk.cli import main
    code = main(["benchmark", "--out", out, "--quiet"])
time.sleep(0.2)
with open(report, "w") as fh:
    json.dump({"python_socket_attempts": len(attempts), "events": sorted(set(attempts)),
               "native_sockets": len(native), "frames": frames, "exit": int(code or 0)}, fh)
'''

RUNS = {"runtime": "the runtime (VIDEO on a real face, IMAGE on GazeSim)",
        "benchmark": "the whole default `gazesdk benchmark`",
        "probe": "a probe opening one Python and one native socket (the harness's check)"}


def run_blocked(folder: Path, *, runs: tuple[str, ...] = ("runtime", "benchmark"),
                progress: bool = True) -> dict[str, Any]:
    """Each run with the network blocked (see the module): sockets attempted and opened."""
    from gazesdk.runtime.assets import ASSETS, asset_path

    missing = [s.name for s in ASSETS if not asset_path(s).is_file()]
    if set(runs) - {"probe"} and missing and not any(os.environ.get(s.env) for s in ASSETS
                                                     if s.env):
        raise RuntimeError(f"cache the assets first (gazesdk assets --fetch): {missing}")
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for what in runs:
        report = folder / f"{what}.json"
        report.unlink(missing_ok=True)
        env = dict(os.environ)
        env.pop("GAZESDK_DEBUG", None)
        if progress:
            print(f"  network blocked: {RUNS[what]} ...", flush=True)
        proc = subprocess.run([sys.executable, "-c", _CHILD, what, str(folder / what),
                               str(report)], env=env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)
        if proc.returncode != 0 or not report.is_file():
            raise RuntimeError(f"the blocked {what} run failed (exit {proc.returncode}): "
                               f"{proc.stderr[-800:]}")
        r = json.loads(report.read_text())
        results.append({"what": RUNS[what], "run": what, **r})
        if progress:
            print(f"    {r['python_socket_attempts']} Python socket attempts, "
                  f"{r['native_sockets']} native sockets", flush=True)
    return {"sockets_opened": sum(r["python_socket_attempts"] + r["native_sockets"]
                                  for r in results),
            "runs": results}
