"""Metadata of an exported model: what an app needs to feed it and read it, validated.

Every artifact gets ``<artifact>.json`` beside it (e.g. ``gaze.onnx.json``) and, where the format
allows, the same document embedded in the model (ONNX ``metadata_props``, CoreML user-defined
metadata, a TFLite metadata buffer), all under the key ``gazesdk``. The embedded copy cannot hold
the artifact's own sha256 and size (they would change the hash), nor the parity report and
golden vectors, which are measured after conversion: those are in the side file only.

The document follows ``model-metadata.schema.json`` (JSON Schema 2020-12), checked on write and
on read; :func:`read_metadata` also checks the artifact's sha256, so a truncated or swapped file
is refused with one clear line.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gazesdk import __version__
from gazesdk.errors import GazeSDKError

if TYPE_CHECKING:
    from gazesdk.models.gaze_model import GazeModel

SCHEMA_NAME = "gazesdk-model-metadata"
SCHEMA_VERSION = 1
EMBED_KEY = "gazesdk"
# measured after conversion, or reference text for app developers: in the side file only
SIDE_ONLY = ("golden", "parity", "calibration")

PREPROCESSING = {
    "patch_size": 64,
    "colour_order": "RGB",
    "layout": "NCHW",
    "value_range": [0.0, 1.0],
    "pixel_scale": 1.0 / 255.0,
    "normalisation": "none outside the model: feed RGB values / 255 in [0, 1]; the graph "
                     "computes (x - 0.5) / 0.5 itself",
    "resize": "crop the box from the full camera frame (whole pixels: x, y, w, h rounded "
              "half away from zero), then resize to 64x64 with area averaging (OpenCV "
              "INTER_AREA; on phones a box filter / vImage scale with antialiasing)",
    "crops": {
        "face": "the face detector's box made square: side = the box's size, centred on it, "
                "moved (not cut) to lie inside the frame; (x, y, w, h) in frame pixels from "
                "the top-left corner of the upright camera image",
        "left_eye": "square box centred on the subject's left eye, side 1.45 x the eye's "
                    "width (corner to corner), moved to lie inside the frame",
        "right_eye": "square box centred on the subject's right eye, side 1.45 x the eye's "
                     "width, moved to lie inside the frame",
    },
    "face_grid": "25x25 grid of the frame, row-major with row = y: cells covered by the face "
                 "box are 1, others 0 (GazeCapture: X = round(x * 25 / W) + 1, "
                 "W = round(w * 25 / W), likewise Y and H, 1-indexed, rounded half away from "
                 "zero)",
    "eye_naming": "left_eye is the subject's own left eye, which appears on the right of an "
                  "unmirrored front-camera image",
}
LANDMARK_CROPS = {
    "face": "square box from MediaPipe's face mesh (face_landmark.tflite, 468 points): side = "
            "face_scale x the 3-D distance between the eyes' corner midpoints (points 33-133 "
            "and 362-263, the mesh's z included), centred face_drop x side below the eye "
            "midpoint along the face's down direction, moved (not cut) to lie inside the frame",
    "left_eye": "square box centred on the midpoint of the subject's left eye corners (mesh "
                "points 362 and 263), side eye_scale x the face box side, moved to lie inside "
                "the frame",
    "right_eye": "square box centred on the midpoint of the subject's right eye corners (mesh "
                 "points 33 and 133), side eye_scale x the face box side, moved to lie inside "
                 "the frame",
}


def preprocessing(model: GazeModel | None = None) -> dict[str, Any]:
    """The preprocessing document for ``model``: :data:`PREPROCESSING` with the crop geometry
    it was trained on (``model.config["crops"]``; keypoints-v1 when it names none)."""
    from gazesdk.runtime.crops import DEFAULT_CROPS, get_crop_geometry

    name = (model.config.get("crops") if model is not None else None) or DEFAULT_CROPS
    geometry = get_crop_geometry(name)
    crops = dict(LANDMARK_CROPS if geometry.source == "landmarks" else PREPROCESSING["crops"])
    crops["geometry"] = geometry.to_dict()
    out = {**PREPROCESSING, "crops": crops}
    if model is not None and model.uses_eye_geometry:
        out["eye_geometry"] = EYE_GEOMETRY
    return out


EYE_GEOMETRY = (
    "hybrid model input (gazesdk.runtime.eye_geometry): per eye, with a and b its corners on "
    "the image's left and right (MediaPipe face mesh points 33 and 133 for the right eye, 362 "
    "and 263 for the left) and c the iris centre from MediaPipe's iris_landmark.tflite: "
    "m = (a + b) / 2, w = |b - a|, e1 = (b - a) / w, e2 = (-e1.y, e1.x); u = (c - m).e1 / w, "
    "v = (c - m).e2 / w, frame pixels of the upright unmirrored image (y down); fed as (left "
    "u, left v, right u, right v)")
COORDINATES = {
    "units": "cm",
    "origin": "the front camera's centre, on the screen plane",
    "x": "to the right as the user looks at the screen",
    "y": "up as the user looks at the screen",
    "convention": "GazeCapture (XCam, YCam), for the screen's current orientation",
}


class ArtifactError(GazeSDKError):
    """An exported model or its metadata is missing, corrupt, or does not match."""


@cache
def schema() -> dict[str, Any]:
    """The metadata JSON schema (``model-metadata.schema.json``)."""
    text = resources.files("gazesdk.export").joinpath("model-metadata.schema.json").read_text()
    return json.loads(text)


def validate_metadata(doc: Any, *, where: str = "metadata", side_file: bool = False) -> None:
    """Raise :class:`ArtifactError` (one line, the first problem) unless ``doc`` follows the
    schema; ``side_file`` also requires the artifact's file name, sha256 and size."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        at = "/".join(str(p) for p in e.absolute_path) or "top level"
        raise ArtifactError(f"{where} does not follow the gazesdk metadata schema at {at}: "
                            f"{e.message}")
    if side_file:
        missing = [k for k in ("file", "sha256", "size_bytes") if k not in doc["artifact"]]
        if missing:
            raise ArtifactError(f"{where} lacks artifact {', '.join(missing)}")


