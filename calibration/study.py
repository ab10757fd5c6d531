"""The calibration study of issue 18 (``benchmarks/calibration.py`` runs it): per held-out
GazeSim subject, record calibrations in each of its two sessions, fit every method on every
pattern, and measure the error on the subject's other frames in the same session and in the
other session (another hold of the phone and head pose: the drift case).

Per session, three scripted recordings (:mod:`gazesdk.sim.recording`: saccades with latency,
undershoot and landing scatter, smooth pursuit with lag, blinks, a drifting head) go through
the real runtime (:class:`~gazesdk.runtime.GazeEstimator`, VIDEO mode, the bundled model, no
smoothing) and into :class:`~gazesdk.calibration.CalibrationSession`:

- the 13-point pattern and its 4 validation points, each shown ``dwell_ms``; the 1, 5 and 9-point
  patterns are its subsets (the layouts nest), fed to a session in the order they were shown;
- the smooth-pursuit path and the same validation points;
- ``taps`` dots at random places on the screen (the app's buttons), each tapped ``tap_at_ms``
  after it appears: the implicit calibration's samples.

The evaluation frames are the session's own GazeSim frames (independent stills of that
session, IMAGE mode; lens stares left out). Everything a subject gives is cached in
``<work>/subject_<id>.npz``, so an interrupted study resumes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import numpy as np

from gazesdk.calibration.drift import DriftMonitor
from gazesdk.calibration.implicit import ImplicitCalibrator
from gazesdk.calibration.methods import MIN_TARGETS
from gazesdk.calibration.patterns import PointPattern, point_pattern, pursuit_pattern
from gazesdk.calibration.session import CalibrationSession, CollectionOptions
from gazesdk.errors import CalibrationError, ConfigError
from gazesdk.geometry.screen import screen_to_cam_cm
from gazesdk.sim import GazeSim, SimConfig

# the bundled model's dataset (tools/train_default_model.py: SIM with the bundled recipe's
# detailed eyes and lens stares); its test-split subjects were never trained on
BUNDLED_SIM = SimConfig(subjects=300, frames_per_subject=40, sessions_per_subject=2,
                        stare_sequences=1, stare_frames=30, split_fractions=(0.85, 0.05, 0.10),
                        seed=20261122, eye_detail=True, lens_fraction=0.1)
# the study's sim: the same people (subjects and splits are unchanged), each holding one phone
# in both sessions, so a profile made in one session applies in the other
STUDY_SIM = replace(BUNDLED_SIM, sessions_share_device=True)
POINT_PATTERNS = (1, 5, 9, 13)
METHODS = ("auto", "offset", "affine", "poly2", "ridge")
RECORDINGS = ("points", "pursuit", "taps")


@dataclass(frozen=True)
class StudySettings:
    """How much to record per session (see the module)."""

    subjects: int = 12
    fps: int = 15
    dwell_ms: int = 1500
    pursuit_ms: int = 8000
    lead_in_ms: int = 1000
    taps: int = 20
    tap_dwell_ms: int = 800
    tap_at_ms: int = 700
    seed: int = 0


def _times(start: int, stop: int, fps: int) -> np.ndarray:
    step = 1000 // fps
    return np.arange(start, stop, step, dtype=np.int64)


def scripts(device: Any, orientation: int, s: StudySettings, rng: np.random.Generator
            ) -> dict[str, dict[str, Any]]:
    """Per recording: frame times, the dot at each, and when each target appeared."""
    out: dict[str, dict[str, Any]] = {}
    p13 = point_pattern(13, device, orientation)
    shown = [(pt, False) for pt in p13.targets] + [(pt, True) for pt in p13.validation]
    t = _times(0, len(shown) * s.dwell_ms, s.fps)
    k = t // s.dwell_ms
    out["points"] = {"t": t, "dots": np.stack([shown[i][0] for i in k]),
                     "onsets": np.arange(len(shown)) * s.dwell_ms}
    pur = pursuit_pattern(device, orientation, duration_ms=s.pursuit_ms,
                          lead_in_ms=s.lead_in_ms)
    n_val = len(p13.validation)
    end = pur.total_ms + n_val * s.dwell_ms
    t = _times(0, end, s.fps)
    dots = pur.position(t)
    after = t >= pur.total_ms
    j = (t[after] - pur.total_ms) // s.dwell_ms
    dots[after] = p13.validation[j]
    out["pursuit"] = {"t": t, "dots": dots,
                      "onsets": np.r_[0, pur.total_ms + np.arange(n_val) * s.dwell_ms]}
    w, h = device.screen_size_points(orientation)
    taps = rng.uniform([0.05 * w, 0.05 * h], [0.95 * w, 0.95 * h], (s.taps, 2))
    t = _times(0, s.taps * s.tap_dwell_ms, s.fps)
    out["taps"] = {"t": t, "dots": taps[t // s.tap_dwell_ms],
                   "onsets": np.arange(s.taps) * s.tap_dwell_ms, "taps": taps}
    return out


def _pose_row(pose: Any) -> np.ndarray:
    if pose is None:
        return np.full(6, np.nan)
    return np.r_[pose.yaw_deg, pose.pitch_deg, pose.roll_deg, pose.translation_cm]


def _result_rows(results: list[Any], feature_dim: int) -> dict[str, np.ndarray]:
    n = len(results)
    raw = np.full((n, 2), np.nan)
    feats = np.full((n, feature_dim), np.nan, np.float32)
    pose = np.full((n, 6), np.nan)
    blink = np.zeros(n, bool)
    for i, r in enumerate(results):
        if r.valid:
            raw[i] = r.raw_gaze_cm
            if r.features is not None:
                feats[i] = r.features
        pose[i] = _pose_row(r.head_pose)
        blink[i] = (r.invalid_reason is not None and r.invalid_reason.value == "blink")
    return {"raw": raw, "features": feats, "pose": pose, "blink": blink}


def collect_subject(sim: GazeSim, subject: int, video: Any, image: Any, s: StudySettings,
                    feature_dim: int) -> dict[str, np.ndarray]:
    """Run one subject's recordings and evaluation frames through the estimators."""
    from gazesdk.sim.recording import iter_record

    p = sim.plan
    out: dict[str, np.ndarray] = {}
    sessions = np.flatnonzero(p.sessions.subject == subject)
    for si, sess in enumerate(sessions.tolist()):
        dev = sim.devices[int(p.sessions.device[sess])]
        o = int(p.sessions.orientation[sess])
        out[f"s{si}_session"] = np.asarray(sess)
        out[f"s{si}_device"] = np.asarray(dev.name)
        out[f"s{si}_orientation"] = np.asarray(o)
        rng = np.random.default_rng([s.seed, subject, si])
        for name, sc in scripts(dev, o, s, rng).items():
            video.reset()
            results, truth = [], []
            for ts, frame, tr in iter_record(sim, int(sess), timestamps_ms=sc["t"],
                                             dots_pts=sc["dots"],
                                             seed=s.seed * 8 + RECORDINGS.index(name)):
                results.append(video.estimate_for_video(frame, ts + 1))
                truth.append(tr.gaze_cm)
            rows = _result_rows(results, feature_dim)
            key = f"s{si}_{name}"
            for k, v in rows.items():
                out[f"{key}_{k}"] = v
            out[f"{key}_t"] = sc["t"] + 1
            out[f"{key}_dots"] = sc["dots"]
            out[f"{key}_onsets"] = sc["onsets"] + 1
            out[f"{key}_truth"] = np.asarray(truth)
            if "taps" in sc:
                out[f"{key}_taps"] = sc["taps"]
        # evaluation: the session's own regular frames, lens stares left out
        rows_i = np.flatnonzero((p.session == sess) & (p.kind == 0))
        w, h = dev.screen_size_points(o)
        d = p.dot_pts[rows_i]
        rows_i = rows_i[(d[:, 0] >= 0) & (d[:, 0] <= w) & (d[:, 1] >= 0) & (d[:, 1] <= h)]
        frames, _ = sim.render_frames(rows_i)
        results = [image.estimate(f) for f in frames]
        rows = _result_rows(results, feature_dim)
        for k, v in rows.items():
            out[f"s{si}_eval_{k}"] = v
        out[f"s{si}_eval_truth"] = p.target[rows_i, :2]
        out[f"s{si}_eval_dots"] = p.dot_pts[rows_i]
        out[f"s{si}_eval_distance"] = p.head_pos[rows_i, 2]
    return out


