"""GazeSim: subjects -> sessions -> frames, rendered in chunks into either output format.

Every random draw comes from generators seeded by (seed, purpose), so a dataset is a pure
function of its :class:`SimConfig` (on a given CPU: the renderer is compiled with fast math).
Sensor noise is a hash of (seed, frame, view, pixel), so a frame's pixels do not depend on how
the work is split into chunks. Splits are by subject.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from gazesdk.data.arrays import PATCH_SIZE, SPLITS, ArraysWriter, empty_fields
from gazesdk.data.facegrid import face_grid
from gazesdk.geometry.devices import get_device, list_devices
from gazesdk.geometry.screen import cam_cm_to_screen, screen_to_cam_cm
from gazesdk.sim.camera import Camera
from gazesdk.sim.config import SimConfig
from gazesdk.sim.dots import grid_dots, random_dots
from gazesdk.sim.render import render_views
from gazesdk.sim.scene import FACE_BOX_CENTRE_CM, FACE_BOX_SIZE_CM, FrameState, Scene, build_scene
from gazesdk.sim.session import DISTANCE_CM, Sessions, sample_sessions
from gazesdk.sim.subject import Subjects, sample_subjects

CHUNK = 128
DEG = np.pi / 180
# Frame kinds in the plan.
REGULAR, CALIBRATION, STARE = 0, 1, 2
FACE_BOX_MARGIN = 0.15      # keep the face box this fraction of its size inside the frame
LENS_SPREAD_CM = 0.3        # lens-stare targets: the lens, give or take a few millimetres


@dataclass(frozen=True)
class FramePlan:
    """Every frame's parameters before rendering (N rows; cm, radians)."""

    subjects: Subjects          # one row per subject
    sessions: Sessions          # one row per session
    subject_split: np.ndarray   # split index per subject
    session: np.ndarray         # per frame
    kind: np.ndarray            # REGULAR, CALIBRATION or STARE
    sequence: np.ndarray        # stare sequence id or -1
    index_in_session: np.ndarray
    dot_pts: np.ndarray
    screen_pts: np.ndarray
    target: np.ndarray
    head_pos: np.ndarray
    head_pose: np.ndarray
    fixation: np.ndarray
    exposure: np.ndarray
    face_box_jitter: np.ndarray
    eye_box_jitter: np.ndarray
    lid_closure: np.ndarray      # (N,) 0 open .. 1 shut (blinks in stare sequences)

    def __len__(self) -> int:
        return len(self.session)

    def state(self, index: np.ndarray) -> FrameState:
        sess = self.sessions.take(self.session[index])
        return FrameState(subjects=self.subjects.take(sess.subject), sessions=sess,
                          head_pos=self.head_pos[index], head_pose=self.head_pose[index],
                          target=self.target[index], fixation=self.fixation[index],
                          exposure=self.exposure[index],
                          face_box_jitter=self.face_box_jitter[index],
                          eye_box_jitter=self.eye_box_jitter[index],
                          lid_closure=self.lid_closure[index])


