"""Fuzzing the video files and image folders a user points the demo and the benchmark at.

``videos``: a short real-face MP4 (mp4v) and AVI (MJPG) truncated, bit-flipped, overwritten,
cut, renamed to another container's suffix, replaced by an image, text or nothing, a folder
named like a video, and well-formed videos of odd frame sizes. ``image_folders``: folders of
JPEG/PNG frames with truncated, garbage and empty files, wrong suffixes, grey, 16-bit and RGBA
images, mixed sizes, a PNG whose header claims a vast size, subfolders and dangling links named
like images, and no images at all.

Each goes through the benchmark's reader (:func:`gazesdk.mobile_bench.inputs.user_frames`) and
through ``gazesdk demo`` run in-process (a few frames written to a video or PNGs).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from gazesdk.mobile_bench.reliability.base_frames import gazesim_frames, real_face_frame
from gazesdk.mobile_bench.reliability.cli_runs import cli_in_process
from gazesdk.mobile_bench.reliability.corrupt import mutate_bytes
from gazesdk.mobile_bench.reliability.sandbox import FuzzTarget

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", "")
DEMO_SHARE = 0.3               # of the cases also go through the demo (an estimator each)


def write_video(path: Path, frames: list[np.ndarray], codec: str, fps: float = 30.0) -> Path:
    """RGB frames as a video file (OpenCV's writer); the frames' size is the first's."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path} with codec {codec}")
    for f in frames:
        writer.write(cv2.cvtColor(cv2.resize(f, (w, h)), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def png_claiming(width: int, height: int) -> bytes:
    """A real 8x8 PNG whose IHDR (CRC fixed) claims ``width`` x ``height``."""
    ok, buf = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    data = bytearray(buf.tobytes())
    ihdr = 8 + 8                                  # signature, then length + "IHDR"
    data[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr - 4:ihdr + 13]))
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


@dataclass
class _Media:
    videos: dict[str, bytes]        # suffix -> a good video's bytes
    images: dict[str, bytes]        # name -> a good image file's bytes
    frames: list[np.ndarray]


def _setup(folder: Path) -> _Media:
    frames = [real_face_frame(), *gazesim_frames(3)]
    clip = [frames[i % len(frames)] for i in range(6)]
    videos = {".mp4": write_video(folder / "good.mp4", clip, "mp4v").read_bytes(),
              ".avi": write_video(folder / "good.avi", clip, "MJPG").read_bytes()}
    images: dict[str, bytes] = {}
    for i, f in enumerate(frames):
        bgr = cv2.cvtColor(f, cv2.COLOR_RGB2BGR)
        images[f"{i:03d}.jpg"] = cv2.imencode(".jpg", bgr)[1].tobytes()
        images[f"{i:03d}.png"] = cv2.imencode(".png", bgr)[1].tobytes()
    return _Media(videos, images, frames)


def _pick(rng: np.random.Generator, items: list) -> Any:
    return items[int(rng.integers(0, len(items)))]


def _video_file(media: _Media, rng: np.random.Generator, scratch: Path) -> tuple[str, Path]:
    kind = str(_pick(rng, ["mutate", "mutate", "mutate", "mutate", "renamed", "not_video",
                           "folder", "odd_size", "one_frame", "missing"]))
    src = str(_pick(rng, [".mp4", ".avi"]))
    if kind == "mutate":
        name, data = mutate_bytes(media.videos[src], rng)
        path = scratch / f"clip{src}"
        path.write_bytes(data)
        return f"mutate:{name}{src}", path
    if kind == "renamed":
        suffix = str(_pick(rng, list(VIDEO_SUFFIXES)))
        path = scratch / f"clip{suffix}"
        path.write_bytes(media.videos[src])
        return f"renamed:{src}->{suffix or 'none'}", path
    if kind == "not_video":
        what = str(_pick(rng, ["png", "jpg", "text", "empty", "zeros"]))
        data = {"png": media.images["000.png"], "jpg": media.images["000.jpg"],
                "text": b"not a video\n" * 100, "empty": b"", "zeros": bytes(100_000)}[what]
        path = scratch / f"clip{src}"
        path.write_bytes(data)
        return f"not_video:{what}", path
    if kind == "folder":
        path = scratch / f"clip{src}"
        path.mkdir()
        return "folder", path
    if kind == "odd_size":
        w, h = _pick(rng, [(8, 8), (31, 33), (32, 32), (2000, 40), (1280, 720), (16, 2000)])
        frames = [cv2.resize(f, (w, h)) for f in media.frames[:3]]
        codec = "mp4v" if src == ".mp4" else "MJPG"
        return f"odd_size:{w}x{h}{src}", write_video(scratch / f"clip{src}", frames, codec)
    if kind == "one_frame":
        codec = "mp4v" if src == ".mp4" else "MJPG"
        return "one_frame", write_video(scratch / f"clip{src}", media.frames[:1], codec)
    return "missing", scratch / "nothing.mp4"


def _image_folder(media: _Media, rng: np.random.Generator, scratch: Path) -> tuple[str, Path]:
    folder = scratch / "frames"
    folder.mkdir()
    names = sorted(media.images)
    labels = []
    for n in range(int(rng.integers(0, 6))):
        kind = str(_pick(rng, ["good", "good", "mutate", "mutate", "wrong_suffix", "grey",
                               "deep16", "rgba", "resized", "tiny", "huge_header", "subfolder",
                               "dangling", "text", "empty"]))
        src = str(_pick(rng, names))
        target = folder / f"{n:03d}{Path(src).suffix}"
        labels.append(kind)
        if kind == "good":
            target.write_bytes(media.images[src])
        elif kind == "mutate":
            name, data = mutate_bytes(media.images[src], rng)
            labels[-1] = f"mutate.{name}"
            target.write_bytes(data)
        elif kind == "wrong_suffix":
            other = ".png" if target.suffix == ".jpg" else ".jpg"
            target.with_suffix(other).write_bytes(media.images[src])
        elif kind in ("grey", "deep16", "rgba", "resized", "tiny"):
            cv2.imwrite(str(target.with_suffix(".png")),
                        _odd_image(kind, _pick(rng, media.frames), rng))
        elif kind == "huge_header":
            w, h = _pick(rng, [(60000, 60000), (30000, 30000), (1, 10**6), (2**31 - 1, 1)])
            target.with_suffix(".png").write_bytes(png_claiming(w, h))
        elif kind == "subfolder":
            target.mkdir()
        elif kind == "dangling":
            os.symlink(scratch / "nowhere", target)
        elif kind == "text":
            target.write_text("hello")
        else:
            target.write_bytes(b"")
    return "folder:" + "+".join(labels or ["none"]), folder


def _odd_image(kind: str, f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A readable image of an unusual kind (grey, 16-bit, with alpha, any size, 1-3 px)."""
    if kind == "grey":
        return cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)
    if kind == "deep16":
        return f.astype(np.uint16) * 257
    if kind == "rgba":
        return cv2.cvtColor(f, cv2.COLOR_RGB2BGRA)
    if kind == "resized":
        return cv2.resize(f, (int(rng.integers(32, 1500)), int(rng.integers(32, 1500))))
    return f[:int(rng.integers(1, 4)), :int(rng.integers(1, 4))]


def _videos(media: _Media, rng: np.random.Generator, scratch: Path
            ) -> tuple[str, Callable[[], Any]]:
    from gazesdk.mobile_bench.inputs import user_frames

    label, path = _video_file(media, rng, scratch)
    if rng.random() < DEMO_SHARE:
        out = scratch / str(_pick(rng, ["out.mp4", "out.avi", "pngs"]))
        return f"{label} [demo]", lambda: cli_in_process(
            ["demo", "--video", str(path), "--out", str(out), "--max-frames", "4", "--quiet"])
    return f"{label} [benchmark]", lambda: user_frames(video=str(path), max_frames=8)


def _image_folders(media: _Media, rng: np.random.Generator, scratch: Path
                   ) -> tuple[str, Callable[[], Any]]:
    from gazesdk.mobile_bench.inputs import user_frames

    label, folder = _image_folder(media, rng, scratch)
    if rng.random() < DEMO_SHARE:
        out = scratch / str(_pick(rng, ["out.mp4", "pngs"]))
        return f"{label} [demo]", lambda: cli_in_process(
            ["demo", "--images", str(folder), "--out", str(out), "--max-frames", "4",
             "--quiet"])
    return f"{label} [benchmark]", lambda: user_frames(images=str(folder), max_frames=8)


TARGETS = {
    "videos": FuzzTarget("videos", 500, _setup, _videos,
                         "video files for gazesdk demo / benchmark"),
    "image_folders": FuzzTarget("image_folders", 500, _setup, _image_folders,
                                "image folders for gazesdk demo / benchmark"),
}
