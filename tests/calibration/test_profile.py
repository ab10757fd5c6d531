"""Calibration profiles: round trip, atomic write, refusals of wrong or damaged files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gazesdk.calibration.drift import HeadReference
from gazesdk.calibration.methods import CalibrationMap
from gazesdk.calibration.profile import (
    CalibrationProfile,
    TargetReport,
    Validation,
    model_identity,
    write_json_atomic,
)
from gazesdk.errors import CalibrationError, ConfigError
from gazesdk.geometry.devices import get_device

SHA = "0123456789abcdef" * 4


def profile(**kw) -> CalibrationProfile:
    m = CalibrationMap("affine", np.array([[0.5, -0.2], [0.1, 0.0], [0.0, -0.1]]),
                       centre_cm=(0.0, -7.0), regularisation=0.3, offset_prior=0.25)
    args = dict(map=m, model_sha256=SHA, model_name="compact", device=get_device("iPhone 6s"),
                orientation=1, pattern="9",
                validation=Validation("validation points", 0.8, 1.6, 1.5, 3.0, 4),
                accepted=True, guard_reason="ok",
                reference=HeadReference(2.0, -3.0, 0.5, (0.5, 4.0, 30.0)),
                targets=tuple(TargetReport(i, 10.0 * i, 20.0, i >= 9, 11, 4, 0, 1, 0, 0.2)
                              for i in range(13)))
    args.update(kw)
    return CalibrationProfile(**args)


def test_round_trip(tmp_path: Path) -> None:
    p = profile()
    path = p.save(tmp_path / "me.json")
    back = CalibrationProfile.load(path)
    g = np.array([[1.0, -5.0], [-2.0, -9.0]])
    np.testing.assert_allclose(back.apply(g), p.apply(g))
    assert back.to_dict() == p.to_dict()
    assert back.points == 9 and back.reference == p.reference


def test_atomic_write_leaves_the_old_file_when_it_fails(tmp_path: Path) -> None:
    path = profile().save(tmp_path / "me.json")
    before = path.read_text()
    with pytest.raises(ValueError):
        write_json_atomic(path, {"x": float("nan")})       # JSON refuses NaN mid-write
    assert path.read_text() == before
    assert [f.name for f in tmp_path.iterdir()] == ["me.json"]


def test_edited_corrupted_and_foreign_files_are_refused(tmp_path: Path) -> None:
    path = profile().save(tmp_path / "me.json")
    doc = json.loads(path.read_text())
    doc["fit"]["coefficients"][0][0] = 9.0                  # edited by hand
    (tmp_path / "edited.json").write_text(json.dumps(doc))
    with pytest.raises(CalibrationError, match="changed after it was written"):
        CalibrationProfile.load(tmp_path / "edited.json")
    (tmp_path / "cut.json").write_text(path.read_text()[:200])
    with pytest.raises(CalibrationError, match="not JSON"):
        CalibrationProfile.load(tmp_path / "cut.json")
    doc = json.loads(path.read_text())
    del doc["guard"]
    (tmp_path / "schema.json").write_text(json.dumps(doc))
    with pytest.raises(CalibrationError, match="'guard' is a required property"):
        CalibrationProfile.load(tmp_path / "schema.json")
    doc = json.loads(path.read_text())
    doc["version"] = 7
    (tmp_path / "v7.json").write_text(json.dumps(doc))
    with pytest.raises(CalibrationError, match="version 7"):
        CalibrationProfile.load(tmp_path / "v7.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CalibrationError):
        CalibrationProfile.load(tmp_path / "bin.json")
    with pytest.raises(CalibrationError, match="no calibration profile"):
        CalibrationProfile.load(tmp_path / "missing.json")


def test_profile_for_another_model_device_or_orientation_is_refused() -> None:
    p = profile()
    p.check_compatible(model_sha256=SHA, device=get_device("iPhone 6s"), orientation=1)
    with pytest.raises(CalibrationError, match="another model"):
        p.check_compatible(model_sha256="f" * 64, device=get_device("iPhone 6s"), orientation=1)
    with pytest.raises(CalibrationError, match="made on 'iPhone 6s', not 'iPhone 6'"):
        p.check_compatible(model_sha256=SHA, device=get_device("iPhone 6"), orientation=1)
    with pytest.raises(CalibrationError, match="orientation 1"):
        p.check_compatible(model_sha256=SHA, device=get_device("iPhone 6s"), orientation=3)


def test_model_identity_needs_the_artifact_hash() -> None:
    assert model_identity({"artifact": {"sha256": SHA}, "model": {"name": "m"}}) == (SHA, "m")
    with pytest.raises(ConfigError, match="sha256"):
        model_identity({"model": {"name": "m"}})
