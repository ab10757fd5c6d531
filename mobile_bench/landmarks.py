"""Keypoint crops vs landmark crops vs landmark crops with the box stabiliser (issue 16), on the
same frames in one run: end-to-end jitter (raw MSD) on real-face stares, lag on a GazeSim gaze
step, GazeSim error end to end, blinks and head pose on GazeSim against its exact labels.

Every pipeline is a :class:`~gazesdk.runtime.GazeEstimator` built by a ``make(name)`` factory
(shared detector, mesh, iris and backends), so the figures are the runtime's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gazesdk.evaluation.metrics import msd_cm
from gazesdk.runtime import GazeEstimator, InvalidReason
from gazesdk.runtime.box_stabiliser import BoxStabiliserOptions
from gazesdk.runtime.tracking import FaceSource

# name -> GazeEstimatorOptions fields (on top of VIDEO mode and the model)
PIPELINES: dict[str, dict[str, Any]] = {
    "keypoints": {"crop": "keypoints-v1", "landmarks": False},
    "landmarks": {"crop": "landmarks-v1"},
    "landmarks_stabilised": {"crop": "landmarks-v1", "box_stabiliser": BoxStabiliserOptions()},
}
STEP_SEED = 61_616
BLINK_SEED = 71_717
POSE_SEED = 81_818

Make = Callable[[str], GazeEstimator]


def run_video(estimator: GazeEstimator, frames: list[np.ndarray], sequence: np.ndarray
              ) -> dict[str, Any]:
    """Every frame through ``estimate_for_video`` (a fresh stream per sequence id): raw gaze
    (NaN when invalid), the results, and the share of frames whose face was tracked."""
    raw = np.full((len(frames), 2), np.nan)
    results = []
    prev = None
    ts = 0
    for i, rgb in enumerate(frames):
        if sequence[i] != prev:
            estimator.reset()
            prev = sequence[i]
        ts += 33
        r = estimator.estimate_for_video(rgb, ts)
        results.append(r)
        if r.valid:
            raw[i] = r.raw_gaze_cm
    tracked = [r.face_source is FaceSource.TRACKED for r in results]
    return {"raw": raw, "results": results, "tracked_share": float(np.mean(tracked))}


def stare_msd(make: Make, names: tuple[str, ...], frames: list[np.ndarray],
              sequence: np.ndarray) -> dict[str, dict[str, float]]:
    """{name: {"msd_cm", "valid_share", "tracked_share"}}: raw end-to-end MSD on stares."""
    out = {}
    for name in names:
        with make(name) as est:
            run = run_video(est, frames, sequence)
        ok = np.isfinite(run["raw"]).all(1)
        out[name] = {"msd_cm": round(msd_cm(run["raw"][ok], sequence[ok]), 4),
                     "valid_share": round(float(ok.mean()), 4),
                     "tracked_share": round(run["tracked_share"], 4)}
    return out


def gazesim_stare_frames(subjects: int = 8, *, seed: int = STEP_SEED + 1
                         ) -> tuple[list[np.ndarray], np.ndarray]:
    """Full frames of GazeSim stares (two of 30 frames per subject) and their sequence ids:
    jitter of a whole pipeline (detection or tracking, crops, model) against exact labels."""
    from gazesdk.sim import GazeSim, SimConfig

    sim = GazeSim(SimConfig(subjects=subjects, frames_per_subject=0, sessions_per_subject=1,
                            stare_sequences=2, stare_frames=30, seed=seed))
    index = np.arange(len(sim))
    frames, _ = sim.render_frames(index)
    return frames, sim.plan.sequence[index]


def gazesim_step_frames(subjects: int = 8, frames: int = 20, *, seed: int = STEP_SEED
                        ) -> list[dict[str, Any]]:
    """Per subject: two GazeSim stares of one session joined into a saccade, the head held
    where the first left it (only the dot changes), with the two targets in cm."""
    from gazesdk.sim import GazeSim, SimConfig

    sim = GazeSim(SimConfig(subjects=subjects, frames_per_subject=0, sessions_per_subject=1,
                            stare_sequences=2, stare_frames=frames, seed=seed))
    p = sim.plan
    steps = []
    for s in range(subjects):
        rows = np.flatnonzero(p.sessions.subject[p.session] == s)
        a, b = rows[:frames], rows[frames:2 * frames]
        for arr in (p.head_pos, p.head_pose):      # the head stays: continue its drift
            arr[b] = arr[a[-1]] + (arr[b] - arr[b[0]])
        p.exposure[b] = p.exposure[a[-1]]
        rendered, _ = sim.render_frames(np.concatenate([a, b]))
        steps.append({"frames": rendered, "step": frames,
                      "before": p.target[a[0], :2].copy(), "after": p.target[b[0], :2].copy()})
    return steps


def step_lag(make: Make, names: tuple[str, ...], steps: list[dict[str, Any]]
             ) -> dict[str, int | None]:
    """{name: frames} after a gaze step until the raw output has covered 90% of it. Each
    subject's output is turned into progress along its own step (0 at the mean output of the
    frames before it, 1 after; steps under 2 cm are left out as too small to time) and the
    progress is averaged over subjects, so the figure is the pipeline's delay, not one noisy
    trace's. The lag is the first frame from the step on whose mean progress, and the average
    of every later frame's, reach 90% (a noisy average dips under 90% now and then after it
    has arrived, which the noise-free rule of :func:`frames_to_fraction` would count as
    lag); None when no step could be timed or none arrives."""
    out: dict[str, int | None] = {}
    for name in names:
        progress = []
        with make(name) as est:
            for st in steps:
                n = len(st["frames"])
                raw = run_video(est, st["frames"], np.zeros(n, int))["raw"]
                k = st["step"]
                start = np.nanmean(raw[k // 2:k], axis=0)
                end = np.nanmean(raw[k + k // 2:], axis=0)
                span = end - start
                if not np.isfinite(span).all() or np.hypot(*span) < 2.0:
                    continue
                progress.append((raw - start) @ span / (span @ span))
        if not progress:
            out[name] = None
            continue
        mean = np.nanmean(np.stack(progress), axis=0)
        k = steps[0]["step"]
        out[name] = next((j - k for j in range(k, len(mean))
                          if mean[j] >= 0.9 and mean[j:].mean() >= 0.9), None)
    return out


def gazesim_accuracy(make: Make, names: tuple[str, ...], *, subjects: int = 30,
                     frames: int = 10, seed: int = POSE_SEED) -> dict[str, dict[str, Any]]:
    """GazeSim subjects never trained on, random dots, IMAGE-like (each frame its own stream):
    end-to-end error in cm per pipeline, the detector/mesh failure share, and head pose
    against the exact pose (the first landmark pipeline's)."""
    from gazesdk.sim import GazeSim, SimConfig

    sim = GazeSim(SimConfig(subjects=subjects, frames_per_subject=frames,
                            sessions_per_subject=1, seed=seed))
    index = np.arange(len(sim))
    rendered, _ = sim.render_frames(index)
    target = sim.plan.target[index, :2]
    out: dict[str, dict[str, Any]] = {}
    pose_done = False
    for name in names:
        with make(name) as est:
            run = run_video(est, rendered, index)      # one stream per frame: detected
        err = np.hypot(*(run["raw"] - target).T)
        ok = np.isfinite(err)
        no_face = sum(r.invalid_reason is InvalidReason.NO_FACE for r in run["results"])
        out[name] = {"error_cm": round(float(err[ok].mean()), 4),
                     "valid_share": round(float(ok.mean()), 4),
                     "no_face_share": round(no_face / len(index), 4), "frames": len(index)}
        if not pose_done and PIPELINES[name].get("landmarks", True):
            est_pose = np.array([[r.head_pose.yaw_deg, r.head_pose.pitch_deg,
                                  r.head_pose.roll_deg] if r.head_pose else [np.nan] * 3
                                 for r in run["results"]])
            true = np.degrees(sim.plan.head_pose[index])
            d = np.abs(est_pose - true)
            good = np.isfinite(d).all(1)
            out["head_pose"] = {"mae_deg": {k: round(float(d[good, i].mean()), 3)
                                            for i, k in enumerate(("yaw", "pitch", "roll"))},
                                "bias_deg": {k: round(float((est_pose - true)[good, i].mean()),
                                                      3)
                                             for i, k in enumerate(("yaw", "pitch", "roll"))},
                                "frames": int(good.sum()), "pipeline": name}
            pose_done = True
    return out


def blink_scores(make: Make, name: str = "landmarks", *, subjects: int = 20,
                 seed: int = BLINK_SEED) -> dict[str, Any]:
    """GazeSim stares with two blinks each (lids closing over 100-400 ms): a blink frame is
    one with the lids at least half closed; recall and false-positive rate of the runtime's
    ``blink`` invalid reason."""
    from gazesdk.sim import GazeSim, SimConfig

    sim = GazeSim(SimConfig(subjects=subjects, frames_per_subject=0, sessions_per_subject=1,
                            stare_sequences=1, stare_frames=60, stare_blinks=2, seed=seed))
    index = np.arange(len(sim))
    rendered, _ = sim.render_frames(index)
    truth = sim.plan.lid_closure[index] >= 0.5
    with make(name) as est:
        run = run_video(est, rendered, sim.plan.sequence[index])
    pred = np.array([r.invalid_reason is InvalidReason.BLINK for r in run["results"]])
    return {"recall": round(float(pred[truth].mean()), 4),
            "false_positive_rate": round(float(pred[~truth].mean()), 4),
            "blink_frames": int(truth.sum()), "open_frames": int((~truth).sum()),
            "blinks": 2 * subjects, "pipeline": name}
