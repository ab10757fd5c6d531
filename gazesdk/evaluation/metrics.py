"""Gaze accuracy metrics: Euclidean error in cm and the paper's stare-stability MSD.

Following Guo et al. ("A Generalized and Robust Method Towards Practical Gaze Estimation on
Smart Phone", ICCV Workshops 2019): the accuracy metric is the mean Euclidean distance between
predicted and true gaze points on the camera-centred plane (cm), and the stability metric MSD
(Eq. 10-12) is the mean, over stare sequences, of the spread of the predictions of frames that
all fixate one dot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from gazesdk.data.arrays import GazeArrays
from gazesdk.geometry.devices import get_device

ORIENTATION_NAMES = {1: "portrait", 2: "upside down", 3: "landscape, home right",
                     4: "landscape, home left"}


def _points(a: object, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must be an (N, 2) array of gaze points in cm, got shape "
                         f"{arr.shape}")
    return arr


def euclidean_errors(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Per-frame Euclidean distance (cm) between predicted and true gaze points, shape (N,)."""
    p, t = _points(pred, "pred"), _points(true, "true")
    if p.shape != t.shape:
        raise ValueError(f"pred and true differ in shape: {p.shape} vs {t.shape}")
    return np.linalg.norm(p - t, axis=1)


def mean_error_cm(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean Euclidean error in cm (nan for no frames)."""
    err = euclidean_errors(pred, true)
    return float(err.mean()) if len(err) else float("nan")


def sequence_spreads(pred: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """sigma_j (cm) for every stare sequence j with at least two frames, ordered by id.

    Eq. 10: mu_j = mean of the predictions g(x_i) of the frames of sequence j; Eq. 11:
    sigma_j = sqrt(mean_i ||g(x_i) - mu_j||^2). Frames with ``sequence`` -1 (or any negative
    id) are not part of a stare and are ignored; one-frame sequences have no spread and are
    skipped.
    """
    p = _points(pred, "pred")
    seq = np.asarray(sequence).reshape(-1)
    if len(seq) != len(p):
        raise ValueError(f"pred has {len(p)} rows but sequence has {len(seq)}")
    stare = seq >= 0
    if not stare.any():
        return np.zeros(0)
    ids, inverse, counts = np.unique(seq[stare], return_inverse=True, return_counts=True)
    pts = p[stare]
    mu = np.stack([np.bincount(inverse, pts[:, k], len(ids)) for k in range(2)], 1) \
        / counts[:, None]
    sq = np.sum((pts - mu[inverse]) ** 2, axis=1)
    sigma = np.sqrt(np.bincount(inverse, sq, len(ids)) / counts)
    return sigma[counts >= 2]


def msd_cm(pred: np.ndarray, sequence: np.ndarray) -> float:
    """The paper's MSD (Eq. 12): the mean of sigma_j over stare sequences (see
    :func:`sequence_spreads`); nan when there is no sequence of two or more frames."""
    sigma = sequence_spreads(pred, sequence)
    return float(sigma.mean()) if len(sigma) else float("nan")


def evaluate_predictions(pred: np.ndarray, data: GazeArrays | Mapping[str, np.ndarray], *,
                         device_names: Sequence[str] | None = None) -> dict:
    """Error and stability of predictions for the rows of ``data``.

    The error (``error_cm``, ``count``) is over the frames that are neither calibration
    frames nor part of a stare sequence (a stare sequence is many frames of one dot: it
    measures jitter, not accuracy); when every frame is in a stare sequence, over those.
    ``by_device_type`` ("phone", "tablet", from
    :func:`~gazesdk.geometry.devices.get_device` ``.kind``) and ``by_orientation`` ("1" to
    "4") break it down, listing only groups that have frames.
    ``msd_cm`` (Eq. 12) and ``msd_sequences`` (how many sequences it averages) are present when
    the data has stare sequences of two or more frames; MSD uses all their frames.

    ``data`` is a :class:`GazeArrays` or a mapping with ``gaze_cm``, ``device`` and
    ``orientation`` (``sequence`` and ``is_calibration`` are optional: -1 / False). ``device``
    indexes ``device_names``, which defaults to ``data.devices`` for a GazeArrays.
    """
    if device_names is None:
        if not isinstance(data, GazeArrays):
            raise ValueError("device_names is needed when data is not a GazeArrays")
        device_names = data.devices
    fields = data.fields if isinstance(data, GazeArrays) else data
    for name in ("gaze_cm", "device", "orientation"):
        if name not in fields:
            raise ValueError(f"data lacks the field {name!r}")
    true = _points(fields["gaze_cm"], "data['gaze_cm']")
    p = _points(pred, "pred")
    if len(p) != len(true):
        raise ValueError(f"pred has {len(p)} rows but data has {len(true)}")
    n = len(true)
    device = np.asarray(fields["device"]).reshape(-1).astype(np.int64)
    orientation = np.asarray(fields["orientation"]).reshape(-1).astype(np.int64)
    sequence = (np.asarray(fields["sequence"]).reshape(-1) if "sequence" in fields
                else np.full(n, -1))
    calibration = (np.asarray(fields["is_calibration"]).reshape(-1).astype(bool)
                   if "is_calibration" in fields else np.zeros(n, bool))
    if not (len(device) == len(orientation) == len(sequence) == len(calibration) == n):
        raise ValueError("data fields differ in length")
    if n and (device.min() < 0 or device.max() >= len(device_names)):
        raise ValueError(f"device index out of range for {len(device_names)} device names")

    err = euclidean_errors(p, true)
    used = ~calibration & (sequence < 0)
    if not used.any():
        used = ~calibration

    def summary(mask: np.ndarray) -> dict:
        e = err[mask]
        return {"error_cm": float(e.mean()) if len(e) else float("nan"), "count": int(len(e))}

    result: dict = summary(used)
    kinds = np.full(n, "", dtype=object)
    for index in np.unique(device[used]).tolist():
        kinds[device == index] = get_device(device_names[index]).kind
    result["by_device_type"] = {k: summary(used & (kinds == k)) for k in ("phone", "tablet")
                                if np.any(used & (kinds == k))}
    result["by_orientation"] = {str(o): summary(used & (orientation == o))
                                for o in sorted(set(orientation[used].tolist()))}
    sigma = sequence_spreads(p, sequence)
    if len(sigma):
        result["msd_cm"] = float(sigma.mean())
    result["msd_sequences"] = int(len(sigma))
    return result


def format_table(result: Mapping) -> str:
    """A short plain-text table of an :func:`evaluate_predictions` result, for the CLI."""
    rows: list[tuple[str, str, str]] = [("", "error (cm)", "frames")]

    def add(label: str, part: Mapping) -> None:
        rows.append((label, f"{part['error_cm']:.3f}", str(part["count"])))

    add("all", result)
    for kind, part in result.get("by_device_type", {}).items():
        add(kind, part)
    for o, part in result.get("by_orientation", {}).items():
        name = ORIENTATION_NAMES.get(int(o), "")
        add(f"orientation {o}" + (f" ({name})" if name else ""), part)
    if "msd_cm" in result:
        rows.append(("MSD, stare stability", f"{result['msd_cm']:.3f}",
                     f"{result.get('msd_sequences', 0)} seq."))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    return "\n".join(f"{a:<{w0}}  {b:>{w1}}  {c:>{w2}}".rstrip() for a, b, c in rows)
