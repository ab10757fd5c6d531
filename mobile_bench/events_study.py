"""Issue 19's event study: GazeSim scan paths filmed and run through the real runtime (bundled
model, smoothing off), so event detectors and smoothers are scored on the gaze a phone would
produce, against the recording's exact labels.

Smoothers and event classifiers are causal functions of (timestamps, gaze, distance, eye
openness), so each stream is run through the estimator once and cached (``collect``); every
classifier and filter setting is then applied offline to the same raw stream, exactly as the
estimator would apply it live.

Subjects: the bundled model's dataset (:data:`gazesdk.calibration.study.STUDY_SIM`); its
validation-split subjects are for tuning, its test-split subjects (never trained on, never
looked at while tuning) give the figures.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.calibration.study import STUDY_SIM
from gazesdk.data.arrays import SPLITS
from gazesdk.sim import GazeSim
from gazesdk.sim.scanpath import ScanPathOptions, record_scan_path


@dataclass(frozen=True)
class StudyPlan:
    """Which streams to record: per split, subjects x one session each, at each frame rate."""

    test_subjects: int = 12
    val_subjects: int = 4
    duration_ms: int = 45_000
    fps: tuple[int, ...] = (30,)
    fps60_subjects: int = 4          # test subjects also filmed at 60 fps
    fps60_duration_ms: int = 30_000
    seed: int = 0


def subjects_of(sim: GazeSim, split: str, count: int) -> list[int]:
    """The first ``count`` subjects of ``split`` (by id)."""
    ids = np.flatnonzero(sim.plan.subject_split == SPLITS.index(split))
    return ids[:count].tolist()


def streams(plan: StudyPlan, sim: GazeSim) -> list[dict[str, Any]]:
    """Every stream of the study: split, subject, session, fps, duration."""
    out = []
    for split, count in (("val", plan.val_subjects), ("test", plan.test_subjects)):
        for subj in subjects_of(sim, split, count):
            sess = int(np.flatnonzero(sim.plan.sessions.subject == subj)[0])
            out.append({"split": split, "subject": subj, "session": sess, "fps": 30,
                        "duration_ms": plan.duration_ms})
    for subj in subjects_of(sim, "test", plan.fps60_subjects):
        sess = int(np.flatnonzero(sim.plan.sessions.subject == subj)[0])
        out.append({"split": "test", "subject": subj, "session": sess, "fps": 60,
                    "duration_ms": plan.fps60_duration_ms})
    return out


def stream_name(s: dict[str, Any]) -> str:
    return f"{s['split']}_s{s['subject']}_{s['fps']}fps"


def run_stream(sim: GazeSim, estimator: Any, s: dict[str, Any], seed: int) -> dict[str, np.ndarray]:
    """Film one scan path and run it through ``estimator`` (VIDEO mode, smoothing off): the
    per-frame raw gaze, validity, eye openness, blink state and head distance, with the truth."""
    options = ScanPathOptions(duration_ms=int(s["duration_ms"]), fps=float(s["fps"]))
    _, truth, frames = record_scan_path(sim, int(s["session"]), options=options, seed=seed)
    estimator.reset()
    n = len(truth)
    raw = np.full((n, 2), np.nan)
    openness = np.full(n, np.nan)
    distance = np.full(n, np.nan)
    blink = np.zeros(n, bool)
    reason = np.zeros(n, "<U12")
    for i, (ts, frame, _) in enumerate(frames):
        r = estimator.estimate_for_video(frame, ts + 1)
        if r.valid:
            raw[i] = r.raw_gaze_cm
        reason[i] = "" if r.invalid_reason is None else r.invalid_reason.value
        blink[i] = r.blink is not None and r.blink.closed
        if r.right_eye_openness is not None:
            openness[i] = (r.right_eye_openness + r.left_eye_openness) / 2
        if r.head_pose is not None:
            distance[i] = r.head_pose.translation_cm[2]
    return {"t": truth.timestamps_ms + 1, "raw": raw, "openness": openness, "distance": distance,
            "blink": blink, "reason": reason, "truth_cm": truth.gaze_cm,
            "labels": truth.event_labels(), "saccades": truth.saccades + [1, 1, 0, 0],
            "lid": truth.lid_closure, "head_pos": truth.head_pos_cm,
            "fps": np.asarray(s["fps"]), "subject": np.asarray(s["subject"]),
            "split": np.asarray(s["split"])}


def _save(path: Path, data: dict[str, np.ndarray]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    os.close(fd)
    np.savez(tmp, **data)
    os.replace(tmp, path)


def collect(plan: StudyPlan, work: Path, make_estimator: Callable[[], Any], *,
            progress: Callable[[str], None] = print) -> list[Path]:
    """Record every stream not yet in ``work`` (resumable: one ``.npz`` per stream, written
    atomically); returns the paths of all streams."""
    work.mkdir(parents=True, exist_ok=True)
    sim = GazeSim(STUDY_SIM)
    todo = streams(plan, sim)
    paths = []
    estimator = None
    try:
        for k, s in enumerate(todo):
            path = work / f"{stream_name(s)}.npz"
            paths.append(path)
            if path.exists():
                continue
            if estimator is None:
                estimator = make_estimator()
            progress(f"[{k + 1}/{len(todo)}] {stream_name(s)}")
            _save(path, run_stream(sim, estimator, s, plan.seed))
    finally:
        if estimator is not None:
            estimator.close()
    return paths


def load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


# -- scoring ----------------------------------------------------------------------------------
FIXATION, SACCADE, PURSUIT, BLINK = range(4)      # RecordingTruth.event_labels' codes
ONSET_MIN_DEG = 2.0


def detect(d: dict[str, np.ndarray], options: Any = None) -> np.ndarray:
    """Per-frame :class:`~gazesdk.events.EyeState` values of a cached stream through a fresh
    :class:`~gazesdk.events.EventDetector` (as the runtime runs it: raw gaze, the head pose's
    distance, the blink state)."""
    from gazesdk.events import EventDetector

    det = EventDetector(options)
    out = np.empty(len(d["t"]), "<U8")
    for i, t in enumerate(d["t"].tolist()):
        g = d["raw"][i]
        z = float(d["distance"][i])
        r = det.update(int(t), None if not np.isfinite(g).all() else (float(g[0]), float(g[1])),
                       head_translation_cm=(0.0, 0.0, z) if np.isfinite(z) else None,
                       blink=bool(d["blink"][i]))
        out[i] = r.state.value
    return out


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two label arrays: (p_o - p_e) / (1 - p_e)."""
    a, b = np.asarray(a), np.asarray(b)
    if len(a) != len(b) or not len(a):
        raise ValueError("kappa needs two label arrays of the same, non-zero length")
    cats = np.union1d(a, b)
    po = float((a == b).mean())
    pe = float(sum((a == c).mean() * (b == c).mean() for c in cats))
    return 1.0 if pe == 1.0 else (po - pe) / (1.0 - pe)