class GazeSim:
    """The simulator. ``GazeSim(SimConfig(...))`` plans every frame at once (cheap); rendering
    happens on demand, in chunks."""

    def __init__(self, config: SimConfig | None = None, *, camera: Camera | None = None) -> None:
        self.config = config or SimConfig()
        self.camera = camera or Camera()
        self.device_names = tuple(self.config.devices or list_devices())
        self.devices = [get_device(n) for n in self.device_names]
        self.plan = self._make_plan()

    def __len__(self) -> int:
        return len(self.plan)

    def _rng(self, *purpose: int) -> np.random.Generator:
        return np.random.default_rng([self.config.seed, *purpose])

    # --- planning -------------------------------------------------------------------------
    def _make_plan(self) -> FramePlan:
        cfg = self.config
        subjects = sample_subjects(self._rng(1), cfg.subjects, kappa_h_deg=cfg.kappa_h_deg,
                                   kappa_v_deg=cfg.kappa_v_deg, kappa_asym_deg=cfg.kappa_asym_deg,
                                   glasses_fraction=cfg.glasses_fraction,
                                   eye_detail=cfg.eye_detail)
        subject_split = self._assign_splits(self._rng(2))
        session_subject = np.repeat(np.arange(cfg.subjects), cfg.sessions_per_subject)
        sessions = sample_sessions(self._rng(3), session_subject, self.devices,
                                   tablet_fraction=cfg.tablet_fraction,
                                   noise_scale=cfg.noise_scale, blur_scale=cfg.blur_scale,
                                   share_device=cfg.sessions_share_device)

        # Frame layout: per session its random dots, calibration grid and stare sequences.
        spp = cfg.sessions_per_subject
        session_col, kind_col, seq_col = [], [], []
        seq_id = 0
        for s in range(len(sessions)):
            k = s % spp
            n_regular = cfg.frames_per_subject // spp + (k < cfg.frames_per_subject % spp)
            n_seq = cfg.stare_sequences // spp + (k < cfg.stare_sequences % spp)
            session_col += [s] * (n_regular + cfg.calibration_dots + n_seq * cfg.stare_frames)
            kind_col += [REGULAR] * n_regular + [CALIBRATION] * cfg.calibration_dots
            seq_col += [-1] * (n_regular + cfg.calibration_dots)
            for _ in range(n_seq):
                kind_col += [STARE] * cfg.stare_frames
                seq_col += [seq_id] * cfg.stare_frames
                seq_id += 1
        session = np.asarray(session_col, np.int64)
        kind = np.asarray(kind_col, np.int8)
        sequence = np.asarray(seq_col, np.int64)
        n = len(session)
        index_in_session = np.arange(n) - np.searchsorted(session, session)
        rng = self._rng(4)
        sess = sessions.take(session)
        orientation = sess.orientation

        groups = [(dev, o, m) for d, dev in enumerate(self.devices) for o in (1, 2, 3, 4)
                  if (m := (sess.device == d) & (orientation == o)).any()]
        screen_pts = np.zeros((n, 2))
        for dev, o, m in groups:
            screen_pts[m] = dev.screen_size_points(o)
        dot_pts = random_dots(rng, screen_pts)
        calib = kind == CALIBRATION
        if calib.any():
            rows = np.flatnonzero(calib)
            k = rows - _first_calibration_frame(kind, session)[session[calib]]
            dot_pts[calib] = np.stack([grid_dots(screen_pts[i], 9)[j]
                                       for i, j in zip(rows, k, strict=True)])
        first = _sequence_first(sequence)
        stare = sequence >= 0
        dot_pts[stare] = dot_pts[first[stare]]
        target = np.zeros((n, 3))
        for dev, o, m in groups:
            target[m, 0], target[m, 1] = screen_to_cam_cm(dot_pts[m, 0], dot_pts[m, 1], dev, o,
                                                          screen_pts[m])
        if cfg.lens_fraction > 0:     # its own stream: other draws stay as they were
            lens_rng = self._rng(7)
            lens = (kind == REGULAR) & (lens_rng.random(n) < cfg.lens_fraction)
            target[lens, :2] = lens_rng.normal(0, LENS_SPREAD_CM, (int(lens.sum()), 2))
            for dev, o, m in groups:
                sel = m & lens
                if sel.any():
                    dot_pts[sel, 0], dot_pts[sel, 1] = cam_cm_to_screen(
                        target[sel, 0], target[sel, 1], dev, o, screen_pts[sel])

        head_pos = sess.head_mean_cm + rng.normal(0, 1, (n, 3)) * sess.head_std_cm
        head_pose = sess.pose_mean + rng.normal(0, 1, (n, 3)) * sess.pose_std
        fixation = rng.normal(0, cfg.fixation_noise_deg * DEG, (n, 2))
        exposure = sess.exposure * rng.lognormal(0, 0.03, n)
        jit = cfg.box_jitter_scale
        face_jit = rng.normal(0, 1, (n, 3)) * np.array([0.02, 0.02, 0.025]) * jit
        eye_jit = rng.normal(0, 1, (n, 2, 3)) * np.array([0.03, 0.03, 0.035]) * jit

        # Stare sequences: one draw per sequence, then only tiny frame-to-frame variation:
        # sub-mm head drift, fixational eye movements (drift + tremor), exposure flicker.
        if stare.any():
            f = first[stare]
            steps = _per_sequence_walk(rng, sequence, stare, (3,), 0.008)
            head_pos[stare] = head_pos[f] + steps
            head_pose[stare] = head_pose[f] + _per_sequence_walk(rng, sequence, stare, (3,),
                                                                 0.03 * DEG)
            fixation[stare] = fixation[f] + _fixational_movements(rng, sequence, stare)
            exposure[stare] = exposure[f] * (1 + rng.normal(0, 0.01, stare.sum()))

        lid_closure = np.zeros(n)
        if stare.any() and cfg.stare_blinks:
            lid_closure = _blinks(self._rng(5), sequence, cfg.stare_blinks)
        head_pos[:, 2] = np.clip(head_pos[:, 2], *DISTANCE_CM)
        self._keep_face_in_frame(head_pos, subjects.face_scale[sess.subject], orientation,
                                 sequence, first)
        # The head turns partly towards the dot.
        rel = target - head_pos
        head_pose[:, 0] += 0.3 * np.arctan2(rel[:, 0], head_pos[:, 2])
        head_pose[:, 1] += 0.3 * np.arctan2(rel[:, 1], head_pos[:, 2])
        return FramePlan(subjects=subjects, sessions=sessions, subject_split=subject_split,
                         session=session, kind=kind, sequence=sequence,
                         index_in_session=index_in_session, dot_pts=dot_pts,
                         screen_pts=screen_pts, target=target, head_pos=head_pos,
                         head_pose=head_pose, fixation=fixation, exposure=exposure,
                         face_box_jitter=face_jit, eye_box_jitter=eye_jit,
                         lid_closure=lid_closure)

    def _assign_splits(self, rng: np.random.Generator) -> np.ndarray:
        return _split_counts_to_subjects(split_counts(self.config.subjects,
                                                      self.config.split_fractions), rng)

    def _keep_face_in_frame(self, head_pos: np.ndarray, face_scale: np.ndarray,
                            orientation: np.ndarray, sequence: np.ndarray,
                            first: np.ndarray) -> None:
        """Move heads (in place) so the face box stays inside the frame, as in the dataset,
        where frames without a detected face were dropped. Stare sequences move as one."""
        cam = self.camera
        fw, fh = cam.frame_size(orientation)
        size_cm = FACE_BOX_SIZE_CM * face_scale * (1 + 2 * FACE_BOX_MARGIN)
        z_min = size_cm * cam.focal_px / (0.98 * np.minimum(fw, fh))
        head_pos[:, 2] = np.maximum(head_pos[:, 2], z_min)
        for _ in range(2):
            centre = head_pos + np.array([0.0, FACE_BOX_CENTRE_CM[1], 0.0]) * face_scale[:, None]
            uv = cam.project(centre, fw, fh)
            half = size_cm * cam.focal_px / head_pos[:, 2] / 2
            du = np.clip(uv[:, 0], half, fw - half) - uv[:, 0]
            dv = np.clip(uv[:, 1], half, fh - half) - uv[:, 1]
            stare = sequence >= 0
            du[stare], dv[stare] = du[first[stare]], dv[first[stare]]
            head_pos[:, 0] -= du * head_pos[:, 2] / cam.focal_px
            head_pos[:, 1] -= dv * head_pos[:, 2] / cam.focal_px

    # --- rendering ------------------------------------------------------------------------
    def scene(self, index: np.ndarray) -> Scene:
        """The 2-D scene of the frames ``index`` (integer array)."""
        return build_scene(self.plan.state(np.asarray(index)), self.camera)

    def render_chunk(self, start: int, stop: int, *, noise: bool = True) -> dict[str, np.ndarray]:
        """Rows ``start:stop`` in the array form (see :mod:`gazesdk.data.arrays`)."""
        index = np.arange(start, stop)
        scene = self.scene(index)
        out = self.label_fields(index, scene)
        size = (PATCH_SIZE, PATCH_SIZE)
        keys = self._noise_keys(index) if noise else None
        out["face"][:] = render_views(scene, scene.face_box, size, "face", noise_keys=keys)
        out["right_eye"][:] = render_views(scene, scene.eye_boxes[:, 0], size, "right_eye",
                                           noise_keys=keys)
        out["left_eye"][:] = render_views(scene, scene.eye_boxes[:, 1], size, "left_eye",
                                          noise_keys=keys)
        return out

    def label_fields(self, index: np.ndarray, scene: Scene) -> dict[str, np.ndarray]:
        """Rows ``index`` in the array form with every label filled and the patches zero (for
        writers that cut the patches themselves, e.g. landmark crops from full frames)."""
        out = empty_fields(len(index), optional=self.optional_fields())
        self._fill_labels(out, np.asarray(index), scene)
        return out

    def _fill_labels(self, out: dict[str, np.ndarray], index: np.ndarray, scene: Scene) -> None:
        p = self.plan
        frame_wh = np.stack([scene.frame_w, scene.frame_h], 1).astype(np.int32)
        sess = scene.sessions
        out["face_grid"][:] = face_grid(scene.face_box, frame_wh)
        out["gaze_cm"][:] = p.target[index, :2]
        out["dot_pts"][:] = p.dot_pts[index]
        out["screen_pts"][:] = p.screen_pts[index]
        out["face_box"][:] = scene.face_box
        out["right_eye_box"][:] = scene.eye_boxes[:, 0]
        out["left_eye_box"][:] = scene.eye_boxes[:, 1]
        out["frame_wh"][:] = frame_wh
        out["subject"][:] = sess.subject
        out["session"][:] = p.session[index]
        out["frame"][:] = p.index_in_session[index]
        out["device"][:] = sess.device
        out["orientation"][:] = sess.orientation
        out["split"][:] = p.subject_split[sess.subject]
        out["sequence"][:] = p.sequence[index]
        out["is_calibration"][:] = p.kind[index] == CALIBRATION
        out["head_pose_deg"][:] = np.degrees(p.head_pose[index])
        if "lid_closure" in out:
            out["lid_closure"][:] = p.lid_closure[index]

    def optional_fields(self) -> tuple[str, ...]:
        """The optional array fields this configuration writes."""
        return ("head_pose_deg", "lid_closure") if self.config.stare_blinks else ("head_pose_deg",)

    def iter_chunks(self, *, progress: bool = False,
                    noise: bool = True) -> Iterator[dict[str, np.ndarray]]:
        """All frames in order, ``CHUNK`` at a time, in the array form."""
        with tqdm(total=len(self), unit="frame", disable=not progress, desc="GazeSim") as bar:
            for start in range(0, len(self), CHUNK):
                chunk = self.render_chunk(start, min(start + CHUNK, len(self)), noise=noise)
                bar.update(len(chunk["gaze_cm"]))
                yield chunk

    def write_arrays(self, out_dir: str | os.PathLike, *, progress: bool = False) -> Path:
        """Write the whole dataset in the array form (memory-mappable ``.npy`` files)."""
        writer = ArraysWriter(out_dir, len(self), self.device_names,
                              {"source": "GazeSim", "config": self.config.to_dict(),
                               "crops": "gazesim-truth"},
                              optional=self.optional_fields())
        for chunk in self.iter_chunks(progress=progress):
            writer.write(chunk)
        return writer.close()

    def _noise_keys(self, index: np.ndarray) -> np.ndarray:
        """Per-frame noise keys: a 64-bit hash of the seed, xor the frame index (the renderer
        mixes in the view), so seeds and frames never share noise."""
        return np.uint64(_splitmix64(self.config.seed)) ^ np.asarray(index).astype(np.uint64)

    def render_frames(self, index: np.ndarray, *,
                      noise: bool = True) -> tuple[list[np.ndarray], Scene]:
        """Full camera frames (RGB uint8, upright for the orientation) and their scene."""
        index = np.asarray(index)
        scene = self.scene(index)
        keys = self._noise_keys(index) if noise else None
        frames: list[np.ndarray] = [np.empty(0)] * len(index)
        sizes = np.stack([scene.frame_w, scene.frame_h], 1).astype(int)
        for w, h in np.unique(sizes, axis=0):          # one call per frame size (orientation)
            rows = np.flatnonzero((sizes[:, 0] == w) & (sizes[:, 1] == h))
            boxes = np.tile([0.0, 0.0, w, h], (len(rows), 1))
            images = render_views(_take_scene(scene, rows), boxes, (int(w), int(h)), "frame",
                                  noise_keys=None if keys is None else keys[rows])
            for r, img in zip(rows, images, strict=True):
                frames[r] = img
        return frames, scene

    def write_gazecapture(self, out_dir: str | os.PathLike, *, progress: bool = False,
                          jpeg_quality: int = 95) -> Path:
        """Write one GazeCapture recording folder per session (``00001``, ``00002``, ...), in the
        real dataset's on-disk format, with full frames as JPEG."""
        from gazesdk.data.gazecapture import RecordingFrame, write_recording

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        p = self.plan
        with tqdm(total=len(self), unit="frame", disable=not progress, desc="GazeSim") as bar:
            for s in range(len(p.sessions)):
                index = np.flatnonzero(p.session == s)
                if not len(index):
                    continue
                frames, scene = self.render_frames(index)
                # DotNum counts the dots of the recording; Time is seconds since the dot
                # appeared (30 frames/s): a stare sequence is one dot over many frames.
                dot_key = np.where(p.sequence[index] >= 0, p.sequence[index] + len(self),
                                   index)
                _, first_at, dot_num = np.unique(dot_key, return_index=True, return_inverse=True)
                dot_num = np.argsort(np.argsort(first_at))[dot_num]    # in order of appearance
                since_dot = _index_within_group(dot_num)
                records = []
                for i, fi in enumerate(index):
                    records.append(RecordingFrame(
                        image=frames[i], face_box=tuple(scene.face_box[i]),
                        left_eye_box=tuple(scene.eye_boxes[i, 1]),
                        right_eye_box=tuple(scene.eye_boxes[i, 0]),
                        gaze_cm=tuple(p.target[fi, :2]), dot_pts=tuple(p.dot_pts[fi]),
                        screen_pts=tuple(p.screen_pts[fi]),
                        orientation=int(p.sessions.orientation[s]), dot_num=int(dot_num[i]),
                        time_s=float(since_dot[i]) / 30.0))
                subject = p.sessions.subject[s]
                write_recording(out / f"{s + 1:05d}", records,
                                device_name=self.device_names[p.sessions.device[s]],
                                split=SPLITS[p.subject_split[subject]], jpeg_quality=jpeg_quality)
                bar.update(len(index))
        return out


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) % 2**64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) % 2**64
    return x ^ (x >> 31)


