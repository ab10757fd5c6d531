"""``kill -9`` at random moments of every command that writes files a user keeps: datasets
(``sim generate``, both formats), exports, the runtime's asset fetch, training checkpoints and
calibration profiles.

For each writer: one clean run gives the reference outputs and its duration T; then each trial
starts the same command in a fresh folder, sends SIGKILL at a uniformly random moment in
[0.1 T, T], or, every other trial, in [W, T] where W is when the clean run's first output file
appeared (so half the kills land while files are being written; a trial whose process finished
first is drawn again, so every counted kill hit a live writer), and checks what it left:

- **partial files** (:func:`partial_files`): a file at a final path (not a hidden or ``.tmp``/
  ``.part``/``.partial`` name, not inside such a folder) that is not what a finished run writes
  there: for outputs that are byte-for-byte reproducible (seeded datasets, exports, the asset),
  bytes differing from the reference; for training runs and calibration profiles (they hold
  their creation time), a file its own loader (checkpoint, weights, profile, JSON, PNG)
  refuses;
- **recovery**: the command a user would run next (the same with ``--overwrite``, ``train
  --resume`` when a checkpoint exists, the same fetch) must exit 0 and leave complete outputs.

Temporary leftovers (``*.partial`` folders, ``.*.tmp`` files) are counted but are not partial
files: nothing reads them, and the next run removes or ignores them.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

RUN_TIMEOUT_S = 600.0
TEMP_SUFFIXES = (".tmp", ".part", ".partial")


def _is_temp(name: str) -> bool:
    return name.startswith(".") or name.endswith(TEMP_SUFFIXES)


def final_files(folder: Path) -> list[Path]:
    """Files at final paths under ``folder`` (relative), temporaries and their contents left
    out."""
    out: list[Path] = []
    if not folder.exists():
        return out
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and not any(_is_temp(part) for part in rel.parts):
            out.append(rel)
    return out


def temp_leftovers(folder: Path) -> int:
    if not folder.exists():
        return 0
    return sum(1 for p in folder.rglob("*") if _is_temp(p.name))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def partial_files(out: Path, reference: dict[str, str], *, reproducible: Callable[[Path], bool],
                  loads: Callable[[Path, Path], str | None]) -> list[str]:
    """Problems with the files at final paths under ``out`` (see the module): ``reference``
    maps relative paths to the finished run's sha256; ``reproducible(rel)`` says whether a
    file must equal it; ``loads(out, rel)`` returns why its loader refuses it, or None."""
    problems = []
    for rel in final_files(out):
        key = rel.as_posix()
        if reproducible(rel):
            if key not in reference:
                problems.append(f"{key}: not written by a finished run")
            elif _digest(out / rel) != reference[key]:
                problems.append(f"{key}: differs from a finished run's")
        else:
            why = loads(out, rel)
            if why is not None:
                problems.append(f"{key}: {why}")
    return problems


def _gazesdk(*args: str) -> list[str]:
    return [sys.executable, "-m", "gazesdk", *args]


@dataclass(frozen=True)
class Writer:
    """One command under test. ``prepare(folder) -> context`` once (inputs it needs);
    ``command(context, out) -> (argv, env)`` the killed run; ``rerun(context, out)`` what a
    user runs next; ``outputs(context, out)`` the folder whose files are checked;
    ``complete(context, out)`` why a finished run's outputs are incomplete, or None."""

    name: str
    kills: int
    what: str
    prepare: Callable[[Path], dict[str, Any]]
    command: Callable[[dict[str, Any], Path], tuple[list[str], dict[str, str]]]
    rerun: Callable[[dict[str, Any], Path], tuple[list[str], dict[str, str]]]
    outputs: Callable[[dict[str, Any], Path], Path]
    reproducible: Callable[[Path], bool]
    loads: Callable[[Path, Path], str | None]
    complete: Callable[[dict[str, Any], Path], str | None]


