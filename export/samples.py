"""Model inputs for calibration, parity checks and golden vectors: real samples, not noise.

Static int8 needs calibration data that looks like what the phone will see (activation ranges
from random noise are wrong ranges); a parity check needs held-out samples with labels and
stare sequences, so that it can report the change in test error and MSD as well as the output
difference. :class:`ExportSamples` holds both kinds, cut from a gazesdk array dataset (GazeSim's
or a user's GazeCapture cache) or from a small GazeSim set made on the spot
(:func:`gazesim_samples`): different subjects from any the bundled model was trained on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from gazesdk.data.arrays import PATCHES, SPLITS, GazeArrays
from gazesdk.errors import DataFormatError

GRID = "face_grid"
GEOMETRY = "eye_geometry"
# GazeSim settings of the built-in sample sets: 40 subjects (20 calibration, 20 held out),
# 40 random-dot frames and 2 stare sequences of 30 frames each; seed unlike any training set's.
# Static int8 calibrated on 800 frames of 20 people moved the bundled model's test error by
# -0.01 cm, against +0.10 cm on 300 frames of 10 people (ONNX Runtime, MinMax).
GAZESIM_SETTINGS = {"subjects": 40, "frames_per_subject": 40, "sessions_per_subject": 1,
                    "stare_sequences": 2, "stare_frames": 30,
                    "split_fractions": (0.5, 0.0, 0.5), "seed": 80_808}


@runtime_checkable
class CalibrationData(Protocol):
    """What static int8 quantization reads: batches of named float32 model inputs."""

    def batches(self, batch_size: int, *, limit: int | None = None
                ) -> Iterator[dict[str, np.ndarray]]:
        """Successive batches ``{input name: (n, ...) float32}``, at most ``limit`` samples."""
        ...


@dataclass(frozen=True)
class ExportSamples:
    """Model inputs (float32, NCHW patches in [0, 1], face grid of 0/1) with their labels.

    ``gaze_cm`` is the (N, 2) ground truth, ``sequence`` the stare-sequence id of each sample
    (-1 outside one) for MSD. Implements :class:`CalibrationData`.
    """

    inputs: dict[str, np.ndarray]
    gaze_cm: np.ndarray
    sequence: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.gaze_cm)

    def take(self, index: np.ndarray | slice) -> ExportSamples:
        """The samples at ``index``."""
        return ExportSamples({k: v[index] for k, v in self.inputs.items()},
                             self.gaze_cm[index], self.sequence[index], self.source)

    def batches(self, batch_size: int, *, limit: int | None = None
                ) -> Iterator[dict[str, np.ndarray]]:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        n = len(self) if limit is None else min(int(limit), len(self))
        for i in range(0, n, batch_size):
            yield {k: v[i:min(i + batch_size, n)] for k, v in self.inputs.items()}

    def for_model(self, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The inputs a model with input ``names`` takes (face grid dropped if unused)."""
        missing = [k for k in names if k not in self.inputs]
        if missing:
            raise DataFormatError(f"the samples ({self.source}) lack the model's input(s) "
                                  f"{missing}: a hybrid model needs samples with landmark crops "
                                  f"and eye geometry")
        return {k: self.inputs[k] for k in names}

    @classmethod
    def from_arrays(cls, data: GazeArrays, *, split: str, limit: int | None = None,
                    seed: int = 0, stare: bool = True, source: str = "") -> ExportSamples:
        """Rows of one split (calibration-grid frames left out). With ``limit``, a random
        subset drawn from ``seed`` (whole stare sequences are not kept together: use no limit
        for MSD). ``stare=False`` leaves stare-sequence frames out (calibration)."""
        if split not in SPLITS:
            raise DataFormatError(f"unknown split {split!r}; expected one of {SPLITS}")
        mask = (np.asarray(data["split"]) == SPLITS.index(split)) \
            & ~np.asarray(data["is_calibration"])
        if not stare:
            mask &= np.asarray(data["sequence"]) < 0
        index = np.flatnonzero(mask)
        if not len(index):
            raise DataFormatError(f"the dataset has no {split} samples to export with")
        if limit is not None and limit < len(index):
            rng = np.random.default_rng(seed)
            index = np.sort(rng.choice(index, size=int(limit), replace=False))

        def patch(name: str) -> np.ndarray:
            return np.asarray(data[name][index]).transpose(0, 3, 1, 2).astype(np.float32) / 255

        inputs = {name: patch(name) for name in PATCHES}
        inputs[GRID] = np.asarray(data[GRID][index]).astype(np.float32)
        if data.has(GEOMETRY):
            inputs[GEOMETRY] = np.asarray(data[GEOMETRY][index]).astype(np.float32)
        return cls(inputs, np.asarray(data["gaze_cm"][index], np.float32),
                   np.asarray(data["sequence"][index], np.int64), source or split)


