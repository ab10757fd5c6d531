"""Training data: a dataset folder (array form, or GazeCapture recordings) and torch batches."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from gazesdk.data.arrays import GazeArrays, is_arrays_dir, load_arrays
from gazesdk.errors import DataFormatError

BATCH_FIELDS = ("face", "left_eye", "right_eye", "face_grid", "gaze_cm")


def cache_dir() -> Path:
    """Where decoded datasets are cached: ``$GAZESDK_CACHE``, else ``~/.cache/gazesdk``."""
    return Path(os.environ.get("GAZESDK_CACHE") or Path.home() / ".cache" / "gazesdk")


def open_dataset(path: str | os.PathLike, *, progress: bool = True) -> GazeArrays:
    """A gazesdk array dataset, or a folder of GazeCapture recordings (decoded once into the
    per-user cache, :func:`cache_dir`, keyed by the recordings' files: the dataset folder is
    only read)."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"dataset {path} does not exist")
    if is_arrays_dir(path):
        return load_arrays(path)
    from gazesdk.data.gazecapture import load_gazecapture

    data, summary = load_gazecapture(path, cache_dir=cache_dir() / "gazecapture",
                                     progress=progress)
    if progress:
        print(summary)
    return data


def to_batch(data: GazeArrays, index: np.ndarray, device: torch.device) -> dict[str, torch.Tensor]:
    """Rows ``index`` as model inputs: patches float (N, 3, 64, 64) in [0, 1], face grid
    float (N, 25, 25), gaze (N, 2) cm, and head pose (N, 3) degrees and the eye geometry (N, 4)
    when the dataset has them."""
    index = np.sort(np.asarray(index))          # memory-mapped reads go faster in order

    def patch(name: str) -> torch.Tensor:
        a = torch.from_numpy(np.ascontiguousarray(data[name][index]))
        return a.to(device).permute(0, 3, 1, 2).float().div_(255.0)

    batch = {"face": patch("face"), "left_eye": patch("left_eye"),
             "right_eye": patch("right_eye"),
             "face_grid": torch.from_numpy(np.ascontiguousarray(data["face_grid"][index]))
             .to(device).float(),
             "gaze": torch.from_numpy(np.ascontiguousarray(data["gaze_cm"][index])).to(device)}
    if data.has("head_pose_deg"):
        batch["head_pose"] = torch.from_numpy(
            np.ascontiguousarray(data["head_pose_deg"][index])).to(device)
    if data.has("eye_geometry"):
        batch["eye_geometry"] = torch.from_numpy(
            np.ascontiguousarray(data["eye_geometry"][index])).to(device)
    return batch


def split_indices(data: GazeArrays, split: str, *, calibration: bool = False,
                  stare: bool = True) -> np.ndarray:
    """Row indices of a split; calibration-grid frames are left out unless asked for, and
    stare-sequence frames when ``stare`` is False (training and validation leave them out:
    sixty frames of one dot add jitter measurements, not diversity)."""
    from gazesdk.data.arrays import SPLITS

    if split == "all":
        mask = np.ones(len(data), bool)
    elif split in SPLITS:
        mask = np.asarray(data["split"]) == SPLITS.index(split)
    else:
        raise DataFormatError(f"unknown split {split!r}; expected one of {SPLITS} or 'all'")
    if not calibration:
        mask &= ~np.asarray(data["is_calibration"])
    if not stare:
        mask &= np.asarray(data["sequence"]) < 0
    return np.flatnonzero(mask)


def labelled_subset(data: GazeArrays, index: np.ndarray, fraction: float, *,
                    seed: int) -> np.ndarray:
    """The rows of ``index`` from a fraction of its subjects (at least one), drawn from
    ``seed``: a label-efficiency run trains on all frames of fewer people, as a team that
    records fewer participants would."""
    if fraction >= 1.0:
        return index
    subjects = np.unique(np.asarray(data["subject"])[index])
    keep = max(1, int(round(fraction * len(subjects))))
    chosen = np.random.default_rng([seed, 77]).choice(subjects, keep, replace=False)
    return index[np.isin(np.asarray(data["subject"])[index], chosen)]
