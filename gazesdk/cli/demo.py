"""``gazesdk demo``: run the estimator on a camera, a video file or a folder of images, and
show what it sees (the boxes, the model's patches, the gaze on a drawn phone screen) in a
window, or write it to a video or numbered PNGs with ``--out``.

Timestamps (VIDEO mode, for smoothing): a file's own (CAP_PROP_POS_MSEC) while they increase,
else frame index x 1000/fps; a camera's own while they increase, else the wall clock (a live
camera's nominal fps is often wrong); images are 33 ms apart.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gazesdk.errors import ConfigError, DataFormatError
from gazesdk.runtime.frames import IMAGE_SUFFIXES, read_image

if TYPE_CHECKING:
    import cv2

BACKENDS = ("auto", "onnxruntime", "litert", "torch", "coreml")
VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG"}
IMAGE_STEP_MS = 33
DEFAULT_FPS = 30.0
WINDOW = "gazesdk demo"
NO_DISPLAY = "no display: use --out FILE"


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(text)


def register(sub: argparse._SubParsersAction) -> None:
    from gazesdk.runtime.options import DEFAULT_GEOMETRY
    from gazesdk.runtime.smoothing import METHODS

    p = sub.add_parser(
        "demo", help="run the estimator on a camera, video or images and draw what it sees",
        description="Run the gaze estimator (VIDEO mode) on a camera, a video file or a "
                    "folder of images and draw, per frame, the face and eye boxes with the "
                    "keypoints, the model's three patches, and a phone screen with the gaze "
                    "cursor. Shows a window (q or Esc quits), or writes --out.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--camera", type=int, metavar="N", help="camera index (0: the first)")
    src.add_argument("--video", type=Path, metavar="FILE", help="a video file")
    src.add_argument("--images", type=Path, metavar="DIR",
                     help=f"a folder of images ({', '.join(IMAGE_SUFFIXES)}), in name order")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="write a .mp4/.avi video, or numbered PNGs into a folder (a path "
                        "without a suffix, or an existing folder), instead of a window")
    p.add_argument("--model", default="default",
                   help="'default' (the bundled model) or an exported .onnx/.tflite/"
                        ".mlpackage or a checkpoint.pt/.safetensors")
    p.add_argument("--backend", default="auto", choices=BACKENDS)
    p.add_argument("--precision", default="int8", choices=("fp32", "int8"),
                   help="of the bundled model (default int8)")
    p.add_argument("--smoothing", default="one_euro", choices=METHODS,
                   help="temporal filter of the gaze point (default one_euro); the raw point "
                        "is drawn as a faint dot")
    p.add_argument("--geometry", default=DEFAULT_GEOMETRY, metavar="DEVICE",
                   help=f"the phone whose screen is drawn (default {DEFAULT_GEOMETRY!r}; see "
                        f"gazesdk.geometry.list_devices())")
    p.add_argument("--orientation", type=int, default=1, choices=(1, 2, 3, 4),
                   help="1 portrait, 2 upside down, 3/4 landscape with the home button "
                        "right/left (default 1)")
    p.add_argument("--max-frames", type=_positive, metavar="N", help="stop after N frames")
    p.add_argument("--detector-model", metavar="PATH",
                   help="BlazeFace short-range .tflite (default: the cached copy; see gazesdk "
                        "assets)")
    p.add_argument("--calibrate", type=int, choices=(1, 5, 9, 13), metavar="N",
                   help="start with an N-point calibration (1, 5, 9 or 13) drawn on the demo's "
                        "screen, then apply it; on a video or images give --targets")
    p.add_argument("--targets", type=Path, metavar="FILE",
                   help="with --calibrate on a video or images: JSON list of the times (ms) "
                        "each target appeared, validation points included")
    p.add_argument("--dwell-ms", type=_positive, default=1500,
                   help="with --calibrate on a camera: how long each target shows (default "
                        "1500)")
    p.add_argument("--calibration", type=Path, metavar="FILE",
                   help="apply a saved calibration profile (JSON)")
    p.add_argument("--calibration-out", type=Path, metavar="FILE",
                   help="with --calibrate: save the fitted profile here")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=_demo)


# -- frame sources -----------------------------------------------------------------------------
@dataclass
class _Source:
    frames: Iterator[tuple[np.ndarray, int]]     # (RGB frame, timestamp ms)
    total: int | None                            # None: unknown (a camera)
    fps: float
    live: bool
    close: Callable[[], None] = lambda: None


def _capture_frames(cap: cv2.VideoCapture, first: np.ndarray, fps: float, live: bool
                    ) -> Iterator[tuple[np.ndarray, int]]:
    import cv2

    t0 = time.monotonic()
    last: int | None = None
    index, bgr = 0, first
    while True:
        pos = cap.get(cv2.CAP_PROP_POS_MSEC)
        ts = round(pos) if np.isfinite(pos) else -1
        if ts < 0 or (last is not None and ts <= last):
            ts = round((time.monotonic() - t0) * 1000) if live else round(index * 1000 / fps)
        if last is not None and ts <= last:
            ts = last + 1
        last = ts
        yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), ts
        ok, bgr = cap.read()
        if not ok:
            return
        index += 1


def _open_capture(target: int | str, what: str, live: bool) -> _Source:
    import cv2

    from gazesdk.runtime.quiet import quiet_native_logs

    # OpenCV's backends (V4L2, FFmpeg) print their own warnings from C when a camera or file
    # fails to open; the error raised here says it in one line
    with quiet_native_logs():
        cap = cv2.VideoCapture(target)
        ok, first = cap.read() if cap.isOpened() else (False, None)
    if not ok:
        cap.release()
        raise (ConfigError if live else DataFormatError)(what)
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = fps if np.isfinite(fps) and 1.0 <= fps <= 1000.0 else DEFAULT_FPS
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if not live else 0
    return _Source(_capture_frames(cap, first, fps, live), count if count > 0 else None, fps,
                   live, cap.release)


def _skipped(path: Path) -> None:
    from tqdm import tqdm

    # tqdm.write keeps a running progress bar intact
    tqdm.write(f"gazesdk demo: skipped {path}: not an image OpenCV can read", file=sys.stderr)


def _image_frames(files: list[Path], first: np.ndarray
                  ) -> Iterator[tuple[np.ndarray, int]]:
    import cv2

    yield first, 0
    index = 1
    for path in files[1:]:
        bgr = read_image(path)
        if bgr is None:
            _skipped(path)
            continue
        yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), index * IMAGE_STEP_MS
        index += 1


def _open_source(args: argparse.Namespace) -> _Source:
    import cv2

    if args.camera is not None:
        return _open_capture(args.camera, f"no camera {args.camera}: it cannot be opened or "
                                          f"gives no frames; use --video FILE or --images DIR",
                             live=True)
    if args.video is not None:
        if not args.video.exists():
            raise ConfigError(f"no video file at {args.video}")
        if not args.video.is_file():
            raise ConfigError(f"{args.video} is not a file (give a folder with --images)")
        return _open_capture(str(args.video), f"cannot read video {args.video}: OpenCV "
                                              f"decodes no frames from it", live=False)
    folder = args.images
    if not folder.exists():
        raise ConfigError(f"no image folder at {folder}")
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder (give a video file with --video)")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataFormatError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    # the first readable image proves the folder usable before the estimator loads
    while files:
        bgr = read_image(files[0])
        if bgr is not None:
            break
        _skipped(files[0])
        files.pop(0)
    if not files:
        raise DataFormatError(f"no image OpenCV can read in {folder}")
    return _Source(_image_frames(files, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)), len(files),
                   1000.0 / IMAGE_STEP_MS, live=False)


# -- outputs -----------------------------------------------------------------------------------
class _Window:
    """A cv2 window; ``show`` returns False once the user quits (q, Esc, or closing it)."""

    def __init__(self) -> None:
        import cv2

        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                     or os.environ.get("WAYLAND_DISPLAY")):
            raise ConfigError(f"{NO_DISPLAY} (neither DISPLAY nor WAYLAND_DISPLAY is set)")
        try:
            cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE)
        except cv2.error:
            raise ConfigError(f"{NO_DISPLAY} (this OpenCV has no GUI support)") from None
        self.target = "a window"

    def show(self, canvas_rgb: np.ndarray) -> bool:
        import cv2

        try:
            cv2.imshow(WINDOW, cv2.cvtColor(canvas_rgb, cv2.COLOR_RGB2BGR))
            key = cv2.waitKey(1) & 0xFF
            closed = cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:
            raise ConfigError(f"{NO_DISPLAY} (OpenCV cannot show a window)") from None
        return key not in (ord("q"), 27) and not closed

    def close(self) -> None:
        import cv2

        try:
            cv2.destroyWindow(WINDOW)
        except cv2.error:
            pass


class _VideoFile:
    """A video of the canvases; opened at the first frame, whose size it keeps (a later canvas
    of another size, from an image folder of mixed sizes, is resized to it)."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path, self.fps, self.target = path, fps, str(path)
        self._writer = None
        self._size: tuple[int, int] | None = None

    def show(self, canvas_rgb: np.ndarray) -> bool:
        import cv2

        h, w = canvas_rgb.shape[:2]
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            codec = VIDEO_CODECS[self.path.suffix.lower()]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*codec),
                                           self.fps, (w, h))
            if not self._writer.isOpened():
                raise ConfigError(f"OpenCV cannot write {self.path} (codec {codec})")
            self._size = (w, h)
        if (w, h) != self._size:
            canvas_rgb = cv2.resize(canvas_rgb, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(cv2.cvtColor(canvas_rgb, cv2.COLOR_RGB2BGR))
        return True

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


class _PngFolder:
    """Numbered PNGs, ``frame_000000.png`` on."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.target, self._n = folder, f"{folder}{os.sep}frame_*.png", 0

    def show(self, canvas_rgb: np.ndarray) -> bool:
        import cv2

        path = self.folder / f"frame_{self._n:06d}.png"
        if not cv2.imwrite(str(path), cv2.cvtColor(canvas_rgb, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {path}")
        self._n += 1
        return True

    def close(self) -> None:
        pass


def _output_kind(out: Path | None) -> str:
    """"window", "video" or "png" for --out; checked before anything slow starts."""
    if out is None:
        return "window"
    if out.suffix.lower() in VIDEO_CODECS and not out.is_dir():
        return "video"
    if out.is_dir() or (out.suffix == "" and not out.exists()):
        return "png"
    raise ConfigError(f"--out {out}: give a .mp4 or .avi file, or a folder for PNG frames")


# -- the command -------------------------------------------------------------------------------
def _calibration_plan(args: argparse.Namespace) -> list[int] | None:
    """The targets' onset times from --targets (None: scheduled live); checked up front."""
    if args.calibrate is None:
        for flag, value in (("--targets", args.targets),
                            ("--calibration-out", args.calibration_out)):
            if value is not None:
                raise ConfigError(f"{flag} needs --calibrate N")
        return None
    if args.calibration is not None:
        raise ConfigError("give --calibrate N (calibrate now) or --calibration FILE (apply a "
                          "saved profile), not both")
    if args.targets is None:
        if args.camera is None:
            raise ConfigError("--calibrate on a video or images needs --targets FILE: the times "
                              "each target was shown while it was recorded")
        return None
    from gazesdk.calibration import point_pattern
    from gazesdk.cli.demo_calibration import read_onsets

    p = point_pattern(args.calibrate, args.geometry, args.orientation)
    return read_onsets(args.targets, len(p.targets) + len(p.validation))


def _demo(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, RunningMode, SmoothingOptions
    from gazesdk.runtime.draw import annotate

    options = GazeEstimatorOptions(
        model=args.model, backend=args.backend, precision=args.precision,
        geometry=args.geometry, orientation=args.orientation, running_mode=RunningMode.VIDEO,
        smoothing=SmoothingOptions(method=args.smoothing), detector_model=args.detector_model,
        return_patches=True,
        calibration=None if args.calibration is None else str(args.calibration))
    onsets = _calibration_plan(args)
    kind = _output_kind(args.out)
    source = _open_source(args)
    try:
        # no display: say so before the estimator loads
        sink = (_Window() if kind == "window" else _VideoFile(args.out, source.fps)
                if kind == "video" else _PngFolder(args.out))
    except BaseException:
        source.close()
        raise
    frames = valid = 0
    fps: float | None = None
    total = source.total if args.max_frames is None or source.total is None \
        else min(source.total, args.max_frames)
    bar = None
    try:
        with GazeEstimator.create_from_options(options) as estimator:
            calibration = None
            if args.calibrate is not None:
                from gazesdk.cli.demo_calibration import DemoCalibration

                calibration = DemoCalibration(args.calibrate, estimator, onsets_ms=onsets,
                                              dwell_ms=args.dwell_ms,
                                              out=args.calibration_out)
            bar = tqdm(total=total, unit="frame", disable=args.quiet or source.live,
                       file=sys.stderr, leave=False)
            start = last = time.perf_counter()
            for rgb, ts in source.frames:
                result = estimator.estimate_for_video(rgb, ts)
                frames += 1
                valid += result.valid
                target, status = (calibration.step(ts, result) if calibration is not None
                                  else (None, ""))
                if not sink.show(annotate(rgb, result, estimator.mapper, fps=fps,
                                          target_pt=target, status=status)):
                    break
                bar.update(1)
                now = time.perf_counter()
                rate = 1.0 / max(now - last, 1e-6)
                fps = rate if fps is None else 0.9 * fps + 0.1 * rate
                last = now
                if args.max_frames is not None and frames >= args.max_frames:
                    break
            if calibration is not None:
                calibration.end_of_stream()
            elapsed = time.perf_counter() - start
    finally:
        if bar is not None:
            bar.close()
        sink.close()
        source.close()
    if not args.quiet:
        mean_fps = frames / elapsed if elapsed > 0 else 0.0
        print(f"{frames} frames, {100.0 * valid / max(frames, 1):.1f}% valid, mean "
              f"{mean_fps:.1f} fps (read, estimate, draw, write); output: {sink.target}")
    return 0
