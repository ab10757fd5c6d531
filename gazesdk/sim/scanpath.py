"""Scan paths: a person looking around a phone's screen, for eye-movement event studies
(issue 19). A scan path is a schedule of targets, fixated in turn (reached by saccades that
follow the main sequence, with fixational drift and microsaccades), sometimes followed smoothly
(pursuit), with blinks; :func:`record_scan_path` films it with GazeSim's recordings
(:mod:`gazesdk.sim.recording`), whose truth carries per-frame event labels
(:meth:`~gazesdk.sim.recording.RecordingTruth.event_labels`) and every saccade's timing.

Figures and sources (defaults of :class:`ScanPathOptions`):

- Fixation durations: scene viewing and search give a skewed distribution with a mean near
  300 ms and a tail past 1 s (Rayner 1998; Henderson & Hollingworth 1998): a gamma of mean
  ``fixation_mean_ms`` and shape ``fixation_shape``, at least ``min_fixation_ms``; a
  ``long_fixation_share`` of the fixations are the long looks of a person reading a button or
  choosing by dwell (``long_fixation_ms``, uniform).
- Saccade targets: a ``local_share`` land near the current one (``local_deg``, uniform
  amplitude: the small steps of reading and inspecting), the rest anywhere on the screen.
- Pursuit: a ``pursuit_share`` of the segments move the target along a straight line at
  ``pursuit_deg_s`` (uniform) for ``pursuit_ms`` (uniform), within the range of comfortable
  pursuit (up to ~30 deg/s; Meyer, Lasker & Robinson 1985).
- The eye (:data:`SCAN_EYE`): :class:`~gazesdk.sim.recording.EyeMotion`'s saccade,
  drift and pursuit figures, with microsaccades at 1.5 Hz (Martinez-Conde et al. 2004) and
  blinks at 0.3 Hz (18 a minute; Bentivoglio et al. 1997).

Angles become screen distances at ``distance_cm`` from the screen (the session's mean head
distance in :func:`record_scan_path`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.geometry.devices import DeviceGeometry
from gazesdk.settings import check_types
from gazesdk.sim.generator import GazeSim
from gazesdk.sim.recording import EyeMotion, FrameTruth, RecordingTruth, iter_record, plan_recording

SCAN_EYE = EyeMotion(microsaccade_rate_hz=1.5, blink_rate_hz=0.3)
SCAN_PURPOSE = 19              # random streams: (19, seed, session)
SCREEN_MARGIN = 0.05           # targets keep this fraction of the screen's size from its edges


@dataclass(frozen=True)
class ScanPathOptions:
    """How a scan path is drawn (see the module for the sources of the defaults)."""

    duration_ms: int = 30_000
    fps: float = 30.0
    fixation_mean_ms: float = 330.0
    fixation_shape: float = 4.0
    min_fixation_ms: float = 120.0
    long_fixation_share: float = 0.15
    long_fixation_ms: tuple[float, float] = (600.0, 1500.0)
    local_share: float = 0.3
    local_deg: tuple[float, float] = (2.0, 5.0)
    pursuit_share: float = 0.05
    pursuit_deg_s: tuple[float, float] = (5.0, 15.0)
    pursuit_ms: tuple[float, float] = (600.0, 1500.0)

    def __post_init__(self) -> None:
        check_types(self)
        checks = [
            (self.duration_ms > 0, "duration_ms must be > 0"),
            (0 < self.fps <= 240, "fps must lie in (0, 240]"),
            (self.fixation_mean_ms > 0 and self.fixation_shape > 0 and self.min_fixation_ms >= 0,
             "fixation_mean_ms and fixation_shape must be > 0, min_fixation_ms >= 0"),
            (0 <= self.long_fixation_share <= 1 and 0 <= self.local_share <= 1
             and 0 <= self.pursuit_share <= 1,
             "long_fixation_share, local_share and pursuit_share must lie in [0, 1]"),
        ]
        for name in ("long_fixation_ms", "local_deg", "pursuit_deg_s", "pursuit_ms"):
            lo, hi = getattr(self, name)
            checks.append((0 < lo <= hi, f"{name} must be (low, high) with 0 < low <= high"))
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"ScanPathOptions: {message}")

    def timestamps_ms(self) -> np.ndarray:
        """Frame times: k * 1000 / fps rounded to whole ms (strictly increasing up to 500 fps)."""
        n = int(np.floor(self.duration_ms * self.fps / 1000.0))
        return np.round(np.arange(max(n, 1)) * 1000.0 / self.fps).astype(np.int64)


@dataclass(frozen=True, eq=False)
class ScanPath:
    """A scan path's script: the displayed target per frame (screen points) and its segments
    (S, 4: start_ms, end_ms, kind 0 fixate / 1 pursue, and the planned saccade amplitude in
    degrees into the segment, 0 for the first)."""

    timestamps_ms: np.ndarray
    dots_pts: np.ndarray
    segments: np.ndarray


def scan_path(device: DeviceGeometry, orientation: int, *, options: ScanPathOptions | None = None,
              distance_cm: float = 30.0, seed: int = 0) -> ScanPath:
    """Draw a scan path on ``device``'s screen in ``orientation`` (pure in its arguments)."""
    o = ScanPathOptions() if options is None else options
    if not isinstance(o, ScanPathOptions):
        raise ConfigError(f"options must be ScanPathOptions, got {type(o).__name__}")
    if not (isinstance(distance_cm, (int, float)) and 5.0 <= distance_cm <= 200.0):
        raise ConfigError(f"distance_cm must be a number in [5, 200], got {distance_cm!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng([SCAN_PURPOSE, int(seed)])
    size_pt = np.asarray(device.screen_size_points(orientation), float)
    size_mm = np.asarray(device.screen_size_mm(orientation), float)
    pt_per_deg = (distance_cm * 10.0 * np.tan(np.radians(1.0))) * size_pt / size_mm
    lo, hi = SCREEN_MARGIN * size_pt, (1 - SCREEN_MARGIN) * size_pt

    def anywhere() -> np.ndarray:
        return rng.uniform(lo, hi)

    t = o.timestamps_ms()
    here = anywhere()
    time = 0.0
    seg: list[tuple[float, float, int, float]] = []
    # piecewise description: (start_ms, end_ms, p0, p1) with the target moving p0 -> p1
    pieces: list[tuple[float, float, np.ndarray, np.ndarray]] = []
    amplitude = 0.0
    while time < o.duration_ms:
        if seg and rng.random() < o.pursuit_share:
            dur = rng.uniform(*o.pursuit_ms)
            speed = rng.uniform(*o.pursuit_deg_s)
            angle = rng.uniform(0, 2 * np.pi)
            end = here + speed * dur / 1000.0 * pt_per_deg * np.array([np.cos(angle),
                                                                          np.sin(angle)])
            end = np.clip(end, lo, hi)         # a wall stops the motion: shorter, same time
            pieces.append((time, time + dur, here, end))
            seg.append((time, time + dur, 1, amplitude))
            here, time, amplitude = end, time + dur, 0.0
        else:
            if rng.random() < o.long_fixation_share:
                dur = rng.uniform(*o.long_fixation_ms)
            else:
                dur = max(o.min_fixation_ms,
                          rng.gamma(o.fixation_shape, o.fixation_mean_ms / o.fixation_shape))
            pieces.append((time, time + dur, here, here))
            seg.append((time, time + dur, 0, amplitude))
            time += dur
        # the next target: near (local) or anywhere; its planned amplitude in degrees
        if rng.random() < o.local_share:
            amp = rng.uniform(*o.local_deg)
            for _ in range(20):
                angle = rng.uniform(0, 2 * np.pi)
                nxt = here + amp * pt_per_deg * np.array([np.cos(angle), np.sin(angle)])
                if ((nxt >= lo) & (nxt <= hi)).all():
                    break
            else:
                nxt = anywhere()
        else:
            nxt = anywhere()
        amplitude = float(np.hypot(*((nxt - here) / pt_per_deg)))
        here = nxt
    dots = np.empty((len(t), 2))
    starts = np.array([p[0] for p in pieces])
    idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(pieces) - 1)
    for i in np.unique(idx).tolist():
        s, e, p0, p1 = pieces[i]
        rows = idx == i
        u = np.clip((t[rows] - s) / max(e - s, 1e-9), 0, 1)[:, None]
        dots[rows] = p0 + u * (p1 - p0)
    segments = np.array(seg, float).reshape(-1, 4)
    return ScanPath(timestamps_ms=t, dots_pts=dots, segments=segments)


