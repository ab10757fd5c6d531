"""GazeSim's generator: determinism, splits, labels, calibration grid, stare sequences, boxes,
config validation and the array-form writer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gazesdk.data.arrays import FIELDS, load_arrays
from gazesdk.data.facegrid import face_grid
from gazesdk.errors import ConfigError, DataFormatError, UnknownDeviceError
from gazesdk.geometry.devices import get_device, list_devices
from gazesdk.sim.config import SimConfig
from gazesdk.sim.generator import CHUNK, GazeSim

SMALL = dict(subjects=4, frames_per_subject=6)
PATCHES = ("face", "left_eye", "right_eye")


def render_all(sim: GazeSim, **kw) -> dict[str, np.ndarray]:
    return sim.render_chunk(0, len(sim), **kw)


# --- determinism ------------------------------------------------------------------------------

def test_same_seed_same_bytes_other_seed_differs():
    a = render_all(GazeSim(SimConfig(seed=3, **SMALL)))
    b = render_all(GazeSim(SimConfig(seed=3, **SMALL)))
    c = render_all(GazeSim(SimConfig(seed=4, **SMALL)))
    assert set(a) == {*FIELDS, "head_pose_deg"}
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k
    for k in (*PATCHES, "gaze_cm", "dot_pts", "face_box"):
        assert not np.array_equal(a[k], c[k]), k


def test_pixels_do_not_depend_on_chunking():
    sim = GazeSim(SimConfig(seed=1, **SMALL))
    whole = sim.render_chunk(0, 10)
    tail = sim.render_chunk(3, 10)
    single = sim.render_chunk(7, 8)
    for k in whole:
        np.testing.assert_array_equal(whole[k][3:], tail[k], err_msg=k)
        np.testing.assert_array_equal(whole[k][7:8], single[k], err_msg=k)
    # the noise is really there (so the check above is about the noise keys): a noise-free
    # render of the same frames differs
    clean = sim.render_chunk(3, 10, noise=False)
    assert not np.array_equal(clean["face"], tail["face"])


# --- splits -----------------------------------------------------------------------------------

def test_splits_are_by_subject():
    sim = GazeSim(SimConfig(subjects=9, frames_per_subject=4, sessions_per_subject=2,
                            calibration_dots=2, seed=2))
    d = render_all(sim)
    split_of = {}
    for s, sp in zip(d["subject"].tolist(), d["split"].tolist(), strict=True):
        assert split_of.setdefault(s, sp) == sp, f"subject {s} has frames in two splits"
    assert sorted(split_of) == list(range(9))
    np.testing.assert_array_equal([split_of[s] for s in range(9)], sim.plan.subject_split)
    assert set(split_of.values()) <= {0, 1, 2}
    # sessions belong to one subject each
    sess_subject = {}
    for sess, s in zip(d["session"].tolist(), d["subject"].tolist(), strict=True):
        assert sess_subject.setdefault(sess, s) == s


@pytest.mark.parametrize(("n", "fractions", "expected"), [
    (100, (0.8, 0.1, 0.1), (80, 10, 10)),
    (40, (0.5, 0.25, 0.25), (20, 10, 10)),
    (10, (0.0, 0.0, 1.0), (0, 0, 10)),
    (3, (0.8, 0.1, 0.1), (1, 1, 1)),       # every asked-for split gets a subject
    (3, (0.5, 0.5, 0.0), (2, 1, 0)),
])
def test_split_counts(n, fractions, expected):
    sim = GazeSim(SimConfig(subjects=n, frames_per_subject=1, sessions_per_subject=1,
                            split_fractions=fractions))
    assert tuple(np.bincount(sim.plan.subject_split, minlength=3)) == expected


def test_small_train_fraction_still_gets_a_subject():
    # (regression: train = n - (val + test) after bumping val/test once left this 0/1/3)
    sim = GazeSim(SimConfig(subjects=4, frames_per_subject=1, sessions_per_subject=1,
                            split_fractions=(0.1, 0.1, 0.8)))
    counts = np.bincount(sim.plan.subject_split, minlength=3)
    assert tuple(counts) == (1, 1, 2)


def test_zero_train_fraction_gets_no_subject():
    # (regression: the rounding remainder used to go to train even with fraction 0 -> 1/1/1)
    sim = GazeSim(SimConfig(subjects=3, frames_per_subject=1, sessions_per_subject=1,
                            split_fractions=(0.0, 0.5, 0.5)))
    counts = np.bincount(sim.plan.subject_split, minlength=3)
    assert counts[0] == 0 and counts.sum() == 3, counts


def test_split_counts_properties():
    grid = [(0.8, 0.1, 0.1), (0.1, 0.1, 0.8), (0.0, 0.5, 0.5), (0.6, 0.4, 0.0), (0.05, 0.05, 0.9),
            (1 / 3, 1 / 3, 1 / 3), (0.0, 0.0, 1.0), (0.98, 0.01, 0.01)]
    for n in (1, 2, 3, 4, 5, 7, 10, 23):
        for fr in grid:
            sim = GazeSim(SimConfig(subjects=n, frames_per_subject=1, sessions_per_subject=1,
                                    split_fractions=fr))
            counts = np.bincount(sim.plan.subject_split, minlength=3)
            assert counts.sum() == n
            for c, f in zip(counts, fr, strict=True):
                if f == 0:
                    assert c == 0, (n, fr, counts)
                elif n >= 3:
                    assert c >= 1, (n, fr, counts)
                # off the exact share by less than one subject, or by what the
                # at-least-one rule had to move (n >= 3 and some fraction * n < 1)
                if not (n >= 3 and min(f * n for f in fr if f > 0) < 1):
                    assert abs(c - f * n) < 1, (n, fr, counts)


# --- labels -----------------------------------------------------------------------------------

def readme_cam_cm(name: str, orientation: int, dot, screen) -> tuple[float, float]:
    """The README's table, written out independently of gazesdk.geometry.screen."""
    dev = get_device(name)
    dx, dy = dev.camera_to_screen_x_mm, dev.camera_to_screen_y_mm
    dw, dh = dev.screen_width_mm, dev.screen_height_mm
    if orientation in (1, 2):
        xs, ys = dot[0] * dw / screen[0], dot[1] * dh / screen[1]
    else:
        xs, ys = dot[0] * dh / screen[0], dot[1] * dw / screen[1]
    x, y = {1: (xs - dx, -dy - ys),
            2: (dx - dw + xs, dy + dh - ys),
            3: (dy + xs, dw - dx - ys),
            4: (-dy - dh + xs, dx - ys)}[orientation]
    return x / 10, y / 10