# -- analysis ----------------------------------------------------------------------------------
def _pose(row: np.ndarray) -> Any:
    if not np.isfinite(row).all():
        return None
    return SimpleNamespace(yaw_deg=row[0], pitch_deg=row[1], roll_deg=row[2],
                           translation_cm=tuple(row[3:6]))


def _feed(session: CalibrationSession, d: dict[str, np.ndarray], key: str,
          keep_targets: list[int] | None = None) -> None:
    """Replay a recording into a session: target k spans its onset to the next onset;
    targets outside ``keep_targets`` (indices into the recording's targets) are skipped."""
    t, onsets = d[f"{key}_t"], d[f"{key}_onsets"]
    raw, feats, pose, blink = (d[f"{key}_{k}"] for k in ("raw", "features", "pose", "blink"))
    which = np.searchsorted(onsets, t, side="right") - 1
    order = range(len(onsets)) if keep_targets is None else keep_targets
    for k in order:
        if session.next_target(int(onsets[k])) is None:
            break
        for i in np.flatnonzero(which == k):
            g = raw[i] if np.isfinite(raw[i]).all() else None
            f = feats[i] if np.isfinite(feats[i]).all() else None
            session.add_sample(g, int(t[i]), features=f, head_pose=_pose(pose[i]),
                               blink=bool(blink[i]))
    session.next_target()


