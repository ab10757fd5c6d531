"""Profiles from a dataset's calibration frames (``gazesdk calibrate``), on a small GazeSim
dataset cut as the runtime cuts it, with the bundled model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gazesdk.calibration.dataset import calibration_rows, fit_sessions, run_backend
from gazesdk.calibration.profile import CalibrationProfile
from gazesdk.cli import main
from gazesdk.data.arrays import load_arrays
from gazesdk.errors import ConfigError


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    from gazesdk.runtime.gazesim_crops import write_landmark_arrays
    from gazesdk.sim import GazeSim, SimConfig

    out = tmp_path_factory.mktemp("calib") / "data"
    sim = GazeSim(SimConfig(subjects=3, frames_per_subject=12, calibration_dots=9,
                            split_fractions=(0.0, 0.0, 1.0), seed=11))
    write_landmark_arrays(sim, out)
    return out


@pytest.fixture(scope="module")
def backend():
    from gazesdk.runtime.backends import create_backend

    be = create_backend("default")
    yield be
    be.close()


def test_calibration_rows_flagged_and_first_dots(dataset: Path) -> None:
    data = load_arrays(dataset)
    rows = np.flatnonzero(np.asarray(data["session"]) == 0)
    cal, ids = calibration_rows(data, rows, 9)
    assert len(cal) == 9 and np.asarray(data["is_calibration"])[cal].all()
    assert sorted(set(ids.tolist())) == list(range(9))
    # without flags: the first 3 dots the session showed, in order of appearance
    flags = np.asarray(data["is_calibration"]).copy()
    data2 = type(data)(fields={**data.fields, "is_calibration": np.zeros_like(flags)},
                       devices=data.devices, info=data.info)
    cal2, _ = calibration_rows(data2, rows, 3)
    np.testing.assert_array_equal(cal2, rows[:3])


def test_fit_sessions_against_a_direct_computation(dataset: Path, backend) -> None:
    data = load_arrays(dataset)
    fits, skipped = fit_sessions(data, backend, method="affine", progress=False)
    assert len(fits) == 6 and not skipped
    f = fits[0]
    rows = np.flatnonzero((np.asarray(data["session"]) == f.session)
                          & ~np.asarray(data["is_calibration"]))
    g, _ = run_backend(backend, data, rows, features=False)
    truth = np.asarray(data["gaze_cm"])[rows]
    assert f.uncalibrated_cm == pytest.approx(np.linalg.norm(g - truth, axis=1).mean())
    after = f.profile.apply(g) if f.profile.accepted else g
    assert f.calibrated_cm == pytest.approx(np.linalg.norm(after - truth, axis=1).mean())
    assert f.profile.validation.source == "leave-one-target-out"


def test_cli_writes_loadable_profiles(dataset: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "profiles"
    assert main(["calibrate", "--data", str(dataset), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sessions"] == 6 and len(summary["profiles"]) == 6
    p = CalibrationProfile.load(summary["profiles"][0])
    assert p.model_sha256 and p.pattern == "custom"
    per = summary["per_session"]
    assert summary["uncalibrated_cm"] == pytest.approx(
        np.mean([s["uncalibrated_cm"] for s in per]), abs=2e-3)


def test_cli_refusals(dataset: Path, tmp_path: Path, capsys) -> None:
    assert main(["calibrate", "--data", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["calibrate", "--data", str(dataset), "--split", "train"]) == 2
    assert "split is empty" in capsys.readouterr().err
    assert main(["calibrate", "--data", str(dataset), "--first-dots", "-1"]) == 2
    assert "--first-dots" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="split must be"):
        fit_sessions(load_arrays(dataset), None, split="dev")      # type: ignore[arg-type]