def test_gaze_labels_follow_the_readme_table_for_every_device_and_orientation():
    sim = GazeSim(SimConfig(subjects=40, frames_per_subject=4, calibration_dots=1, seed=11))
    d = render_all(sim, noise=False)
    # the config really mixes devices, phones and tablets, and all four orientations
    assert set(d["orientation"].tolist()) == {1, 2, 3, 4}
    assert len(set(d["device"].tolist())) >= 8
    assert {sim.devices[i].kind for i in set(d["device"].tolist())} == {"phone", "tablet"}
    for i in range(len(sim)):
        name = sim.device_names[d["device"][i]]
        o = int(d["orientation"][i])
        dev = get_device(name)
        w, h = dev.screen_width_points, dev.screen_height_points
        expected_screen = (w, h) if o in (1, 2) else (h, w)
        np.testing.assert_array_equal(d["screen_pts"][i], np.float32(expected_screen))
        dot = sim.plan.dot_pts[i]
        np.testing.assert_array_equal(d["dot_pts"][i], dot.astype(np.float32))
        assert 0 <= dot[0] <= expected_screen[0] and 0 <= dot[1] <= expected_screen[1]
        x, y = readme_cam_cm(name, o, dot, expected_screen)
        np.testing.assert_allclose(d["gaze_cm"][i], (x, y), rtol=0, atol=1e-5)
    # and the orientation-1 screen lies below the camera (README's consistency statement)
    assert (d["gaze_cm"][d["orientation"] == 1, 1] < 0).all()


