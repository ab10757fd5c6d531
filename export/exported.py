"""What every export function returns: a model that can run on numpy inputs and be written.

Subclasses (one per format: :mod:`gazesdk.export.onnx`, :mod:`.coreml`, :mod:`.tflite`) hold
the converted bytes or package and know how to run them with the format's own runtime (ONNX
Runtime, the LiteRT interpreter, Core ML on macOS). :meth:`ExportedModel.export` writes the
artifact, ``<artifact>.json`` (metadata with sha256 and the parity report) and the golden
vectors ``<artifact>.golden/`` that an app developer runs on the phone:

- ``NNN_face.png``, ``NNN_left_eye.png``, ``NNN_right_eye.png``: 64x64 RGB patches; the model
  input is the PNG's values / 255, channels first.
- ``NNN_face_grid.png`` (face-grid models): 25x25, 255 where the grid is 1.
- hybrid models: each sample's ``eye_geometry`` (4 numbers) in ``expected.json``.
- ``inputs.npz``: the same inputs as float32 arrays, exactly as fed here.
- ``expected.json``: the gaze (cm) each sample must give, and the tolerance; for an export with
  the ``features`` output, each sample's 128 features too, with their own tolerance.
"""

from __future__ import annotations

import json
import os
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gazesdk.export.metadata import (
    ArtifactError,
    artifact_sha256,
    read_metadata,
    side_path,
    write_metadata,
)
from gazesdk.export.parity import (
    ParityReport,
    ParityTolerance,
    check_parity,
    torch_features,
    torch_predict,
)
from gazesdk.export.samples import ExportSamples

GOLDEN_COUNT = 8
RUN_CHUNK = 64          # rows per call for graphs that take any batch
# What a phone may differ by from this machine's runtime on the golden vectors (other kernels,
# other CPUs): far below what a wrong colour order, layout or scale gives (several cm).
GOLDEN_TOLERANCE_CM = {"fp32": 0.01, "fp16": 0.1, "int8": 0.5}
# The same for the features, as a share of the largest |feature| of the golden samples.
GOLDEN_FEATURES_TOLERANCE = {"fp32": 1e-3, "fp16": 0.02, "int8": 0.1}

# One batch in -> every output in metadata order (a one-output graph may return the array)
Runner = Callable[[Mapping[str, np.ndarray]], "list[np.ndarray] | np.ndarray"]