def score_stream(d: dict[str, np.ndarray], states: np.ndarray) -> dict[str, Any]:
    """Counts for one stream: kappa's confusion (fixation/saccade frames of both), saccade
    onsets (>= 2 deg, not micro) found within one frame, blink frames."""
    labels, t = d["labels"], d["t"].astype(np.float64)
    gt = np.where(labels == SACCADE, "saccade", np.where(labels == FIXATION, "fixation", ""))
    both = (gt != "") & np.isin(states, ("fixation", "saccade"))
    valid = np.isfinite(d["raw"]).all(1)
    onsets = hits = skipped = 0
    det_on = np.flatnonzero((states == "saccade") & np.r_[True, states[:-1] != "saccade"])
    for start, _end, amp, kind in d["saccades"]:
        if amp < ONSET_MIN_DEG or int(kind) == 3:
            continue
        k0 = int(np.searchsorted(t, start, side="right"))
        if k0 >= len(t):
            continue
        lo, hi = max(k0 - 1, 0), min(k0 + 1, len(t) - 1)
        if not valid[lo:hi + 1].all():
            skipped += 1
            continue
        onsets += 1
        hits += bool(((det_on >= lo) & (det_on <= hi)).any())
    blink_true = d["lid"] >= 0.5
    blink_pred = states == "blink"
    return {"gt": gt[both], "pred": states[both], "frames": len(t),
            "excluded_frames": int((~both).sum()), "onsets": onsets, "onset_hits": hits,
            "onsets_without_gaze": skipped,
            "blink_frames": int(blink_true.sum()),
            "blink_hits": int((blink_pred & blink_true).sum()),
            "open_frames": int((~blink_true).sum()),
            "blink_false": int((blink_pred & ~blink_true).sum())}