def decoding(model: GazeModel) -> dict[str, Any]:
    """How the graph turns features into cm (it does so itself: ``in_graph``)."""
    if model.head_name != "ordinal":
        return {"in_graph": True, "head": "l2"}
    b = model.bins
    lo = [b.x_range[0], b.y_range[0]]
    size = [(b.x_range[1] - b.x_range[0]) / b.bins, (b.y_range[1] - b.y_range[0]) / b.bins]
    return {"in_graph": True, "head": "ordinal", "bins": b.bins,
            "x_range_cm": [float(v) for v in b.x_range],
            "y_range_cm": [float(v) for v in b.y_range],
            "bin_size_cm": size, "centred": bool(b.centred),
            "formula": f"per axis: gaze = low + bin_size * (sum over the {b.bins} bins of "
                       f"sigmoid(logit)){' + bin_size / 2' if b.centred else ''} "
                       f"(Guo et al. 2019, Eq. 1); low = {lo}"}


DESCRIPTIONS = {
    "face": "face patch: RGB values / 255 in [0, 1], channels first (N, 3, 64, 64)",
    "left_eye": "patch of the subject's left eye: RGB / 255, channels first (N, 3, 64, 64)",
    "right_eye": "patch of the subject's right eye: RGB / 255, channels first (N, 3, 64, 64)",
    "face_grid": "25x25 face grid, 1 where the face box covers the cell, else 0 (N, 25, 25)",
    "eye_geometry": "iris centre in each eye, (left u, left v, right u, right v) in eye widths "
                    "(N, 4): see preprocessing.eye_geometry",
    "gaze_cm": "gaze point (x, y) in cm from the front camera, GazeCapture axes (N, 2)",
    "features": "penultimate 128-D gaze feature (N, 128): the final fully connected layer + "
                "ReLU, on which the head predicts gaze_cm; for per-user calibration, e.g. a "
                "ridge regression fitted on the phone. It is the frame as given: for a mirror-"
                "averaged model, the un-mirrored frame's feature, not averaged with the "
                "mirror's",
}
DEFAULT_OUTPUTS: dict[str, tuple[int, ...]] = {"gaze_cm": (1, 2)}