class ExportedModel(ABC):
    """A converted gaze model: ``run`` it, check it, ``export`` it."""

    format: ClassVar[str]
    suffix: ClassVar[str]

    def __init__(self, metadata: dict[str, Any]) -> None:
        self.metadata = metadata
        self.parity: ParityReport | None = None
        self._golden: tuple[dict[str, np.ndarray], list[np.ndarray]] | None = None
        self._runners: dict[int, Runner] = {}

    @property
    def precision(self) -> str:
        return str(self.metadata["artifact"]["precision"])

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(t["name"] for t in self.metadata["inputs"])

    @property
    def output_names(self) -> tuple[str, ...]:
        """``("gaze_cm",)``, or ``("gaze_cm", "features")`` for an export with features."""
        return tuple(t["name"] for t in self.metadata.get("outputs", [{"name": "gaze_cm"}]))

    @property
    def has_features(self) -> bool:
        return "features" in self.output_names

    @property
    def batch(self) -> int | None:
        """The fixed batch size of the graph, or None when it takes any batch."""
        b = self.metadata["artifact"]["batch"]
        return None if b == "dynamic" else int(b)

    @property
    def can_run(self) -> bool:
        """Whether this machine can run the format (Core ML needs macOS)."""
        return True

    @property
    def cannot_run_reason(self) -> str:
        return ""

    @abstractmethod
    def _make_runner(self, threads: int) -> Runner:
        """A function running one batch of validated float32 inputs (the graph's batch size
        when it is fixed) and returning every output, in :attr:`output_names` order."""

    @abstractmethod
    def _write(self, path: Path) -> None:
        """Write the artifact (with the metadata embedded where the format allows)."""

    def runner(self, threads: int = 1) -> Runner:
        """A bound runner (session, interpreter) for ``threads`` threads, for timing loops:
        no input checks, inputs at the graph's batch size."""
        if not self.can_run:
            raise ArtifactError(f"cannot run a {self.format} model here: "
                                f"{self.cannot_run_reason}")
        if not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
        if threads not in self._runners:
            self._runners[threads] = self._make_runner(threads)
        return self._runners[threads]

    def run(self, inputs: Mapping[str, np.ndarray], *, threads: int = 1) -> np.ndarray:
        """(N, 2) gaze in cm for inputs ``{name: array}``: patches (N, 3, 64, 64) RGB in
        [0, 1], face grid (N, 25, 25) of 0/1 (see ``metadata["inputs"]``)."""
        return self.run_all(inputs, threads=threads)[0]

    def run_all(self, inputs: Mapping[str, np.ndarray], *, threads: int = 1
                ) -> list[np.ndarray]:
        """Every output for ``inputs`` (as :meth:`run`), in :attr:`output_names` order:
        gaze (N, 2) cm, then features (N, 128) when the export has them."""
        x = self._checked(inputs)
        n = len(next(iter(x.values())))
        run = self.runner(threads)
        step = self.batch or RUN_CHUNK              # bounded memory for big models
        tails = [tuple(t["shape"][1:]) for t in self.metadata.get("outputs", [])] or [(2,)]
        outs = [np.zeros((n, *tail), np.float32) for tail in tails]
        for i in range(0, n, step):
            part = {k: v[i:i + step] for k, v in x.items()}
            m = len(next(iter(part.values())))
            if self.batch is not None and m < self.batch:  # pad a fixed batch, keep its rows
                part = {k: np.concatenate([v, np.repeat(v[-1:], self.batch - m, 0)])
                        for k, v in part.items()}
            got = run(part)
            got = [got] if isinstance(got, np.ndarray) else list(got)
            if len(got) != len(outs):
                raise ArtifactError(f"the {self.format} model gave {len(got)} outputs; its "
                                    f"metadata names {len(outs)}")
            for out, y, tail in zip(outs, got, tails, strict=True):
                out[i:i + m] = np.asarray(y, np.float32).reshape(-1, *tail)[:m]
        return outs

    def _checked(self, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        if not isinstance(inputs, Mapping):
            raise ValueError(f"inputs must be a mapping of names to arrays, got "
                             f"{type(inputs).__name__}")
        names = self.input_names
        missing = [k for k in names if k not in inputs]
        extra = [k for k in inputs if k not in names]
        if missing or extra:
            raise ValueError(f"the model takes inputs {', '.join(names)}; missing "
                             f"{missing or 'none'}, unknown {extra or 'none'}")
        out, sizes = {}, set()
        for spec in self.metadata["inputs"]:
            a = np.asarray(inputs[spec["name"]])
            want = tuple(spec["shape"][1:])
            if a.ndim != len(spec["shape"]) or tuple(a.shape[1:]) != want:
                raise ValueError(f"{spec['name']} must have shape (N, "
                                 f"{', '.join(map(str, want))}), got {a.shape}")
            if not np.issubdtype(a.dtype, np.floating):
                raise ValueError(f"{spec['name']} must be float in [0, 1] (pixels / 255), "
                                 f"got {a.dtype}")
            out[spec["name"]] = np.ascontiguousarray(a, np.float32)
            sizes.add(len(a))
        if len(sizes) != 1 or 0 in sizes:
            raise ValueError(f"inputs must share one batch size >= 1, got {sorted(sizes)}")
        return out

    def verify(self, model: Any, samples: ExportSamples, *,
               tolerance: ParityTolerance | None = None, threads: int = 1) -> ParityReport:
        """Parity with the torch ``model`` on ``samples`` (raises :class:`ParityError` past the
        tolerance); keeps the report and a few samples as golden vectors."""
        ref = torch_predict(model, samples)
        self.parity = check_parity(self, model, samples, tolerance=tolerance,
                                   threads=threads, reference=ref)
        pick = np.unique(np.linspace(0, len(samples) - 1, min(GOLDEN_COUNT, len(samples)))
                         .round().astype(int))
        golden = samples.take(pick)
        # on the 1/255 grid, so that the PNG files hold exactly the inputs the outputs are for
        golden = ExportSamples({k: np.rint(np.clip(v, 0, 1) * 255).astype(np.float32) / 255
                                for k, v in golden.inputs.items()},
                               golden.gaze_cm, golden.sequence, golden.source)
        torch_out = [torch_predict(model, golden)]
        if self.has_features:
            torch_out.append(torch_features(model, golden))
        self._golden = (golden.for_model(self.input_names), torch_out)
        return self.parity

    def export(self, path: str | os.PathLike) -> Path:
        """Write the artifact at ``path`` (suffix ``.onnx``, ``.mlpackage`` or ``.tflite``),
        ``<path>.json`` and ``<path>.golden/``; returns ``path``. Needs :meth:`verify` first
        (the export functions call it), so that nothing unchecked is written."""
        p = Path(path)
        if p.suffix != self.suffix:
            raise ArtifactError(f"a {self.format} model is written to a {self.suffix} path, "
                                f"got {p.name}")
        if self.parity is None or self._golden is None:
            raise ArtifactError("check the export first: exported.verify(model, samples)")
        p.parent.mkdir(parents=True, exist_ok=True)
        # Everything is written into a hidden staging folder beside it and renamed into place,
        # the metadata last: a killed export leaves no half-written file at a final path, and
        # an artifact without its metadata is refused by every loader.
        staging = p.with_name(f".{p.name}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            staged = staging / p.name
            self._write(staged)
            doc = json.loads(json.dumps(self.metadata))
            doc["parity"] = self.parity.to_dict()
            doc["golden"] = self._write_golden(golden_dir(staged))
            doc["golden"]["folder"] = golden_dir(p).name
            write_metadata(staged, doc)
            for old in (side_path(p), p, golden_dir(p)):
                if old.is_dir():
                    shutil.rmtree(old)
                elif old.exists():
                    old.unlink()
            for made, final in ((golden_dir(staged), golden_dir(p)), (staged, p),
                                (side_path(staged), side_path(p))):
                os.replace(made, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return p

    def _write_golden(self, folder: Path) -> dict[str, Any]:
        import cv2

        assert self._golden is not None
        inputs, torch_out = self._golden
        torch_cm = torch_out[0]
        expected_from = "artifact" if self.can_run else "torch"
        outs = self.run_all(inputs) if self.can_run else torch_out
        cm = outs[0]
        features = outs[self.output_names.index("features")] if self.has_features else None
        folder.mkdir(parents=True)
        if self.has_features:           # for a port of the on-device calibration (issue 18)
            from gazesdk.calibration.golden import golden_vectors

            (folder / "calibration.json").write_text(json.dumps(golden_vectors(), indent=1))
        samples = []
        for i in range(len(cm)):
            files = {}
            values = {}
            for name, a in inputs.items():
                if a.ndim == 2:              # a vector input (eye_geometry): values, no image
                    values[name] = [float(v) for v in a[i]]
                    continue
                img = np.rint(a[i] * 255).clip(0, 255).astype(np.uint8)
                if img.ndim == 3:
                    img = cv2.cvtColor(img.transpose(1, 2, 0), cv2.COLOR_RGB2BGR)
                files[name] = f"{i:03d}_{name}.png"
                cv2.imwrite(str(folder / files[name]), img)
            samples.append({"id": f"{i:03d}", "files": files, **values,
                            "gaze_cm": [float(v) for v in cm[i]],
                            "torch_gaze_cm": [float(v) for v in torch_cm[i]]})
            if features is not None:
                samples[-1]["features"] = [float(v) for v in features[i]]
        np.savez(folder / "inputs.npz", **inputs)
        tol = GOLDEN_TOLERANCE_CM[self.precision]
        how = ("decode each PNG as RGB, divide by 255, lay out channels first (the face grid: "
               "one channel, 255 -> 1; eye_geometry: the sample's four numbers as they are), "
               "run the model, compare gaze_cm with gaze_cm here "
               "within tolerance_cm per axis")
        quantized = [t for t in self.metadata["inputs"] if t["dtype"] != "float32"]
        for t in quantized:
            q = t["quantization"]
            how += (f"; {t['name']} is a {t['dtype']} input: feed clip(round(x / {q['scale']!r})"
                    f" + {q['zero_point']}) of the values x above")
        spec: dict[str, Any] = {"output": "gaze_cm", "units": "cm",
                                "expected_from": expected_from, "tolerance_cm": tol}
        if features is not None:
            spec["outputs"] = list(self.output_names)
            spec["features_tolerance"] = float(
                GOLDEN_FEATURES_TOLERANCE[self.precision] * max(np.abs(features).max(), 1e-6))
            how += ("; features: compare the model's second output, element by element, with "
                    "each sample's features within features_tolerance")
            for t in self.metadata["outputs"]:
                if t["dtype"] != "float32":
                    q = t["quantization"]
                    how += (f" ({t['name']} is a {t['dtype']} output: read (q - "
                            f"{q['zero_point']}) * {q['scale']!r})")
        spec.update(samples=samples, how=how)
        (folder / "expected.json").write_text(json.dumps(spec, indent=2) + "\n")
        files = sorted(p for p in folder.iterdir() if p.is_file())
        return {"folder": folder.name, "count": len(cm), "expected_from": expected_from,
                "tolerance_cm": tol,
                "sha256": {p.name: artifact_sha256(p) for p in files}}


class BytesExport(ExportedModel):
    """A format whose artifact is one file, held as its bytes (ONNX, TFLite)."""

    def __init__(self, model_bytes: bytes, metadata: dict[str, Any]) -> None:
        super().__init__(metadata)
        self.model_bytes = model_bytes

    def _write(self, path: Path) -> None:
        path.write_bytes(self.model_bytes)

    @classmethod
    def load(cls, path: Path, metadata: dict[str, Any]) -> BytesExport:
        return cls(path.read_bytes(), metadata)


def golden_dir(artifact: str | os.PathLike) -> Path:
    """``<artifact>.golden``."""
    p = Path(artifact)
    return p.with_name(p.name + ".golden")


def read_golden(artifact: str | os.PathLike) -> tuple[dict[str, np.ndarray], np.ndarray, float]:
    """(inputs, expected (n, 2) cm, tolerance cm) of an artifact's golden vectors, from the
    PNG files (as a phone would read them)."""
    import cv2

    folder = golden_dir(artifact)
    listed = read_metadata(artifact, verify=False).get("golden", {}).get("sha256", {})
    for name, digest in listed.items():
        if not (folder / name).is_file() or artifact_sha256(folder / name) != digest:
            raise ArtifactError(f"golden vector file {folder / name} is missing or does not "
                                f"match the metadata's sha256")
    try:
        spec = json.loads((folder / "expected.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ArtifactError(f"no readable golden vectors in {folder} ({e})") from None
    inputs: dict[str, list[np.ndarray]] = {}
    for s in spec["samples"]:
        for name, file in s["files"].items():
            img = cv2.imread(str(folder / file), cv2.IMREAD_UNCHANGED)
            if img is None:
                raise ArtifactError(f"unreadable golden image {folder / file}")
            if img.ndim == 3:
                img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).transpose(2, 0, 1)
            inputs.setdefault(name, []).append(img.astype(np.float32) / 255)
    expected = np.array([s["gaze_cm"] for s in spec["samples"]], np.float32)
    return {k: np.stack(v) for k, v in inputs.items()}, expected, float(spec["tolerance_cm"])


def load_exported(path: str | os.PathLike, *, verify: bool = True) -> ExportedModel:
    """Open an exported artifact with its metadata (sha256 checked unless ``verify=False``)."""
    from gazesdk.export.registry import exporter_class

    doc = read_metadata(path, verify=verify)
    return exporter_class(doc["artifact"]["format"]).load(Path(path), doc)