def subset_pattern(p13: PointPattern, points: int) -> tuple[PointPattern, list[int]]:
    """The ``points`` layout as a subset of the 13-point recording, in the order shown, and
    the recording's target indices to feed (fit targets, then the validation points)."""
    want = {tuple(v) for v in point_pattern(points, p13.device, p13.orientation).targets.round(6)}
    keep = [i for i, v in enumerate(p13.targets.round(6)) if tuple(v) in want]
    pat = PointPattern(points=points, targets=p13.targets[keep], validation=p13.validation,
                       device=p13.device, orientation=p13.orientation, margin=p13.margin)
    return pat, keep + [len(p13.targets) + j for j in range(len(p13.validation))]


def _errors(gaze: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.linalg.norm(gaze - truth, axis=1)


@dataclass
class Case:
    """One fit (subject, the session it was fitted in, method, pattern) and its errors."""

    subject: int
    fit_session: int
    method: str
    pattern: str
    points: int
    accepted: bool
    same_cm: float
    same_uncal_cm: float
    other_cm: float
    other_uncal_cm: float
    same_deg: float
    same_uncal_deg: float
    other_deg: float
    other_uncal_deg: float
    same_raw_cm: float               # the fit applied whatever the guard said
    other_raw_cm: float
    drift_share_other: float | None = None
    drift_share_same: float | None = None


def _eval_set(d: dict[str, np.ndarray], si: int) -> dict[str, np.ndarray]:
    raw, truth = d[f"s{si}_eval_raw"], d[f"s{si}_eval_truth"]
    ok = np.isfinite(raw).all(1)
    feats = d[f"s{si}_eval_features"]
    return {"raw": raw[ok], "truth": truth[ok], "features": feats[ok],
            "distance": d[f"s{si}_eval_distance"][ok], "dots": d[f"s{si}_eval_dots"][ok],
            "pose": d[f"s{si}_eval_pose"][ok]}


def _apply(profile_or_map: Any, ev: dict[str, np.ndarray]) -> np.ndarray:
    f = ev["features"] if getattr(profile_or_map, "needs_features", False) else None
    return profile_or_map.apply(ev["raw"], f)


def _deg(err_cm: np.ndarray, distance: np.ndarray) -> float:
    return float(np.degrees(np.arctan2(err_cm, distance)).mean())


def drift_share(profile: Any, ev: dict[str, np.ndarray]) -> float | None:
    """Share of an evaluation set's frames whose head pose the drift monitor flags (each
    frame judged alone, as in IMAGE mode)."""
    if profile.reference is None:
        return None
    m = DriftMonitor(profile.reference)
    flags = [m.update(_pose(row)) for row in ev["pose"] if np.isfinite(row).all()]
    return float(np.mean(flags)) if flags else None


def analyse_subject(d: dict[str, np.ndarray], model: tuple[str, str],
                    options: CollectionOptions | None = None,
                    methods: tuple[str, ...] = METHODS) -> tuple[list[Case], list[str]]:
    """Every method x pattern fitted in each session, evaluated in both; notes on refusals."""
    from gazesdk.geometry.devices import get_device

    cases: list[Case] = []
    notes: list[str] = []
    subject = int(d["subject"])
    evals = [_eval_set(d, si) for si in (0, 1)]
    for si in (0, 1):
        other = 1 - si
        dev = get_device(str(d[f"s{si}_device"]))
        o = int(d[f"s{si}_orientation"])
        same_ev, other_ev = evals[si], evals[other]
        other_ok = (str(d[f"s{other}_device"]) == dev.name
                    and int(d[f"s{other}_orientation"]) == o)
        fits: list[tuple[str, str, int, Any]] = []
        p13 = point_pattern(13, dev, o)
        for points in POINT_PATTERNS:
            pat, keep = subset_pattern(p13, points)
            for method in methods:
                if method != "auto" and points < MIN_TARGETS[method]:
                    continue                      # not a method for so few points
                sess = CalibrationSession(pat, model=model, options=options, method=method)
                _feed(sess, d, f"s{si}_points", keep)
                try:
                    fits.append((method, str(points), points, sess.finish()))
                except (CalibrationError, ConfigError) as e:
                    notes.append(f"subject {subject} session {si} {points}-point {method}: {e}")
        pur = pursuit_pattern(dev, o, duration_ms=int(d["pursuit_ms"]),
                              lead_in_ms=int(d["lead_in_ms"]))
        for method in methods:
            sess = CalibrationSession(pur, model=model, options=options, method=method)
            _feed(sess, d, f"s{si}_pursuit")
            try:
                fits.append((method, "pursuit", 0, sess.finish()))
            except (CalibrationError, ConfigError) as e:
                notes.append(f"subject {subject} session {si} pursuit {method}: {e}")
        implicit = implicit_map(d, si, dev, o)
        for method, pattern, points, prof in fits:
            cases.append(_case(subject, si, method, pattern, points, prof, prof.accepted,
                               same_ev, other_ev, other_ok))
        if implicit is not None:
            cases.append(_case(subject, si, "implicit", "implicit", int(d["taps_n"]),
                               implicit, True, same_ev, other_ev, other_ok))
    return cases, notes


def implicit_map(d: dict[str, np.ndarray], si: int, device: Any, orientation: int) -> Any:
    """The implicit calibrator after the taps recording (taps at ``tap_at_ms``)."""
    key = f"s{si}_taps"
    c = ImplicitCalibrator()
    t, raw = d[f"{key}_t"], d[f"{key}_raw"]
    taps, onsets = d[f"{key}_taps"], d[f"{key}_onsets"]
    tap_times = onsets + int(d["tap_at_ms"])
    w, h = device.screen_size_points(orientation)
    j = 0
    for i in range(len(t)):
        while j < len(tap_times) and tap_times[j] < t[i]:
            x, y = screen_to_cam_cm(taps[j, 0], taps[j, 1], device, orientation, (w, h))
            c.add_tap((float(x), float(y)), int(tap_times[j]))
            j += 1
        if np.isfinite(raw[i]).all():
            c.observe((float(raw[i, 0]), float(raw[i, 1])), int(t[i]))
    return c.map


def _case(subject: int, si: int, method: str, pattern: str, points: int, fitted: Any,
          accepted: bool, same_ev: dict, other_ev: dict, other_ok: bool) -> Case:
    vals = {}
    for name, ev in (("same", same_ev), ("other", other_ev)):
        if name == "other" and not other_ok:
            vals.update(other_cm=math.nan, other_uncal_cm=math.nan, other_deg=math.nan,
                        other_uncal_deg=math.nan, other_raw_cm=math.nan)
            continue
        base = _errors(ev["raw"], ev["truth"])
        cal = _errors(_apply(fitted, ev), ev["truth"])
        used = cal if accepted else base
        vals.update({f"{name}_cm": float(used.mean()), f"{name}_uncal_cm": float(base.mean()),
                     f"{name}_deg": _deg(used, ev["distance"]),
                     f"{name}_uncal_deg": _deg(base, ev["distance"]),
                     f"{name}_raw_cm": float(cal.mean())})
    case = Case(subject=subject, fit_session=si, method=method, pattern=pattern, points=points,
                accepted=accepted, **vals)
    if hasattr(fitted, "reference"):
        case.drift_share_same = drift_share(fitted, same_ev)
        case.drift_share_other = drift_share(fitted, other_ev) if other_ok else None
    return case


def summarise(cases: list[Case]) -> list[dict[str, Any]]:
    """The contract rows: per (method, pattern, session) the mean error over cases, the
    uncalibrated error of the same cases, their ratio, and the share of cases made worse by
    more than 5%."""
    rows = []
    keys = sorted({(c.method, c.pattern, c.points) for c in cases},
                  key=lambda k: (["1", "5", "9", "13", "pursuit", "implicit"].index(k[1]),
                                 (*METHODS, "implicit").index(k[0])))
    for method, pattern, points in keys:
        sel = [c for c in cases if (c.method, c.pattern) == (method, pattern)]
        for session in ("same", "other"):
            e = np.array([getattr(c, f"{session}_cm") for c in sel])
            u = np.array([getattr(c, f"{session}_uncal_cm") for c in sel])
            ed = np.array([getattr(c, f"{session}_deg") for c in sel])
            ud = np.array([getattr(c, f"{session}_uncal_deg") for c in sel])
            raw = np.array([getattr(c, f"{session}_raw_cm") for c in sel])
            ok = np.isfinite(e) & np.isfinite(u)
            if not ok.any():
                continue
            rows.append({
                "method": method, "pattern": pattern, "points": points, "session": session,
                "error_cm": round(float(e[ok].mean()), 3),
                "uncalibrated_cm": round(float(u[ok].mean()), 3),
                "ratio": round(float(e[ok].mean() / u[ok].mean()), 3),
                "worse_share": round(float(np.mean(e[ok] > 1.05 * u[ok])), 3),
                "error_deg": round(float(ed[ok].mean()), 3),
                "uncalibrated_deg": round(float(ud[ok].mean()), 3),
                "unguarded_cm": round(float(raw[ok].mean()), 3),
                "unguarded_worse_share": round(float(np.mean(raw[ok] > 1.05 * u[ok])), 3),
                "rejected_share": round(float(np.mean([not c.accepted for c, k in
                                                       zip(sel, ok, strict=True) if k])), 3),
                "cases": int(ok.sum())})
    return rows


def ceilings(data: list[dict[str, np.ndarray]]) -> dict[str, float]:
    """What no calibration of each family can beat: the map fitted on the evaluation frames
    themselves (in-sample, no shrinkage), mean error over sessions, and the uncalibrated
    error of the same frames. A ratio here far above a goal means the model's errors on this
    person are not of that family's shape (they change with the head's placement)."""
    from gazesdk.calibration.methods import Samples, fit_map

    out: dict[str, list[float]] = {"uncalibrated": [], "offset": [], "affine": [], "poly2": []}
    for d in data:
        for si in (0, 1):
            ev = _eval_set(d, si)
            if len(ev["raw"]) < 8:
                continue
            s = Samples(ev["raw"], ev["truth"], np.arange(len(ev["raw"])))
            out["uncalibrated"].append(float(_errors(ev["raw"], ev["truth"]).mean()))
            for m in ("offset", "affine", "poly2"):
                f = fit_map(s, m, lam=0.0, offset_prior=0.0)
                out[m].append(float(_errors(f.apply(ev["raw"]), ev["truth"]).mean()))
    base = float(np.mean(out["uncalibrated"])) if out["uncalibrated"] else math.nan
    return {k: round(float(np.mean(v)), 3) for k, v in out.items() if v} | {
        f"{k}_ratio": round(float(np.mean(v)) / base, 3) for k, v in out.items()
        if v and k != "uncalibrated"}


def drift_precision_recall(cases: list[Case], refit: dict[tuple[int, int], float], *,
                           help_ratio: float = 0.8, flag_share: float = 0.5
                           ) -> dict[str, Any]:
    """How well ``recalibration_advised`` tells when recalibrating would help: for each
    9-point fit (the default method, auto) applied in its own and in the other session,
    "would help" means a fresh calibration in the evaluated session (``refit``: its error)
    beats the applied one by more than 1 - ``help_ratio``; "flagged" means the monitor flags
    more than ``flag_share`` of that session's frames."""
    tp = fp = fn = tn = 0
    for c in cases:
        if (c.method, c.pattern) != ("auto", "9"):
            continue
        for session, share in (("same", c.drift_share_same), ("other", c.drift_share_other)):
            if share is None:
                continue
            evaluated = c.fit_session if session == "same" else 1 - c.fit_session
            fresh = refit.get((c.subject, evaluated))
            applied = getattr(c, f"{session}_cm")
            if fresh is None or not np.isfinite(applied):
                continue
            helps = fresh < help_ratio * applied
            flagged = share > flag_share
            tp += helps and flagged
            fp += (not helps) and flagged
            fn += helps and not flagged
            tn += (not helps) and not flagged
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall,
            "help_ratio": help_ratio, "flag_share": flag_share}


