"""GazeCapture's on-disk recording format: a writer (used by GazeSim) and a robust loader.

A GazeCapture root holds one folder per recording (``00002/``, ``00003/``, ...) with
``frames/*.jpg`` and JSON files of per-frame arrays (see ``write_recording`` for the layout).
:func:`load_gazecapture` turns a root into :class:`~gazesdk.data.arrays.GazeArrays`, skipping
and counting bad recordings and frames instead of failing, and can cache the result in the
array form so that JPEGs are decoded once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.lib.format import open_memmap
from tqdm import tqdm

from gazesdk.data.arrays import (
    FIELDS,
    FORMAT_VERSION,
    PATCH_SIZE,
    SPLITS,
    ArraysWriter,
    GazeArrays,
    empty_fields,
    is_arrays_dir,
    load_arrays,
)
from gazesdk.data.facegrid import face_grid_mask, face_grid_params, round_half_away
from gazesdk.errors import ConfigError, DataFormatError, UnknownDeviceError
from gazesdk.geometry.devices import check_orientation, get_device, list_devices

LOADER_VERSION = 1  # bump when the loader's output for the same files changes
_BOX_KEYS = ("X", "Y", "W", "H")
_JSON_KEYS = {
    "appleFace.json": (*_BOX_KEYS, "IsValid"),
    "appleLeftEye.json": (*_BOX_KEYS, "IsValid"),
    "appleRightEye.json": (*_BOX_KEYS, "IsValid"),
    "faceGrid.json": _BOX_KEYS,
    "dotInfo.json": ("XPts", "YPts", "XCam", "YCam"),
    "screen.json": ("W", "H", "Orientation"),
}
_WORKERS = min(8, os.cpu_count() or 1)


@dataclass(frozen=True)
class RecordingFrame:
    """One frame of a recording as GazeSim renders it; boxes are (x, y, w, h) in frame pixels."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    face_box: tuple[float, float, float, float]
    left_eye_box: tuple[float, float, float, float]  # subject's left eye: right side of the image
    right_eye_box: tuple[float, float, float, float]
    gaze_cm: tuple[float, float]  # (XCam, YCam)
    dot_pts: tuple[float, float]  # (XPts, YPts) from the screen's top-left
    screen_pts: tuple[float, float]  # active screen (W, H) in points for this orientation
    orientation: int  # 1-4
    dot_num: int = 0
    time_s: float = 0.0
    face_valid: bool = True
    left_eye_valid: bool = True
    right_eye_valid: bool = True


def _num(v: float) -> int | float:
    v = float(v)
    return int(v) if v.is_integer() else v


def _dump(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj))


def _check_frame_values(i: int, f: RecordingFrame) -> None:
    for name, n in (("face_box", 4), ("left_eye_box", 4), ("right_eye_box", 4), ("gaze_cm", 2),
                    ("dot_pts", 2), ("screen_pts", 2)):
        try:
            v = np.asarray(getattr(f, name), np.float64)
        except (TypeError, ValueError):
            v = np.empty(0)
        if v.shape != (n,) or not np.isfinite(v).all():
            raise DataFormatError(f"frame {i}: {name} must be {n} finite numbers, got "
                                  f"{getattr(f, name)!r}")