def test_calibration_grid():
    cfg = SimConfig(subjects=3, frames_per_subject=5, sessions_per_subject=2, calibration_dots=9,
                    seed=5)
    sim = GazeSim(cfg)
    d = render_all(sim, noise=False)
    grid = [(fx, fy) for fy in (0.1, 0.5, 0.9) for fx in (0.1, 0.5, 0.9)]   # row by row
    sessions = np.unique(d["session"])
    assert len(sessions) == 6
    for s in sessions:
        calib = np.flatnonzero((d["session"] == s) & d["is_calibration"])
        assert len(calib) == 9
        screen = d["screen_pts"][calib[0]].astype(np.float64)
        expected = np.array([(fx * screen[0], fy * screen[1]) for fx, fy in grid], np.float32)
        np.testing.assert_array_equal(d["dot_pts"][calib], expected)
        assert (d["sequence"][calib] == -1).all()
    # random-dot frames are not calibration frames and are not on the grid
    regular = ~d["is_calibration"]
    assert regular.sum() == cfg.subjects * cfg.frames_per_subject
    frac = d["dot_pts"][regular] / d["screen_pts"][regular]
    on_grid = np.isin(np.round(frac, 4), (0.1, 0.5, 0.9)).all(axis=1)
    assert not on_grid.any()


def test_fewer_calibration_dots_take_the_start_of_the_grid():
    sim = GazeSim(SimConfig(subjects=2, frames_per_subject=2, sessions_per_subject=1,
                            calibration_dots=4, seed=5))
    d = render_all(sim, noise=False)
    for s in range(2):
        calib = np.flatnonzero((d["session"] == s) & d["is_calibration"])
        assert len(calib) == 4
        sw, sh = d["screen_pts"][calib[0]].astype(np.float64)
        expected = np.float32([(0.1 * sw, 0.1 * sh), (0.5 * sw, 0.1 * sh), (0.9 * sw, 0.1 * sh),
                               (0.1 * sw, 0.5 * sh)])
        np.testing.assert_array_equal(d["dot_pts"][calib], expected)


# --- stare sequences --------------------------------------------------------------------------

def consecutive_and_random_pair_diffs(d, kind):
    p = d[kind].astype(np.float64)
    seq = d["sequence"]
    consecutive = []
    for s in np.unique(seq[seq >= 0]):
        idx = np.flatnonzero(seq == s)
        consecutive.append(np.abs(p[idx[1:]] - p[idx[:-1]]).mean(axis=(1, 2, 3)))
    regular = np.flatnonzero(seq < 0)
    pairs = []
    for subject in np.unique(d["subject"]):
        r = regular[d["subject"][regular] == subject]
        pairs += [np.abs(p[a] - p[b]).mean() for i, a in enumerate(r) for b in r[i + 1:]]
    return np.concatenate(consecutive).mean(), np.mean(pairs)


def test_stare_sequences_structure_and_labels():
    cfg = SimConfig(subjects=4, frames_per_subject=6, stare_sequences=2, stare_frames=12, seed=3)
    sim = GazeSim(cfg)
    d = render_all(sim)
    seq = d["sequence"]
    ids = np.unique(seq[seq >= 0])
    assert len(ids) == cfg.subjects * cfg.stare_sequences
    assert (seq >= 0).sum() == cfg.subjects * cfg.stare_sequences * cfg.stare_frames
    per_subject = {}
    for s in ids:
        idx = np.flatnonzero(seq == s)
        assert len(idx) == 12
        np.testing.assert_array_equal(np.diff(idx), 1)             # contiguous
        for k in ("subject", "session", "device", "orientation", "split"):
            assert len(np.unique(d[k][idx])) == 1, k
        for k in ("gaze_cm", "dot_pts", "screen_pts"):
            assert (d[k][idx] == d[k][idx[0]]).all(), k
        assert not d["is_calibration"][idx].any()
        per_subject.setdefault(int(d["subject"][idx[0]]), []).append(s)
    assert all(len(v) == 2 for v in per_subject.values()) and len(per_subject) == 4
    # the two sequences of a subject look at different dots
    for a, b in per_subject.values():
        assert not np.array_equal(d["dot_pts"][seq == a][0], d["dot_pts"][seq == b][0])


