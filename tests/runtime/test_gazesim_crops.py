"""GazeSim datasets with the runtime's landmark crops: the boxes agree with GazeSim's exact
head geometry, the patches are the runtime's cuts of the full frames, stare sequences are
tracked, failures keep the truth boxes and are counted."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.data.arrays import load_arrays
from gazesdk.runtime.crops import cut_patch
from gazesdk.sim import GazeSim, SimConfig

pytest.importorskip("ai_edge_litert")
pytest.importorskip("mediapipe")


@pytest.fixture(scope="module")
def cropper(detector_model, landmark_models):
    from gazesdk.runtime.gazesim_crops import LandmarkCropper

    c = LandmarkCropper()
    yield c
    c.close()


def test_boxes_follow_gazesim_geometry_and_patches_are_runtime_cuts(cropper):
    sim = GazeSim(SimConfig(subjects=4, frames_per_subject=6, seed=2))
    out = cropper.chunk(sim, 0, len(sim))
    truth = sim.render_chunk(0, len(sim))
    frames, _ = sim.render_frames(np.arange(len(sim)))
    for k, rgb in enumerate(frames):
        for name in ("face", "left_eye", "right_eye"):
            box, want = out[f"{name}_box"][k], truth[f"{name}_box"][k]
            # centres within a fifth of the truth box, sides within 15%
            c, cw = box[:2] + box[2:] / 2, want[:2] + want[2:] / 2
            assert np.abs(c - cw).max() < 0.2 * want[2], (k, name, box, want)
            assert abs(box[2] / want[2] - 1) < 0.15, (k, name, box, want)
            assert np.array_equal(out[name][k], cut_patch(rgb, tuple(int(v) for v in box), 64))
    for k in ("gaze_cm", "subject", "split", "head_pose_deg"):
        assert np.array_equal(out[k], truth[k])


def test_stare_sequences_are_tracked(cropper, monkeypatch):
    sim = GazeSim(SimConfig(subjects=1, frames_per_subject=0, stare_sequences=2,
                            stare_frames=10, seed=4))
    calls = []
    inner = cropper.detector.detect
    monkeypatch.setattr(cropper.detector, "detect", lambda rgb: calls.append(1) or inner(rgb))
    cropper.chunk(sim, 0, len(sim))
    assert len(calls) == 2            # one detection per sequence, the rest tracked


def test_failures_keep_truth_boxes_and_are_counted(cropper, monkeypatch, tmp_path):
    from gazesdk.runtime.gazesim_crops import write_landmark_arrays

    sim = GazeSim(SimConfig(subjects=2, frames_per_subject=3, seed=5))
    monkeypatch.setattr("gazesdk.runtime.detector.MediaPipeFaceDetector.detect",
                        lambda self, rgb: [])
    folder, failures = write_landmark_arrays(sim, tmp_path / "ds")
    data = load_arrays(folder)
    assert failures["no_face"] == 6 and failures["failure_rate"] == 1.0
    assert data.info["crop_failures"]["no_face"] == 6 and data.info["crops"] == "landmarks-v1"
    assert np.array_equal(data["face_box"], sim.render_chunk(0, 6)["face_box"])
