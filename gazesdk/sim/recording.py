"""Scripted recordings of a GazeSim session: the session's subject, phone hold, light and camera,
filmed while following targets shown on the screen (point patterns, smooth-pursuit paths, taps).
Calibration studies (issue 18) need video with eye dynamics; the sim's own frames are
independent stills or stare sequences at one dot.

Coordinates: targets and gaze in *screen points* (x right, y down from the top-left of the
screen as the user sees it in the session's orientation) and in GazeCapture *camera cm* (x
right, y up, on the screen plane; :mod:`gazesdk.geometry.screen`); heads in the camera frame
(cm, radians inside, degrees in the outputs); time in milliseconds.

The displayed target is sample-and-hold: ``dots_pts[k]`` is on the screen from
``timestamps_ms[k]`` until the next frame's time. The eye (:class:`EyeMotion`) answers each jump
of the target with a saccade and follows continuous motion with smooth pursuit; the head
(:class:`HeadMotion`) drifts about the session's mean and turns partly towards the gaze. The
label is where the eye looks (``gaze_pts``/``gaze_cm``): the point where the visual axes meet
the screen, with latency, lag, landing scatter and fixational drift in it (the renderer's
``fixation`` error is zero: all of the eye's motion is in the target). The dot is returned too.
Everything is a pure function of (the sim's config, session, timestamps, dots, seed, motion
parameters).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.geometry.devices import DeviceGeometry
from gazesdk.geometry.screen import cam_cm_to_screen, screen_to_cam_cm
from gazesdk.settings import check_types
from gazesdk.sim.generator import GazeSim, _splitmix64
from gazesdk.sim.render import render_views
from gazesdk.sim.scene import FrameState, build_scene
from gazesdk.sim.session import DISTANCE_CM

RECORDING_PURPOSE = 18        # random streams: (sim seed, 18, session, seed, part); issue 18
_KEY_TAG = 0x5245434F52440018  # mixed into the noise keys: never the sim's own frames' keys
SCREEN_MARGIN = 0.05          # dots may lie this fraction of the screen's size outside it
CHUNK_FRAMES = 32             # full frames rendered at once (480x640: about 30 MB)
# Random streams per recording, so changing one part's parameters leaves the others' draws.
_HEAD, _EYE, _BLINK, _FRAME, _MICRO = range(5)


@dataclass(frozen=True)
class EyeMotion:
    """How the eye follows the target (ms, degrees of visual angle). Defaults and sources:

    - Saccades to a target jump (a step larger than ``jump_deg`` between consecutive frames;
      at 30 fps 1.5 deg a frame is 45 deg/s, beyond comfortable pursuit, so fast paths drawn
      at low frame rates may need a larger ``jump_deg``) start ``latency_ms`` +-
      ``latency_sd_ms`` after the new target appears (drawn per jump, never below
      ``min_latency_ms``): visually guided saccades take 180-250 ms, express saccades about
      100 ms (Carpenter 1988, *Movements of the Eyes*; Fischer & Ramsperger 1984). Duration
      ``ms_per_deg * amplitude + base_duration_ms``: Carpenter's main-sequence fit, 2.2 ms/deg
      + 21 ms. Position profile: minimum jerk (10u^3 - 15u^4 + 6u^5; Flash & Hogan 1985), a
      symmetric bell of velocity; real saccades over ~20 deg are somewhat skewed (their
      velocity peaks earlier), which this ignores. Amplitudes are visual angles seen from the
      eye midpoint at the frame that first shows the new target.
    - ``undershoot_prob`` of primary saccades stop ``undershoot_frac`` short, and each landing
      scatters by ``landing_sd_frac`` of the amplitude (std per axis; endpoint scatter is ~5-10%
      of amplitude: van Opstal & van Gisbergen 1989). When the eye then misses the target by
      more than ``corrective_min_deg``, a corrective saccade follows ``corrective_latency_ms``
      after landing, with its own scatter (primary saccades are typically ~10% hypometric,
      corrections come after 100-150 ms: Becker 1989). What remains is the eye's fixation
      offset on that target.
    - Fixation: drift, an Ornstein-Uhlenbeck walk of std ``drift_sd_deg`` and time constant
      ``drift_tau_ms``, plus tremor ``tremor_sd_deg`` per frame; these are GazeSim's stare
      sequences' figures (``_fixational_movements``: AR(1) 0.9 at 30 fps with 0.04 deg steps,
      std 0.09 deg, tau 320 ms), of the size of measured drift (Martinez-Conde et al. 2004).
    - Smooth pursuit of target motion faster than ``pursuit_min_deg_s``: eye velocity is the
      target's, ``pursuit_lag_ms`` earlier, times ``pursuit_gain`` (both drawn per recording,
      uniformly in the ranges): pursuit latency 80-150 ms (Lisberger, Morris & Tychsen 1987),
      steady-state gain slightly below 1 up to ~30 deg/s (Meyer, Lasker & Robinson 1985).
      What pursuit misses (gain below 1, motion too slow to pursue) is made up by catch-up
      saccades once the error, seen ``pursuit_lag_ms`` late, exceeds ``catch_up_deg``
      (de Brouwer et al. 2002).
    - Blinks at ``blink_rate_hz`` (gamma-distributed intervals of shape 3, at least
      ``BLINK_GAP_MS`` apart), each ``blink_ms`` long with GazeSim's profile (closing in the
      first 30%, shut to 45%, opening slower): spontaneous blinks come 5-25 per minute
      depending on the task and last 100-400 ms (Bentivoglio et al. 1997; Caffier et al.
      2003). 0 turns them off. The gaze label keeps its value through a blink.
    - Microsaccades during fixations at ``microsaccade_rate_hz`` (Poisson; none while a
      saccade, pursuit or blink is under way), amplitudes uniform in ``microsaccade_deg`` in a
      random direction, main-sequence durations: fixational microsaccades come about 1-2 per
      second and stay under 1 deg (Martinez-Conde et al. 2004; Engbert & Kliegl 2003). Off by
      default (the recordings of issue 18's study have none); :mod:`gazesdk.sim.scanpath`
      turns them on.
    """

    latency_ms: float = 200.0
    latency_sd_ms: float = 30.0
    min_latency_ms: float = 80.0
    ms_per_deg: float = 2.2
    base_duration_ms: float = 21.0
    undershoot_prob: float = 0.3
    undershoot_frac: float = 0.1
    corrective_latency_ms: float = 130.0
    corrective_min_deg: float = 0.5
    landing_sd_frac: float = 0.05
    jump_deg: float = 1.5
    pursuit_min_deg_s: float = 1.0
    pursuit_lag_ms: tuple[float, float] = (80.0, 150.0)
    pursuit_gain: tuple[float, float] = (0.90, 0.98)
    catch_up_deg: float = 1.0
    drift_sd_deg: float = 0.09
    drift_tau_ms: float = 320.0
    tremor_sd_deg: float = 0.02
    blink_rate_hz: float = 0.25
    blink_ms: tuple[float, float] = (100.0, 400.0)
    microsaccade_rate_hz: float = 0.0
    microsaccade_deg: tuple[float, float] = (0.1, 0.8)

    def __post_init__(self) -> None:
        check_types(self)
        lag, gain, blink = self.pursuit_lag_ms, self.pursuit_gain, self.blink_ms
        checks = [
            (self.latency_ms >= 0 and self.latency_sd_ms >= 0 and self.min_latency_ms >= 0,
             "latency_ms, latency_sd_ms and min_latency_ms must be >= 0"),
            (self.ms_per_deg >= 0 and self.base_duration_ms > 0,
             "ms_per_deg must be >= 0 and base_duration_ms > 0"),
            (0 <= self.undershoot_prob <= 1, "undershoot_prob must lie in [0, 1]"),
            (0 <= self.undershoot_frac < 1, "undershoot_frac must lie in [0, 1)"),
            (self.corrective_latency_ms >= 0 and self.landing_sd_frac >= 0
             and self.corrective_min_deg >= 0,
             "corrective_latency_ms, corrective_min_deg and landing_sd_frac must be >= 0"),
            (self.jump_deg > 0 and self.catch_up_deg > 0, "jump_deg and catch_up_deg must be > 0"),
            (self.pursuit_min_deg_s >= 0, "pursuit_min_deg_s must be >= 0"),
            (0 <= lag[0] <= lag[1], "pursuit_lag_ms must be (low, high) with 0 <= low <= high"),
            (0 < gain[0] <= gain[1] <= 1,
             "pursuit_gain must be (low, high) with 0 < low <= high <= 1"),
            (self.drift_sd_deg >= 0 and self.drift_tau_ms > 0 and self.tremor_sd_deg >= 0,
             "drift_sd_deg and tremor_sd_deg must be >= 0, drift_tau_ms > 0"),
            (self.blink_rate_hz >= 0, "blink_rate_hz must be >= 0"),
            (0 < blink[0] <= blink[1], "blink_ms must be (low, high) with 0 < low <= high"),
            (self.microsaccade_rate_hz >= 0, "microsaccade_rate_hz must be >= 0"),
            (0 < self.microsaccade_deg[0] <= self.microsaccade_deg[1],
             "microsaccade_deg must be (low, high) with 0 < low <= high"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"EyeMotion: {message}")

    def saccade_ms(self, amplitude_deg: np.ndarray | float) -> np.ndarray:
        """Saccade duration (ms) for an amplitude in degrees: the main sequence."""
        return self.ms_per_deg * np.asarray(amplitude_deg, float) + self.base_duration_ms


BLINK_GAP_MS = 250.0    # blinks never follow each other closer than this (end to start)
# Saccade kinds in RecordingTruth.saccades; per-frame event labels of RecordingTruth.event_labels.
SACCADE_KINDS = ("primary", "corrective", "catch_up", "micro")
EVENT_LABELS = ("fixation", "saccade", "pursuit", "blink")
FIXATION, SACCADE, PURSUIT, BLINK = range(4)
MICROSACCADE_MAX_DEG = 1.0   # smaller saccades are part of a fixation (event_labels)
BLINK_CLOSURE = 0.5          # a frame with the lids at least half shut is a blink frame
SACCADE_SHARE = 0.2          # a frame carrying this share of a saccade's path is a saccade frame


@dataclass(frozen=True)
class HeadMotion:
    """How the head moves during a recording.

    Position and pose start at a draw from the session's distribution (``Sessions.head_mean_cm``
    /``head_std_cm``, ``pose_mean``/``pose_std``) and drift as an Ornstein-Uhlenbeck walk with
    that distribution as its stationary one and time constant ``drift_tau_s``: with the default
    120 s, moves over 10 s have 0.4x the session's spread (std: a few mm, 0.4-2 deg), and
    minutes of recording (or many recordings) sample the whole spread, as a GazeCapture
    session of a few minutes does. The constraints of the generator follow: distance within
    ``DISTANCE_CM``, the face box kept inside the frame (``_keep_face_in_frame``). On top, the
    head turns towards the gaze target by ``turn_gain`` of its direction, as the generator's
    frames do (0.3), following the gaze with a first-order lag of ``turn_tau_ms`` (heads turn
    slower than eyes; 0: at once).
    """

    drift_tau_s: float = 120.0
    turn_gain: float = 0.3
    turn_tau_ms: float = 200.0

    def __post_init__(self) -> None:
        check_types(self)
        if not (self.drift_tau_s > 0 and 0 <= self.turn_gain <= 1 and self.turn_tau_ms >= 0):
            raise ConfigError("HeadMotion: drift_tau_s must be > 0, turn_gain in [0, 1] and "
                              "turn_tau_ms >= 0")


@dataclass(frozen=True, eq=False)
class RecordingTruth:
    """Every label of a recording's F frames (no pixels). Screen points and camera cm as in the
    module docstring; ``head_pos_cm`` is the eye midpoint in the camera frame."""

    session: int
    subject: int
    device: str
    orientation: int
    screen_pts: np.ndarray       # (2,) active screen size in points, this orientation
    seed: int
    timestamps_ms: np.ndarray    # (F,) int64
    dot_pts: np.ndarray          # (F, 2) the displayed target
    gaze_pts: np.ndarray         # (F, 2) where the eye looks (the label)
    gaze_cm: np.ndarray          # (F, 2) the same in camera cm
    lid_closure: np.ndarray      # (F,) 0 open .. 1 shut
    in_saccade: np.ndarray       # (F,) bool: a saccade is under way
    head_pose_deg: np.ndarray    # (F, 3) yaw, pitch, roll
    head_pos_cm: np.ndarray      # (F, 3)
    pursuit_lag_ms: float        # this recording's draws (EyeMotion's ranges)
    pursuit_gain: float
    saccades: np.ndarray         # (S, 4): start_ms, end_ms, amplitude_deg, kind (SACCADE_KINDS)
    pursuing: np.ndarray         # (F,) bool: pursuit moved the eye since the previous frame

    def __len__(self) -> int:
        return len(self.timestamps_ms)

    def event_labels(self, *, microsaccade_max_deg: float = MICROSACCADE_MAX_DEG,
                     saccade_share: float = SACCADE_SHARE,
                     blink_closure: float = BLINK_CLOSURE) -> np.ndarray:
        """(F,) int8 per-frame ground truth, indices into :data:`EVENT_LABELS`.

        A frame is labelled by what the eye did since the previous frame, as a sample-based
        classifier sees it (velocity from one frame to the next): SACCADE when the interval
        (t[k-1], t[k]] carries at least ``saccade_share`` of the displacement of a saccade of
        at least ``microsaccade_max_deg`` (its minimum-jerk profile, so a saccade shorter than
        a frame marks the frame that first shows it moved; each such saccade marks at least
        the frame that carries most of it); else PURSUIT when pursuit moved the eye in that
        interval; else FIXATION (microsaccades and drift are part of a fixation). BLINK
        overrides all on frames whose lids are at least ``blink_closure`` shut (a tracker
        sees no eye there).
        """
        t = self.timestamps_ms.astype(np.float64)
        prev = np.r_[t[0] - 1e-9, t[:-1]]
        labels = np.where(self.pursuing, PURSUIT, FIXATION).astype(np.int8)
        big = self.saccades[self.saccades[:, 2] >= microsaccade_max_deg]
        for start, end, _, _ in big:
            rows = np.flatnonzero((prev < end) & (t > start))
            if not len(rows):
                continue
            dur = max(end - start, 1e-9)
            share = (_min_jerk((t[rows] - start) / dur) - _min_jerk((prev[rows] - start) / dur))
            keep = (share >= saccade_share) | (share == share.max())
            labels[rows[keep]] = SACCADE
        labels[self.lid_closure >= blink_closure] = BLINK
        return labels


@dataclass(frozen=True, eq=False)
class Recording(RecordingTruth):
    """A rendered recording: the labels and ``frames``, RGB uint8 full camera frames, upright for
    the orientation (480x640 portrait, 640x480 landscape)."""

    frames: list[np.ndarray]


@dataclass(frozen=True, eq=False)
class FrameTruth:
    """One frame's labels, as :func:`iter_record` yields them (fields as in RecordingTruth)."""

    index: int
    dot_pts: np.ndarray
    gaze_pts: np.ndarray
    gaze_cm: np.ndarray
    lid_closure: float
    in_saccade: bool
    head_pose_deg: np.ndarray
    head_pos_cm: np.ndarray


