"""Fuzzing the settings files and option mappings a user writes.

``configs``: GazeSim (``sim generate --config``), training (``train --config``), smoothing
(``benchmark --smoothing-config``) and int8 (``export --quant-config``) settings, as YAML or
JSON files corrupted as documents (unknown keys, every field given a value of the wrong type,
out of range, NaN, huge, nested) and as text (cut, not UTF-8, a bare scalar, nested past the
parser). Read by :func:`gazesdk.cli.sim.load_settings` and the config's ``from_dict``, then
used (a GazeSim renders a frame, a smoother filters a few points, an int8 config resolves per
format); a sample goes through the CLI in-process, stopped right after the config is read.

``estimator_options``: :meth:`GazeEstimatorOptions.from_dict` on mutated option mappings
(model and asset paths among them: missing, a folder, a garbage file), then the estimator is
created and run on real-face frames in the mode the options name.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.mobile_bench.reliability.base_frames import real_face_frame
from gazesdk.mobile_bench.reliability.cli_runs import cli_in_process
from gazesdk.mobile_bench.reliability.corrupt import (
    PARSED_DEPTHS,
    dumps,
    mutate_doc,
    mutate_text,
)
from gazesdk.mobile_bench.reliability.sandbox import FuzzTarget

MAX_SIM_FRAMES = 2000          # larger valid GazeSim configs are only read, not built
CLI_SHARE = 0.1


def _pick(rng: np.random.Generator, items: list) -> Any:
    return items[int(rng.integers(0, len(items)))]


def _yaml_text(doc: Any) -> str:
    import yaml

    try:
        return yaml.safe_dump(doc, default_flow_style=None)
    except (RecursionError, yaml.YAMLError):
        return dumps(doc)          # JSON is YAML too


@dataclass
class _Configs:
    docs: dict[str, dict]          # kind -> a good settings mapping
    frame: np.ndarray


def _setup(folder: Path) -> _Configs:
    from gazesdk.export.quant import QuantConfig
    from gazesdk.runtime.smoothing import SmoothingOptions
    from gazesdk.settings import to_plain_dict
    from gazesdk.sim.config import SimConfig
    from gazesdk.training.config import TrainConfig

    sim = SimConfig(subjects=2, frames_per_subject=3, sessions_per_subject=1).to_dict()
    train = TrainConfig(data="/nonexistent").to_dict()
    quant = to_plain_dict(QuantConfig(precision="int8", mode="static", calibration_samples=8,
                                      per_channel=False))
    return _Configs({"sim": json.loads(json.dumps(sim)), "train": json.loads(json.dumps(train)),
                     "smoothing": SmoothingOptions(method="one_euro").to_dict(),
                     "quant": quant}, real_face_frame())


def _use(kind: str, settings: dict) -> Any:
    """Build the config from a mapping and use it as its command would."""
    if kind == "sim":
        from gazesdk.sim import GazeSim, SimConfig

        config = SimConfig.from_dict(settings)
        if config.frames_total > MAX_SIM_FRAMES:
            return config
        sim = GazeSim(config)
        return sim.render_frames(np.arange(min(len(sim), 2)))
    if kind == "train":
        from gazesdk.training.config import TrainConfig

        return TrainConfig.from_dict(settings)
    if kind == "smoothing":
        from gazesdk.runtime.smoothing import SmoothingOptions, create_smoother

        smoother = create_smoother(SmoothingOptions.from_dict(settings))
        out = None
        if smoother is not None:
            for i, xy in enumerate(([0.0, 0.0], [1.0, 0.5], [5.0, -3.0], [5.1, -3.0])):
                out = smoother(np.asarray(xy), 33.0 * (i + 1))
            if not np.isfinite(out).all():
                raise ValueError(f"a smoother built from valid settings gave {out!r}")
        return out
    from gazesdk.export.quant import QuantConfig

    quant = QuantConfig.from_dict(settings)
    for fmt in ("onnx", "tflite", "coreml"):
        try:
            quant.applicable(fmt).resolve(fmt)
        except Exception as e:  # noqa: BLE001 - judged by the caller's rule below
            from gazesdk.errors import GazeSDKError

            if not isinstance(e, GazeSDKError):
                raise
    return quant


def _cli_argv(kind: str, path: Path, scratch: Path) -> list[str]:
    """A command that reads the config and then stops with a one-line error (no work)."""
    blocker = scratch / "a_file"
    blocker.write_text("not a folder")
    if kind == "sim":
        return ["sim", "generate", "--config", str(path), "--out", str(blocker), "--quiet"]
    if kind == "train":
        return ["train", "--config", str(path), "--data", str(scratch / "no_data"),
                "--out", str(scratch / "run"), "--quiet"]
    if kind == "quant":
        return ["export", "--checkpoint", str(scratch / "no_checkpoint.pt"), "--format", "all",
                "--precision", "int8", "--quant-config", str(path), "--out", str(scratch / "x"),
                "--quiet"]
    return ["benchmark", "--smoothing-config", str(path), "--video", str(blocker),
            "--quiet", "--no-plots", "--out", str(scratch / "bench")]


def _configs(c: _Configs, rng: np.random.Generator, scratch: Path
             ) -> tuple[str, Callable[[], Any]]:
    from gazesdk.cli.sim import load_settings

    kind = str(_pick(rng, list(c.docs)))
    yaml = rng.random() < 0.5
    doc = c.docs[kind]
    how = str(_pick(rng, ["doc", "doc", "doc", "doc2", "text", "good"]))
    label = f"{kind}.{how}"
    text: str | bytes
    if how in ("doc", "doc2"):
        name, doc = mutate_doc(doc, rng)
        label += f".{name}"
        if how == "doc2":
            name2, doc = mutate_doc(doc, rng)
            label += f"+{name2}"
        text = _yaml_text(doc) if yaml else dumps(doc)
    elif how == "text":
        name, text = mutate_text(_yaml_text(doc) if yaml else json.dumps(doc), rng)
        label += f".{name}"
    else:
        text = _yaml_text(doc) if yaml else json.dumps(doc)
    path = scratch / ("settings.yaml" if yaml else "settings.json")
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    label += " [yaml]" if yaml else " [json]"
    if rng.random() < CLI_SHARE:
        argv = _cli_argv(kind, path, scratch)
        return f"{label} [cli {argv[0]}]", lambda: cli_in_process(argv)
    return label, lambda: _use(kind, load_settings(path))


# -- estimator options ------------------------------------------------------------------------
def base_options() -> dict[str, Any]:
    """Every field of GazeEstimatorOptions as plain values (VIDEO mode, One Euro)."""
    from gazesdk.runtime import GazeEstimatorOptions, RunningMode
    from gazesdk.runtime.smoothing import SmoothingOptions

    o = GazeEstimatorOptions(running_mode=RunningMode.VIDEO,
                             smoothing=SmoothingOptions(method="one_euro"))
    out: dict[str, Any] = {}
    for f in dataclasses.fields(o):
        v = getattr(o, f.name)
        if hasattr(v, "to_dict"):
            v = v.to_dict()
        elif dataclasses.is_dataclass(v):
            v = dataclasses.asdict(v)
        elif hasattr(v, "value"):
            v = v.value
        out[f.name] = v
    return json.loads(json.dumps(out))


@dataclass
class _Options:
    doc: dict[str, Any]
    frame: np.ndarray
    garbage: Path


PATH_FIELDS = ("model", "detector_model", "face_landmark_model", "iris_landmark_model",
               "calibration")


def _options_setup(folder: Path) -> _Options:
    garbage = folder / "garbage.tflite"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    return _Options(base_options(), real_face_frame(), garbage)


def _run_options(settings: dict[str, Any], frame: np.ndarray) -> Any:
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, RunningMode

    options = GazeEstimatorOptions.from_dict(settings)
    result = None
    with GazeEstimator(options) as estimator:
        for i in range(3):
            result = (estimator.estimate_for_video(frame, 33 * i)
                      if options.running_mode is RunningMode.VIDEO
                      else estimator.estimate(frame))
    return result


def _estimator_options(o: _Options, rng: np.random.Generator, scratch: Path
                       ) -> tuple[str, Callable[[], Any]]:
    doc = json.loads(json.dumps(o.doc))
    if rng.random() < 0.25:
        field = str(_pick(rng, list(PATH_FIELDS)))
        value = str(_pick(rng, [str(scratch / "missing.onnx"), str(scratch), str(o.garbage),
                                str(o.garbage.with_suffix(".onnx")), "", "default",
                                "~/nothing.tflite"]))
        if value.endswith(".onnx") and "missing" not in value:
            Path(value).write_bytes(o.garbage.read_bytes())
        doc[field] = value
        label = f"path.{field}={Path(value).name or value!r}"
    else:
        name, doc = mutate_doc(doc, rng, depths=PARSED_DEPTHS)
        label = f"doc.{name}"
        if not isinstance(doc, dict):
            from gazesdk.runtime import GazeEstimatorOptions

            return label, lambda: GazeEstimatorOptions.from_dict(doc)  # type: ignore[arg-type]
    return label, lambda: _run_options(doc, o.frame)


TARGETS = {
    "configs": FuzzTarget("configs", 1500, _setup, _configs,
                          "sim / train / smoothing / int8 settings files"),
    "estimator_options": FuzzTarget("estimator_options", 600, _options_setup,
                                    _estimator_options,
                                    "GazeEstimatorOptions.from_dict + estimator creation"),
}
