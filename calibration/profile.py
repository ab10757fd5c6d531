"""A user's calibration profile: a versioned JSON file binding a fitted
:class:`~gazesdk.calibration.methods.CalibrationMap` to the model it was fitted on (the
artifact's sha256 from its metadata), the device geometry and orientation, with the validation
error in cm and degrees, the guard's verdict and the head pose at calibration.

The file validates against ``calibration-profile.schema.json`` (shipped beside this module) and
carries a sha256 of its own content (``checksum``): a truncated, corrupted or hand-edited file
is refused with one line (:class:`~gazesdk.errors.CalibrationError`), as is a profile made for
another model, device or orientation. Files are written atomically (a temporary file renamed
over the target), so a crash mid-write leaves the old profile intact.

The guard: when the fit's held-out error (validation points, else leave-one-target-out) is
worse than the uncalibrated model's, ``accepted`` is False and the runtime keeps the
uncalibrated output unless told otherwise.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.calibration.drift import HeadReference
from gazesdk.calibration.methods import CalibrationMap
from gazesdk.errors import CalibrationError, ConfigError
from gazesdk.geometry.devices import DeviceGeometry

FORMAT = "gazesdk-calibration-profile"
VERSION = 1
SCHEMA_FILE = "calibration-profile.schema.json"
DEFAULT_DISTANCE_CM = 30.0          # for degrees when no head pose was seen


@dataclass(frozen=True)
class TargetReport:
    """One target of a calibration: where it was (screen points), whether it was a
    validation point, samples kept and dropped by reason, and the kept samples' spread (RMS
    distance from their median, cm)."""

    index: int
    x_pt: float
    y_pt: float
    validation: bool
    kept: int
    settling: int = 0
    invalid: int = 0
    blink: int = 0
    outliers: int = 0
    spread_cm: float | None = None


@dataclass(frozen=True)
class Validation:
    """Held-out error of the fit and of the uncalibrated model (cm and degrees), over
    ``targets`` targets; ``source`` is "validation points", "leave-one-target-out" or "none"
    (a 1-point calibration without validation points)."""

    source: str
    error_cm: float | None
    uncalibrated_cm: float | None
    error_deg: float | None
    uncalibrated_deg: float | None
    targets: int


def cm_to_deg(cm: float | None, distance_cm: float) -> float | None:
    return None if cm is None else math.degrees(math.atan2(cm, distance_cm))


def model_identity(metadata: dict[str, Any]) -> tuple[str, str]:
    """(sha256, name) of a model from its metadata (``artifact.sha256``, ``model.name``)."""
    try:
        sha = str(metadata["artifact"]["sha256"])
        name = str(metadata["model"]["name"])
    except (KeyError, TypeError):
        raise ConfigError("the model's metadata has no artifact sha256: a calibration profile "
                          "cannot be bound to it") from None
    return sha, name


@dataclass(frozen=True)
class CalibrationProfile:
    """A fitted calibration for one user, model, device and orientation."""

    map: CalibrationMap
    model_sha256: str
    model_name: str
    device: DeviceGeometry
    orientation: int
    pattern: str
    validation: Validation
    accepted: bool
    guard_reason: str
    reference: HeadReference | None = None
    targets: tuple[TargetReport, ...] = ()
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(
        timespec="seconds"))
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def points(self) -> int:
        return sum(1 for t in self.targets if not t.validation)

    @property
    def needs_features(self) -> bool:
        return self.map.needs_features

    def apply(self, gaze_cm: np.ndarray | tuple[float, float],
              features: np.ndarray | None = None) -> np.ndarray:
        """The calibrated gaze (camera cm) whatever the guard says (the runtime checks
        ``accepted``)."""
        return self.map.apply(gaze_cm, features)

    def check_compatible(self, *, model_sha256: str, device: DeviceGeometry,
                         orientation: int) -> None:
        """Refuse (one line) a profile made for another model, device or orientation."""
        if model_sha256 != self.model_sha256:
            raise CalibrationError(f"this calibration profile was made for another model "
                                   f"(sha256 {self.model_sha256[:12]}..., this one "
                                   f"{model_sha256[:12]}...): calibrate again with this model")
        if _device_dict(device) != _device_dict(self.device):
            raise CalibrationError(f"this calibration profile was made on {self.device.name!r}, "
                                   f"not {device.name!r}: calibrate again on this device")
        if orientation != self.orientation:
            raise CalibrationError(f"this calibration profile was made in orientation "
                                   f"{self.orientation}, the estimator runs in {orientation}: "
                                   f"calibrate again in this orientation")

    # -- files ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        body = {
            "format": FORMAT, "version": VERSION, "created": self.created,
            "model": {"sha256": self.model_sha256, "name": self.model_name},
            "device": _device_dict(self.device), "orientation": self.orientation,
            "pattern": self.pattern, "points": self.points,
            "fit": self.map.to_dict(),
            "validation": asdict(self.validation),
            "guard": {"accepted": self.accepted, "reason": self.guard_reason},
            "reference_head_pose": None if self.reference is None else self.reference.to_dict(),
            "targets": [asdict(t) for t in self.targets],
            "extra": self.extra,
        }
        body["checksum"] = _checksum(body)
        return body

    def save(self, path: str | os.PathLike) -> Path:
        """Write the profile atomically (JSON); returns the path."""
        return write_json_atomic(path, self.to_dict())

    @classmethod
    def from_dict(cls, doc: Any, *, source: str = "the profile") -> CalibrationProfile:
        validate_profile(doc, source=source)
        try:
            checksum = _checksum({k: v for k, v in doc.items() if k != "checksum"})
        except ValueError:                     # NaN or infinity: never written by save()
            raise CalibrationError(f"{source} holds NaN or infinite numbers: it is not a "
                                   f"profile gazesdk wrote; calibrate again") from None
        if doc["checksum"] != checksum:
            raise CalibrationError(f"{source} was changed after it was written (its checksum "
                                   f"does not match): calibrate again")
        try:
            dev = DeviceGeometry(**doc["device"])
            ref = doc["reference_head_pose"]
            return cls(map=CalibrationMap.from_dict(doc["fit"]),
                       model_sha256=doc["model"]["sha256"], model_name=doc["model"]["name"],
                       device=dev, orientation=int(doc["orientation"]),
                       pattern=str(doc["pattern"]), validation=Validation(**doc["validation"]),
                       accepted=bool(doc["guard"]["accepted"]),
                       guard_reason=str(doc["guard"]["reason"]),
                       reference=None if ref is None else HeadReference.from_dict(ref),
                       targets=tuple(TargetReport(**t) for t in doc["targets"]),
                       created=str(doc["created"]), extra=dict(doc.get("extra", {})))
        except (ConfigError, TypeError, ValueError, KeyError) as e:
            raise CalibrationError(f"{source} is not a usable calibration profile: {e}") from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> CalibrationProfile:
        """Read and check a profile file; any problem is one CalibrationError line."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CalibrationError(f"no calibration profile at {p}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise CalibrationError(f"cannot read the calibration profile {p}: {e}") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise CalibrationError(f"{p} is not a calibration profile (not JSON: {e.msg} at line "
                                   f"{e.lineno})") from None
        except RecursionError:
            raise CalibrationError(f"{p} is not a calibration profile (nested too deeply)"
                                   ) from None
        return cls.from_dict(doc, source=str(p))


def _device_dict(d: DeviceGeometry) -> dict[str, Any]:
    return asdict(d)


def _checksum(body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def profile_schema() -> dict[str, Any]:
    text = resources.files("gazesdk.calibration").joinpath(SCHEMA_FILE).read_text()
    return json.loads(text)


def validate_profile(doc: Any, *, source: str = "the profile") -> None:
    """Check a parsed profile against the schema; one CalibrationError line when it fails."""
    import jsonschema

    if isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("version") != VERSION:
        raise CalibrationError(f"{source} is a version {doc.get('version')!r} calibration "
                               f"profile; this gazesdk reads version {VERSION}")
    try:
        jsonschema.validate(doc, profile_schema())
    except jsonschema.ValidationError as e:
        where = "/".join(map(str, e.absolute_path)) or "the top level"
        raise CalibrationError(f"{source} is not a valid calibration profile: {e.message} "
                               f"(at {where})") from None


def write_json_atomic(path: str | os.PathLike, doc: Any) -> Path:
    """Write JSON to ``path`` through a temporary file in the same folder and a rename."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p