# -- loaders: why a file at a final path is refused ----------------------------------------------
def _load_any(out: Path, rel: Path) -> str | None:
    """The loader a user's next step would use, by the file's kind."""
    p = out / rel
    name = p.name
    try:
        if name.endswith(".json") and name != "metrics.jsonl":
            if name.startswith("session_"):
                from gazesdk.calibration.profile import CalibrationProfile

                CalibrationProfile.load(p)
            elif p.with_suffix("").suffix in (".onnx", ".tflite"):
                from gazesdk.export.metadata import read_metadata

                read_metadata(p.with_suffix(""), verify=True)
            else:
                json.loads(p.read_text())
        elif name.endswith(".jsonl"):
            for line in p.read_text().splitlines():
                json.loads(line)
        elif name.endswith(".pt"):
            from gazesdk.training.checkpoint import load_checkpoint

            load_checkpoint(p)
        elif name.endswith(".safetensors"):
            from gazesdk.training.checkpoint import load_weights

            load_weights(p)
        elif name.endswith((".png", ".jpg")):
            import cv2

            if cv2.imread(str(p)) is None:
                return "not a readable image"
        elif name.endswith((".onnx", ".tflite")):
            from gazesdk.export.metadata import read_metadata

            if p.with_name(p.name + ".json").exists():
                read_metadata(p, verify=True)
        elif name.endswith(".npz"):
            with np.load(p) as z:
                [z[k] for k in z.files]
    except Exception as e:  # noqa: BLE001 - any refusal is the finding
        return f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"
    return None


# -- the writers ----------------------------------------------------------------------------------
_SIM_ARRAYS = ["--subjects", "10", "--frames-per-subject", "20", "--quiet"]
_SIM_GC = ["--format", "gazecapture", "--subjects", "12", "--frames-per-subject", "20", "--quiet"]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GAZESDK_DEBUG", None)
    env.update({"OMP_NUM_THREADS": "1", **extra})
    return env


def _no_context(folder: Path) -> dict[str, Any]:
    return {}


def _load_json(out: Path, rel: Path) -> str | None:
    """The asset cache's source record (plain JSON beside the file)."""
    try:
        json.loads((out / rel).read_text())
    except (OSError, ValueError) as e:
        return f"not JSON: {e}"
    return None


def _sim_complete(flags: list[str]) -> Callable[[dict[str, Any], Path], str | None]:
    def complete(context: dict[str, Any], out: Path) -> str | None:
        ref = context["reference"]
        have = {p.as_posix() for p in final_files(out)}
        missing = sorted(set(ref) - have)
        return f"missing {missing[:3]}" if missing else None
    return complete


def _dataset(folder: Path, *flags: str) -> Path:
    data = folder / "data"
    if not data.exists():
        subprocess.run(_gazesdk("sim", "generate", "--out", str(data), "--quiet", *flags),
                       check=True, env=_env(), stdout=subprocess.DEVNULL)
    return data


def _export_prepare(folder: Path) -> dict[str, Any]:
    return {"data": _dataset(folder, "--subjects", "6", "--frames-per-subject", "20")}


def _train_prepare(folder: Path) -> dict[str, Any]:
    return {"data": _dataset(folder, "--subjects", "6", "--frames-per-subject", "40")}


def _calibrate_prepare(folder: Path) -> dict[str, Any]:
    return {"data": _dataset(folder, "--subjects", "60", "--frames-per-subject", "4",
                             "--calibration-dots", "9")}


def _train_argv(context: dict[str, Any], out: Path, resume: bool) -> list[str]:
    return _gazesdk("train", "--out", str(out), "--data", str(context["data"]), "--epochs", "3",
                    "--batch-size", "32", "--checkpoint-every", "4", "--threads", "1",
                    "--quiet", *(["--resume"] if resume else []))


def _train_complete(context: dict[str, Any], out: Path) -> str | None:
    for name in ("model.safetensors", "checkpoint.pt", "metrics.jsonl"):
        if not (out / name).is_file():
            return f"no {name}"
    return _load_any(out, Path("model.safetensors"))


# The asset server: the real fetch code, a real HTTP download, served slowly from a verified copy
class _SlowAsset(http.server.BaseHTTPRequestHandler):
    payload = b""
    bytes_per_s = 2_000_000

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        step = 32768
        try:
            for i in range(0, len(self.payload), step):
                self.wfile.write(self.payload[i:i + step])
                time.sleep(step / self.bytes_per_s)
        except (BrokenPipeError, ConnectionResetError):     # the client was killed
            pass

    def log_message(self, *args: Any) -> None:
        pass