@dataclass(frozen=True, eq=False)
class _Plan:
    """A recording before rendering: its labels and the renderer's per-frame inputs."""

    truth: RecordingTruth
    target: np.ndarray           # (F, 3) camera cm, on the screen plane
    head_pose: np.ndarray        # (F, 3) radians
    exposure: np.ndarray
    face_box_jitter: np.ndarray
    eye_box_jitter: np.ndarray
    noise_base: int


# --- public API -----------------------------------------------------------------------------

def plan_recording(sim: GazeSim, session: int, *, timestamps_ms: np.ndarray,
                   dots_pts: np.ndarray, seed: int = 0, eye: EyeMotion | None = None,
                   head: HeadMotion | None = None) -> RecordingTruth:
    """The labels of :func:`record` without rendering (cheap: long recordings, statistics)."""
    return _plan(sim, session, timestamps_ms, dots_pts, seed, eye, head).truth


def record(sim: GazeSim, session: int, *, timestamps_ms: np.ndarray, dots_pts: np.ndarray,
           seed: int = 0, eye: EyeMotion | None = None, head: HeadMotion | None = None,
           noise: bool = True) -> Recording:
    """Render ``session`` of ``sim`` while the target ``dots_pts`` (F, 2 screen points) is shown
    at ``timestamps_ms`` (F, strictly increasing whole ms). All frames are held in memory (480x640
    RGB: about 0.9 MB a frame); :func:`iter_record` streams them instead. ``noise`` False gives
    sharp, noise-free frames of the same scenes."""
    plan = _plan(sim, session, timestamps_ms, dots_pts, seed, eye, head)
    frames: list[np.ndarray] = []
    for start in range(0, len(plan.truth), CHUNK_FRAMES):
        frames += _render(sim, plan, np.arange(start, min(start + CHUNK_FRAMES, len(plan.truth))),
                          noise)
    t = plan.truth
    return Recording(**{f.name: getattr(t, f.name) for f in fields(t)}, frames=frames)