def gazesim_arrays(*, crops: str = "truth", **overrides: object) -> GazeArrays:
    """The built-in GazeSim sample set (:data:`GAZESIM_SETTINGS`), rendered in memory, with
    GazeSim's truth crops or (``crops="landmarks"``) the runtime's landmark crops (needs the
    runtime's models: :mod:`gazesdk.runtime.gazesim_crops`)."""
    from gazesdk.sim import GazeSim, SimConfig
    from gazesdk.sim.generator import CHUNK

    sim = GazeSim(SimConfig(**{**GAZESIM_SETTINGS, **overrides}))
    if crops == "landmarks":
        from gazesdk.runtime.gazesim_crops import LandmarkCropper

        cropper = LandmarkCropper()
        try:
            chunks = [cropper.chunk(sim, i, min(i + CHUNK, len(sim)))
                      for i in range(0, len(sim), CHUNK)]
        finally:
            cropper.close()
    elif crops == "truth":
        chunks = list(sim.iter_chunks())
    else:
        raise ValueError(f"crops must be 'truth' or 'landmarks', got {crops!r}")
    fields = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    return GazeArrays(fields, sim.device_names, {"source": "GazeSim"})


def gazesim_samples(**overrides: object) -> tuple[ExportSamples, ExportSamples]:
    """(calibration, held-out) samples from a fresh GazeSim set: the training split's
    random-dot frames, and the test split's frames with its stare sequences."""
    data = gazesim_arrays(**overrides)
    calib = ExportSamples.from_arrays(data, split="train", stare=False,
                                      source="GazeSim calibration subjects")
    held = ExportSamples.from_arrays(data, split="test", source="GazeSim held-out subjects")
    return calib, held


_BUILT_IN: dict[str, tuple[ExportSamples, ExportSamples]] = {}


def built_in_samples(model: object = None) -> tuple[ExportSamples, ExportSamples]:
    """(calibration, held-out) from :func:`gazesim_samples` with the default settings, made
    once per process (a few seconds); for a hybrid ``model`` (``uses_eye_geometry``) cut with
    the runtime's landmark crops, which also give the eye geometry."""
    crops = "landmarks" if getattr(model, "uses_eye_geometry", False) else "truth"
    if crops not in _BUILT_IN:
        _BUILT_IN[crops] = gazesim_samples(crops=crops)
    return _BUILT_IN[crops]


def calibration_for(settings: dict, calibration: CalibrationData | None,
                    model: object = None) -> CalibrationData | None:
    """The calibration data static int8 needs (the built-in GazeSim set unless given); None
    for any other setting. Anything but a :class:`CalibrationData` is an error. When the data
    has a length, ``settings["calibration_samples"]`` becomes the number actually used."""
    if settings.get("mode") != "static":
        return None
    if calibration is None:
        calibration = built_in_samples(model)[0]
    if not isinstance(calibration, CalibrationData):
        raise TypeError(f"calibration must provide batches(batch_size, limit=...) "
                        f"(e.g. an ExportSamples), got {type(calibration).__name__}")
    if hasattr(calibration, "__len__"):
        settings["calibration_samples"] = min(settings["calibration_samples"], len(calibration))
    return calibration