def tensor_specs(shapes: dict[str, tuple[int, ...]], batch: int | str, *,
                 dtypes: dict[str, str] | None = None,
                 quantization: dict[str, dict[str, float | int]] | None = None,
                 outputs: dict[str, tuple[int, ...]] | None = None,
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(inputs, outputs) tensor entries for the metadata: the named inputs at ``batch``
    ("batch" when dynamic) and the ``outputs`` (name -> shape, in order; default ``gaze_cm``
    alone, see :func:`gazesdk.export.graph.output_shapes`); ``dtypes`` and ``quantization``
    (scale, zero point) for the tensors that are not float32."""
    dtypes, quantization = dtypes or {}, quantization or {}
    outputs = DEFAULT_OUTPUTS if outputs is None else outputs

    def entry(name: str, shape: tuple[int, ...]) -> dict[str, Any]:
        e: dict[str, Any] = {"name": name, "shape": [batch, *shape[1:]],
                             "dtype": dtypes.get(name, "float32"),
                             "description": DESCRIPTIONS[name]}
        if name == "gaze_cm":
            e["units"] = "cm"
        if name in quantization:
            e["quantization"] = quantization[name]
        return e

    return ([entry(k, v) for k, v in shapes.items()], [entry(k, v) for k, v in outputs.items()])


def build_metadata(model: GazeModel, *, fmt: str, precision: str,
                   quantization: dict[str, Any], batch: int | str, runtime: str,
                   inputs: list[dict[str, Any]], outputs: list[dict[str, Any]],
                   source: str, training_data: str) -> dict[str, Any]:
    """The embedded metadata document (no hash yet), validated."""
    doc = {
        "schema": SCHEMA_NAME, "schema_version": SCHEMA_VERSION,
        "model": {"name": str(model.config["name"]), "config": model.config,
                  "parameters": int(sum(p.numel() for n, p in model.named_parameters()
                                        if not n.startswith("pose."))),   # not exported
                  "source": source, "training_data": training_data,
                  "gazesdk_version": __version__},
        "artifact": {"format": fmt, "precision": precision, "quantization": quantization,
                     "batch": batch, "runtime": runtime},
        "inputs": inputs, "outputs": outputs,
        "preprocessing": preprocessing(model), "decoding": decoding(model),
        "coordinates": COORDINATES,
    }
    if any(o.get("name") == "features" for o in outputs):
        from gazesdk.calibration.golden import calibration_spec

        # how an app fits the per-user ridge on these features (issue 18)
        doc["calibration"] = calibration_spec()
    doc = json.loads(json.dumps(doc))             # plain JSON types only
    validate_metadata(doc, where="the metadata built for export")
    return doc


def embedded(doc: dict[str, Any]) -> str:
    """The JSON string to embed in the model: no hash, size, parity or golden vectors."""
    inner = {k: v for k, v in doc.items() if k not in SIDE_ONLY}
    inner["artifact"] = {k: v for k, v in doc["artifact"].items()
                         if k not in ("sha256", "size_bytes", "file")}
    return json.dumps(inner, sort_keys=True)


def artifact_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file; of a folder (a CoreML ``.mlpackage``), sha256 over the sorted lines
    ``<relative path>\\0<sha256 of the file>\\n`` of every file in it."""
    p = Path(path)
    if p.is_file():
        return _file_sha(p)
    if p.is_dir():
        h = hashlib.sha256()
        for f in sorted(q for q in p.rglob("*") if q.is_file()):
            h.update(f"{f.relative_to(p).as_posix()}\0{_file_sha(f)}\n".encode())
        return h.hexdigest()
    raise ArtifactError(f"no exported model at {p}")


def artifact_size(path: str | os.PathLike) -> int:
    """Bytes of a file, or of every file in a folder."""
    p = Path(path)
    return p.stat().st_size if p.is_file() else sum(
        f.stat().st_size for f in p.rglob("*") if f.is_file())


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def side_path(artifact: str | os.PathLike) -> Path:
    """``<artifact>.json``."""
    p = Path(artifact)
    return p.with_name(p.name + ".json")


def write_metadata(artifact: str | os.PathLike, doc: dict[str, Any]) -> Path:
    """Fill in the artifact's file name, sha256 and size, validate, write
    ``<artifact>.json``."""
    p = Path(artifact)
    doc = json.loads(json.dumps(doc))
    doc["artifact"].update(file=p.name, sha256=artifact_sha256(p), size_bytes=artifact_size(p))
    validate_metadata(doc, where=f"metadata of {p.name}", side_file=True)
    out = side_path(p)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    return out


def read_metadata(artifact: str | os.PathLike, *, verify: bool = True) -> dict[str, Any]:
    """The side-file metadata of ``artifact``, validated; with ``verify``, the artifact must
    exist and its sha256 match (otherwise :class:`ArtifactError`)."""
    p = Path(artifact)
    meta = side_path(p)
    if not meta.is_file():
        raise ArtifactError(f"{p.name} has no metadata file {meta.name} beside it (export it "
                            f"with gazesdk export)")
    try:
        doc = json.loads(meta.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ArtifactError(f"{meta} is not valid JSON ({e})") from None
    validate_metadata(doc, where=str(meta), side_file=True)
    if verify:
        if not p.exists():
            raise ArtifactError(f"the model file {p} is missing")
        digest = artifact_sha256(p)
        if digest != doc["artifact"]["sha256"]:
            raise ArtifactError(f"{p.name} does not match its metadata (sha256 {digest[:12]}... "
                                f"vs {doc['artifact']['sha256'][:12]}... in {meta.name}): the "
                                f"file is corrupt, truncated or from another export")
    return doc
