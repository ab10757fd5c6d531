"""Dataset and profile defects the reliability campaign (issue 19) found, each pinned: a .npy
header claiming an impossible shape escaped as OverflowError, a field saved as one number
as TypeError (len() of a 0-d array), JSON nested past the parser as RecursionError, and a
profile holding NaN as ValueError from its checksum."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gazesdk.calibration.profile import CalibrationProfile
from gazesdk.data.arrays import is_arrays_dir, load_arrays
from gazesdk.data.gazecapture import load_gazecapture
from gazesdk.errors import CalibrationError, DataFormatError
from gazesdk.sim import GazeSim, SimConfig

DEEP = "[" * 100_000 + "]" * 100_000
SIM = SimConfig(subjects=3, frames_per_subject=4, sessions_per_subject=1, seed=0)


@pytest.fixture()
def arrays_dir(tmp_path: Path) -> Path:
    GazeSim(SIM).write_arrays(tmp_path / "ds", progress=False)
    return tmp_path / "ds"


def test_a_header_claiming_an_impossible_shape_is_one_line(arrays_dir: Path) -> None:
    f = arrays_dir / "gaze_cm.npy"
    with f.open("wb") as out:               # a valid header; numpy's memmap overflows on it
        np.lib.format.write_array_header_1_0(out, {"descr": "<f4", "fortran_order": False,
                                                   "shape": (9999999999999, 99999999)})
        out.write(bytes(64))
    with pytest.raises(DataFormatError, match="gaze_cm.npy") as e:
        load_arrays(arrays_dir)
    assert "\n" not in str(e.value)


def test_a_field_saved_as_one_number_is_refused(arrays_dir: Path) -> None:
    np.save(arrays_dir / "gaze_cm.npy", np.float32(3.0))
    with pytest.raises(DataFormatError, match="one row per sample"):
        load_arrays(arrays_dir)


def test_a_manifest_nested_past_the_parser(arrays_dir: Path) -> None:
    (arrays_dir / "manifest.json").write_text(DEEP)
    assert not is_arrays_dir(arrays_dir)
    with pytest.raises(DataFormatError, match="not valid JSON"):
        load_arrays(arrays_dir)


def test_a_gazecapture_json_nested_past_the_parser_skips_that_recording(tmp_path: Path
                                                                       ) -> None:
    sim = GazeSim(SIM)
    sim.write_gazecapture(tmp_path / "gc", progress=False)
    recordings = sorted(p for p in (tmp_path / "gc").iterdir() if p.is_dir())
    (recordings[0] / "dotInfo.json").write_text(DEEP)
    data, summary = load_gazecapture(tmp_path / "gc", progress=False)
    assert summary.recordings_found == len(recordings)
    assert summary.recordings_used == len(recordings) - 1
    assert sum(summary.recordings_skipped.values()) == 1
    assert len(data) == summary.frames_kept > 0


def _saved_profile(tmp_path: Path) -> Path:
    from gazesdk.calibration.methods import CalibrationMap
    from gazesdk.calibration.profile import Validation
    from gazesdk.geometry.devices import get_device

    m = CalibrationMap("affine", np.array([[0.5, -0.2], [1.0, 0.0], [0.0, 1.0]]),
                       centre_cm=(0.0, -7.0), regularisation=0.3, offset_prior=0.25)
    p = CalibrationProfile(map=m, model_sha256="0" * 64, model_name="compact",
                           device=get_device("iPhone 6s"), orientation=1, pattern="9",
                           validation=Validation("validation points", 0.8, 1.6, 1.5, 3.0, 4),
                           accepted=True, guard_reason="ok")
    return p.save(tmp_path / "me.json")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_profile_holding_non_finite_numbers_is_refused(tmp_path: Path, value: str) -> None:
    path = _saved_profile(tmp_path)
    doc = json.loads(path.read_text())
    doc["validation"]["error_cm"] = 0.123456789            # a number to replace by text
    text = json.dumps(doc).replace("0.123456789", value)
    path.write_text(text)
    with pytest.raises(CalibrationError, match="NaN or infinite|less than the minimum"):
        CalibrationProfile.load(path)


def test_a_profile_nested_past_the_parser_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(DEEP)
    with pytest.raises(CalibrationError, match="nested too deeply"):
        CalibrationProfile.load(path)