def iter_record(sim: GazeSim, session: int, *, timestamps_ms: np.ndarray, dots_pts: np.ndarray,
                seed: int = 0, eye: EyeMotion | None = None, head: HeadMotion | None = None,
                noise: bool = True,
                chunk_frames: int = CHUNK_FRAMES) -> Iterator[tuple[int, np.ndarray, FrameTruth]]:
    """The frames of :func:`record` one at a time, as (timestamp_ms, frame, truth), rendered
    ``chunk_frames`` at a time: memory stays at one chunk however long the recording. Inputs
    are checked here, before the first frame is asked for."""
    if isinstance(chunk_frames, bool) or not isinstance(chunk_frames, int) or chunk_frames < 1:
        raise ConfigError(f"chunk_frames must be a positive integer, got {chunk_frames!r}")
    plan = _plan(sim, session, timestamps_ms, dots_pts, seed, eye, head)

    def frames() -> Iterator[tuple[int, np.ndarray, FrameTruth]]:
        t = plan.truth
        for start in range(0, len(t), chunk_frames):
            rows = np.arange(start, min(start + chunk_frames, len(t)))
            for i, frame in zip(rows.tolist(), _render(sim, plan, rows, noise), strict=True):
                yield int(t.timestamps_ms[i]), frame, FrameTruth(
                    index=i, dot_pts=t.dot_pts[i], gaze_pts=t.gaze_pts[i], gaze_cm=t.gaze_cm[i],
                    lid_closure=float(t.lid_closure[i]), in_saccade=bool(t.in_saccade[i]),
                    head_pose_deg=t.head_pose_deg[i], head_pos_cm=t.head_pos_cm[i])

    return frames()


