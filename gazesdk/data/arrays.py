"""The fast array form of a gaze dataset: one ``.npy`` file per field, memory-mappable.

GazeSim writes it directly, and the GazeCapture loader caches decoded recordings in it, so
training reads the same structure whatever the source. A folder holds ``manifest.json`` and
one ``<field>.npy`` per entry of :data:`FIELDS`; row ``i`` of every file is sample ``i``.

Conventions: patches are RGB uint8 (N, 64, 64, 3); "left eye" is the subject's physical left eye
(it appears on the right of the image); boxes are (x, y, w, h) in pixels of the full frame, from
its top-left corner; ``gaze_cm`` is GazeCapture's (XCam, YCam) label.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gazesdk.errors import DataFormatError

FORMAT_NAME = "gazesdk-arrays"
FORMAT_VERSION = 1
PATCH_SIZE = 64
GRID_SIZE = 25
PATCHES = ("face", "left_eye", "right_eye")   # the model inputs that are image patches
SPLITS = ("train", "val", "test")

# field -> (dtype, shape of one row)
FIELDS: dict[str, tuple[str, tuple[int, ...]]] = {
    "face": ("uint8", (PATCH_SIZE, PATCH_SIZE, 3)),
    "left_eye": ("uint8", (PATCH_SIZE, PATCH_SIZE, 3)),
    "right_eye": ("uint8", (PATCH_SIZE, PATCH_SIZE, 3)),
    "face_grid": ("uint8", (GRID_SIZE, GRID_SIZE)),
    "gaze_cm": ("float32", (2,)),
    "dot_pts": ("float32", (2,)),
    "screen_pts": ("float32", (2,)),
    "face_box": ("float32", (4,)),
    "left_eye_box": ("float32", (4,)),
    "right_eye_box": ("float32", (4,)),
    "frame_wh": ("int32", (2,)),
    "subject": ("int32", ()),
    "session": ("int32", ()),
    "frame": ("int32", ()),
    "device": ("int16", ()),
    "orientation": ("int8", ()),
    "split": ("int8", ()),
    "sequence": ("int32", ()),
    "is_calibration": ("bool", ()),
}
# Fields a dataset may have: written when the source knows them (GazeSim), absent otherwise
# (GazeCapture).
OPTIONAL_FIELDS: dict[str, tuple[str, tuple[int, ...]]] = {
    "head_pose_deg": ("float32", (3,)),
    "lid_closure": ("float32", ()),
    "eye_geometry": ("float32", (4,)),
}
FIELD_DOCS = {
    "head_pose_deg": "head pose (yaw, pitch, roll) in degrees, camera frame: yaw turns the face "
                     "towards +x (the user's right), pitch towards +y (up), roll turns the "
                     "head's up axis towards -x; 0 = facing the camera upright",
    "lid_closure": "how far the lids are closed in a blink, 0 open to 1 shut (GazeSim's "
                   "stare blinks); frames at 0.5 or more count as blink frames",
    "eye_geometry": "iris centre in its eye from the runtime's iris model and face mesh: (left "
                    "u, left v, right u, right v) in eye widths (gazesdk.runtime.eye_geometry); "
                    "written with landmark crops",
    "dot_pts": "dot position in screen points from the top-left, for the frame's orientation",
    "screen_pts": "active screen size (width, height) in points, for the frame's orientation",
    "device": "index into manifest['devices']",
    "orientation": "1 portrait, 2 upside down, 3 landscape home right, 4 landscape home left",
    "split": "index into SPLITS",
    "sequence": "stare-sequence id (frames fixating one dot), -1 when not part of one",
    "is_calibration": "frame of a 9-dot calibration grid",
}


@dataclass(frozen=True)
class GazeArrays:
    """A gaze dataset held as arrays (possibly memory-mapped). Row i of each field is sample i."""

    fields: Mapping[str, np.ndarray]
    devices: tuple[str, ...]
    info: Mapping[str, object]

    def __post_init__(self) -> None:
        missing = set(FIELDS) - set(self.fields)
        if missing:
            raise DataFormatError(f"gaze arrays lack fields: {sorted(missing)}")
        scalar = sorted(k for k, a in self.fields.items() if np.ndim(a) == 0)
        if scalar:
            raise DataFormatError(f"gaze array fields must have one row per sample; "
                                  f"{scalar} hold a single value")
        counts = {len(a) for a in self.fields.values()}
        if len(counts) > 1:
            raise DataFormatError(f"gaze array fields differ in length: {sorted(counts)}")
        for name, (dtype, shape) in {**FIELDS, **self._optional()}.items():
            arr = self.fields[name]
            if arr.dtype != np.dtype(dtype) or arr.shape[1:] != shape:
                raise DataFormatError(
                    f"field {name!r} is {arr.dtype}{arr.shape[1:]}, expected {dtype}{shape}"
                )

    def _optional(self) -> dict[str, tuple[str, tuple[int, ...]]]:
        return {k: v for k, v in OPTIONAL_FIELDS.items() if k in self.fields}

    def has(self, name: str) -> bool:
        """Whether the dataset has field ``name`` (optional fields may be absent)."""
        return name in self.fields

    def __len__(self) -> int:
        return len(self.fields["gaze_cm"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.fields[name]

    def select(self, index: np.ndarray) -> GazeArrays:
        """Rows picked by a boolean mask or an integer index (loads them into memory)."""
        return GazeArrays({k: np.asarray(v[index]) for k, v in self.fields.items()},
                          self.devices, self.info)

    def split(self, name: str) -> GazeArrays:
        """The rows of one split ("train", "val" or "test")."""
        if name not in SPLITS:
            raise DataFormatError(f"unknown split {name!r}; expected one of {SPLITS}")
        return self.select(self.fields["split"] == SPLITS.index(name))


def empty_fields(n: int, optional: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Zero-filled fields for ``n`` samples (``sequence`` is -1: not part of a stare), with
    the named optional fields."""
    out = {name: np.zeros((n, *shape), dtype)
           for name, (dtype, shape) in {**FIELDS, **_optional(optional)}.items()}
    out["sequence"][:] = -1
    return out


