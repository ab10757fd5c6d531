"""GazeSim must be learnable across people: a linear model on pixels beats the mean."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gazesdk.sim import GazeSim, SimConfig


def _features(d: dict[str, np.ndarray]) -> np.ndarray:
    cols = []
    for k in ("face", "left_eye", "right_eye"):
        g = d[k].mean(-1).astype(np.float32)
        g = np.stack([cv2.resize(im, (16, 16), interpolation=cv2.INTER_AREA) for im in g])
        g = g.reshape(len(g), -1)
        cols.append((g - g.mean(1, keepdims=True)) / (g.std(1, keepdims=True) + 1e-3))
    cols.append(d["face_grid"].reshape(len(g), -1).astype(np.float32))
    return np.concatenate(cols, 1)


@pytest.mark.slow
def test_ridge_on_pixels_beats_the_mean_on_held_out_subjects():
    sim = GazeSim(SimConfig(subjects=80, frames_per_subject=40, sessions_per_subject=1,
                            split_fractions=(0.75, 0.0, 0.25), seed=5))
    data = {k: np.concatenate([c[k] for c in sim.iter_chunks()]) for k in
            ("face", "left_eye", "right_eye", "face_grid", "gaze_cm", "split")}
    train, test = data["split"] == 0, data["split"] == 2
    x = _features(data)
    mu, sd = x[train].mean(0), x[train].std(0) + 1e-3
    x = (x - mu) / sd
    y_mean = data["gaze_cm"][train].mean(0)
    xtr = x[train]
    w = np.linalg.solve(xtr.T @ xtr + 10.0 * len(xtr) * np.eye(x.shape[1]),
                        xtr.T @ (data["gaze_cm"][train] - y_mean))
    truth = data["gaze_cm"][test]
    ridge = np.linalg.norm(x[test] @ w + y_mean - truth, axis=1).mean()
    mean = np.linalg.norm(y_mean - truth, axis=1).mean()
    # Measured: ridge ~0.75x of the mean predictor on these 20 unseen subjects.
    assert ridge < 0.85 * mean, (ridge, mean)