def write_recording(folder: str | os.PathLike, frames: Iterable[RecordingFrame], *,
                    device_name: str, split: str, jpeg_quality: int = 95) -> Path:
    """Write one recording in GazeCapture's layout; returns the folder.

    Layout: ``frames/00000.jpg ...`` and ``frames.json`` (their names); ``appleFace.json``,
    ``appleLeftEye.json``, ``appleRightEye.json`` (X, Y, W, H, IsValid; eye boxes relative to
    the face box's top-left); ``faceGrid.json`` (the 1-indexed 25x25 grid box, valid when the
    face and both eyes are); ``dotInfo.json`` (DotNum, XPts, YPts, XCam, YCam, Time);
    ``screen.json`` (H, W, Orientation); ``info.json``; ``motion.json`` (empty).
    Files go to ``FOLDER.partial`` first and are renamed into place at the end, so an
    interrupted write never leaves a folder that looks complete.
    """
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")
    get_device(device_name)
    if not 0 <= jpeg_quality <= 100:
        raise ConfigError(f"jpeg_quality must be 0-100, got {jpeg_quality}")
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DataFormatError(f"{folder} exists and is not an empty folder")
    tmp = folder.with_name(folder.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "frames").mkdir(parents=True)
    try:
        names: list[str] = []
        boxes: dict[str, dict[str, list]] = {
            k: {"X": [], "Y": [], "W": [], "H": [], "IsValid": []}
            for k in ("appleFace", "appleLeftEye", "appleRightEye", "faceGrid")}
        dot: dict[str, list] = {k: [] for k in ("DotNum", "XPts", "YPts", "XCam", "YCam", "Time")}
        screen: dict[str, list] = {"H": [], "W": [], "Orientation": []}
        for i, f in enumerate(frames):
            img = np.asarray(f.image)
            if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
                raise DataFormatError(f"frame {i}: image must be (H, W, 3) uint8 RGB, got "
                                      f"{img.dtype}{img.shape}")
            check_orientation(f.orientation)
            _check_frame_values(i, f)
            name = f"{i:05d}.jpg"
            if not cv2.imwrite(str(tmp / "frames" / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]):
                raise OSError(f"could not write {tmp / 'frames' / name}")
            names.append(name)
            fx, fy = float(f.face_box[0]), float(f.face_box[1])
            valid = f.face_valid and f.left_eye_valid and f.right_eye_valid
            grid = face_grid_params(f.face_box, (img.shape[1], img.shape[0]))[0]
            for key, box, ok in (
                    ("appleFace", f.face_box, f.face_valid),
                    ("appleLeftEye", (f.left_eye_box[0] - fx, f.left_eye_box[1] - fy,
                                      *f.left_eye_box[2:]), f.left_eye_valid),
                    ("appleRightEye", (f.right_eye_box[0] - fx, f.right_eye_box[1] - fy,
                                       *f.right_eye_box[2:]), f.right_eye_valid),
                    ("faceGrid", grid, valid)):
                for k, v in zip(_BOX_KEYS, box, strict=True):
                    boxes[key][k].append(_num(v))
                boxes[key]["IsValid"].append(int(ok))
            for k, v in zip(("DotNum", "XPts", "YPts", "XCam", "YCam", "Time"),
                            (f.dot_num, *f.dot_pts, *f.gaze_cm, f.time_s), strict=True):
                dot[k].append(int(v) if k == "DotNum" else float(v))
            screen["W"].append(_num(f.screen_pts[0]))
            screen["H"].append(_num(f.screen_pts[1]))
            screen["Orientation"].append(int(f.orientation))
        for key, d in boxes.items():
            _dump(tmp / f"{key}.json", d)
        _dump(tmp / "frames.json", names)
        _dump(tmp / "dotInfo.json", dot)
        _dump(tmp / "screen.json", screen)
        _dump(tmp / "motion.json", [])
        face_ok = np.array(boxes["appleFace"]["IsValid"], bool)
        eyes_ok = (np.array(boxes["appleLeftEye"]["IsValid"], bool)
                   & np.array(boxes["appleRightEye"]["IsValid"], bool))
        _dump(tmp / "info.json", {"TotalFrames": len(names),
                                  "NumFaceDetections": int(face_ok.sum()),
                                  "NumEyeDetections": int(eyes_ok.sum()),
                                  "Dataset": split, "DeviceName": device_name})
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