def test_stare_frames_differ_only_a_little():
    # With detector box jitter off, what changes within a sequence is sub-mm head drift,
    # fixational eye movements, exposure flicker and sensor noise. Measured (seed 3): mean abs
    # pixel difference between consecutive frames is 0.04-0.13 of that between two random-dot
    # frames of the same subject; we require < 0.25 for each patch kind.
    sim = GazeSim(SimConfig(subjects=4, frames_per_subject=6, stare_sequences=2, stare_frames=12,
                            box_jitter_scale=0.0, seed=3))
    d = render_all(sim)
    for kind in PATCHES:
        consecutive, random_pair = consecutive_and_random_pair_diffs(d, kind)
        assert consecutive < 0.25 * random_pair, (kind, consecutive, random_pair)
    # With the default per-frame box jitter the ratio is 0.35-0.48 (the crop moves by a pixel
    # or two); still well below 1: require < 0.65.
    d = render_all(GazeSim(SimConfig(subjects=4, frames_per_subject=6, stare_sequences=2,
                                     stare_frames=12, seed=3)))
    for kind in PATCHES:
        consecutive, random_pair = consecutive_and_random_pair_diffs(d, kind)
        assert consecutive < 0.65 * random_pair, (kind, consecutive, random_pair)


# --- boxes and face grid ----------------------------------------------------------------------

def test_boxes_inside_frame_and_face_grid():
    sim = GazeSim(SimConfig(subjects=30, frames_per_subject=6, calibration_dots=2, seed=9))
    d = render_all(sim, noise=False)
    wh = d["frame_wh"].astype(np.float64)
    portrait = np.isin(d["orientation"], (1, 2))
    np.testing.assert_array_equal(wh[portrait], np.broadcast_to([480, 640], wh[portrait].shape))
    np.testing.assert_array_equal(wh[~portrait], np.broadcast_to([640, 480], wh[~portrait].shape))
    face = d["face_box"].astype(np.float64)
    for name in ("face_box", "left_eye_box", "right_eye_box"):
        b = d[name].astype(np.float64)
        assert (b[:, 2] > 0).all() and (b[:, 3] > 0).all()
        assert (b[:, 0] >= 0).all() and (b[:, 1] >= 0).all(), name
        assert (b[:, 0] + b[:, 2] <= wh[:, 0]).all() and (b[:, 1] + b[:, 3] <= wh[:, 1]).all()
    # eye boxes inside the face box (allow 3% of the face size)
    tol = 0.03 * face[:, 2]
    for name in ("left_eye_box", "right_eye_box"):
        e = d[name].astype(np.float64)
        assert (e[:, 0] >= face[:, 0] - tol).all() and (e[:, 1] >= face[:, 1] - tol).all()
        assert (e[:, 0] + e[:, 2] <= face[:, 0] + face[:, 2] + tol).all()
        assert (e[:, 1] + e[:, 3] <= face[:, 1] + face[:, 3] + tol).all()
    # the subject's left eye appears on the right of the image
    left_cx = d["left_eye_box"][:, 0] + d["left_eye_box"][:, 2] / 2
    right_cx = d["right_eye_box"][:, 0] + d["right_eye_box"][:, 2] / 2
    assert (left_cx > right_cx).mean() > 0.95

    np.testing.assert_array_equal(d["face_grid"], face_grid(d["face_box"], d["frame_wh"]))
    # count of 1-cells = area of the grid box (1-indexed, half away from zero) clipped to 25x25
    for i in range(len(face)):
        (x, y, w, h), (fw, fh) = face[i], wh[i]
        gx, gy = np.floor(x * 25 / fw + 0.5) + 1, np.floor(y * 25 / fh + 0.5) + 1
        gw, gh = np.floor(w * 25 / fw + 0.5), np.floor(h * 25 / fh + 0.5)
        cols = max(0, min(gx + gw - 1, 25) - max(gx, 1) + 1)
        rows = max(0, min(gy + gh - 1, 25) - max(gy, 1) + 1)
        assert d["face_grid"][i].sum() == cols * rows
        assert d["face_grid"][i].sum() > 0


