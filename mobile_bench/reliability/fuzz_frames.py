"""Fuzzing what an app hands the estimator every frame: the frame and its timestamp.

``frames``: ``GazeEstimator.estimate`` (IMAGE mode) and ``estimate_for_video`` (VIDEO mode,
One Euro smoothing) on wrong shapes, every numpy dtype, NaN and infinities, huge and
out-of-range values, empty arrays, strided, read-only and subclassed arrays, non-arrays, and
valid-looking frames with odd content (noise, a face cut by the border, tiny or huge, upside
down, two faces). The documented outcomes are an invalid result with a reason, or a
:class:`~gazesdk.runtime.frames.FrameError` for a non-array.

``timestamps``: short VIDEO sequences of good frames with odd timestamps (bools, floats, NaN,
strings, None, negative, repeated, decreasing, numpy integers, integers past 64 bits); the
documented outcome of a bad one is a :class:`~gazesdk.runtime.smoothing.TimestampError`, and
the stream goes on afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from gazesdk.mobile_bench.reliability.base_frames import (
    gazesim_frames,
    no_face_frames,
    real_face_frame,
)
from gazesdk.mobile_bench.reliability.outcomes import CRASH, run_case
from gazesdk.mobile_bench.reliability.sandbox import FuzzTarget

MAX_ELEMENTS = 40_000_000          # keeps a case under ~300 MB whatever its dtype
DTYPES = ("int8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16",
          "float32", "float64", "bool", "complex64", "complex128", "object", "<U1", "S2",
          "datetime64[s]", "timedelta64[ms]", "V3", "longdouble")


@dataclass
class _Context:
    image: Any                     # IMAGE-mode estimator
    video: Any                     # VIDEO-mode estimator
    faces: list[np.ndarray]        # good frames with a face
    empty: list[np.ndarray]        # good frames without one
    ts: int = 0


def _setup(folder: Path) -> _Context:
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, RunningMode
    from gazesdk.runtime.smoothing import SmoothingOptions

    image = GazeEstimator(GazeEstimatorOptions())
    video = GazeEstimator(GazeEstimatorOptions(running_mode=RunningMode.VIDEO,
                                               smoothing=SmoothingOptions(method="one_euro")),
                          detector=image.detector, mesh=image.mesh, iris=image.iris)
    return _Context(image, video, [real_face_frame(), *gazesim_frames(3)], no_face_frames())


def _pick(rng: np.random.Generator, items: list) -> Any:
    return items[int(rng.integers(0, len(items)))]


def _random_shape(rng: np.random.Generator) -> tuple[int, ...]:
    ndim = int(rng.integers(0, 6))
    sides = [0, 1, 2, 3, 4, 5, 31, 32, 33, 64, 480, 640, 1000]
    shape = tuple(int(_pick(rng, sides)) for _ in range(ndim))
    while np.prod(shape, dtype=np.int64) > MAX_ELEMENTS:
        shape = shape[:-1]
    return shape


def _cast(frame: np.ndarray, dtype: str) -> np.ndarray:
    if dtype.startswith(("float", "complex", "longdouble")):
        return (frame / 255.0).astype(dtype)
    if dtype == "V3":
        return np.ascontiguousarray(frame).view("V3").reshape(frame.shape[:2])
    return frame.astype(dtype)


def _content(ctx: _Context, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """A well-formed frame whose content is odd."""
    kind = str(_pick(rng, ["noise", "constant", "tiny_face", "huge_face", "edge_face",
                           "rotated", "two_faces", "resized", "exposure", "gazesim_noise",
                           "no_face"]))
    face = _pick(rng, ctx.faces)
    h, w = face.shape[:2]
    if kind == "noise":
        sz = (int(rng.integers(32, 900)), int(rng.integers(32, 900)), 3)
        return kind, rng.integers(0, 256, sz, dtype=np.uint8)
    if kind == "constant":
        return kind, np.full((h, w, 3), int(rng.integers(0, 256)), np.uint8)
    if kind in ("tiny_face", "huge_face", "edge_face"):
        dist = {"tiny_face": rng.uniform(120, 400), "huge_face": rng.uniform(4, 12),
                "edge_face": rng.uniform(20, 60)}[kind]
        anchor = ((float(rng.uniform(-0.2, 1.2)), float(rng.uniform(-0.2, 1.2)))
                  if kind == "edge_face" else (0.5, 0.38))
        return kind, real_face_frame(float(dist), anchor)
    if kind == "rotated":
        return kind, np.ascontiguousarray(np.rot90(face, int(rng.integers(1, 4))))
    if kind == "two_faces":
        small = cv2.resize(face, (w // 2, h // 2))
        out = np.zeros_like(face)
        out[: h // 2, : w // 2] = small
        out[h // 2:, w // 2:] = small
        return kind, out
    if kind == "resized":
        size = (int(rng.integers(32, 2000)), int(rng.integers(32, 2000)))
        return kind, cv2.resize(face, size)
    if kind == "exposure":
        g = float(rng.choice([0.02, 0.2, 3.0, 20.0]))
        return kind, np.clip(face.astype(np.float32) * g, 0, 255).astype(np.uint8)
    if kind == "gazesim_noise":
        noisy = face.astype(np.int16) + rng.integers(-80, 81, face.shape, dtype=np.int16)
        return kind, np.clip(noisy, 0, 255).astype(np.uint8)
    return kind, _pick(rng, ctx.empty)


def _frame_case(ctx: _Context, rng: np.random.Generator) -> tuple[str, Any]:
    kind = str(_pick(rng, ["non_array", "shape", "dtype", "nan", "huge", "range", "empty",
                           "view", "subclass", "size_edge", "content", "content", "good"]))
    face = _pick(rng, ctx.faces)
    if kind == "non_array":
        values = [None, 0, 1.5, "frame.jpg", b"\xff\xd8", [[0, 1], [2, 3]], {"a": 1}, (),
                  face.tolist()[:40], memoryview(face.tobytes()), range(10), object(),
                  np.float32(0.5), np.uint8(3)]
        v = values[int(rng.integers(0, len(values)))]
        return f"non_array:{type(v).__name__}", v
    if kind == "shape":
        shape = _random_shape(rng)
        return f"shape:{shape}", rng.integers(0, 256, shape, dtype=np.uint8)
    if kind == "dtype":
        dtype = str(_pick(rng, list(DTYPES)))
        return f"dtype:{dtype}", _cast(face, dtype)
    if kind == "nan":
        f = (face / 255.0).astype(str(_pick(rng, ["float16", "float32", "float64"])))
        n = int(rng.integers(1, 50))
        idx = tuple(rng.integers(0, s, n) for s in f.shape)
        f[idx] = _pick(rng, [np.nan, np.inf, -np.inf])
        return f"nan:{f.dtype}", f
    if kind == "huge":
        dtype = str(_pick(rng, ["float32", "float64", "int64", "uint64", "int32"]))
        big = {"float32": 3e38, "float64": 1e308, "int64": 2**62, "uint64": 2**63,
               "int32": 2**31 - 1}[dtype]
        f = face.astype(dtype)
        f.reshape(-1)[rng.integers(0, f.size, 100)] = big
        return f"huge:{dtype}", f
    if kind == "range":
        f = face.astype(np.float32) * float(_pick(rng, [1.0, -1.0, 1.0000001 / 255, 1e-9]))
        return "range", f
    if kind == "empty":
        shape = _pick(rng, [(0,), (0, 0), (0, 0, 3), (0, 640, 3), (480, 0, 3), (480, 640, 0)])
        return f"empty:{shape}", np.zeros(shape, np.uint8)
    if kind == "view":
        view = str(_pick(rng, ["flip", "stride", "transpose", "bgr", "readonly", "fortran",
                               "broadcast", "channel_view"]))
        f = {"flip": lambda: face[::-1, ::-1], "stride": lambda: face[::2, ::3],
             "transpose": lambda: face.swapaxes(0, 1), "bgr": lambda: face[..., ::-1],
             "readonly": lambda: _readonly(face), "fortran": lambda: np.asfortranarray(face),
             "broadcast": lambda: np.broadcast_to(face[:1], face.shape),
             "channel_view": lambda: face[..., 1]}[view]()
        return f"view:{view}", f
    if kind == "subclass":
        sub = str(_pick(rng, ["masked", "matrix", "recarray", "memmap_like"]))
        if sub == "masked":
            return "subclass:masked", np.ma.masked_array(face, mask=face < 10)
        if sub == "matrix":
            return "subclass:matrix", np.asmatrix(face[..., 0])
        if sub == "recarray":
            return "subclass:recarray", face.view(np.recarray)
        return "subclass:memmap_like", face.view(np.memmap)
    if kind == "size_edge":
        shape = _pick(rng, [(32, 32, 3), (31, 640, 3), (32, 16384, 3), (33, 16385, 3),
                            (16384, 32), (1, 100000, 3), (40, 40, 4), (40, 40, 1)])
        return f"size_edge:{shape}", rng.integers(0, 256, shape, dtype=np.uint8)
    if kind == "content":
        name, f = _content(ctx, rng)
        return f"content:{name}", f
    return "good", face


def _readonly(a: np.ndarray) -> np.ndarray:
    b = a.copy()
    b.setflags(write=False)
    return b


def _frames(ctx: _Context, rng: np.random.Generator, scratch: Path
            ) -> tuple[str, Callable[[], Any]]:
    label, frame = _frame_case(ctx, rng)
    if rng.random() < 0.5:
        return f"{label} [image]", lambda: ctx.image.estimate(frame)

    def video() -> Any:
        ctx.ts += 33
        return ctx.video.estimate_for_video(frame, ctx.ts)
    return f"{label} [video]", video


_ODD_TIMESTAMPS: list[Callable[[int], Any]] = [
    lambda t: t + 33, lambda t: t, lambda t: t - 1, lambda t: -5, lambda t: 0,
    lambda t: True, lambda t: float(t + 33), lambda t: float("nan"), lambda t: float("inf"),
    lambda t: None, lambda t: str(t + 33), lambda t: np.int64(t + 33),
    lambda t: np.uint64(2**64 - 1), lambda t: np.int8(100), lambda t: 2**70, lambda t: -(2**70),
    lambda t: np.float32(t + 33), lambda t: [t + 33], lambda t: t + 10**12,
    lambda t: np.array(t + 33), lambda t: t + 1]


class _SequenceCrash(Exception):
    """A step of a timestamp sequence crashed (the message names the step)."""


def _timestamps(ctx: _Context, rng: np.random.Generator, scratch: Path
                ) -> tuple[str, Callable[[], Any]]:
    steps = [int(rng.integers(0, len(_ODD_TIMESTAMPS))) for _ in range(int(rng.integers(2, 7)))]
    frames = [_pick(rng, ctx.faces + ctx.empty) for _ in steps]
    label = "sequence:" + ",".join(map(str, steps))

    def run() -> Any:
        ctx.video.reset()
        last = 0
        result = None
        for n, (step, frame) in enumerate(zip(steps, frames, strict=True)):
            try:
                ts = _ODD_TIMESTAMPS[step](last)
            except OverflowError:          # np.int64 of a past 64-bit timestamp: no input
                continue
            outcome, kind, message = run_case(lambda f=frame, t=ts: ctx.video.estimate_for_video(
                f, t))
            if outcome == CRASH:
                raise _SequenceCrash(f"step {n} (timestamp {ts!r}): {kind}: {message}")
            if isinstance(ts, (int, np.integer)) and not isinstance(ts, bool):
                last = max(last, int(ts))
        # after whatever came before, a good later timestamp must still work
        result = ctx.video.estimate_for_video(frames[0], last + 1000)
        return result
    return label, run


TARGETS = {
    "frames": FuzzTarget("frames", 4000, _setup, _frames,
                         "GazeEstimator.estimate / estimate_for_video: odd frames"),
    "timestamps": FuzzTarget("timestamps", 600, _setup, _timestamps,
                             "estimate_for_video: odd timestamp sequences"),
}