@dataclass(frozen=True)
class LoadSummary:
    """What :func:`load_gazecapture` found, used and skipped (reason -> count).

    ``frames_total`` counts the frames of the used recordings; ``frames_kept`` plus the
    skipped frames add up to it.
    """

    recordings_found: int
    recordings_used: int
    recordings_skipped: dict[str, int]
    frames_total: int
    frames_kept: int
    frames_skipped: dict[str, int]

    def __str__(self) -> str:
        def reasons(d: dict[str, int]) -> str:
            items = sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))
            return f" (skipped: {', '.join(f'{k} {v}' for k, v in items)})" if items else ""
        return (f"recordings: {self.recordings_found} found, {self.recordings_used} used"
                f"{reasons(self.recordings_skipped)}\n"
                f"frames: {self.frames_total} in used recordings, {self.frames_kept} kept"
                f"{reasons(self.frames_skipped)}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


class _Skip(Exception):
    """A recording cannot be used; the message is the reason."""


@dataclass
class _Recording:
    folder: Path
    device: int
    split: int
    names: list[str]
    valid: np.ndarray  # (n,) bool: face and both eyes detected
    face: np.ndarray  # (n, 4) boxes in frame pixels
    left: np.ndarray
    right: np.ndarray
    grid: np.ndarray  # (n, 4) 1-indexed grid boxes
    gaze: np.ndarray  # (n, 2)
    dot: np.ndarray
    screen: np.ndarray
    orientation: np.ndarray  # (n,)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise _Skip("missing file") from None
    except OSError:
        raise _Skip("unreadable file") from None
    except (ValueError, RecursionError):  # also UnicodeDecodeError; nesting past the parser
        raise _Skip("malformed json") from None


def _read_recording(folder: Path, devices: list[str], splits: Sequence[str]) -> _Recording:
    """Parse a recording's JSON files; raises _Skip(reason) when it cannot be used."""
    info = _read_json(folder / "info.json")
    if not isinstance(info, dict) or "Dataset" not in info or "DeviceName" not in info:
        raise _Skip("malformed json")
    if info["Dataset"] not in SPLITS:
        raise _Skip("unknown dataset")
    if info["Dataset"] not in splits:
        raise _Skip("split not requested")
    try:
        get_device(str(info["DeviceName"]))
    except UnknownDeviceError:
        raise _Skip("unknown device") from None
    names = _read_json(folder / "frames.json")
    if not isinstance(names, list) or not all(
            isinstance(n, str) and n and Path(n).name == n for n in names):
        raise _Skip("malformed json")
    n = len(names)
    cols: dict[str, np.ndarray] = {}
    for file, keys in _JSON_KEYS.items():
        d = _read_json(folder / file)
        if not isinstance(d, dict) or not all(isinstance(d.get(k), list) for k in keys):
            raise _Skip("malformed json")
        for k in keys:
            if len(d[k]) != n:
                raise _Skip("length mismatch")
            try:
                cols[f"{file}:{k}"] = np.asarray(d[k], dtype=np.float64).reshape(n)
            except (TypeError, ValueError):
                raise _Skip("malformed json") from None

    def stack(file: str, keys: Sequence[str]) -> np.ndarray:
        return np.stack([cols[f"{file}:{k}"] for k in keys], axis=1).reshape(n, len(keys))

    valid = np.ones(n, bool)
    for file in ("appleFace.json", "appleLeftEye.json", "appleRightEye.json"):
        valid &= cols[f"{file}:IsValid"] == 1
    face = stack("appleFace.json", _BOX_KEYS)
    left, right = stack("appleLeftEye.json", _BOX_KEYS), stack("appleRightEye.json", _BOX_KEYS)
    left[:, :2] += face[:, :2]  # eye boxes are stored relative to the face box
    right[:, :2] += face[:, :2]
    return _Recording(
        folder=folder, device=devices.index(info["DeviceName"]),
        split=SPLITS.index(info["Dataset"]), names=names, valid=valid,
        face=face, left=left, right=right, grid=stack("faceGrid.json", _BOX_KEYS),
        gaze=stack("dotInfo.json", ("XCam", "YCam")), dot=stack("dotInfo.json", ("XPts", "YPts")),
        screen=stack("screen.json", ("W", "H")), orientation=cols["screen.json:Orientation"])


def _round(v: np.ndarray) -> np.ndarray:
    """The face grid's rounding (half away from zero) to int64; non-finite values become -1."""
    return round_half_away(np.nan_to_num(np.asarray(v, np.float64), nan=-1.0, posinf=-1.0,
                                         neginf=-1.0))


def _candidates(rec: _Recording, frames_skipped: Counter) -> np.ndarray:
    """Indices of the frames that pass the checks needing no image; counts the others."""
    boxes = np.concatenate([rec.face, rec.left, rec.right, rec.grid], axis=1)
    boxes_ok = np.isfinite(boxes).all(axis=1)
    for b in (rec.face, rec.left, rec.right):
        boxes_ok &= (_round(b[:, 2]) > 0) & (_round(b[:, 3]) > 0)
    labels_ok = (np.isfinite(np.concatenate([rec.gaze, rec.dot, rec.screen], axis=1)).all(axis=1)
                 & np.isin(rec.orientation, (1, 2, 3, 4)))
    for reason, bad in (("not valid", ~rec.valid), ("invalid box", rec.valid & ~boxes_ok),
                        ("invalid label", rec.valid & boxes_ok & ~labels_ok)):
        if bad.any():
            frames_skipped[reason] += int(bad.sum())
    return np.flatnonzero(rec.valid & boxes_ok & labels_ok)


def _decode(path: Path) -> np.ndarray | str:
    """The frame as BGR uint8, or the reason it cannot be used."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return "missing image"
    except OSError:
        return "unreadable image"
    # A truncated JPEG lacks its end-of-image marker (FFD9 cannot occur inside scan data);
    # some OpenCV versions would decode it into a partly grey image.
    if len(data) < 4 or data.rfind(b"\xff\xd9", max(0, len(data) - 1024)) < 0:
        return "unreadable image"
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        img = None
    if img is None:
        return "unreadable image"
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3 or min(img.shape[:2]) < 1:
        return "unexpected image shape"
    return img


def _crop(img: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """The box (rounded to whole pixels) resized to a patch, RGB; None if it leaves the frame."""
    x, y, w, h = (int(v) for v in _round(box))
    if x < 0 or y < 0 or x + w > img.shape[1] or y + h > img.shape[0]:
        return None
    patch = cv2.resize(img[y:y + h, x:x + w], (PATCH_SIZE, PATCH_SIZE),
                       interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(patch, cv2.COLOR_BGR2RGB)


def _frame(rec: _Recording, i: int) -> str | tuple[list[np.ndarray], tuple[int, int]]:
    """Patches (face, left eye, right eye) and frame (w, h) of frame i, or a skip reason."""
    img = _decode(rec.folder / "frames" / rec.names[i])
    if isinstance(img, str):
        return img
    crops = [_crop(img, b[i]) for b in (rec.face, rec.left, rec.right)]
    if any(c is None for c in crops):
        return "box outside frame"
    return crops, (img.shape[1], img.shape[0])


def _load_recording(rec: _Recording, idx: np.ndarray, pool: ThreadPoolExecutor,
                     frames_skipped: Counter) -> dict[str, np.ndarray]:
    """Decode frames ``idx`` of a recording into array-form rows (skipped frames counted)."""
    kept, parts = [], []
    for i, res in zip(idx, pool.map(lambda i: _frame(rec, int(i)), idx), strict=True):
        if isinstance(res, str):
            frames_skipped[res] += 1
        else:
            kept.append(i)
            parts.append(res)
    rows = np.asarray(kept, np.int64)
    out = empty_fields(len(rows))
    if not len(rows):
        return out
    for j, name in enumerate(("face", "left_eye", "right_eye")):
        out[name][:] = np.stack([p[0][j] for p in parts])
    out["frame_wh"][:] = [p[1] for p in parts]
    out["face_grid"][:] = face_grid_mask(_round(rec.grid[rows]))
    out["gaze_cm"][:] = rec.gaze[rows]
    out["dot_pts"][:] = rec.dot[rows]
    out["screen_pts"][:] = rec.screen[rows]
    out["face_box"][:] = rec.face[rows]
    out["left_eye_box"][:] = rec.left[rows]
    out["right_eye_box"][:] = rec.right[rows]
    out["subject"][:] = out["session"][:] = int(rec.folder.name)
    out["frame"][:] = rows
    out["device"][:] = rec.device
    out["orientation"][:] = rec.orientation[rows]
    out["split"][:] = rec.split
    return out


def _recording_folders(root: Path) -> list[Path]:
    try:
        entries = list(os.scandir(root))
    except OSError as e:
        raise DataFormatError(f"cannot list GazeCapture root {root}: {e}") from None
    return sorted((Path(e.path) for e in entries
                   if e.name.isascii() and e.name.isdigit() and int(e.name) < 2**31
                   and e.is_dir()), key=lambda p: (int(p.name), p.name))


def _cache_key(folders: list[Path], splits: tuple[str, ...], devices: list[str]) -> str:
    """Hash of the loader's settings and every recording file's (path, size, mtime)."""
    h = hashlib.sha256(json.dumps({
        "loader": LOADER_VERSION, "arrays": FORMAT_VERSION, "patch": PATCH_SIZE,
        "splits": list(splits), "devices": devices}).encode())

    def walk(folder: Path, rel: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for e in entries:
            try:
                if e.is_dir():
                    walk(Path(e.path), f"{rel}{e.name}/")
                else:
                    st = e.stat()
                    h.update(f"{rel}{e.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            except OSError:
                h.update(f"{rel}{e.name}\0?\n".encode())

    for folder in folders:
        h.update(f"\0recording {folder.name}\n".encode())
        walk(folder, "")
    return "gazecapture-" + h.hexdigest()[:24]


def _read_cache(path: Path) -> tuple[GazeArrays, LoadSummary] | None:
    summary_path = path / "summary.json"
    if not (summary_path.is_file() and is_arrays_dir(path)):
        return None
    try:
        summary = LoadSummary(**json.loads(summary_path.read_text()))
        return load_arrays(path, mmap=True), summary
    except (OSError, ValueError, TypeError):
        return None


def _store_cache(path: Path, buf: dict[str, np.ndarray], count: int, devices: tuple[str, ...],
                 info: dict, summary: LoadSummary) -> tuple[GazeArrays, LoadSummary]:
    """Copy the first ``count`` staged rows into the array form at ``path``, with summary.json."""
    done = _read_cache(path)  # another process may have finished the same key meanwhile
    if done is not None:
        return done
    if path.exists():  # left incomplete by an interrupted run
        shutil.rmtree(path)
    writer = ArraysWriter(path, count, devices, info)
    step = 4096
    for s in range(0, count, step):
        writer.write({k: v[s:min(s + step, count)] for k, v in buf.items()})
    writer.close()
    tmp = path / "summary.json.tmp"
    tmp.write_text(json.dumps(summary.to_dict(), indent=2))
    os.replace(tmp, path / "summary.json")
    return load_arrays(path, mmap=True), summary


def load_gazecapture(root: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None,
                     splits: Sequence[str] = SPLITS,
                     progress: bool = True) -> tuple[GazeArrays, LoadSummary]:
    """Load a GazeCapture root (one folder per recording) into the array form.

    Keeps frames whose face and both eyes are valid and whose boxes lie inside the frame; bad
    recordings and frames are skipped and counted in the returned :class:`LoadSummary`. With
    ``cache_dir``, the result is stored there in the array form, keyed by the files' names,
    sizes and mtimes, and later calls on unchanged data return it memory-mapped without
    decoding any image. Without it the whole result is held in memory.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataFormatError(f"GazeCapture root {root} does not exist or is not a folder")
    folders = _recording_folders(root)
    if not folders:
        raise DataFormatError(f"{root} holds no GazeCapture recording folders (00002/, ...)")
    wanted = (splits,) if isinstance(splits, str) else tuple(splits)
    unknown = [s for s in wanted if s not in SPLITS]
    if unknown:
        raise ConfigError(f"unknown splits {unknown}; expected some of {SPLITS}")
    wanted = tuple(s for s in SPLITS if s in wanted)
    device_list = list_devices()
    devices = tuple(device_list)
    cache_path = None
    if cache_dir is not None:
        cache_path = Path(cache_dir) / _cache_key(folders, wanted, device_list)
        hit = _read_cache(cache_path)
        if hit is not None:
            return hit

    recs: list[tuple[_Recording, np.ndarray]] = []
    recs_skipped: Counter = Counter()
    frames_skipped: Counter = Counter()
    for folder in folders:
        try:
            rec = _read_recording(folder, device_list, wanted)
        except _Skip as e:
            recs_skipped[str(e)] += 1
            continue
        recs.append((rec, _candidates(rec, frames_skipped)))
    upper = sum(len(idx) for _, idx in recs)
    info = {"source": "gazecapture", "loader_version": LOADER_VERSION, "splits": list(wanted)}

    staging = None
    if cache_path is None:
        buf = empty_fields(upper)
    else:  # stage on disk: the full dataset does not fit in memory
        staging = cache_path.with_name(f"{cache_path.name}.{os.getpid()}.staging")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        buf = {name: open_memmap(staging / f"{name}.npy", mode="w+", dtype=dtype,
                                 shape=(upper, *shape)) for name, (dtype, shape) in FIELDS.items()}
    try:
        kept = 0
        with ThreadPoolExecutor(_WORKERS) as pool:
            for rec, idx in tqdm(recs, desc="GazeCapture recordings", unit="rec",
                                 disable=not progress):
                chunk = _load_recording(rec, idx, pool, frames_skipped)
                n = len(chunk["gaze_cm"])
                for k in FIELDS:
                    buf[k][kept:kept + n] = chunk[k]
                kept += n
        summary = LoadSummary(
            recordings_found=len(folders), recordings_used=len(recs),
            recordings_skipped=dict(recs_skipped),
            frames_total=sum(len(rec.names) for rec, _ in recs), frames_kept=kept,
            frames_skipped=dict(frames_skipped))
        if cache_path is None:
            return GazeArrays({k: v[:kept] for k, v in buf.items()}, devices, info), summary
        return _store_cache(cache_path, buf, kept, devices, info, summary)
    finally:
        if staging is not None:
            del buf
            shutil.rmtree(staging, ignore_errors=True)
