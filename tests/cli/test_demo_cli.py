"""``gazesdk demo`` end to end on a short real-face video and image folder: what it writes,
that the drawing matches the results the estimator returned (recorded by wrapping
``estimate_for_video``), the timestamps it feeds, and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from gazesdk.cli import main
from gazesdk.geometry import get_device
from gazesdk.mobile_bench.sequences import shaky_sequences
from gazesdk.runtime import GazeEstimator, draw
from gazesdk.runtime.screen import ScreenMapper

N_FRAMES = 12


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    pytest.importorskip("skimage")
    return shaky_sequences(1, N_FRAMES, seed=0)[0]          # (12, 640, 480, 3) RGB


@pytest.fixture(scope="module")
def video(tmp_path_factory, frames) -> Path:
    path = tmp_path_factory.mktemp("demo") / "shaky.mp4"
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (w, h))
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture
def calls(monkeypatch) -> list:
    """(frame, timestamp_ms, result) of every estimate_for_video call."""
    seen = []
    original = GazeEstimator.estimate_for_video

    def spy(self, frame, timestamp_ms):
        r = original(self, frame, timestamp_ms)
        seen.append((frame.copy(), timestamp_ms, r))
        return r

    monkeypatch.setattr(GazeEstimator, "estimate_for_video", spy)
    return seen


def demo(*argv: str) -> int:
    return main(["demo", *map(str, argv)])


def read_video(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return out


def screen_rect(canvas: np.ndarray) -> tuple[int, int, int, int]:
    mask = np.all(canvas == draw.SCREEN, axis=2).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    assert n > 1, "no screen drawn"
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return tuple(int(v) for v in stats[i, :4])


def edge_pixels(box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the one-pixel outline of an (x, y, w, h) box."""
    x, y, w, h = box
    xs, ys = np.arange(x, x + w), np.arange(y, y + h)
    rows = np.concatenate([np.full(w, y), np.full(w, y + h - 1), ys, ys])
    cols = np.concatenate([xs, xs, np.full(h, x), np.full(h, x + w - 1)])
    return rows, cols


def test_video_to_mp4_writes_every_annotated_frame(video, frames, detector_model, calls,
                                                   tmp_path, capsys):
    out = tmp_path / "out.mp4"
    assert demo("--video", video, "--out", out, "--detector-model", detector_model) == 0
    summary = capsys.readouterr().out
    assert summary.startswith(f"{N_FRAMES} frames, ") and "% valid" in summary
    written = read_video(out)
    lay = draw.layout(frames[0].shape, ScreenMapper(get_device("iPhone 6s"), 1))
    assert len(written) == N_FRAMES == len(calls)
    assert {f.shape for f in written} == {(lay.size[1], lay.size[0], 3)}
    # the file's own timestamps, 30 fps
    assert [ts for _, ts, _ in calls] == [round(i * 1000 / 30) for i in range(N_FRAMES)]
    drawn = 0
    for out_frame, (in_frame, _, r) in zip(written, calls, strict=True):
        if r.face_box is None:
            continue
        drawn += 1
        diff = np.abs(out_frame[:640, :480].astype(int) - in_frame.astype(int)).mean(axis=2)
        rows, cols = edge_pixels(r.face_box)
        assert diff[rows, cols].mean() > 40              # the green box is there
        assert diff[400:600, 20:120].mean() < 8          # elsewhere: only mp4 compression
        x, y, w, h = r.face_box
        edge = out_frame[y + 10:y + h - 10, x].astype(int)
        assert np.abs(edge - draw.FACE_BOX).max(axis=1).mean() < 60
    assert drawn >= N_FRAMES // 2


