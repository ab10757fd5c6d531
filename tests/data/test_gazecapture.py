"""GazeCapture format: writer layout, loader round trip, damage handling, cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from gazesdk.data import gazecapture
from gazesdk.data.arrays import FIELDS, SPLITS
from gazesdk.data.gazecapture import (
    LoadSummary,
    RecordingFrame,
    load_gazecapture,
    write_recording,
)
from gazesdk.errors import ConfigError, DataFormatError, GazeSDKError
from gazesdk.geometry.devices import list_devices

W, H = 320, 240
BG, FACE, LEFT, RIGHT = (30, 30, 30), (200, 150, 100), (40, 200, 60), (60, 80, 220)


def eye_boxes(face):
    x, y = face[0], face[1]
    return (x + 72, y + 32, 40, 24), (x + 16, y + 32, 40, 24)  # subject's left is image right


def draw(face, left, right) -> np.ndarray:
    img = np.full((H, W, 3), BG, np.uint8)
    for (x, y, w, h), colour in ((face, FACE), (left, LEFT), (right, RIGHT)):
        img[max(y, 0):y + h, max(x, 0):x + w] = colour
    return img


def make_frame(i: int, face=None, **kw) -> RecordingFrame:
    face = face or (96 + 2 * i, 64, 128, 128)
    left, right = eye_boxes(face)
    orientation = 1 + i % 4
    screen = (375, 667) if orientation <= 2 else (667, 375)
    args = dict(image=draw(face, left, right), face_box=face, left_eye_box=left,
                right_eye_box=right, gaze_cm=(1.5 + 0.25 * i, -3.0 - 0.5 * i),
                dot_pts=(100.5 + i, 200.25 + 2 * i), screen_pts=screen,
                orientation=orientation, dot_num=i // 2, time_s=0.5 * i)
    args.update(kw)
    return RecordingFrame(**args)


def make_recording(root: Path, number: int, n: int = 5, *, split: str = "train",
                   device: str = "iPhone 6s", frames=None) -> Path:
    frames = frames if frames is not None else [make_frame(i) for i in range(n)]
    return write_recording(root / f"{number:05d}", frames, device_name=device, split=split)


def load(root, **kw):
    return load_gazecapture(root, progress=False, **kw)


def edit_json(path: Path, fn) -> None:
    d = json.loads(path.read_text())
    fn(d)
    path.write_text(json.dumps(d))


def test_writer_layout(tmp_path):
    frames = [make_frame(0), make_frame(1, face_valid=False), make_frame(2, right_eye_valid=False)]
    rec = make_recording(tmp_path, 2, frames=frames)
    names = sorted(p.name for p in rec.iterdir())
    assert names == ["appleFace.json", "appleLeftEye.json", "appleRightEye.json", "dotInfo.json",
                     "faceGrid.json", "frames", "frames.json", "info.json", "motion.json",
                     "screen.json"]
    assert json.loads((rec / "frames.json").read_text()) == ["00000.jpg", "00001.jpg", "00002.jpg"]
    assert sorted(p.name for p in (rec / "frames").iterdir()) == ["00000.jpg", "00001.jpg",
                                                                   "00002.jpg"]
    info = json.loads((rec / "info.json").read_text())
    assert info == {"TotalFrames": 3, "NumFaceDetections": 2, "NumEyeDetections": 2,
                    "Dataset": "train", "DeviceName": "iPhone 6s"}
    face = json.loads((rec / "appleFace.json").read_text())
    assert face == {"X": [96, 98, 100], "Y": [64] * 3, "W": [128] * 3, "H": [128] * 3,
                    "IsValid": [1, 0, 1]}
    left = json.loads((rec / "appleLeftEye.json").read_text())  # relative to the face box
    assert left == {"X": [72] * 3, "Y": [32] * 3, "W": [40] * 3, "H": [24] * 3,
                    "IsValid": [1, 1, 1]}
    assert json.loads((rec / "appleRightEye.json").read_text())["X"] == [16] * 3
    assert json.loads((rec / "faceGrid.json").read_text())["IsValid"] == [1, 0, 0]
    dot = json.loads((rec / "dotInfo.json").read_text())
    assert dot["XCam"] == [1.5, 1.75, 2.0] and dot["YCam"] == [-3.0, -3.5, -4.0]
    assert dot["XPts"] == [100.5, 101.5, 102.5] and dot["DotNum"] == [0, 0, 1]
    assert dot["Time"] == [0.0, 0.5, 1.0]
    assert json.loads((rec / "screen.json").read_text()) == {
        "H": [667, 667, 375], "W": [375, 375, 667], "Orientation": [1, 2, 3]}
    # the JPEG is the RGB frame stored as BGR
    img = cv2.imread(str(rec / "frames" / "00000.jpg"))
    assert img.shape == (H, W, 3)
    assert np.abs(img[80, 110].astype(int) - FACE[::-1]).max() < 8
    assert not rec.with_name(rec.name + ".partial").exists()


def test_face_grid_hand_worked(tmp_path):
    # 320x240 frame, face (100, 60, 120, 120): x = round(7.8125)+1 = 9, y = round(6.25)+1 = 7,
    # w = round(9.375) = 9, h = round(12.5) = 13 (half away from zero)
    make_recording(tmp_path, 2, frames=[make_frame(0, face=(100, 60, 120, 120))])
    grid = json.loads((tmp_path / "00002" / "faceGrid.json").read_text())
    assert (grid["X"], grid["Y"], grid["W"], grid["H"]) == ([9], [7], [9], [13])
    data, _ = load(tmp_path)
    expected = np.zeros((25, 25), np.uint8)
    expected[6:19, 8:17] = 1
    np.testing.assert_array_equal(data["face_grid"][0], expected)


def test_round_trip(tmp_path):
    make_recording(tmp_path, 2, n=5, split="train", device="iPhone 6s")
    make_recording(tmp_path, 7, n=3, split="test", device="iPad Air 2")
    data, summary = load(tmp_path)
    assert len(data) == 8 and summary.frames_kept == 8 and summary.frames_total == 8
    assert summary.recordings_found == summary.recordings_used == 2
    assert summary.recordings_skipped == {} and summary.frames_skipped == {}
    assert data.devices == tuple(list_devices())
    assert set(data.fields) == set(FIELDS)
    frames = [make_frame(i) for i in range(5)] + [make_frame(i) for i in range(3)]
    f32 = np.float32
    np.testing.assert_array_equal(data["gaze_cm"], f32([f.gaze_cm for f in frames]))
    np.testing.assert_array_equal(data["dot_pts"], f32([f.dot_pts for f in frames]))
    np.testing.assert_array_equal(data["screen_pts"], f32([f.screen_pts for f in frames]))
    np.testing.assert_array_equal(data["face_box"], f32([f.face_box for f in frames]))
    np.testing.assert_array_equal(data["left_eye_box"], f32([f.left_eye_box for f in frames]))
    np.testing.assert_array_equal(data["right_eye_box"], f32([f.right_eye_box for f in frames]))
    np.testing.assert_array_equal(data["orientation"], [f.orientation for f in frames])
    np.testing.assert_array_equal(data["frame"], [0, 1, 2, 3, 4, 0, 1, 2])
    np.testing.assert_array_equal(data["subject"], [2] * 5 + [7] * 3)
    np.testing.assert_array_equal(data["session"], data["subject"])
    np.testing.assert_array_equal(data["split"], [SPLITS.index("train")] * 5
                                  + [SPLITS.index("test")] * 3)
    np.testing.assert_array_equal(data["device"], [list_devices().index("iPhone 6s")] * 5
                                  + [list_devices().index("iPad Air 2")] * 3)
    np.testing.assert_array_equal(data["frame_wh"], [[W, H]] * 8)
    assert (data["sequence"] == -1).all() and not data["is_calibration"].any()

    # patches: eyes are the colours painted in their boxes, the face crop is exactly the box
    for name, colour in (("left_eye", LEFT), ("right_eye", RIGHT)):
        centre = data[name][:, 8:56, 8:56].reshape(8, -1, 3).mean(axis=1)
        assert np.abs(centre - colour).max() < 8, name
    assert np.abs(data["face"][:, :8, :8].reshape(8, -1, 3).mean(axis=1) - FACE).max() < 8
    x, y, w, h = frames[3].face_box
    img = cv2.imread(str(tmp_path / "00002" / "frames" / "00003.jpg"))
    expected = cv2.resize(img[y:y + h, x:x + w], (64, 64), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(data["face"][3], expected[..., ::-1])


def test_invalid_frames_filtered(tmp_path):
    frames = [make_frame(0), make_frame(1, face_valid=False), make_frame(2, left_eye_valid=False),
              make_frame(3, right_eye_valid=False), make_frame(4)]
    make_recording(tmp_path, 2, frames=frames)
    data, summary = load(tmp_path)
    np.testing.assert_array_equal(data["frame"], [0, 4])
    assert summary.frames_skipped == {"not valid": 3}
    assert summary.frames_total == 5 and summary.frames_kept == 2


def test_damage_is_skipped_and_counted(tmp_path):
    make_recording(tmp_path, 2)
    make_recording(tmp_path, 3, split="val")
    (tmp_path / "00003" / "frames" / "00001.jpg").write_bytes(
        (tmp_path / "00003" / "frames" / "00001.jpg").read_bytes()[:3000])  # truncated
    (tmp_path / "00003" / "frames" / "00002.jpg").unlink()  # missing
    make_recording(tmp_path, 5)
    (tmp_path / "00005" / "appleFace.json").write_text('{"X": [1, 2,')  # malformed
    make_recording(tmp_path, 6)
    edit_json(tmp_path / "00006" / "dotInfo.json", lambda d: d["XCam"].pop())  # length mismatch
    make_recording(tmp_path, 8, device="iPhone 6s")
    edit_json(tmp_path / "00008" / "info.json", lambda d: d.update(DeviceName="iPhone 99"))
    make_recording(tmp_path, 9)
    edit_json(tmp_path / "00009" / "info.json", lambda d: d.update(Dataset="training"))
    make_recording(tmp_path, 11)
    (tmp_path / "00011" / "screen.json").unlink()  # missing file
    make_recording(tmp_path, 12, frames=[make_frame(0), make_frame(1, face=(250, 64, 128, 128)),
                                         make_frame(2, face=(-4, 64, 128, 128))])
    (tmp_path / "notes").mkdir()  # not a recording: ignored
    (tmp_path / "README.txt").write_text("hello")

    data, summary = load(tmp_path)
    assert summary.recordings_found == 8 and summary.recordings_used == 3
    assert summary.recordings_skipped == {"malformed json": 1, "length mismatch": 1,
                                          "unknown device": 1, "unknown dataset": 1,
                                          "missing file": 1}
    assert summary.frames_total == 13
    assert summary.frames_skipped == {"unreadable image": 1, "missing image": 1,
                                      "box outside frame": 2}
    assert summary.frames_kept == len(data) == 9
    assert sorted(zip(data["subject"].tolist(), data["frame"].tolist(), strict=True)) == (
        [(2, i) for i in range(5)] + [(3, 0), (3, 3), (3, 4), (12, 0)])
    text = str(summary)
    assert "unknown device 1" in text and "box outside frame 2" in text
    assert LoadSummary(**summary.to_dict()) == summary


def test_empty_result(tmp_path):
    make_recording(tmp_path, 2, frames=[make_frame(0, face_valid=False)])
    data, summary = load(tmp_path)
    assert len(data) == 0 and summary.frames_kept == 0
    assert data["face"].shape == (0, 64, 64, 3)
    data, summary = load(tmp_path, cache_dir=tmp_path / "cache")
    assert len(data) == 0 and summary.frames_skipped == {"not valid": 1}


def test_splits(tmp_path):
    make_recording(tmp_path, 2, n=2, split="train")
    make_recording(tmp_path, 3, n=2, split="val")
    make_recording(tmp_path, 4, n=2, split="test")
    data, summary = load(tmp_path, splits=("val", "test"))
    np.testing.assert_array_equal(data["subject"], [3, 3, 4, 4])
    assert summary.recordings_used == 2
    assert summary.recordings_skipped == {"split not requested": 1}
    data, _ = load(tmp_path, splits="train")
    np.testing.assert_array_equal(data["subject"], [2, 2])
    with pytest.raises(ConfigError, match="unknown splits"):
        load(tmp_path, splits=("training",))


def test_missing_root(tmp_path):
    with pytest.raises(DataFormatError, match="does not exist"):
        load(tmp_path / "nowhere")
    (tmp_path / "notes").mkdir()
    with pytest.raises(DataFormatError, match="no GazeCapture recording"):
        load(tmp_path)


def test_cache(tmp_path, monkeypatch):
    root, cache = tmp_path / "gc", tmp_path / "cache"
    make_recording(root, 2, n=3)
    make_recording(root, 3, n=2, split="val")
    decodes = []
    real_imdecode = cv2.imdecode

    def counting(*a, **kw):
        decodes.append(1)
        return real_imdecode(*a, **kw)

    monkeypatch.setattr(cv2, "imdecode", counting)
    first, s1 = load(root, cache_dir=cache)
    assert len(decodes) == 5
    assert isinstance(first["face"], np.memmap)
    (key,) = [p.name for p in cache.iterdir()]  # no staging or .partial left behind
    assert (cache / key / "summary.json").is_file()

    def boom(*a, **kw):
        raise AssertionError("decoded a JPEG on a cache hit")

    monkeypatch.setattr(cv2, "imdecode", boom)
    monkeypatch.setattr(cv2, "imread", boom)
    second, s2 = load(root, cache_dir=cache)
    assert s2 == s1
    assert isinstance(second["face"], np.memmap)
    for name in FIELDS:
        np.testing.assert_array_equal(second[name], first[name])

    # another split selection is another key
    monkeypatch.setattr(cv2, "imdecode", counting)
    load(root, cache_dir=cache, splits=("val",))
    assert len(decodes) == 7

    # a changed file invalidates the key
    jpg = root / "00003" / "frames" / "00001.jpg"
    st = jpg.stat()
    os.utime(jpg, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    third, s3 = load(root, cache_dir=cache)
    assert len(decodes) == 12 and s3 == s1 and len(third) == 5
    edit_json(root / "00002" / "dotInfo.json", lambda d: d["XCam"].__setitem__(0, 9.0))
    fourth, _ = load(root, cache_dir=cache)
    assert len(decodes) == 17 and fourth["gaze_cm"][0, 0] == 9.0
    assert len(list(cache.iterdir())) == 4

    # an interrupted cache entry (no summary.json) is rebuilt
    entry = next(p for p in cache.iterdir() if (p / "summary.json").is_file())
    (entry / "summary.json").unlink()
    monkeypatch.setattr(gazecapture, "_cache_key", lambda *a: entry.name)
    load(root, cache_dir=cache)
    assert (entry / "summary.json").is_file()


def test_writer_validation(tmp_path):
    frame = make_frame(0)
    with pytest.raises(ConfigError, match="split"):
        write_recording(tmp_path / "a", [frame], device_name="iPhone 6s", split="training")
    with pytest.raises(GazeSDKError, match="unknown device"):
        write_recording(tmp_path / "a", [frame], device_name="iPhone 99", split="train")
    bad = [(dict(orientation=5), "orientation"),
           (dict(image=frame.image.astype(np.float32)), "uint8"),
           (dict(image=frame.image[..., 0]), "uint8"),
           (dict(face_box=(1, 2, 3)), "face_box")]
    for kw, match in bad:
        with pytest.raises(GazeSDKError, match=match):
            write_recording(tmp_path / "a", [make_frame(0), make_frame(1, **kw)],
                            device_name="iPhone 6s", split="train")
        assert not (tmp_path / "a").exists() and not (tmp_path / "a.partial").exists()

    def crashing():
        yield make_frame(0)
        raise RuntimeError("simulator crashed")

    with pytest.raises(RuntimeError):
        write_recording(tmp_path / "00002", crashing(), device_name="iPhone 6s", split="train")
    assert list(tmp_path.iterdir()) == []
    make_recording(tmp_path, 2, n=1)
    with pytest.raises(DataFormatError, match="not an empty folder"):
        make_recording(tmp_path, 2, n=1)
