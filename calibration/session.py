"""Collecting a calibration: the app (or the demo) shows the targets :meth:`next_target`
hands out, feeds every frame's result with :meth:`add`, and calls :meth:`finish` for a
:class:`~gazesdk.calibration.profile.CalibrationProfile`.

What is dropped, per target: samples from the first ``settle_ms`` after the target appears
(saccadic latency, about 200 ms, then the saccade and its settling; 400 ms by default), invalid
frames (no face, bad boxes), blinks, and outliers: samples farther than ``outlier_mad`` x the
median absolute deviation (x 1.4826, floored at ``mad_floor_cm``) from the target's median on
either axis. In smooth pursuit the eye trails the dot: :meth:`finish` estimates that lag (the
delay, searched over 0..``max_lag_ms``, that lets an affine map explain the gaze best) and
pairs each sample with where the dot was that long before. A fit target with fewer than
``min_samples`` good samples stops :meth:`finish` with one line naming it.

Samples use the model's *uncalibrated* gaze (``GazeResult.raw_gaze_cm``), whatever
calibration the estimator already applies, and its ``features`` when the model emits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gazesdk.calibration.drift import HeadReference
from gazesdk.calibration.methods import Samples, fit_calibration, fit_map, target_errors
from gazesdk.calibration.patterns import PointPattern, PursuitPattern
from gazesdk.calibration.profile import (
    DEFAULT_DISTANCE_CM,
    CalibrationProfile,
    TargetReport,
    Validation,
    cm_to_deg,
)
from gazesdk.errors import CalibrationError, ConfigError
from gazesdk.geometry.screen import screen_to_cam_cm

# "auto" moves from the offset to a richer map only at a 100x leave-one-target-out advantage:
# on the bundled model richer maps won leave-one-target-out inside the calibration but lost
# on the rest of the session (chosen on the study's val subjects, offset_prior too:
# benchmarks/results/calibration.md); a model whose errors are affine-shaped can raise it.
AUTO_PREFER_SIMPLER = 0.01
PURSUIT_SEGMENTS = 8          # the path's pieces, left out one at a time to choose lambda


@dataclass(frozen=True)
class CollectionOptions:
    """How samples are kept (see the module)."""

    settle_ms: int = 400
    min_samples: int = 5
    outlier_mad: float = 3.0
    mad_floor_cm: float = 0.15
    max_lag_ms: int = 400
    lag_step_ms: int = 10
    guard_margin: float = 0.0      # accept when calibrated <= uncalibrated x (1 - margin)
    offset_prior: float = 1.0      # the fits' shrinkage (methods.fit_calibration)
    prefer_simpler: float = AUTO_PREFER_SIMPLER

    def __post_init__(self) -> None:
        if not (0 <= self.settle_ms <= 3000 and self.min_samples >= 1
                and self.outlier_mad > 0 and self.mad_floor_cm >= 0
                and 0 <= self.max_lag_ms <= 1000 and self.lag_step_ms >= 1
                and 0 <= self.guard_margin < 1 and self.offset_prior >= 0
                and 0 < self.prefer_simpler <= 1):
            raise ConfigError("collection options out of range: settle_ms 0-3000, "
                              "min_samples >= 1, outlier_mad > 0, mad_floor_cm >= 0, "
                              "max_lag_ms 0-1000, lag_step_ms >= 1, guard_margin in [0, 1), "
                              "offset_prior >= 0, prefer_simpler in (0, 1]")


@dataclass(frozen=True)
class Target:
    """A target to show: its index, screen point (for a moving target: where it starts),
    whether it is a validation point, and whether it moves (smooth pursuit: the app draws
    ``pattern.position(t - shown_at)``)."""

    index: int
    x_pt: float
    y_pt: float
    validation: bool = False
    moving: bool = False


@dataclass
class _Collected:
    target: Target
    shown_at_ms: int | None
    times: list[int]
    gaze: list[tuple[float, float]]
    features: list[np.ndarray | None]
    poses: list[Any]
    settling: int = 0
    invalid: int = 0
    blink: int = 0


class CalibrationSession:
    """One calibration run over a pattern (:func:`~gazesdk.calibration.patterns.point_pattern`
    or :func:`~gazesdk.calibration.patterns.pursuit_pattern`), for one model.

    ``model``: the model's metadata (what ``estimator.backend.metadata`` holds) or a
    (sha256, name) pair; the profile is bound to it. ``method``: "auto" (the best of the
    methods the samples allow, by leave-one-target-out) or one of
    :data:`~gazesdk.calibration.methods.METHODS`.
    """

    def __init__(self, pattern: PointPattern | PursuitPattern, *,
                 model: dict[str, Any] | tuple[str, str],
                 options: CollectionOptions | None = None, method: str = "auto") -> None:
        from gazesdk.calibration.profile import model_identity

        if not isinstance(pattern, (PointPattern, PursuitPattern)):
            raise ConfigError("pattern must be a PointPattern or a PursuitPattern")
        self.pattern = pattern
        self.options = options or CollectionOptions()
        self.method = method
        self.model_sha256, self.model_name = (model if isinstance(model, tuple)
                                              else model_identity(model))
        if isinstance(pattern, PursuitPattern):
            start = pattern.position(0.0)
            self._plan = [Target(0, float(start[0]), float(start[1]), moving=True)]
            validation = pattern_validation(pattern)
        else:
            self._plan = [Target(i, float(p[0]), float(p[1]))
                          for i, p in enumerate(pattern.targets)]
            validation = pattern.validation
        k = len(self._plan)
        self._plan += [Target(k + i, float(p[0]), float(p[1]), validation=True)
                       for i, p in enumerate(validation)]
        self._done: list[_Collected] = []
        self._current: _Collected | None = None
        self._last_ts: int | None = None
        self.lag_ms: int | None = None

    # -- collection ----------------------------------------------------------------------
    @property
    def remaining(self) -> int:
        return len(self._plan) - len(self._done) - (self._current is not None)

    @property
    def current(self) -> Target | None:
        return None if self._current is None else self._current.target

    def next_target(self, shown_at_ms: int | None = None) -> Target | None:
        """Close the current target and return the next one to show (None when all were
        shown). ``shown_at_ms``: when it appears on the screen, on the frames' clock; None
        takes the timestamp of the next sample added."""
        if self._current is not None:
            self._done.append(self._current)
            self._current = None
        i = len(self._done)
        if i >= len(self._plan):
            return None
        self._current = _Collected(self._plan[i], shown_at_ms, [], [], [], [])
        return self._plan[i]

    def add(self, result: Any, timestamp_ms: int | None = None) -> None:
        """Take one frame's GazeResult (its ``timestamp_ms`` unless given)."""
        ts = result.timestamp_ms if timestamp_ms is None else timestamp_ms
        if ts is None:
            raise ConfigError("add() needs a timestamp: pass timestamp_ms or a VIDEO-mode "
                              "result")
        blink = getattr(result, "blink", None)
        reason = getattr(result, "invalid_reason", None)
        is_blink = (blink is not None and blink.closed) or (
            reason is not None and getattr(reason, "value", reason) == "blink")
        self.add_sample(result.raw_gaze_cm if result.valid else None, int(ts),
                        features=getattr(result, "features", None),
                        head_pose=getattr(result, "head_pose", None), blink=is_blink)

    def add_sample(self, gaze_cm: tuple[float, float] | np.ndarray | None, timestamp_ms: int, *,
                   features: np.ndarray | None = None, head_pose: Any = None,
                   blink: bool = False) -> None:
        """Take one sample: the uncalibrated gaze (None: an invalid frame), its time (ms,
        increasing), and optionally the model's features and the head pose."""
        from gazesdk.runtime.smoothing import TimestampError

        if self._current is None:
            raise CalibrationError("no target is shown: call next_target() first")
        ts = int(timestamp_ms)
        if self._last_ts is not None and ts <= self._last_ts:
            raise TimestampError(f"timestamp_ms must increase: {ts} after {self._last_ts}")
        self._last_ts = ts
        c = self._current
        if c.shown_at_ms is None:
            c.shown_at_ms = ts
        if blink:
            c.blink += 1
            return
        if gaze_cm is None or not np.isfinite(np.asarray(gaze_cm, float)).all():
            c.invalid += 1
            return
        age = ts - c.shown_at_ms
        settle = self.options.settle_ms
        if c.target.moving:
            settle += getattr(self.pattern, "lead_in_ms", 0)
        if age < settle:
            c.settling += 1
            return
        g = np.asarray(gaze_cm, float).reshape(2)
        c.times.append(age)
        c.gaze.append((float(g[0]), float(g[1])))
        c.features.append(None if features is None else np.asarray(features, float).ravel())
        c.poses.append(head_pose)

    # -- results -------------------------------------------------------------------------
    def _collected(self) -> list[_Collected]:
        return self._done + ([self._current] if self._current is not None else [])

    def _target_cm(self, pts: np.ndarray) -> np.ndarray:
        p = self.pattern
        x, y = screen_to_cam_cm(pts[:, 0], pts[:, 1], p.device, p.orientation, p.screen_pts)
        return np.stack([x, y], 1)

    def _kept(self, c: _Collected) -> np.ndarray:
        """Mask of the samples of a fixed target that are not outliers (median / MAD)."""
        g = np.asarray(c.gaze, float).reshape(-1, 2)
        if len(g) < 3:
            return np.ones(len(g), bool)
        med = np.median(g, axis=0)
        mad = np.maximum(1.4826 * np.median(np.abs(g - med), axis=0), self.options.mad_floor_cm)
        return (np.abs(g - med) <= self.options.outlier_mad * mad).all(axis=1)

    def report(self) -> list[TargetReport]:
        """Per shown target: samples kept, dropped by reason, and spread (cm)."""
        out = []
        for c in self._collected():
            t = c.target
            if t.moving:
                kept = np.ones(len(c.gaze), bool)
            else:
                kept = self._kept(c)
            g = np.asarray(c.gaze, float).reshape(-1, 2)[kept]
            spread = (float(np.sqrt(((g - np.median(g, axis=0)) ** 2).sum(1).mean()))
                      if len(g) else None)
            out.append(TargetReport(index=t.index, x_pt=t.x_pt, y_pt=t.y_pt,
                                    validation=t.validation, kept=int(kept.sum()),
                                    settling=c.settling, invalid=c.invalid, blink=c.blink,
                                    outliers=int((~kept).sum()), spread_cm=spread))
        return out

    def _fixed_samples(self, validation: bool) -> Samples:
        gaze, target, ids, feats = [], [], [], []
        for c in self._collected():
            t = c.target
            if t.validation != validation or t.moving:
                continue
            kept = self._kept(c)
            g = np.asarray(c.gaze, float).reshape(-1, 2)[kept]
            gaze.append(g)
            target.append(np.repeat(self._target_cm(np.array([[t.x_pt, t.y_pt]])), len(g), 0))
            ids.append(np.full(len(g), t.index))
            feats += [f for f, k in zip(c.features, kept, strict=True) if k]
        return _samples(gaze, target, ids, feats)

    def _pursuit_samples(self) -> Samples:
        """Pursuit samples paired with the dot ``lag_ms`` earlier (the lag is estimated)."""
        assert isinstance(self.pattern, PursuitPattern)
        moving = [c for c in self._collected() if c.target.moving]
        if not moving or not moving[0].gaze:
            return _samples([], [], [], [])
        c = moving[0]
        t = np.asarray(c.times, float)
        g = np.asarray(c.gaze, float)
        best = None
        for lag in range(0, self.options.max_lag_ms + 1, self.options.lag_step_ms):
            dot = self._target_cm(self.pattern.position(t - lag))
            m = fit_map(Samples(g, dot, np.arange(len(g))), "affine", lam=1e-6, offset_prior=0)
            r = np.linalg.norm(m.apply(g) - dot, axis=1)
            score = float(np.median(r))
            if best is None or score < best[0]:
                best = (score, lag, dot, r)
        assert best is not None
        _, self.lag_ms, dot, r = best
        med = np.median(r)
        mad = max(1.4826 * np.median(np.abs(r - med)), self.options.mad_floor_cm)
        kept = r <= med + self.options.outlier_mad * mad
        segment = np.minimum((t - t.min()) / max(np.ptp(t), 1e-9) * PURSUIT_SEGMENTS,
                             PURSUIT_SEGMENTS - 1).astype(int)
        feats = [f for f, k in zip(c.features, kept, strict=True) if k]
        return _samples([g[kept]], [dot[kept]], [segment[kept]], feats)

    def samples(self, *, validation: bool = False) -> Samples:
        """The kept fit samples (or the validation samples)."""
        if validation or isinstance(self.pattern, PointPattern):
            return self._fixed_samples(validation)
        return self._pursuit_samples()

    def finish(self) -> CalibrationProfile:
        """Fit the profile. CalibrationError (one line) when a fit target has too few good
        samples or nothing was collected."""
        reports = self.report()
        fit_reports = [r for r in reports if not r.validation]
        if len(fit_reports) < sum(1 for t in self._plan if not t.validation):
            shown = len(fit_reports)
            total = sum(1 for t in self._plan if not t.validation)
            raise CalibrationError(f"only {shown} of the pattern's {total} targets were shown: "
                                   f"show them all (next_target()) before finish()")
        need = self.options.min_samples
        short = [r for r in fit_reports if r.kept < need]
        if short:
            r = short[0]
            why = ", ".join(f"{n} {k}" for k, n in (("settling", r.settling),
                                                   ("invalid", r.invalid), ("blink", r.blink),
                                                   ("outliers", r.outliers)) if n)
            raise CalibrationError(
                f"target {r.index} (at {r.x_pt:.0f}, {r.y_pt:.0f} pt) has {r.kept} good "
                f"samples of the {need} needed (dropped: {why or 'none seen'}): show it again "
                f"for longer" + (f"; {len(short) - 1} more target(s) too" if len(short) > 1
                                 else ""))
        fit_samples = self.samples()
        fit = fit_calibration(fit_samples, self.method, offset_prior=self.options.offset_prior,
                              prefer_simpler=self.options.prefer_simpler)
        poses = [p for c in self._collected() for p in c.poses if p is not None]
        reference = HeadReference.from_poses(poses)
        distance = reference.distance_cm if reference is not None else DEFAULT_DISTANCE_CM
        val = self.samples(validation=True)
        val_targets = [r for r in reports if r.validation and r.kept >= need]
        if val_targets:
            keep = np.isin(val.target_id, [r.index for r in val_targets])
            val = val.subset(keep)
            err = float(np.mean(target_errors(fit.map, val)))
            base = float(np.mean(target_errors(None, val)))
            source = "validation points"
        elif fit.loto_cm is not None:
            err, base, source = fit.loto_cm, fit.loto_uncalibrated_cm, "leave-one-target-out"
        else:
            err = base = None
            source = "none"
        validation = Validation(source=source, error_cm=err, uncalibrated_cm=base,
                                error_deg=cm_to_deg(err, distance),
                                uncalibrated_deg=cm_to_deg(base, distance),
                                targets=len(val_targets) if val_targets else
                                (len(fit_samples.targets) if source != "none" else 0))
        accepted, reason = guard(validation, self.options.guard_margin)
        extra: dict[str, Any] = {"tried": fit.tried}
        if self.lag_ms is not None:
            extra["pursuit_lag_ms"] = self.lag_ms
        p = self.pattern
        return CalibrationProfile(map=fit.map, model_sha256=self.model_sha256,
                                  model_name=self.model_name, device=p.device,
                                  orientation=p.orientation, pattern=p.name,
                                  validation=validation, accepted=accepted,
                                  guard_reason=reason, reference=reference,
                                  targets=tuple(reports), extra=extra)