# --- config -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    dict(subjects=0),
    dict(calibration_dots=10),
    dict(calibration_dots=-1),
    dict(split_fractions=(0.8, 0.1, 0.2)),
    dict(split_fractions=(1.1, -0.05, -0.05)),
    dict(split_fractions=(0.5, 0.5)),
    dict(sessions_per_subject=0),
    dict(stare_frames=1),
    dict(tablet_fraction=1.5),
    dict(noise_scale=-1.0),
    dict(frames_per_subject=0, calibration_dots=0, stare_sequences=0),
    dict(devices=()),
])
def test_bad_config_values(kwargs):
    with pytest.raises(ConfigError):
        SimConfig(**kwargs)


def test_unknown_device_and_from_dict():
    with pytest.raises(UnknownDeviceError, match="iPhone 99"):
        SimConfig(devices=("iPhone 6s", "iPhone 99"))
    with pytest.raises(ConfigError, match="colour"):
        SimConfig.from_dict({"subjects": 3, "colour": "red"})
    with pytest.raises(ConfigError):
        SimConfig.from_dict({"subjects": "three"})
    with pytest.raises(ConfigError):
        SimConfig.from_dict({"split_fractions": [0.5, 0.5, 0.5]})
    cfg = SimConfig.from_dict({"subjects": 3, "devices": ["iPad Air 2"],
                               "split_fractions": [0.5, 0.25, 0.25]})
    assert cfg.devices == ("iPad Air 2",) and cfg.split_fractions == (0.5, 0.25, 0.25)
    assert SimConfig.from_dict(cfg.to_dict()) == cfg
    json.dumps(cfg.to_dict())  # serialisable


def test_devices_as_single_string():
    # (regression: YAML "devices: iPhone 6s" used to be iterated by character -> "unknown
    # device 'i'"); a single name is taken as one device, or at least named in the error
    assert SimConfig(devices=["iPhone 6s", "iPad Air 2"]).devices == ("iPhone 6s", "iPad Air 2")
    with pytest.raises(UnknownDeviceError, match="iPhone 99"):
        SimConfig.from_dict({"devices": "iPhone 99"})
    assert SimConfig.from_dict({"devices": "iPhone 6s"}).devices == ("iPhone 6s",)
    assert SimConfig(devices="iPad Mini").devices == ("iPad Mini",)


@pytest.mark.parametrize("kwargs", [
    dict(subjects=3, frames_per_subject=7, sessions_per_subject=3),
    dict(subjects=2, frames_per_subject=5, sessions_per_subject=2, calibration_dots=9),
    dict(subjects=3, frames_per_subject=0, sessions_per_subject=2, stare_sequences=3,
         stare_frames=4),
    dict(subjects=2, frames_per_subject=3, sessions_per_subject=3, calibration_dots=2,
         stare_sequences=1, stare_frames=2),
])
def test_frames_total_matches_plan(kwargs):
    cfg = SimConfig(**kwargs)
    sim = GazeSim(cfg)
    spp = cfg.sessions_per_subject
    expected = cfg.subjects * (cfg.frames_per_subject + spp * cfg.calibration_dots
                               + cfg.stare_sequences * cfg.stare_frames)
    assert cfg.frames_total == expected == len(sim)
    p = sim.plan
    regular = np.bincount(p.sessions.subject[p.session[p.kind == 0]], minlength=cfg.subjects)
    assert (regular == cfg.frames_per_subject).all()
    # frame indices count 0.. within each session
    for s in np.unique(p.session):
        np.testing.assert_array_equal(p.index_in_session[p.session == s],
                                      np.arange((p.session == s).sum()))