def split_counts(n: int, fractions: tuple[float, float, float]) -> np.ndarray:
    """Subjects per split: largest-remainder rounding of ``fractions * n``; a split with a
    non-zero fraction gets at least one subject when there are enough subjects, one with a
    zero fraction gets none."""
    fr = np.asarray(fractions, float)
    exact = fr * n
    counts = np.floor(exact).astype(int)
    by_remainder = np.argsort(-(exact - counts), kind="stable")
    for i in by_remainder[: n - counts.sum()]:
        counts[i] += 1
    wanted = fr > 0
    if n >= wanted.sum():
        while (wanted & (counts == 0)).any():
            counts[np.argmax(counts)] -= 1
            counts[np.flatnonzero(wanted & (counts == 0))[0]] += 1
    return counts


def _split_counts_to_subjects(counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    split = np.repeat(np.arange(3), counts)
    return split[rng.permutation(len(split))]


def _first_calibration_frame(kind: np.ndarray, session: np.ndarray) -> np.ndarray:
    """Index of the first calibration frame of each session (sorted by session)."""
    calib = np.flatnonzero(kind == CALIBRATION)
    starts = np.full(session.max() + 1, -1)
    s = session[calib]
    first = np.unique(s, return_index=True)
    starts[first[0]] = calib[first[1]]
    return starts


def _sequence_first(sequence: np.ndarray) -> np.ndarray:
    """For every frame, the index of the first frame of its sequence (itself if none)."""
    first = np.arange(len(sequence))
    stare = np.flatnonzero(sequence >= 0)
    if len(stare):
        ids, pos = np.unique(sequence[stare], return_index=True)
        lookup = dict(zip(ids.tolist(), stare[pos].tolist(), strict=True))
        first[stare] = [lookup[s] for s in sequence[stare].tolist()]
    return first


def _per_sequence_walk(rng: np.random.Generator, sequence: np.ndarray, mask: np.ndarray,
                       shape: tuple[int, ...], step: float) -> np.ndarray:
    """Random walks starting at 0 on each sequence's first frame."""
    seq = sequence[mask]
    steps = rng.normal(0, step, (len(seq), *shape))
    starts = np.r_[True, seq[1:] != seq[:-1]]
    steps[starts] = 0
    walk = np.cumsum(steps, axis=0)
    offsets = walk[np.maximum.accumulate(np.where(starts, np.arange(len(seq)), 0))]
    return walk - offsets


def _fixational_movements(rng: np.random.Generator, sequence: np.ndarray,
                          mask: np.ndarray) -> np.ndarray:
    """Drift (a mean-reverting walk, about 0.1 deg std) plus tremor, per stare frame (rad)."""
    seq = sequence[mask]
    out = np.zeros((len(seq), 2))
    drift = np.zeros(2)
    for i in range(len(seq)):
        if i == 0 or seq[i] != seq[i - 1]:
            drift = np.zeros(2)
        drift = 0.9 * drift + rng.normal(0, 0.04 * DEG, 2)
        out[i] = drift
    return out + rng.normal(0, 0.02 * DEG, out.shape)


def _blinks(rng: np.random.Generator, sequence: np.ndarray, per_sequence: int) -> np.ndarray:
    """(N,) lid closure: ``per_sequence`` blinks in each stare sequence, 3-12 frames long
    (100-400 ms at 30 fps), apart from each other and the sequence's ends. Each closes fast
    (first 30% of its frames), stays shut briefly and opens more slowly, as real blinks do."""
    closure = np.zeros(len(sequence))
    for seq in np.unique(sequence[sequence >= 0]):
        rows = np.flatnonzero(sequence == seq)
        slot = len(rows) // per_sequence          # one blink per slot, inside it
        for b in range(per_sequence):
            d = int(rng.integers(3, 13))
            start = b * slot + int(rng.integers(2, max(slot - d - 1, 3)))
            u = (np.arange(d) + 0.5) / d
            c = np.where(u < 0.3, u / 0.3, np.where(u < 0.45, 1.0, (1.0 - u) / 0.55))
            closure[rows[start:start + d]] = np.clip(c, 0.0, 1.0)
    return closure


def _index_within_group(group: np.ndarray) -> np.ndarray:
    """For each element, how many earlier elements share its group label."""
    order = np.argsort(group, kind="stable")
    g = group[order]
    starts = np.r_[True, g[1:] != g[:-1]]
    pos = np.arange(len(g))
    out = np.empty(len(g), np.int64)
    out[order] = pos - np.maximum.accumulate(np.where(starts, pos, 0))
    return out


def _take_scene(scene: Scene, rows: np.ndarray) -> Scene:
    """The scene of some of its frames."""
    import dataclasses

    def take(v: object) -> object:
        if isinstance(v, np.ndarray):
            return v[rows]
        if isinstance(v, tuple):
            return tuple(take(x) for x in v)
        if dataclasses.is_dataclass(v):
            return type(v)(**{f.name: take(getattr(v, f.name)) for f in dataclasses.fields(v)})
        return v

    return take(scene)
