"""The crop comparison's measures on known inputs: progress-averaged step lag of a pipeline
that answers with a known delay, and blink/pose bookkeeping on GazeSim's labels."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.mobile_bench.landmarks import step_lag
from gazesdk.runtime.result import GazeResult


class Delayed:
    """A stand-in estimator whose raw output follows the frame's own label after ``delay``
    frames (the frames here are labels, not images)."""

    def __init__(self, delay: int, noise: float = 0.0) -> None:
        self.delay, self.noise, self.seen = delay, noise, []
        self.rng = np.random.default_rng(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def reset(self):
        self.seen = []

    def estimate_for_video(self, frame, ts):
        self.seen.append(np.asarray(frame, float))
        xy = self.seen[max(0, len(self.seen) - 1 - self.delay)] + self.rng.normal(0, self.noise, 2)
        return GazeResult(True, gaze_cm=tuple(xy), raw_gaze_cm=tuple(xy))


def _steps(n: int, size: float):
    return [{"frames": [np.zeros(2)] * 10 + [np.array([size, -size / 2])] * 10, "step": 10,
             "before": np.zeros(2), "after": np.array([size, -size / 2])} for _ in range(n)]


@pytest.mark.parametrize("delay", [0, 1, 3])
def test_step_lag_finds_a_known_delay_through_noise(delay):
    made = {"p": Delayed(delay, noise=0.4)}
    assert step_lag(lambda name: made[name], ("p",), _steps(12, 6.0)) == {"p": delay}


def test_steps_too_small_to_time_are_left_out():
    assert step_lag(lambda name: Delayed(0), ("p",), _steps(3, 1.0)) == {"p": None}


def test_the_committed_landmark_results_keep_the_contract():
    """benchmarks/results/landmarks.json is read by later issues: its names and shapes."""
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).resolve().parents[2] / "benchmarks" / "results"
                      / "landmarks.json").read_text())
    trio = {"keypoints", "landmarks", "landmarks_stabilised"}
    for key in ("e2e_to_landmarks_ratio", "e2e_to_detector_ratio", "fast_e2e_to_detector_ratio",
                "tracked_share", "blink_recall", "blink_false_positive_rate"):
        assert isinstance(doc[key], float) and doc[key] >= 0, key
    assert set(doc["real_face_msd_cm"]) == set(doc["lag_frames"]) == trio
    assert set(doc["gazesim_error_cm"]) == {"keypoints", "landmarks"}
    assert set(doc["head_pose_mae_deg"]) == {"yaw", "pitch", "roll"}
    assert doc["command"].startswith("python benchmarks/landmarks.py")
    assert {"platform", "cpus", "python"} <= set(doc["machine"])
