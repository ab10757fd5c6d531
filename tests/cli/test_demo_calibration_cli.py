"""``gazesdk demo --calibrate``: a calibration on a GazeSim video of a person looking at the
targets at known times, the profile it saves, and its one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from gazesdk.calibration import point_pattern
from gazesdk.calibration.profile import CalibrationProfile
from gazesdk.cli import main

DWELL_MS, STEP_MS = 1000, 50          # 20 fps


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> tuple[Path, Path, str]:
    from gazesdk.sim import GazeSim, SimConfig
    from gazesdk.sim.recording import record

    sim = GazeSim(SimConfig(subjects=4, frames_per_subject=2, devices=("iPhone 6s",), seed=2))
    session = int(np.flatnonzero(sim.plan.sessions.orientation == 1)[0])
    pattern = point_pattern(1, "iPhone 6s", 1)
    shown = [p for p, _ in pattern.all_targets()]
    t = np.arange(0, len(shown) * DWELL_MS, STEP_MS)
    rec = record(sim, session, timestamps_ms=t, dots_pts=np.stack([shown[i] for i in
                                                                    t // DWELL_MS]))
    folder = tmp_path_factory.mktemp("demo_cal")
    video = folder / "calibration.mp4"
    h, w = rec.frames[0].shape[:2]
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 1000 / STEP_MS,
                             (w, h))
    for f in rec.frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    targets = folder / "targets.json"
    targets.write_text(json.dumps({"onsets_ms": [k * DWELL_MS for k in range(len(shown))]}))
    return video, targets, "iPhone 6s"


def test_calibrates_on_a_video_and_saves_the_profile(recording, tmp_path, capsys) -> None:
    video, targets, device = recording
    prof = tmp_path / "me.json"
    out = tmp_path / "frames"
    rc = main(["demo", "--video", str(video), "--calibrate", "1", "--targets", str(targets),
               "--geometry", device, "--calibration-out", str(prof), "--out", str(out),
               "--quiet"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "calibrated (offset)" in err
    p = CalibrationProfile.load(prof)
    assert p.pattern == "1" and p.points == 1 and len(p.targets) == 5
    assert all(t.kept >= 5 for t in p.targets)
    assert len(list(out.glob("frame_*.png"))) == 5 * DWELL_MS // STEP_MS


def test_refusals(recording, tmp_path, capsys) -> None:
    video, targets, device = recording
    assert main(["demo", "--video", str(video), "--calibrate", "9", "--out",
                 str(tmp_path / "o")]) == 2
    assert "needs --targets FILE" in capsys.readouterr().err
    assert main(["demo", "--video", str(video), "--calibrate", "9", "--targets", str(targets),
                 "--out", str(tmp_path / "o")]) == 2
    assert "5 onset times for a pattern of 13 targets" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("[0, 10")
    assert main(["demo", "--video", str(video), "--calibrate", "1", "--targets", str(bad),
                 "--out", str(tmp_path / "o")]) == 2
    assert "not a JSON targets file" in capsys.readouterr().err
    assert main(["demo", "--video", str(video), "--targets", str(targets), "--out",
                 str(tmp_path / "o")]) == 2
    assert "--targets needs --calibrate" in capsys.readouterr().err