_FETCH = ("import dataclasses, sys\n"
          "from gazesdk.runtime.assets import IRIS_LANDMARK, fetch_asset\n"
          "spec = dataclasses.replace(IRIS_LANDMARK, urls=(sys.argv[1],))\n"
          "fetch_asset(spec, sources=('url',))\n")


def _assets_prepare(folder: Path) -> dict[str, Any]:
    from gazesdk.runtime.assets import IRIS_LANDMARK, iris_landmark_model_path

    _SlowAsset.payload = Path(iris_landmark_model_path(fetch=False)).read_bytes()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowAsset)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return {"url": f"http://127.0.0.1:{server.server_address[1]}/{IRIS_LANDMARK.name}",
            "server": server}


def _assets_argv(context: dict[str, Any], out: Path) -> tuple[list[str], dict[str, str]]:
    return [sys.executable, "-c", _FETCH, context["url"]], _env(GAZESDK_CACHE=str(out))


def _assets_complete(context: dict[str, Any], out: Path) -> str | None:
    from gazesdk.runtime.assets import IRIS_LANDMARK

    p = out / "assets" / IRIS_LANDMARK.name
    if not p.is_file() or _digest(p) != IRIS_LANDMARK.sha256:
        return "the asset is missing or not the pinned file"
    return None


WRITERS: dict[str, Writer] = {
    "sim_generate_arrays": Writer(
        "sim_generate_arrays", 10, "gazesdk sim generate (array form)", _no_context,
        lambda c, out: (_gazesdk("sim", "generate", "--out", str(out), *_SIM_ARRAYS), _env()),
        lambda c, out: (_gazesdk("sim", "generate", "--out", str(out), *_SIM_ARRAYS,
                                 "--overwrite"), _env()),
        lambda c, out: out, lambda rel: True, _load_any, _sim_complete(_SIM_ARRAYS)),
    "sim_generate_gazecapture": Writer(
        "sim_generate_gazecapture", 8, "gazesdk sim generate --format gazecapture", _no_context,
        lambda c, out: (_gazesdk("sim", "generate", "--out", str(out), *_SIM_GC), _env()),
        lambda c, out: (_gazesdk("sim", "generate", "--out", str(out), *_SIM_GC,
                                 "--overwrite"), _env()),
        lambda c, out: out, lambda rel: True, _load_any, _sim_complete(_SIM_GC)),
    "export_onnx": Writer(
        "export_onnx", 10, "gazesdk export --format onnx", _export_prepare,
        lambda c, out: (_gazesdk("export", "--checkpoint", "default", "--format", "onnx",
                                 "--precision", "fp32", "--out", str(out), "--data",
                                 str(c["data"]), "--quiet"), _env()),
        lambda c, out: (_gazesdk("export", "--checkpoint", "default", "--format", "onnx",
                                 "--precision", "fp32", "--out", str(out), "--data",
                                 str(c["data"]), "--quiet"), _env()),
        lambda c, out: out, lambda rel: True, _load_any,
        lambda c, out: None if list(out.glob("*.onnx.json")) else "no metadata written"),
    "asset_fetch": Writer(
        "asset_fetch", 10, "the runtime's asset fetch (iris model over HTTP)", _assets_prepare,
        _assets_argv, _assets_argv, lambda c, out: out,
        lambda rel: rel.name == "iris_landmark.tflite",
        _load_json, _assets_complete),
    "train_checkpoint": Writer(
        "train_checkpoint", 8, "gazesdk train (checkpoints every 4 steps)", _train_prepare,
        lambda c, out: (_train_argv(c, out, False), _env()),
        lambda c, out: (_train_argv(c, out, (out / "checkpoint.pt").exists()), _env()),
        lambda c, out: out, lambda rel: False, _load_any, _train_complete),
    "calibration_profiles": Writer(
        "calibration_profiles", 8, "gazesdk calibrate --out (one profile per session)",
        _calibrate_prepare,
        lambda c, out: (_gazesdk("calibrate", "--data", str(c["data"]), "--split", "all",
                                 "--out", str(out)), _env()),
        lambda c, out: (_gazesdk("calibrate", "--data", str(c["data"]), "--split", "all",
                                 "--out", str(out)), _env()),
        lambda c, out: out, lambda rel: False, _load_any,
        lambda c, out: (None if {p.as_posix() for p in final_files(out)} >= set(c["reference"])
                        else "profiles missing")),
}


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL)


