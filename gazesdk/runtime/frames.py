"""Camera frames in, checked: what the runtime accepts and why it refuses the rest.

A frame is an upright, unmirrored camera image as a numpy array, (H, W, 3) RGB (or BGR with
``color_order="BGR"``), uint8 or float in [0, 1]. Grayscale (H, W) or (H, W, 1) and RGBA/BGRA
(H, W, 4) are converted. A frame the runtime cannot use (empty, too small or large, an unknown
dtype, NaN) is not an exception: it gives an invalid result with a reason, because a video
stream should not stop on one bad frame. Only a non-array is a usage error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum

import numpy as np

from gazesdk.errors import GazeSDKError

MIN_FRAME_SIDE = 32             # below this no face can be told from noise
MAX_FRAME_SIDE = 16384          # a larger frame is a mistake (a stitched panorama, a bad header)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")   # image files OpenCV reads as frames


def read_image(path: str | os.PathLike) -> np.ndarray | None:
    """An image file as (H, W, 3) uint8 BGR, or None when OpenCV cannot read it, including a
    file whose header claims more pixels than OpenCV will allocate (it raises for that one
    instead of returning None). The decoders' own complaints (libpng's "Image width exceeds
    user limit") are silenced: the caller says in one line that the file was skipped."""
    import cv2

    from gazesdk.runtime.quiet import quiet_native_logs

    try:
        with quiet_native_logs():
            return cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
    except cv2.error:
        return None


class InvalidReason(str, Enum):
    """Why a result has no gaze point."""

    BAD_FRAME = "bad_frame"                    # empty, wrong shape or dtype, NaN, too small/large
    NO_FACE = "no_face"
    FACE_TOO_SMALL = "face_too_small"
    EYES_OUTSIDE_FRAME = "eyes_outside_frame"
    BLINK = "blink"                            # the eyes are closed: no gaze to read


class FrameError(GazeSDKError, TypeError):
    """The image is not an array at all: a usage error, raised."""


@dataclass(frozen=True)
class FrameCheck:
    """An RGB uint8 frame ready for detection, or why there is none."""

    rgb: np.ndarray | None
    message: str = ""


def _bad(message: str) -> FrameCheck:
    return FrameCheck(None, message)


def check_frame(image: object, *, color_order: str = "RGB") -> FrameCheck:
    """The frame as contiguous (H, W, 3) uint8 RGB, or a message saying why it is unusable."""
    if not isinstance(image, np.ndarray):
        raise FrameError(f"a frame must be a numpy array (H, W, 3), got {type(image).__name__}")
    # a subclass (np.matrix stays 2-D whatever it is indexed with, a masked array) is read as
    # the plain array of its values: the native detector must get exactly (H, W, 3) uint8
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        return _bad(f"frame shape {a.shape} is not (H, W), (H, W, 3) or (H, W, 4)")
    h, w = a.shape[:2]
    if min(h, w) < MIN_FRAME_SIDE:
        return _bad(f"frame {w}x{h} is smaller than {MIN_FRAME_SIDE}x{MIN_FRAME_SIDE}")
    if max(h, w) > MAX_FRAME_SIDE:
        return _bad(f"frame {w}x{h} is larger than {MAX_FRAME_SIDE} pixels a side")
    if a.dtype == np.uint8:
        u8 = a
    elif a.dtype in (np.float16, np.float32, np.float64):
        if not np.isfinite(a).all():
            return _bad("frame has NaN or infinite values")
        lo, hi = float(a.min()), float(a.max())
        if lo < 0.0 or hi > 1.0:
            return _bad(f"float frame values must lie in [0, 1], got [{lo:.3g}, {hi:.3g}] "
                        f"(pass uint8 for 0-255)")
        u8 = np.rint(a * 255.0).astype(np.uint8)
    else:
        return _bad(f"frame dtype {a.dtype} is not uint8 or float in [0, 1]")
    if u8.ndim == 2:
        u8 = np.repeat(u8[:, :, None], 3, axis=2)
    elif u8.shape[2] == 4:
        u8 = u8[:, :, :3]                       # drop alpha; the colour order is unchanged
    if color_order == "BGR":
        u8 = u8[:, :, ::-1]
    return FrameCheck(np.ascontiguousarray(u8))