def _optional(names: tuple[str, ...] | list[str]) -> dict[str, tuple[str, tuple[int, ...]]]:
    unknown = sorted(set(names) - set(OPTIONAL_FIELDS))
    if unknown:
        raise DataFormatError(f"unknown optional field(s) {unknown}; known: "
                              f"{sorted(OPTIONAL_FIELDS)}")
    return {k: OPTIONAL_FIELDS[k] for k in names}


def concatenate(parts: list[GazeArrays]) -> GazeArrays:
    """Join datasets that share a device list."""
    if not parts:
        raise DataFormatError("nothing to concatenate")
    devices = parts[0].devices
    if any(p.devices != devices for p in parts):
        raise DataFormatError("cannot concatenate gaze arrays with different device lists")
    shared = [k for k in OPTIONAL_FIELDS if all(p.has(k) for p in parts)]
    fields = {k: np.concatenate([p.fields[k] for p in parts]) for k in (*FIELDS, *shared)}
    return GazeArrays(fields, devices, dict(parts[0].info))


class ArraysWriter:
    """Writes a dataset of known size chunk by chunk, into pre-allocated ``.npy`` files.

    Files are written under a temporary folder name and renamed into place by :meth:`close`,
    so a half-written dataset never looks complete.
    """

    def __init__(self, out_dir: str | os.PathLike, count: int, devices: tuple[str, ...],
                 info: Mapping[str, object] | None = None,
                 optional: tuple[str, ...] = ()) -> None:
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and any(self.out_dir.iterdir()):
            raise DataFormatError(f"{self.out_dir} exists and is not empty")
        self.tmp_dir = self.out_dir.with_name(self.out_dir.name + ".partial")
        if self.tmp_dir.exists():          # left by an interrupted run: never reuse it
            shutil.rmtree(self.tmp_dir)
        self.tmp_dir.mkdir(parents=True)
        self.count = count
        self.devices = tuple(devices)
        self.info = dict(info or {})
        self.filled = 0
        self.layout = {**FIELDS, **_optional(optional)}
        self._maps = {
            name: np.lib.format.open_memmap(self.tmp_dir / f"{name}.npy", mode="w+",
                                            dtype=dtype, shape=(count, *shape))
            for name, (dtype, shape) in self.layout.items()
        }
        self._maps["sequence"][:] = -1

    def write(self, fields: Mapping[str, np.ndarray]) -> None:
        """Append a chunk; every field must be given, all with the same number of rows and the
        declared dtype and row shape (nothing is cast or broadcast silently)."""
        missing = set(self.layout) - set(fields)
        if missing:
            raise DataFormatError(f"chunk lacks fields: {sorted(missing)}")
        n = len(fields["gaze_cm"])
        for name, (dtype, shape) in self.layout.items():
            arr = np.asarray(fields[name])
            if arr.shape != (n, *shape) or arr.dtype != np.dtype(dtype):
                raise DataFormatError(f"chunk field {name!r} is {arr.dtype}{arr.shape}, expected "
                                      f"{dtype}{(n, *shape)}")
        if self.filled + n > self.count:
            raise DataFormatError(f"writing {n} rows would exceed the declared {self.count}")
        for name in self.layout:
            self._maps[name][self.filled:self.filled + n] = fields[name]
        self.filled += n

    def close(self) -> Path:
        if self.filled != self.count:
            raise DataFormatError(f"wrote {self.filled} rows of the declared {self.count}")
        for m in self._maps.values():
            m.flush()
        self._maps.clear()
        manifest = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "count": self.count,
                    "devices": list(self.devices), "info": self.info,
                    "fields": {k: {"dtype": d, "shape": list(s), "doc": FIELD_DOCS.get(k, "")}
                               for k, (d, s) in self.layout.items()}}
        (self.tmp_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
        if self.out_dir.exists():
            self.out_dir.rmdir()
        os.replace(self.tmp_dir, self.out_dir)
        return self.out_dir


def write_arrays(out_dir: str | os.PathLike, data: GazeArrays) -> Path:
    """Write a whole in-memory dataset in the array form."""
    writer = ArraysWriter(out_dir, len(data), data.devices, data.info,
                          optional=tuple(data._optional()))
    writer.write(data.fields)
    return writer.close()


def is_arrays_dir(path: str | os.PathLike) -> bool:
    manifest = Path(path) / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT_NAME


def _first_line(e: BaseException) -> str:
    """An exception's message on one line (an empty one named by its type)."""
    text = " ".join(str(e).split())
    return text or f"{type(e).__name__} (empty or truncated file)"


def load_arrays(path: str | os.PathLike, *, mmap: bool = True) -> GazeArrays:
    """Open a dataset in the array form; with ``mmap`` the patches stay on disk until used."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise DataFormatError(f"{path} is not a gazesdk array dataset (no manifest.json)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (ValueError, RecursionError) as e:      # RecursionError: nested past the parser
        raise DataFormatError(f"{manifest_path} is not valid JSON: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise DataFormatError(f"{manifest_path} is not a {FORMAT_NAME} manifest")
    if manifest.get("version") != FORMAT_VERSION:
        raise DataFormatError(
            f"{path} has array format version {manifest.get('version')}, this gazesdk reads "
            f"version {FORMAT_VERSION}; regenerate it"
        )
    fields = {}
    for name in FIELDS:
        f = path / f"{name}.npy"
        if not f.is_file():
            raise DataFormatError(f"{path} lacks {f.name}")
        try:
            fields[name] = np.load(f, mmap_mode="r" if mmap else None, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - numpy's header parser raises many types
            raise DataFormatError(f"cannot read {f}: {_first_line(e)}") from None
    listed = manifest.get("fields") if isinstance(manifest.get("fields"), dict) else {}
    for name in OPTIONAL_FIELDS:
        if name in listed:
            try:
                fields[name] = np.load(path / f"{name}.npy", mmap_mode="r" if mmap else None,
                                       allow_pickle=False)
            except Exception as e:  # noqa: BLE001 - as above
                raise DataFormatError(f"cannot read {path / (name + '.npy')}: "
                                      f"{_first_line(e)}") from None
    devices = manifest.get("devices")
    if not isinstance(devices, list):
        raise DataFormatError(f"{manifest_path} has no device list")
    return GazeArrays(fields, tuple(devices), manifest.get("info", {}))