def _timed_clean_run(argv: list[str], env: dict[str, str], outputs: Path
                     ) -> tuple[float, float]:
    """Run the command to its end: (duration, when the first file appeared under
    ``outputs``), both in seconds from the start."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    first = None
    while proc.poll() is None:
        if first is None and outputs.exists() and any(outputs.rglob("*")):
            first = time.monotonic() - t0
        time.sleep(0.02)
    duration = time.monotonic() - t0
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"the clean run of {' '.join(argv[2:5])} failed: {err[-500:]}")
    return duration, min(first if first is not None else 0.9 * duration, 0.98 * duration)


def run_writer_kills(writer: Writer, count: int, *, seed: int, folder: Path,
                     progress: bool = True) -> dict[str, Any]:
    """``count`` kills of ``writer`` (see the module); the counts, with every problem found."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    context = writer.prepare(folder / "inputs")
    ref_out = folder / "reference"
    argv, env = writer.command(context, ref_out)
    duration, writing_from = _timed_clean_run(argv, env, writer.outputs(context, ref_out))
    outputs = writer.outputs(context, ref_out)
    context["reference"] = {p.as_posix(): _digest(outputs / p) for p in final_files(outputs)}
    rng = np.random.default_rng([seed, len(writer.name), sum(map(ord, writer.name))])
    trials: list[dict[str, Any]] = []
    draws = 0
    while len(trials) < count and draws < 10 * count:
        draws += 1
        out = folder / f"trial_{len(trials):02d}"
        shutil.rmtree(out, ignore_errors=True)
        argv, env = writer.command(context, out)
        # every other kill lands while the writer is writing (from its first file to its end)
        start = writing_from if len(trials) % 2 else 0.1 * duration
        delay = float(rng.uniform(start, duration))
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
            continue                            # finished before the kill: draw again
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        where = writer.outputs(context, out)
        problems = partial_files(where, context["reference"], reproducible=writer.reproducible,
                                 loads=writer.loads)
        leftovers = temp_leftovers(where)
        finals = len(final_files(where))
        argv, env = writer.rerun(context, out)
        again = _run(argv, env)
        incomplete = (f"exit {again.returncode}: {' '.join(again.stderr.split())[-300:]}"
                      if again.returncode != 0 else writer.complete(context, where))
        after = partial_files(where, context["reference"], reproducible=writer.reproducible,
                              loads=writer.loads)
        trials.append({"kill_at_s": round(delay, 2), "final_files_at_kill": finals,
                       "temp_leftovers": leftovers, "partial": problems,
                       "recovered": incomplete is None and not after,
                       "recovery_problem": incomplete or (after[0] if after else None)})
        shutil.rmtree(out, ignore_errors=True)
        if progress:
            print(f"  kill {writer.name} {len(trials)}/{count}: at {delay:.1f} s of "
                  f"{duration:.1f}, {finals} final files, {len(problems)} partial, "
                  f"{'recovered' if trials[-1]['recovered'] else trials[-1]['recovery_problem']}",
                  flush=True)
    if "server" in context:
        context["server"].shutdown()
    shutil.rmtree(folder, ignore_errors=True)
    return {"what": writer.what, "kills": len(trials), "clean_run_s": round(duration, 1),
            "writing_from_s": round(writing_from, 2),
            "partial_files": sum(len(t["partial"]) for t in trials),
            "recovered": sum(t["recovered"] for t in trials),
            "not_recovered": sum(not t["recovered"] for t in trials),
            "temp_leftovers": sum(t["temp_leftovers"] for t in trials),
            "kills_with_outputs_started": sum(t["final_files_at_kill"] > 0
                                              or t["temp_leftovers"] > 0 for t in trials),
            "trials": trials}