# --- planning -------------------------------------------------------------------------------

def _plan(sim: GazeSim, session: int, timestamps_ms: np.ndarray, dots_pts: np.ndarray,
          seed: int, eye: EyeMotion | None, head: HeadMotion | None) -> _Plan:
    eye = EyeMotion() if eye is None else eye
    head = HeadMotion() if head is None else head
    if not isinstance(eye, EyeMotion) or not isinstance(head, HeadMotion):
        raise ConfigError("eye must be an EyeMotion and head a HeadMotion (or None)")
    if not isinstance(sim, GazeSim):
        raise ConfigError(f"need a GazeSim, got {type(sim).__name__}")
    p = sim.plan
    n_sessions = len(p.sessions)
    if (isinstance(session, bool) or not isinstance(session, int | np.integer)
            or not 0 <= session < n_sessions):
        raise ConfigError(f"session must be an integer in 0..{n_sessions - 1} (the sim has "
                          f"{n_sessions} sessions), got {session!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0, got {seed!r}")
    s, seed = int(session), int(seed)
    dev: DeviceGeometry = sim.devices[int(p.sessions.device[s])]
    o = int(p.sessions.orientation[s])
    screen = np.asarray(dev.screen_size_points(o), float)
    t = _check_timestamps(timestamps_ms)
    dots = _check_dots(dots_pts, len(t), screen, o)
    n = len(t)
    cfg = sim.config

    def rng(part: int) -> np.random.Generator:
        return np.random.default_rng([cfg.seed, RECORDING_PURPOSE, s, seed, part])

    subject = int(p.sessions.subject[s])
    sess = p.sessions
    # Head: an OU walk about the session's distribution, then the generator's constraints.
    mean = np.r_[sess.head_mean_cm[s], sess.pose_mean[s]]
    std = np.r_[sess.head_std_cm[s], sess.pose_std[s]]
    walk = mean + std * _ou_unit(rng(_HEAD), t, 6, head.drift_tau_s * 1000.0)
    head_pos, head_pose = walk[:, :3].copy(), walk[:, 3:].copy()
    head_pos[:, 2] = np.clip(head_pos[:, 2], *DISTANCE_CM)
    sim._keep_face_in_frame(head_pos, np.full(n, p.subjects.face_scale[subject]), np.full(n, o),
                            np.full(n, -1), np.arange(n))

    dot_cm = np.stack(screen_to_cam_cm(dots[:, 0], dots[:, 1], dev, o, screen), 1)
    lid = _blink_closure(rng(_BLINK), t, eye)
    gaze_cm, in_saccade, lag, gain, saccades, pursuing = _eye_path(
        rng(_EYE), t, dot_cm, head_pos, eye, micro_rng=rng(_MICRO), lid=lid)
    target = np.concatenate([gaze_cm, np.zeros((n, 1))], 1)

    # The head turns partly towards where the eye looks (the generator's 0.3 * arctan2), late.
    rel = target - head_pos
    turn = head.turn_gain * np.stack([np.arctan2(rel[:, 0], head_pos[:, 2]),
                                      np.arctan2(rel[:, 1], head_pos[:, 2])], 1)
    head_pose[:, :2] += _low_pass(turn, t, head.turn_tau_ms)

    # Per-frame camera and detector variation with the generator's figures; the exposure as in
    # its stare sequences (one gain per recording, 1% flicker): a video's gain does not jump.
    r = rng(_FRAME)
    exposure = sess.exposure[s] * r.lognormal(0, 0.03) * (1 + r.normal(0, 0.01, n))
    jit = cfg.box_jitter_scale
    face_jit = r.normal(0, 1, (n, 3)) * np.array([0.02, 0.02, 0.025]) * jit
    eye_jit = r.normal(0, 1, (n, 2, 3)) * np.array([0.03, 0.03, 0.035]) * jit

    gaze_pts = np.stack(cam_cm_to_screen(gaze_cm[:, 0], gaze_cm[:, 1], dev, o, screen), 1)
    truth = RecordingTruth(
        session=s, subject=subject, device=sim.device_names[int(sess.device[s])],
        orientation=o, screen_pts=screen, seed=seed, timestamps_ms=t.astype(np.int64),
        dot_pts=dots, gaze_pts=gaze_pts, gaze_cm=gaze_cm, lid_closure=lid,
        in_saccade=in_saccade, head_pose_deg=np.degrees(head_pose), head_pos_cm=head_pos,
        pursuit_lag_ms=lag, pursuit_gain=gain, saccades=saccades, pursuing=pursuing)
    return _Plan(truth=truth, target=target, head_pose=head_pose, exposure=exposure,
                 face_box_jitter=face_jit, eye_box_jitter=eye_jit,
                 noise_base=_noise_base(cfg.seed, s, seed))