def summarise_scores(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Pooled figures over streams: sample-level kappa, onset share, blink recall/FP."""
    gt = np.concatenate([p["gt"] for p in parts])
    pred = np.concatenate([p["pred"] for p in parts])
    on, hit = sum(p["onsets"] for p in parts), sum(p["onset_hits"] for p in parts)
    bf, bh = sum(p["blink_frames"] for p in parts), sum(p["blink_hits"] for p in parts)
    of, fp = sum(p["open_frames"] for p in parts), sum(p["blink_false"] for p in parts)
    sac = gt == "saccade"
    return {"cohen_kappa": round(cohen_kappa(gt, pred), 4),
            "saccade_onset_within_1_frame": round(hit / on, 4) if on else None,
            "blink_recall": round(bh / bf, 4) if bf else None,
            "blink_false_positive_rate": round(fp / of, 4) if of else None,
            "saccade_recall": round(float((pred[sac] == "saccade").mean()), 4),
            "saccade_precision": round(float((gt[pred == "saccade"] == "saccade").mean()), 4)
            if (pred == "saccade").any() else None,
            "classified_frames": int(len(gt)), "saccade_frames": int(sac.sum()),
            "onsets": on, "onsets_without_gaze": sum(p["onsets_without_gaze"] for p in parts),
            "blink_frames": bf, "open_frames": of}


def relabel(plan: StudyPlan, work: Path) -> list[dict[str, np.ndarray]]:
    """Every cached stream, its labels and saccades re-planned from the scan path (cheap, no
    rendering), so a change of the label definition needs no new recording."""
    from gazesdk.sim.scanpath import plan_scan_path

    sim = GazeSim(STUDY_SIM)
    out = []
    for s in streams(plan, sim):
        d = load(work / f"{stream_name(s)}.npz")
        options = ScanPathOptions(duration_ms=int(s["duration_ms"]), fps=float(s["fps"]))
        _, truth = plan_scan_path(sim, int(s["session"]), options=options, seed=plan.seed)
        d["labels"] = truth.event_labels()
        d["saccades"] = truth.saccades + [1, 1, 0, 0]
        d.update({"name": np.asarray(stream_name(s))})
        out.append(d)
    return out


def with_noise(d: dict[str, np.ndarray], sigma_cm: float, seed: int) -> dict[str, np.ndarray]:
    """The stream with its gaze replaced by the truth plus Gaussian noise (per axis
    ``sigma_cm``) on the frames that had a gaze: a tracker as noisy as the model that follows
    every eye movement (0: a perfect tracker)."""
    rng = np.random.default_rng(seed)
    out = dict(d)
    ok = np.isfinite(d["raw"]).all(1)
    g = d["truth_cm"] + rng.normal(0, sigma_cm, d["truth_cm"].shape) * (sigma_cm > 0)
    out["raw"] = np.where(ok[:, None], g, np.nan)
    return out


def fixation_noise_cm(data: list[dict[str, np.ndarray]]) -> float:
    """The model's per-axis noise on fixation frames: the robust sigma (1.4826 x the median
    absolute deviation, the std for Gaussian noise) of its frame-to-frame steps there, over
    sqrt(2) (a step is the difference of two noisy samples)."""
    steps = []
    for d in data:
        lab = d["labels"]
        fix = (lab[1:] == FIXATION) & (lab[:-1] == FIXATION)
        st = np.diff(d["raw"], axis=0)[fix]
        steps.append(st[np.isfinite(st).all(1)])
    v = np.concatenate(steps)
    sigma = 1.4826 * np.median(np.abs(v - np.median(v, axis=0)), axis=0)
    return float(sigma.mean() / np.sqrt(2))


def real_face_stares(stares: int = 8, frames: int = 60) -> dict[str, np.ndarray] | None:
    """Shaken-camera stares of the real photos (issue 17's suite, base framing) through the
    runtime in VIDEO mode: per frame the raw gaze, timestamp (30 fps), stare id and photo.
    Every frame is a fixation in truth (the person does not move their eyes), so any saccade
    an event detector reports there is a false one. None when no photo is available."""
    from gazesdk.mobile_bench.real_faces import build_suite, run_estimator
    from gazesdk.runtime import GazeEstimatorOptions

    suite = build_suite(conditions=(), stares=stares, stare_frames=frames)
    if not suite.frames:
        return None
    gaze, _ = run_estimator(GazeEstimatorOptions(), suite)
    seq = np.asarray(suite.sequence)
    t = np.zeros(len(seq), np.int64)
    for s in np.unique(seq):
        rows = np.flatnonzero(seq == s)
        t[rows] = 33 * (np.arange(len(rows)) + 1)
    return {"raw": gaze, "t": t, "sequence": seq, "photo": np.asarray(suite.photo)}


def false_saccades_on_stares(real: dict[str, np.ndarray], options: Any = None
                             ) -> dict[str, Any]:
    """Share of the real-face stare frames (after each stare's first) an event detector calls a
    saccade, per photo and pooled."""
    out: dict[str, Any] = {}
    flags: dict[str, list[bool]] = {}
    for s in np.unique(real["sequence"]):
        rows = np.flatnonzero(real["sequence"] == s)
        d = {"t": real["t"][rows], "raw": real["raw"][rows],
             "distance": np.full(len(rows), np.nan), "blink": np.zeros(len(rows), bool)}
        states = detect(d, options)[1:]
        flags.setdefault(str(real["photo"][rows[0]]), []).extend((states == "saccade").tolist())
    for photo, f in flags.items():
        out[photo] = round(float(np.mean(f)), 4)
    out["all"] = round(float(np.mean(sum(flags.values(), []))), 4)
    return out
