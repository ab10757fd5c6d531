"""GazeSim -> GazeCapture folders -> load_gazecapture: labels survive exactly, pixels up to JPEG
and resampling; damaged recordings are skipped and counted; the loader's cache."""

from __future__ import annotations

import dataclasses
import json
import shutil

import cv2
import numpy as np
import pytest

from gazesdk.data import gazecapture
from gazesdk.data.arrays import FIELDS, SPLITS
from gazesdk.data.gazecapture import load_gazecapture
from gazesdk.sim.config import SimConfig
from gazesdk.sim.generator import GazeSim

PATCHES = ("face", "left_eye", "right_eye")
# seed 3: sessions in orientations 1, 2 and 3, phones and tablets, all three splits
CONFIG = SimConfig(subjects=4, frames_per_subject=6, sessions_per_subject=2, calibration_dots=2,
                   stare_sequences=1, stare_frames=3, noise_scale=0.0, blur_scale=0.0, seed=3)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """(sim, root of the written GazeCapture folders, directly rendered rows)."""
    sim = GazeSim(CONFIG)
    root = tmp_path_factory.mktemp("gc") / "root"
    assert sim.write_gazecapture(root) == root
    return sim, root, sim.render_chunk(0, len(sim))


def load(root, **kw):
    return load_gazecapture(root, progress=False, **kw)


def direct_rows(data, direct) -> np.ndarray:
    """Index into the directly rendered rows for each loaded row: recording number - 1 is the
    session, and the loader's frame is the index within the recording."""
    where = {(int(s), int(f)): i for i, (s, f) in enumerate(zip(direct["session"],
                                                                 direct["frame"], strict=True))}
    return np.array([where[(int(rec) - 1, int(f))]
                     for rec, f in zip(data["session"], data["frame"], strict=True)])


def test_layout(recorded):
    sim, root, direct = recorded
    n_sessions = CONFIG.subjects * CONFIG.sessions_per_subject
    assert sorted(p.name for p in root.iterdir()) == [f"{s + 1:05d}" for s in range(n_sessions)]
    for s in range(n_sessions):
        info = json.loads((root / f"{s + 1:05d}" / "info.json").read_text())
        rows = direct["session"] == s
        assert info["TotalFrames"] == rows.sum()
        assert info["DeviceName"] == sim.device_names[direct["device"][rows][0]]
        assert info["Dataset"] == SPLITS[direct["split"][rows][0]]
        dot = json.loads((root / f"{s + 1:05d}" / "dotInfo.json").read_text())
        # frames fixating one dot share a DotNum: the stare sequence is one dot
        seq = direct["sequence"][rows]
        nums = np.array(dot["DotNum"])
        assert len(set(nums[seq >= 0].tolist())) == len(set(seq[seq >= 0].tolist()))
        assert len(set(nums[seq < 0].tolist())) == (seq < 0).sum()


def test_labels_round_trip_exactly(recorded):
    sim, root, direct = recorded
    data, summary = load(root)
    assert len(data) == len(sim) == summary.frames_kept == summary.frames_total
    assert summary.recordings_skipped == {} and summary.frames_skipped == {}
    rows = direct_rows(data, direct)
    assert sorted(rows.tolist()) == list(range(len(sim)))    # every frame exactly once
    assert {1, 2, 3} <= set(data["orientation"].tolist())   # the check covers landscape too
    for k in ("gaze_cm", "dot_pts", "screen_pts", "orientation", "split", "face_grid",
              "face_box", "left_eye_box", "right_eye_box", "frame_wh"):
        np.testing.assert_array_equal(np.asarray(data[k]), direct[k][rows], err_msg=k)
    # devices by name (the loader indexes the full table, GazeSim its own device list)
    assert [data.devices[i] for i in data["device"]] == \
        [sim.device_names[i] for i in direct["device"][rows]]
    # split is per recording
    for rec in np.unique(data["session"]):
        assert len(np.unique(data["split"][data["session"] == rec])) == 1