def _check_timestamps(timestamps_ms: np.ndarray) -> np.ndarray:
    t = np.asarray(timestamps_ms)
    if t.ndim != 1 or len(t) == 0:
        raise ConfigError(f"timestamps_ms must be a non-empty 1-D array (one time per frame), "
                          f"got shape {t.shape}")
    if t.dtype == bool or not np.issubdtype(t.dtype, np.number):
        raise ConfigError(f"timestamps_ms must be numbers (ms), got dtype {t.dtype}")
    t = t.astype(np.float64)
    if not np.isfinite(t).all() or (t != np.round(t)).any():
        raise ConfigError("timestamps_ms must be finite whole milliseconds")
    bad = np.flatnonzero(np.diff(t) <= 0)
    if len(bad):
        k = int(bad[0]) + 1
        raise ConfigError(f"timestamps_ms must be strictly increasing: frame {k} "
                          f"({t[k]:.0f} ms) does not come after frame {k - 1} ({t[k - 1]:.0f} ms)")
    return t


def _check_dots(dots_pts: np.ndarray, n: int, screen: np.ndarray, orientation: int) -> np.ndarray:
    try:
        dots = np.array(dots_pts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("dots_pts must be an (F, 2) array of screen points") from None
    if dots.shape != (n, 2):
        raise ConfigError(f"dots_pts must have shape (F, 2) = ({n}, 2), one point per timestamp, "
                          f"got {dots.shape}")
    if not np.isfinite(dots).all():
        raise ConfigError("dots_pts must be finite")
    margin = SCREEN_MARGIN * screen
    off = ((dots < -margin) | (dots > screen + margin)).any(1)
    if off.any():
        k = int(np.flatnonzero(off)[0])
        raise ConfigError(f"dots_pts[{k}] = ({dots[k, 0]:.1f}, {dots[k, 1]:.1f}) lies off the "
                          f"screen ({screen[0]:g} x {screen[1]:g} points in orientation "
                          f"{orientation}, margin {SCREEN_MARGIN:.0%})")
    return dots


def _ou_unit(rng: np.random.Generator, t: np.ndarray, dims: int, tau_ms: float) -> np.ndarray:
    """(F, dims) stationary Ornstein-Uhlenbeck walk of unit std sampled exactly at ``t`` (ms)."""
    eps = rng.normal(0, 1, (len(t), dims))
    a = np.exp(-np.diff(t) / tau_ms)
    b = np.sqrt(1 - a**2)
    out = np.empty_like(eps)
    z = out[0] = eps[0]
    for k in range(1, len(t)):
        z = out[k] = a[k - 1] * z + b[k - 1] * eps[k]
    return out


def _low_pass(x: np.ndarray, t: np.ndarray, tau_ms: float) -> np.ndarray:
    """First-order lag of ``x`` (F, D) sampled at ``t`` (ms), starting settled on ``x[0]``."""
    if tau_ms == 0:
        return x.copy()
    alpha = 1 - np.exp(-np.diff(t) / tau_ms)
    out = np.empty_like(x)
    y = out[0] = x[0]
    for k in range(1, len(t)):
        y = out[k] = y + alpha[k - 1] * (x[k] - y)
    return out


def _angle_deg(a_cm: np.ndarray, b_cm: np.ndarray, eye_cm: np.ndarray) -> np.ndarray:
    """Visual angle (deg) between screen-plane points a and b (..., 2) seen from eye (..., 3)."""
    def ray(p: np.ndarray) -> np.ndarray:
        v = np.concatenate([p, np.zeros((*p.shape[:-1], 1))], -1) - eye_cm
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    return np.degrees(np.arccos(np.clip((ray(a_cm) * ray(b_cm)).sum(-1), -1.0, 1.0)))


def _min_jerk(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10 - 15 * u + 6 * u**2)


def _eye_path(rng: np.random.Generator, t: np.ndarray, dot_cm: np.ndarray, head_pos: np.ndarray,
              eye: EyeMotion, *, micro_rng: np.random.Generator | None = None,
              lid: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray, np.ndarray]:
    """Where the eye looks (F, 2 camera cm) at the frame times, which frames are mid-saccade,
    the recording's pursuit lag and gain, its saccades (S, 4: start_ms, end_ms, amplitude_deg,
    kind) and which frames pursuit moved the eye into.

    A sum of parts, each exact at any time: the first target (looked at when the recording
    starts); every saccade's displacement along its minimum-jerk profile; the pursued motion
    (``gain`` x the target's non-jump motion, ``lag`` ms late, linear between frames); the
    fixational drift and tremor. Saccades to jumps that come faster than the eye add up, so
    the eye ends on the latest target. Microsaccades (``micro_rng``, their own stream so the
    other draws stay as they were) fall in the time no other saccade, pursuit or blink
    (``lid`` > 0) takes."""
    n = len(t)
    lag = float(rng.uniform(*eye.pursuit_lag_ms))
    gain = float(rng.uniform(*eye.pursuit_gain))
    step = np.diff(dot_cm, axis=0)                                   # (F-1, 2)
    amp = _angle_deg(dot_cm[:-1], dot_cm[1:], head_pos[1:])
    jump = amp > eye.jump_deg
    pursued = np.where(jump, 0.0, np.where(amp / np.diff(t) * 1000 >= eye.pursuit_min_deg_s,
                                           gain, 0.0))
    motion = np.where(jump[:, None], 0.0, step)
    cum_pursued = np.vstack([np.zeros(2), np.cumsum(pursued[:, None] * motion, 0)])
    cum_missed = np.vstack([np.zeros(2), np.cumsum((1 - pursued[:, None]) * motion, 0)])

    events: list[tuple[float, float, np.ndarray, float, int]] = []   # start, dur, shift, deg,
    for k in (np.flatnonzero(jump) + 1).tolist():                   # kind; k shows a new dot
        delta = step[k - 1]
        size = float(np.hypot(*delta))
        # the same draws for every jump whatever the parameters, so streams stay aligned
        latency = max(eye.min_latency_ms, eye.latency_ms + eye.latency_sd_ms * rng.normal())
        short = rng.random() < eye.undershoot_prob
        scatter = rng.normal(0, 1, 2) * eye.landing_sd_frac * size
        scatter2 = rng.normal(0, 1, 2) * eye.landing_sd_frac
        primary = delta * (1 - eye.undershoot_frac * short) + scatter
        start = t[k] + latency
        deg = float(_angle_deg(dot_cm[k - 1], dot_cm[k - 1] + primary, head_pos[k]))
        dur = float(eye.saccade_ms(deg))
        events.append((start, dur, primary, deg, 0))
        base, residual = dot_cm[k - 1] + primary, delta - primary
        if _angle_deg(base, base + residual, head_pos[k]) > eye.corrective_min_deg:
            fix = residual + scatter2 * float(np.hypot(*residual))
            deg2 = float(_angle_deg(base, base + fix, head_pos[k]))
            events.append((start + dur + eye.corrective_latency_ms, float(eye.saccade_ms(deg2)),
                           fix, deg2, 1))
    events += _catch_ups(t, cum_missed, lag, dot_cm, head_pos, eye)

    pursued_at = np.stack([np.interp(t - lag, t, cum_pursued[:, i]) for i in (0, 1)], 1)
    pursuing = np.r_[False, np.hypot(*np.diff(pursued_at, axis=0).T) > 0]
    if micro_rng is not None and eye.microsaccade_rate_hz > 0:
        events += _microsaccades(micro_rng, t, events, pursuing,
                                 np.zeros(n) if lid is None else lid, head_pos, eye)

    gaze = np.tile(dot_cm[0], (n, 1)) + pursued_at
    done = np.zeros((n + 1, 2))
    in_saccade = np.zeros(n, bool)
    for start, dur, shift, _, _ in events:
        i0, i1 = np.searchsorted(t, [start, start + dur], side="left")
        done[i1] += shift                                # complete from the first frame after
        if i1 > i0:
            gaze[i0:i1] += shift * _min_jerk((t[i0:i1] - start) / dur)[:, None]
            in_saccade[i0:i1] = True
    gaze += np.cumsum(done[:n], 0)

    # Fixational drift and tremor (angles), as shifts on the screen plane at the eye's distance.
    wobble = (eye.drift_sd_deg * _ou_unit(rng, t, 2, eye.drift_tau_ms)
              + eye.tremor_sd_deg * rng.normal(0, 1, (n, 2)))
    dist = np.linalg.norm(np.concatenate([gaze, np.zeros((n, 1))], 1) - head_pos, axis=1)
    gaze += dist[:, None] * np.tan(np.radians(wobble))
    table = (np.array([(s, s + d, a, k) for s, d, _, a, k in events], float).reshape(-1, 4))
    return gaze, in_saccade, lag, gain, table, pursuing


def _microsaccades(rng: np.random.Generator, t: np.ndarray,
                   events: list[tuple[float, float, np.ndarray, float, int]],
                   pursuing: np.ndarray, lid: np.ndarray, head_pos: np.ndarray,
                   eye: EyeMotion) -> list[tuple[float, float, np.ndarray, float, int]]:
    """Poisson microsaccades in the free time of a fixation (none within 50 ms of another
    saccade, during pursuit or a blink); each is drawn whatever else happens, so the stream
    stays aligned when a candidate is dropped."""
    busy = [(s - 50.0, s + d + 50.0) for s, d, _, _, _ in events]
    mean_gap = 1000.0 / eye.microsaccade_rate_hz
    out = []
    time = t[0] + rng.exponential(mean_gap)
    while time <= t[-1]:
        deg = float(rng.uniform(*eye.microsaccade_deg))
        angle = float(rng.uniform(0, 2 * np.pi))
        gap = float(rng.exponential(mean_gap))
        k = min(int(np.searchsorted(t, time)), len(t) - 1)
        free = (not pursuing[k] and lid[k] == 0
                and not any(a <= time <= b for a, b in busy))
        if free:
            dist = float(np.linalg.norm(head_pos[k]))
            size = dist * np.tan(np.radians(deg))
            dur = float(eye.saccade_ms(deg))
            out.append((time, dur, size * np.array([np.cos(angle), np.sin(angle)]), deg, 3))
            busy.append((time - 50.0, time + dur + 50.0))
        time += gap
    return out


def _catch_ups(t: np.ndarray, cum_missed: np.ndarray, lag: float, dot_cm: np.ndarray,
               head_pos: np.ndarray, eye: EyeMotion
               ) -> list[tuple[float, float, np.ndarray, float, int]]:
    """Catch-up saccades: whenever the motion pursuit missed, seen ``lag`` ms late, strays more
    than ``catch_up_deg`` from what earlier catch-ups made up, a saccade makes it up (searched
    on a 1 ms grid; angles at the recording's mean viewing distance)."""
    if not cum_missed.any():
        return []
    view = float(np.linalg.norm(np.concatenate([dot_cm, np.zeros((len(t), 1))], 1) - head_pos,
                                axis=1).mean())
    limit = view * np.tan(np.radians(eye.catch_up_deg))
    grid = np.arange(t[0], t[-1] + 1.0)
    missed = np.stack([np.interp(grid - lag, t, cum_missed[:, i]) for i in (0, 1)], 1)
    made_up = np.zeros(2)
    out = []
    i = 0
    while i < len(grid):
        block = missed[i:i + 4096] - made_up          # look ahead ~4 s at a time: long
        over = np.flatnonzero(np.hypot(*block.T) > limit)  # recordings stay linear in length
        if not len(over):
            i += len(block)
            continue
        j = i + int(over[0])
        shift = missed[j] - made_up
        deg = float(np.degrees(np.arctan(np.hypot(*shift) / view)))
        dur = float(eye.saccade_ms(deg))
        out.append((float(grid[j]), dur, shift, deg, 2))
        made_up = missed[j].copy()
        i = j + int(np.ceil(dur)) + 1
    return out


def _blink_closure(rng: np.random.Generator, t: np.ndarray, eye: EyeMotion) -> np.ndarray:
    """(F,) lid closure at the frame times: blinks at ``blink_rate_hz``, GazeSim's profile."""
    closure = np.zeros(len(t))
    if eye.blink_rate_hz == 0:
        return closure
    mean_gap = 1000.0 / eye.blink_rate_hz
    start = t[0] + rng.gamma(3.0, mean_gap / 3.0)
    while start <= t[-1]:
        dur = rng.uniform(*eye.blink_ms)
        i0, i1 = np.searchsorted(t, [start, start + dur], side="left")
        u = (t[i0:i1] - start) / dur
        closure[i0:i1] = np.clip(np.where(u < 0.3, u / 0.3,
                                          np.where(u < 0.45, 1.0, (1.0 - u) / 0.55)), 0.0, 1.0)
        start += max(rng.gamma(3.0, mean_gap / 3.0), dur + BLINK_GAP_MS)
    return closure


# --- rendering ------------------------------------------------------------------------------

def _noise_base(sim_seed: int, session: int, seed: int) -> int:
    """A 64-bit key per (sim seed, session, seed), xor the frame index gives a frame's key: a
    hash chain, so recordings never share noise with each other or with the sim's own frames
    (whose keys are the hash of the sim seed xor the frame index)."""
    return _splitmix64(_splitmix64(_splitmix64(_splitmix64(sim_seed) ^ _KEY_TAG) ^ session)
                       ^ seed)


def _noise_keys(plan: _Plan, rows: np.ndarray) -> np.ndarray:
    return np.uint64(plan.noise_base) ^ rows.astype(np.uint64)


def _render(sim: GazeSim, plan: _Plan, rows: np.ndarray, noise: bool) -> list[np.ndarray]:
    """Full frames of ``rows`` through the generator's scene and renderer."""
    t, p, m = plan.truth, sim.plan, len(rows)
    state = FrameState(subjects=p.subjects.take(np.full(m, t.subject)),
                       sessions=p.sessions.take(np.full(m, t.session)),
                       head_pos=t.head_pos_cm[rows], head_pose=plan.head_pose[rows],
                       target=plan.target[rows], fixation=np.zeros((m, 2)),
                       exposure=plan.exposure[rows], face_box_jitter=plan.face_box_jitter[rows],
                       eye_box_jitter=plan.eye_box_jitter[rows], lid_closure=t.lid_closure[rows])
    scene = build_scene(state, sim.camera)
    w, h = (int(v) for v in sim.camera.frame_size(np.array(t.orientation)))
    boxes = np.tile([0.0, 0.0, w, h], (m, 1))
    images = render_views(scene, boxes, (w, h), "frame",
                          noise_keys=_noise_keys(plan, rows) if noise else None)
    return list(images)