def test_images_to_png_folder_matches_the_results_pixel_for_pixel(frames, detector_model,
                                                                  calls, tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    for i, f in enumerate(frames[:4]):
        cv2.imwrite(str(images / f"{i:02d}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    out = tmp_path / "frames"
    assert demo("--images", images, "--out", out, "--max-frames", 3, "--orientation", 2,
                "--detector-model", detector_model) == 0
    assert capsys.readouterr().out.startswith("3 frames, ")
    pngs = sorted(out.glob("*.png"))
    assert [p.name for p in pngs] == [f"frame_{i:06d}.png" for i in range(3)]
    assert [ts for _, ts, _ in calls] == [0, 33, 66]
    w_pt, h_pt = get_device("iPhone 6s").screen_size_points(2)
    for png, (in_frame, _, r), src in zip(pngs, calls, frames[:3], strict=True):
        canvas = cv2.cvtColor(cv2.imread(str(png)), cv2.COLOR_BGR2RGB)
        assert np.array_equal(in_frame, src)             # PNG in, lossless
        assert r.valid, r.message
        rows, cols = edge_pixels(r.face_box)
        on_box = np.all(canvas[rows, cols] == draw.FACE_BOX, axis=1)
        assert on_box.mean() > 0.9                       # bar where a keypoint sits on it
        # outside the boxes and keypoints the camera frame is copied unchanged
        mask = np.zeros(in_frame.shape[:2], np.uint8)
        # the detection (box and keypoints) is drawn on detected frames; tracked ones have none
        detection = [r.face.box] if r.face is not None else []
        for box in (r.face_box, r.left_eye_box, r.right_eye_box, *detection):
            x, y, w, h = (round(v) for v in box)
            cv2.rectangle(mask, (x - 3, y - 3), (x + w + 2, y + h + 2), 1, 7)
        for kx, ky in (r.face.keypoints.values() if r.face is not None else ()):
            cv2.circle(mask, (round(kx), round(ky)), 5, 1, -1)
        same = np.all(canvas[:640, :480] == in_frame, axis=2)
        assert same[mask == 0].all() and not same[mask == 1].all()
        # the cursor: at the result's screen point on the drawn screen, clamped if off it
        sx, sy, sw, sh = screen_rect(canvas)
        assert sw / sh == pytest.approx(w_pt / h_pt, rel=0.02)
        u = min(max(r.screen.x_pt, 0.0), w_pt) / w_pt
        v = min(max(r.screen.y_pt, 0.0), h_pt) / h_pt
        color = draw.CURSOR if r.screen.on_screen else draw.CURSOR_OFF_SCREEN
        cx, cy = round(sx + u * sw), round(sy + v * sh)
        assert tuple(canvas[cy, cx]) == color
        assert np.all(canvas[cy - 3:cy + 4, cx - 3:cx + 4] == color, axis=2).all()


def test_window_mode_shows_frames_until_q(video, detector_model, monkeypatch, capsys):
    shown = []
    keys = iter([-1, ord("q")])
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(cv2, "namedWindow", lambda *a: None)
    monkeypatch.setattr(cv2, "imshow", lambda name, img: shown.append(img.shape))
    monkeypatch.setattr(cv2, "waitKey", lambda delay: next(keys))
    monkeypatch.setattr(cv2, "getWindowProperty", lambda *a: 1.0)
    monkeypatch.setattr(cv2, "destroyWindow", lambda *a: None)
    assert demo("--video", video, "--quiet", "--detector-model", detector_model) == 0
    assert len(shown) == 2 and shown[0][1] > 480
    assert capsys.readouterr().out == ""


class FrozenClock:
    """A capture whose CAP_PROP_POS_MSEC never moves, as some containers and cameras report."""

    def __init__(self, cap: cv2.VideoCapture) -> None:
        self._cap = cap

    def get(self, prop: int) -> float:
        return 0.0 if prop == cv2.CAP_PROP_POS_MSEC else self._cap.get(prop)

    def __getattr__(self, name: str):
        return getattr(self._cap, name)


def test_timestamps_fall_back_to_frame_index_when_the_file_clock_stalls(
        video, detector_model, calls, monkeypatch, tmp_path):
    real = cv2.VideoCapture
    monkeypatch.setattr(cv2, "VideoCapture", lambda target: FrozenClock(real(target)))
    assert demo("--video", video, "--max-frames", 4, "--out", tmp_path / "f", "--quiet",
                "--detector-model", detector_model) == 0
    assert [ts for _, ts, _ in calls] == [0, 33, 67, 100]


def test_camera_stream_to_avi(video, detector_model, calls, monkeypatch, tmp_path, capsys):
    real = cv2.VideoCapture
    monkeypatch.setattr(cv2, "VideoCapture",       # camera 0 plays the test video
                        lambda target: real(str(video)) if target == 0 else real(target))
    out = tmp_path / "cam.avi"
    assert demo("--camera", 0, "--max-frames", 5, "--out", out, "--smoothing", "kalman",
                "--detector-model", detector_model) == 0
    assert len(read_video(out)) == 5 == len(calls)
    stamps = [ts for _, ts, _ in calls]
    assert stamps == sorted(set(stamps))
    cap = capsys.readouterr()
    assert cap.out.startswith("5 frames, ") and "%|" not in cap.err     # no bar for a camera


def one_line_error(capfd, *argv: str) -> str:
    assert demo(*argv) == 2
    cap = capfd.readouterr()
    lines = cap.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gazesdk demo: error: "), cap.err
    assert cap.out == ""
    return lines[0]


def test_missing_camera_is_one_line_suggesting_files(capfd):
    line = one_line_error(capfd, "--camera", "99")
    assert "no camera 99" in line and "--video" in line and "--images" in line


@pytest.mark.parametrize("with_display", [False, True])
def test_no_display_without_out_is_one_line(video, monkeypatch, capfd, with_display):
    if with_display:        # a display, but an OpenCV without GUI (opencv-python-headless)
        monkeypatch.setenv("DISPLAY", ":0")

        def no_gui(*args):
            raise cv2.error("The function is not implemented")

        monkeypatch.setattr(cv2, "namedWindow", no_gui)
        monkeypatch.setattr(cv2, "imshow", no_gui)
    else:
        monkeypatch.delenv("DISPLAY", raising=False)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert "no display: use --out FILE" in one_line_error(capfd, "--video", video)


def test_file_errors_are_one_line(tmp_path, video, capfd):
    assert "no video file at" in one_line_error(capfd, "--video", tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    assert "cannot read video" in one_line_error(capfd, "--video", junk, "--out", tmp_path / "o")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    assert "no images" in one_line_error(capfd, "--images", empty, "--out", tmp_path / "o")
    assert "no image folder" in one_line_error(capfd, "--images", tmp_path / "nope")
    assert ".mp4 or .avi" in one_line_error(capfd, "--video", video, "--out", tmp_path / "x.gif")
    assert not (tmp_path / "o").exists()