def test_devices_restriction():
    sim = GazeSim(SimConfig(subjects=6, frames_per_subject=2, devices=("iPhone 6s", "iPad Air 2"),
                            tablet_fraction=0.5))
    assert sim.device_names == ("iPhone 6s", "iPad Air 2")
    assert set(sim.plan.sessions.device.tolist()) <= {0, 1}
    assert GazeSim(SimConfig(**SMALL)).device_names == tuple(list_devices())


# --- array form -------------------------------------------------------------------------------

def test_write_arrays_matches_iter_chunks(tmp_path):
    cfg = SimConfig(subjects=4, frames_per_subject=40, stare_sequences=1, stare_frames=3, seed=6)
    sim = GazeSim(cfg)
    assert len(sim) > CHUNK  # more than one chunk
    chunks = list(sim.iter_chunks())
    assert [len(c["gaze_cm"]) for c in chunks] == [CHUNK, len(sim) - CHUNK]
    out = sim.write_arrays(tmp_path / "ds")
    assert out == tmp_path / "ds"
    assert not (tmp_path / "ds.partial").exists()
    data = load_arrays(out)
    assert len(data) == len(sim)
    for k in FIELDS:
        np.testing.assert_array_equal(data[k], np.concatenate([c[k] for c in chunks]), err_msg=k)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["devices"] == list(sim.device_names) and data.devices == sim.device_names
    assert manifest["count"] == len(sim)
    assert data.info["config"] == cfg.to_dict() and data.info["source"] == "GazeSim"


def test_write_arrays_refuses_non_empty_dir(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DataFormatError, match="not empty"):
        GazeSim(SimConfig(subjects=1, frames_per_subject=2)).write_arrays(out)
    assert (out / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    # an existing empty folder is fine
    empty = tmp_path / "empty"
    empty.mkdir()
    GazeSim(SimConfig(subjects=1, frames_per_subject=2)).write_arrays(empty)
    assert len(load_arrays(empty)) == 2


def test_stare_blinks_close_the_lids():
    from gazesdk.sim.scene import build_scene

    sim = GazeSim(SimConfig(subjects=2, frames_per_subject=0, stare_sequences=1,
                            stare_frames=40, stare_blinks=2, seed=9))
    c = sim.plan.lid_closure
    seq = sim.plan.sequence
    for s in np.unique(seq):
        rows = c[seq == s]
        runs = np.diff(np.concatenate([[0], (rows > 0).astype(int), [0]]))
        assert (runs == 1).sum() == 2                      # two separate blinks
        lengths = np.flatnonzero(runs == -1) - np.flatnonzero(runs == 1)
        assert ((lengths >= 3) & (lengths <= 12)).all()    # 100-400 ms at 30 fps
        assert rows[0] == 0 and rows[-1] == 0 and rows.max() == pytest.approx(1.0)
    shut = int(np.argmax(c))
    scene = build_scene(sim.plan.state(np.array([shut, 0])), sim.camera)
    # at closure 1 the upper lid meets the lower one: no opening left
    assert np.allclose(scene.lid_upper_cm[0], -scene.lid_lower_cm[0])
    assert (scene.lid_upper_cm[1] > 0).all()
    chunk = sim.render_chunk(0, len(sim))
    assert np.array_equal(chunk["lid_closure"], c.astype(np.float32))
    # the closed eye's patch has no dark pupil left
    assert chunk["right_eye"][shut].min() > chunk["right_eye"][0].min() + 20


def test_blinks_need_room():
    with pytest.raises(ConfigError, match="16 per blink"):
        SimConfig(stare_sequences=1, stare_frames=20, stare_blinks=2)
    with pytest.raises(ConfigError, match="stare_blinks"):
        SimConfig(stare_blinks=-1)
    assert "lid_closure" not in GazeSim(SimConfig(subjects=1, frames_per_subject=2)
                                        ).render_chunk(0, 2)
