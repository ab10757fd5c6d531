"""Profiles from a dataset's calibration frames (``gazesdk calibrate --data``): per session,
fit on its calibration frames, evaluate on its other frames, write one profile per session.

Calibration frames are the rows flagged ``is_calibration`` (GazeSim's ``--calibration-dots``
grid); a dataset without any (a GazeCapture download) uses the first ``first_dots`` dots each
session showed. Evaluation frames are the session's other single-dot frames (stare sequences
left out). A profile's guard uses leave-one-target-out, these grids having no separate
validation points. The model runs through a runtime backend on the dataset's own patches
(its crops must be the model's: a hybrid model needs the ``eye_geometry`` field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from gazesdk.calibration.methods import Samples, fit_calibration, target_errors
from gazesdk.calibration.profile import (
    DEFAULT_DISTANCE_CM,
    CalibrationProfile,
    TargetReport,
    Validation,
    cm_to_deg,
    model_identity,
)
from gazesdk.calibration.session import CollectionOptions, guard
from gazesdk.data.arrays import SPLITS, GazeArrays
from gazesdk.errors import ConfigError, DataFormatError
from gazesdk.geometry.devices import get_device

BATCH = 256


@dataclass(frozen=True)
class SessionFit:
    """One session's profile and its error on the session's other frames (cm)."""

    session: int
    subject: int
    profile: CalibrationProfile
    frames: int
    uncalibrated_cm: float
    calibrated_cm: float          # with the guard: the uncalibrated gaze where it rejected


def run_backend(backend: Any, data: GazeArrays, rows: np.ndarray, *, features: bool
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """The model's gaze (n, 2) (and features) on dataset rows, through a runtime backend."""
    names = tuple(t["name"] for t in backend.metadata["inputs"])
    missing = [k for k in names if k not in ("face", "left_eye", "right_eye") and not data.has(k)]
    if missing:
        raise ConfigError(f"the model takes {', '.join(missing)}, which the dataset lacks (a "
                          f"hybrid model needs a dataset written with landmark crops)")
    if (np.diff(rows) <= 0).any():
        raise ValueError("rows must be sorted and unique")
    gaze, feats = [], []
    for i in range(0, len(rows), BATCH):
        r = rows[i:i + BATCH]
        feed = {}
        for k in names:
            x = np.asarray(data[k][r])
            feed[k] = (x.transpose(0, 3, 1, 2).astype(np.float32) / 255 if x.ndim == 4
                       else x.astype(np.float32))
        if features:
            out = backend.infer_all(feed)
            gaze.append(out[0])
            feats.append(out[1])
        else:
            gaze.append(backend.infer(feed))
    return np.concatenate(gaze), (np.concatenate(feats) if features else None)


def calibration_rows(data: GazeArrays, session_rows: np.ndarray, first_dots: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(calibration rows, their target ids) of one session."""
    flagged = session_rows[np.asarray(data["is_calibration"])[session_rows]]
    rows = flagged
    if not len(flagged) and first_dots:
        single = session_rows[np.asarray(data["sequence"])[session_rows] < 0]
        dots = np.asarray(data["dot_pts"])[single]
        _, first, inverse = np.unique(dots.round(3), axis=0, return_index=True,
                                      return_inverse=True)
        rank = np.argsort(np.argsort(first))[inverse.reshape(-1)]   # order of appearance
        rows = single[rank < first_dots]
    if not len(rows):
        return rows, rows
    dots = np.asarray(data["dot_pts"])[rows].round(3)
    _, ids = np.unique(dots, axis=0, return_inverse=True)
    return rows, ids.reshape(-1)


def fit_sessions(data: GazeArrays, backend: Any, *, method: str = "auto",
                 split: str = "test", first_dots: int = 9, progress: bool = True
                 ) -> tuple[list[SessionFit], list[str]]:
    """Fit and evaluate one profile per session of ``split`` that has calibration frames;
    also the reasons sessions were skipped."""
    split_of = np.asarray(data["split"])
    if split == "all":
        rows_all = np.arange(len(data))
    elif split in SPLITS:
        rows_all = np.flatnonzero(split_of == SPLITS.index(split))
    else:
        raise ConfigError(f"split must be one of {', '.join(SPLITS)} or all, got {split!r}")
    if not len(rows_all):
        raise DataFormatError(f"the {split!r} split is empty")
    sha, name = model_identity(backend.metadata)
    outputs = [o["name"] for o in backend.metadata.get("outputs", [])]
    use_features = "features" in outputs and method in ("auto", "ridge")
    if method == "ridge" and not use_features:
        raise ConfigError("the ridge method needs the model's features: export it with "
                          "--features")
    session = np.asarray(data["session"])
    fits, skipped = [], []
    for s in tqdm(np.unique(session[rows_all]).tolist(), desc="sessions", unit="session",
                  disable=not progress):
        rows = rows_all[session[rows_all] == s]
        cal, ids = calibration_rows(data, rows, first_dots)
        single = rows[(np.asarray(data["sequence"])[rows] < 0)
                      & ~np.isin(rows, cal)]
        if len(np.unique(ids)) < 1 or not len(single):
            skipped.append(f"session {s}: no calibration frames or nothing left to evaluate")
            continue
        order = np.argsort(cal)
        cal, ids = cal[order], ids[order]
        g, f = run_backend(backend, data, cal, features=use_features)
        samples = Samples(g, np.asarray(data["gaze_cm"])[cal], ids, f)
        try:
            fit = fit_calibration(samples, method, offset_prior=CollectionOptions().offset_prior,
                                  prefer_simpler=CollectionOptions().prefer_simpler)
        except ConfigError as e:
            skipped.append(f"session {s}: {e}")
            continue
        dev = get_device(data.devices[int(np.asarray(data["device"])[cal[0]])])
        o = int(np.asarray(data["orientation"])[cal[0]])
        err, base = fit.loto_cm, fit.loto_uncalibrated_cm
        validation = Validation(
            source="leave-one-target-out" if err is not None else "none", error_cm=err,
            uncalibrated_cm=base, error_deg=cm_to_deg(err, DEFAULT_DISTANCE_CM),
            uncalibrated_deg=cm_to_deg(base, DEFAULT_DISTANCE_CM),
            targets=len(samples.targets) if err is not None else 0)
        accepted, reason = guard(validation)
        per_target = target_errors(None, samples)
        reports = tuple(TargetReport(index=int(k), x_pt=float(np.asarray(data["dot_pts"])[
            cal[ids == k][0], 0]), y_pt=float(np.asarray(data["dot_pts"])[cal[ids == k][0], 1]),
            validation=False, kept=int((ids == k).sum()), spread_cm=float(e))
            for k, e in zip(samples.targets, per_target, strict=True))
        profile = CalibrationProfile(map=fit.map, model_sha256=sha, model_name=name, device=dev,
                                     orientation=o, pattern="custom", validation=validation,
                                     accepted=accepted, guard_reason=reason, targets=reports,
                                     extra={"session": int(s), "tried": fit.tried})
        single = np.sort(single)
        ge, fe = run_backend(backend, data, single, features=profile.needs_features)
        truth = np.asarray(data["gaze_cm"])[single]
        before = np.linalg.norm(ge - truth, axis=1)
        after = (np.linalg.norm(profile.apply(ge, fe) - truth, axis=1) if accepted else before)
        fits.append(SessionFit(session=int(s), subject=int(np.asarray(data["subject"])[cal[0]]),
                               profile=profile, frames=len(single),
                               uncalibrated_cm=float(before.mean()),
                               calibrated_cm=float(after.mean())))
    return fits, skipped