def heat_maps(data: list[dict[str, np.ndarray]], profiles: dict[tuple[int, int], Any],
              *, cells: tuple[int, int] = (3, 5)) -> dict[str, np.ndarray]:
    """Mean error (cm) over the screen (cells of normalised screen position, columns x rows)
    before and after calibration, same session."""
    from gazesdk.geometry.devices import get_device

    nx, ny = cells
    sums = {k: np.zeros((ny, nx)) for k in ("before", "after")}
    counts = np.zeros((ny, nx))
    for d in data:
        subject = int(d["subject"])
        for si in (0, 1):
            prof = profiles.get((subject, si))
            if prof is None:
                continue
            ev = _eval_set(d, si)
            dev = get_device(str(d[f"s{si}_device"]))
            w, h = dev.screen_size_points(int(d[f"s{si}_orientation"]))
            cx = np.clip((ev["dots"][:, 0] / w * nx).astype(int), 0, nx - 1)
            cy = np.clip((ev["dots"][:, 1] / h * ny).astype(int), 0, ny - 1)
            before = _errors(ev["raw"], ev["truth"])
            after = _errors(_apply(prof, ev), ev["truth"]) if prof.accepted else before
            np.add.at(sums["before"], (cy, cx), before)
            np.add.at(sums["after"], (cy, cx), after)
            np.add.at(counts, (cy, cx), 1)
    with np.errstate(invalid="ignore"):
        return {k: v / counts for k, v in sums.items()} | {"count": counts}