def _session_script(sim: GazeSim, session: int, options: ScanPathOptions | None,
                    seed: int) -> ScanPath:
    p = sim.plan
    if (isinstance(session, bool) or not isinstance(session, (int, np.integer))
            or not 0 <= session < len(p.sessions)):
        raise ConfigError(f"session must be an integer in 0..{len(p.sessions) - 1}, got "
                          f"{session!r}")
    dev = sim.devices[int(p.sessions.device[session])]
    orientation = int(p.sessions.orientation[session])
    distance = float(np.clip(p.sessions.head_mean_cm[session][2], 5.0, 200.0))
    return scan_path(dev, orientation, options=options, distance_cm=distance,
                     seed=int(seed) * 100_003 + int(session))


def plan_scan_path(sim: GazeSim, session: int, *, options: ScanPathOptions | None = None,
                   seed: int = 0, eye: EyeMotion | None = None) -> tuple[ScanPath, RecordingTruth]:
    """The script and labels of :func:`record_scan_path` without rendering."""
    script = _session_script(sim, session, options, seed)
    truth = plan_recording(sim, int(session), timestamps_ms=script.timestamps_ms,
                           dots_pts=script.dots_pts, seed=int(seed),
                           eye=SCAN_EYE if eye is None else eye)
    return script, truth


def record_scan_path(sim: GazeSim, session: int, *, options: ScanPathOptions | None = None,
                     seed: int = 0, eye: EyeMotion | None = None, noise: bool = True
                     ) -> tuple[ScanPath, RecordingTruth, Iterator[tuple[int, np.ndarray,
                                                                          FrameTruth]]]:
    """Film ``session`` of ``sim`` looking along a scan path: the script, every label (with
    :meth:`~gazesdk.sim.recording.RecordingTruth.event_labels`), and the frames as
    :func:`~gazesdk.sim.recording.iter_record` streams them (one chunk in memory)."""
    script, truth = plan_scan_path(sim, session, options=options, seed=seed, eye=eye)
    frames = iter_record(sim, int(session), timestamps_ms=script.timestamps_ms,
                         dots_pts=script.dots_pts, seed=int(seed),
                         eye=SCAN_EYE if eye is None else eye, noise=noise)
    return script, truth, frames


def with_fps(options: ScanPathOptions | None, fps: float) -> ScanPathOptions:
    """``options`` (defaults when None) at another frame rate."""
    return replace(ScanPathOptions() if options is None else options, fps=float(fps))
