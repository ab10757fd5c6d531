"""The frames a benchmark runs on: built-in real-face stares, or a user's video or images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gazesdk.errors import ConfigError, DataFormatError
from gazesdk.mobile_bench.sequences import ShakeSettings, encode_jpeg, shaky_sequences
from gazesdk.runtime.frames import IMAGE_SUFFIXES, read_image
from gazesdk.runtime.quiet import quiet_native_logs

FPS = 30.0


@dataclass(frozen=True)
class BenchFrames:
    """JPEG-encoded frames with their stare-sequence id (-1: not a stare) and timestamps."""

    jpegs: list[bytes]
    sequence: np.ndarray
    timestamp_ms: np.ndarray
    source: str
    size: tuple[int, int]            # (width, height)

    @property
    def is_stare(self) -> bool:
        return bool((self.sequence >= 0).any())


def stare_timestamps(sequence: np.ndarray) -> np.ndarray:
    """Float ms at 30 fps, restarting at 0 with each sequence id (rows of an id in order)."""
    ts = np.zeros(len(sequence))
    for s in np.unique(sequence):
        idx = np.flatnonzero(sequence == s)
        ts[idx] = np.arange(len(idx)) * 1000.0 / FPS
    return ts


def built_in_frames(sequences: int, frames: int, *, seed: int, size: tuple[int, int],
                    scale: float) -> BenchFrames:
    seqs = shaky_sequences(sequences, frames, seed=seed,
                           settings=ShakeSettings(size=size, scale=scale))
    flat = seqs.reshape(-1, *seqs.shape[2:])
    seq = np.repeat(np.arange(sequences), frames)
    return BenchFrames(encode_jpeg(flat), seq, np.rint(stare_timestamps(seq)).astype(np.int64),
                       f"built-in: {sequences} stares x {frames} frames of "
                       f"skimage.data.astronaut() with camera shake, exposure drift and sensor "
                       f"noise", size)


def user_frames(*, video: str | None = None, images: str | None = None,
                max_frames: int = 300) -> BenchFrames:
    """Frames from a video file or an image folder (sorted by name), at most ``max_frames``;
    they are not stares, so end-to-end MSD is not computed on them."""
    rgb: list[np.ndarray] = []
    if video is not None:
        if not Path(video).is_file():
            raise ConfigError(f"no video file at {video}")
        # FFmpeg logs a damaged file's problems from C ("moov atom not found"); the error
        # raised below says it in one line, as gazesdk demo does
        with quiet_native_logs():
            cap = cv2.VideoCapture(str(video))
            try:
                while len(rgb) < max_frames:
                    ok, bgr = cap.read()
                    if not ok:
                        break
                    rgb.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            finally:
                cap.release()
        source = f"video {video}"
    elif images is not None:
        folder = Path(images)
        if not folder.is_dir():
            raise ConfigError(f"no image folder at {images}")
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for p in files[:max_frames]:
            bgr = read_image(p)
            if bgr is not None:
                rgb.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        source = f"images in {images}"
    else:
        raise ConfigError("give a video or an image folder")
    if not rgb:
        raise DataFormatError(f"no readable frames in {video or images}")
    sizes = {f.shape[:2] for f in rgb}
    if len(sizes) > 1:
        raise DataFormatError(f"frames differ in size ({len(sizes)} sizes) in {video or images}")
    seq = np.full(len(rgb), -1)
    h, w = rgb[0].shape[:2]
    return BenchFrames(encode_jpeg(np.stack(rgb)), seq,
                       np.rint(np.arange(len(rgb)) * 1000.0 / FPS).astype(np.int64), source,
                       (w, h))
