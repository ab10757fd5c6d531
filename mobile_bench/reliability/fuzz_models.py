"""Fuzzing the exported models a user passes as ``model=``: the bundled int8 ONNX and TFLite
files with their ``.json`` metadata, damaged.

The artifact is truncated, bit-flipped, overwritten, replaced, or swapped for the other format
or precision; its metadata is corrupted as text and as a document, swapped for another
artifact's, removed, or edited in ways the schema allows (inputs renamed, reordered or
reshaped, another batch, format or precision, other crop geometry, quantization, pixel scale,
outputs). Half the damaged artifacts are *re-signed* (the metadata's sha256 and size updated to
match), so that the bytes reach ONNX Runtime's and LiteRT's parsers instead of stopping at the
checksum. Each goes through ``GazeEstimator`` creation and one real-face frame, and sometimes
through :func:`gazesdk.runtime.backends.create_backend` and one inference.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.mobile_bench.reliability.base_frames import real_face_frame
from gazesdk.mobile_bench.reliability.corrupt import dumps, mutate_bytes, mutate_doc, mutate_text
from gazesdk.mobile_bench.reliability.sandbox import FuzzTarget

ARTIFACTS = ("gaze_compact_int8.onnx", "gaze_compact_int8.tflite", "gaze_compact_fp32.onnx",
             "gaze_compact_fp32.tflite")


@dataclass
class _Models:
    files: dict[str, bytes]             # artifact name -> bytes
    metadata: dict[str, dict]           # artifact name -> metadata document
    shared: Any                         # an estimator whose detector, mesh and iris are shared
    frame: np.ndarray


def _setup(folder: Path) -> _Models:
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions
    from gazesdk.runtime.backends.base import bundled_dir

    src = bundled_dir()
    files = {n: (src / n).read_bytes() for n in ARTIFACTS}
    meta = {n: json.loads((src / f"{n}.json").read_text()) for n in ARTIFACTS}
    return _Models(files, meta, GazeEstimator(GazeEstimatorOptions()), real_face_frame())


def _pick(rng: np.random.Generator, items: list) -> Any:
    return items[int(rng.integers(0, len(items)))]


def resign(doc: dict, data: bytes) -> dict:
    """``doc`` with its artifact sha256 and size made to match ``data``."""
    doc = json.loads(json.dumps(doc))
    doc["artifact"]["sha256"] = hashlib.sha256(data).hexdigest()
    doc["artifact"]["size_bytes"] = max(len(data), 1)
    return doc


def _semantic_edit(doc: dict, rng: np.random.Generator) -> str:
    """A metadata edit the schema allows (so only the runtime's own checks can catch it)."""
    kind = str(_pick(rng, ["rename_input", "swap_inputs", "drop_input", "input_shape",
                           "batch", "format", "precision", "geometry", "quantization",
                           "pixel_scale", "outputs", "config", "input_dtype"]))
    ins = doc["inputs"]
    if kind == "rename_input":
        t = _pick(rng, ins)
        t["name"] = str(_pick(rng, ["faces", "input_1", "left_eye", "eye_geometry", "x"]))
    elif kind == "swap_inputs":
        i, j = rng.choice(len(ins), 2, replace=False)
        ins[i], ins[j] = ins[j], ins[i]
    elif kind == "drop_input":
        if len(ins) > 3:
            ins.pop(int(rng.integers(0, len(ins))))
    elif kind == "input_shape":
        t = _pick(rng, ins)
        t["shape"] = _pick(rng, [[1, 3, 32, 32], ["batch", 3, 64, 64], [1, 64, 64, 3], [2, 4],
                                 [1], [1, 25, 25, 1]])
    elif kind == "batch":
        doc["artifact"]["batch"] = _pick(rng, ["dynamic", 2, 7, 1])
    elif kind == "format":
        doc["artifact"]["format"] = str(_pick(rng, ["onnx", "tflite", "coreml"]))
    elif kind == "precision":
        doc["artifact"]["precision"] = str(_pick(rng, ["fp32", "fp16", "int8"]))
    elif kind == "geometry":
        g = doc["preprocessing"]["crops"].get("geometry")
        if g is not None:
            key = str(_pick(rng, ["name", "source", "face_scale", "face_drop", "eye_scale",
                                  "min_face_px"]))
            g[key] = _pick(rng, {"name": ["unknown-v9", "keypoints-v1", ""],
                                 "source": ["keypoints", "landmarks"],
                                 "face_scale": [1e-9, 50.0, 1e30],
                                 "face_drop": [-0.99, 0.99],
                                 "eye_scale": [1e-9, 10.0, 1e30],
                                 "min_face_px": [1e-9, 1e9]}[key])
        else:
            doc["preprocessing"]["crops"].pop("face", None)
    elif kind == "quantization":
        t = _pick(rng, ins)
        t["dtype"] = str(_pick(rng, ["int8", "uint8", "float16"]))
        t["quantization"] = {"scale": float(_pick(rng, [1e-30, 1e30, 0.5])),
                             "zero_point": int(_pick(rng, [0, -128, 10**6]))}
    elif kind == "pixel_scale":
        doc["preprocessing"]["pixel_scale"] = float(_pick(rng, [1e-300, 1.0, 1e300]))
    elif kind == "outputs":
        outs = doc["outputs"]
        if len(outs) == 2 and rng.random() < 0.5:
            outs.pop()
        else:
            outs[0]["name"] = str(_pick(rng, ["gaze_cm", "gaze", "features"]))
            if len(outs) == 2:
                outs[1]["shape"] = [1, int(_pick(rng, [1, 64, 128, 1000]))]
    elif kind == "input_dtype":
        _pick(rng, ins)["dtype"] = "uint8"
    else:
        doc["model"]["config"] = _pick(rng, [{}, {"name": "casia"}, {"eye_geometry": False}])
    return f"semantic.{kind}"


def _case_files(m: _Models, rng: np.random.Generator, scratch: Path) -> tuple[str, Path]:
    name = str(_pick(rng, list(ARTIFACTS)))
    data, doc = m.files[name], json.loads(json.dumps(m.metadata[name]))
    suffix = Path(name).suffix
    kind = str(_pick(rng, ["bytes", "bytes", "resigned", "resigned", "resigned", "meta_doc",
                           "meta_text", "semantic", "semantic", "semantic", "swap_meta",
                           "swap_format", "missing_meta", "dirs"]))
    label = kind
    meta_text: str | bytes | None = None
    if kind in ("bytes", "resigned"):
        mutation, data = mutate_bytes(data, rng)
        label = f"{kind}.{mutation}"
        if kind == "resigned":
            doc = resign(doc, data)
    elif kind == "meta_doc":
        mutation, doc = mutate_doc(doc, rng)
        label = f"meta_doc.{mutation}"
    elif kind == "meta_text":
        mutation, meta_text = mutate_text(json.dumps(doc), rng)
        label = f"meta_text.{mutation}"
    elif kind == "semantic":
        label = _semantic_edit(doc, rng)
        if rng.random() < 0.5:          # the same edit with the bytes re-signed: no difference
            doc = resign(doc, data)
    elif kind == "swap_meta":
        other = str(_pick(rng, [n for n in ARTIFACTS if n != name]))
        doc = json.loads(json.dumps(m.metadata[other]))
        label = f"swap_meta.{other}"
    elif kind == "swap_format":
        other = str(_pick(rng, [n for n in ARTIFACTS if Path(n).suffix != suffix]))
        data = m.files[other]
        if rng.random() < 0.5:
            doc = resign(doc, data)
        label = f"swap_format.{other}"
    path = scratch / name
    if kind == "dirs":
        what = str(_pick(rng, ["artifact", "meta", "loop"]))
        label = f"dirs.{what}"
        if what == "artifact":
            path.mkdir()
            (scratch / f"{name}.json").write_text(json.dumps(doc))
        elif what == "meta":
            path.write_bytes(data)
            (scratch / f"{name}.json").mkdir()
        else:
            path.symlink_to(path)
            (scratch / f"{name}.json").write_text(json.dumps(doc))
        return label, path
    path.write_bytes(data)
    if kind != "missing_meta":
        side = scratch / f"{name}.json"
        if meta_text is not None:
            (side.write_bytes if isinstance(meta_text, bytes) else side.write_text)(meta_text)
        else:
            side.write_text(dumps(doc))
    return label, path


def _run_estimator(m: _Models, path: Path) -> Any:
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions

    s = m.shared
    with GazeEstimator(GazeEstimatorOptions(model=str(path)), detector=s.detector,
                       mesh=s.mesh, iris=s.iris) as estimator:
        return estimator.estimate(m.frame)


def _run_backend(path: Path) -> Any:
    from gazesdk.runtime.backends import ModelSpec, create_backend

    backend = create_backend(str(path))
    try:
        spec = ModelSpec.from_metadata(backend.metadata)
        feed = {}
        for t in backend.metadata["inputs"]:
            shape = [1 if d == "batch" else d for d in t["shape"]]
            feed[t["name"]] = np.full(shape, 0.5, np.float32)
        feed = {k: feed[k] for k in spec.input_names}
        out = backend.infer_all(feed)
        if not np.isfinite(out[0]).all():
            raise ValueError(f"non-finite gaze {out[0]!r} from a loaded model")
        return out
    finally:
        backend.close()


def _models(m: _Models, rng: np.random.Generator, scratch: Path
            ) -> tuple[str, Callable[[], Any]]:
    label, path = _case_files(m, rng, scratch)
    shutil.rmtree(scratch / "unused", ignore_errors=True)
    if rng.random() < 0.25:
        return f"{label} [backend]", lambda: _run_backend(path)
    return f"{label} [estimator]", lambda: _run_estimator(m, path)


TARGETS = {
    "model_artifacts": FuzzTarget("model_artifacts", 1000, _setup, _models,
                                  "exported .onnx/.tflite + .json metadata: GazeEstimator, "
                                  "create_backend"),
}