def test_patches_match_direct_rendering(recorded):
    sim, root, direct = recorded
    data, _ = load(root)
    rows = direct_rows(data, direct)
    # a frame of a different subject (sessions s and s +- 2 belong to different subjects when
    # there are 2 sessions per subject), at the same position in its session where possible
    n_sessions = CONFIG.subjects * CONFIG.sessions_per_subject
    other = []
    for r in rows:
        s = (int(direct["session"][r]) + 2) % n_sessions
        cand = np.flatnonzero(direct["session"] == s)
        other.append(cand[min(int(direct["frame"][r]), len(cand) - 1)])
    other = np.array(other)
    assert (direct["subject"][other] != direct["subject"][rows]).all()
    # Measured with this config (noise and blur off): per-patch mean abs difference between the
    # loaded patch (JPEG q95 of the full frame, box rounded, INTER_AREA resize) and the patch
    # rendered directly is 1.2-1.5 grey levels (of 255) for the face and a median of 1.7-2.0
    # for the eyes (eye crops are upscaled, so edges differ more). Bounds with margin: every
    # face patch < 3, the median eye patch < 3 (eye patches are also checked one by one against
    # JPEG-free crops in test_direct_eye_patches_match_frame_crops). A different subject's
    # patch differs by 40-60 on average (23 at least), so we also require the mean over all
    # patches to be below a fifth of that and every patch to be closer to its own frame.
    for kind in PATCHES:
        loaded = np.asarray(data[kind]).astype(np.float64)
        own = np.abs(loaded - direct[kind][rows]).mean(axis=(1, 2, 3))
        wrong = np.abs(loaded - direct[kind][other]).mean(axis=(1, 2, 3))
        if kind == "face":
            assert own.max() < 3.0, (kind, own.max())
        assert np.median(own) < 3.0, (kind, np.median(own))
        assert own.mean() < 0.2 * wrong.mean(), (kind, own.mean(), wrong.mean())
        assert (own < wrong).all(), kind


def crop_like_the_loader(frame: np.ndarray, box) -> np.ndarray:
    x, y, w, h = (int(np.floor(v + 0.5)) for v in box)
    return cv2.resize(frame[y:y + h, x:x + w], (64, 64), interpolation=cv2.INTER_AREA)


def test_direct_eye_patches_match_frame_crops():
    # Reference computed another way: the full camera frame (no JPEG), cropped and resized as
    # the loader does. Face patches and unaffected eye patches match within 2.2 grey levels
    # (measured, seeds 3 and 5); require every patch < 3.
    sim = GazeSim(dataclasses.replace(CONFIG, seed=5))
    direct = sim.render_chunk(0, len(sim))
    index = np.arange(len(sim))
    frames, _ = sim.render_frames(index)
    worst = {}
    for kind in PATCHES:
        diff = [np.abs(crop_like_the_loader(frames[i], direct[f"{kind}_box"][i]).astype(float)
                       - direct[kind][i]).mean() for i in index]
        worst[kind] = max(diff)
    assert worst["face"] < 3.0  # the face view draws the background: always fine
    assert max(worst.values()) < 3.0, worst


@pytest.fixture()
def damaged(recorded, tmp_path):
    sim, root, direct = recorded
    copy = tmp_path / "root"
    shutil.copytree(root, copy)
    # 00001: one truncated JPEG (frame skipped); 00002: no appleFace.json; 00003: bad dotInfo
    jpeg = copy / "00001" / "frames" / "00002.jpg"
    jpeg.write_bytes(jpeg.read_bytes()[: len(jpeg.read_bytes()) // 2])
    (copy / "00002" / "appleFace.json").unlink()
    (copy / "00003" / "dotInfo.json").write_text('{"XPts": [1, 2,')
    return sim, copy, direct


def test_damaged_recordings_are_skipped_and_counted(damaged):
    sim, root, direct = damaged
    data, summary = load(root)
    per_rec = np.bincount(direct["session"])
    n_rec = len(per_rec)
    assert summary.recordings_found == n_rec
    assert summary.recordings_used == n_rec - 2
    assert summary.recordings_skipped == {"missing file": 1, "malformed json": 1}
    used_frames = len(sim) - per_rec[1] - per_rec[2]
    assert summary.frames_total == used_frames
    assert summary.frames_skipped == {"unreadable image": 1}
    assert summary.frames_kept == len(data) == used_frames - 1
    assert sum(summary.frames_skipped.values()) + summary.frames_kept == summary.frames_total
    recs = set(data["session"].tolist())
    assert recs == set(range(1, n_rec + 1)) - {2, 3}
    assert 2 not in data["frame"][data["session"] == 1]
    # what was kept is still right
    rows = direct_rows(data, direct)
    np.testing.assert_array_equal(np.asarray(data["gaze_cm"]), direct["gaze_cm"][rows])
    text = str(summary)
    assert "missing file 1" in text and "unreadable image 1" in text


def test_cache_returns_identical_arrays(recorded, tmp_path, monkeypatch):
    sim, root, direct = recorded
    first, s1 = load(root, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 1

    def no_decoding(path):
        raise AssertionError("the second load decoded an image instead of using the cache")

    monkeypatch.setattr(gazecapture, "_decode", no_decoding)
    second, s2 = load(root, cache_dir=tmp_path / "cache")
    assert s1 == s2 and len(second) == len(sim)
    assert second.devices == first.devices
    for k in FIELDS:
        np.testing.assert_array_equal(np.asarray(second[k]), np.asarray(first[k]), err_msg=k)
    # and an uncached load gives the same again (the patched decoder proves this one must decode)
    monkeypatch.undo()
    fresh, _ = load(root)
    for k in FIELDS:
        np.testing.assert_array_equal(np.asarray(fresh[k]), np.asarray(first[k]), err_msg=k)