def guard(validation: Validation, margin: float = 0.0) -> tuple[bool, str]:
    """Accept a fit unless its held-out error is above ``1 - margin`` x the uncalibrated
    model's (margin 0: unless it is worse)."""
    if validation.error_cm is None or validation.uncalibrated_cm is None:
        return True, "no held-out targets: accepted unchecked (shrunk toward the identity)"
    if validation.error_cm <= validation.uncalibrated_cm * (1 - margin):
        return True, (f"held-out error {validation.error_cm:.2f} cm <= uncalibrated "
                      f"{validation.uncalibrated_cm:.2f} cm ({validation.source})")
    return False, (f"held-out error {validation.error_cm:.2f} cm is not below "
                   f"{1 - margin:g} x uncalibrated {validation.uncalibrated_cm:.2f} cm "
                   f"({validation.source}): the runtime keeps the uncalibrated gaze")


def pattern_validation(pattern: PursuitPattern) -> np.ndarray:
    """The validation points shown after a pursuit path: those of the 9-point layout."""
    from gazesdk.calibration.patterns import point_pattern

    return point_pattern(9, pattern.device, pattern.orientation, margin=pattern.margin).validation


def _samples(gaze: list, target: list, ids: list, feats: list) -> Samples:
    if not gaze or sum(len(g) for g in gaze) == 0:
        return Samples(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0, int))
    f = None
    if feats and all(x is not None for x in feats):
        f = np.stack(feats)
    return Samples(np.vstack(gaze), np.vstack(target), np.concatenate(ids), f)