def real_face_check(options: Any, *, method: str = "auto") -> dict[str, Any] | None:
    """The same question on real faces (issue 17's real photos, whose gaze is known by
    geometry: a stare into the lens, and the irises re-rendered at known offsets, which move
    the gaze point by a computed amount): per photo, a 5-target calibration at the base
    framing (the lens and the four iris shifts), applied to the other framings of the same
    photo (near, far, rolled, off-centre). Reports the error against the geometric targets
    and the iris response (model shift / geometric shift) before and after. None without
    scikit-image (the photos)."""
    from gazesdk.calibration.methods import Samples, fit_calibration
    from gazesdk.mobile_bench.real_faces import (
        CONDITIONS,
        IRIS_CONDITIONS,
        build_suite,
        real_photos,
        run_estimator,
    )

    try:
        photos = real_photos()
    except ConfigError:
        return None
    suite = build_suite(photos, conditions=tuple(c for c in CONDITIONS
                                                 if c.name in IRIS_CONDITIONS),
                        stares=1, stare_frames=2)      # (the stares are not used here)
    gaze, _ = run_estimator(options, suite)
    kind = np.asarray(suite.kind)
    target = np.asarray(suite.expected_cm, float)
    target[kind == "lens"] = 0.0
    use = np.isin(kind, ("lens", "iris")) & np.isfinite(gaze).all(1)
    out: dict[str, Any] = {"photos": {}}
    ids = {d: k for k, d in enumerate(("", "horizontal+", "horizontal-", "vertical+",
                                       "vertical-"))}
    for photo in sorted(set(suite.photo)):
        mine = use & (np.asarray(suite.photo) == photo)
        fit_rows = np.flatnonzero(mine & (np.asarray(suite.condition) == "base"))
        test_rows = np.flatnonzero(mine & (np.asarray(suite.condition) != "base"))
        if len(fit_rows) < 5 or not len(test_rows):
            continue
        s = Samples(gaze[fit_rows], target[fit_rows],
                    np.asarray([ids[suite.direction[i]] for i in fit_rows]))
        o = CollectionOptions()              # the product's defaults
        fit = fit_calibration(s, method, offset_prior=o.offset_prior,
                              prefer_simpler=o.prefer_simpler)
        after = fit.map.apply(gaze[test_rows])
        before_err = np.linalg.norm(gaze[test_rows] - target[test_rows], axis=1)
        after_err = np.linalg.norm(after - target[test_rows], axis=1)
        out["photos"][photo] = {
            "method": fit.map.method, "framings": sorted({suite.condition[i]
                                                          for i in test_rows}),
            "uncalibrated_cm": round(float(before_err.mean()), 3),
            "calibrated_cm": round(float(after_err.mean()), 3),
            "ratio": round(float(after_err.mean() / before_err.mean()), 3),
            "iris_response_before": _iris_response(suite, gaze, test_rows),
            "iris_response_after": _iris_response(
                suite, _replace_rows(gaze, test_rows, after), test_rows)}
    return out


def _replace_rows(gaze: np.ndarray, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    g = gaze.copy()
    g[rows] = values
    return g


def _iris_response(suite: Any, gaze: np.ndarray, rows: np.ndarray) -> dict[str, float | None]:
    """Median model / geometric gaze shift per axis over the rows' (framing, axis) pairs."""
    from gazesdk.mobile_bench.real_faces import _iris_cases

    cases = _iris_cases(suite, gaze, rows)
    res: dict[str, float | None] = {}
    for axis in ("horizontal", "vertical"):
        r = [c["ratio"] for c in cases if c["axis"] == axis and np.isfinite(c["ratio"])]
        res[axis] = round(float(np.median(r)), 3) if r else None
    return res
