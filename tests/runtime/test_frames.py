"""Frame checks: what is converted, what is refused with a reason, what raises."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.runtime.frames import MAX_FRAME_SIDE, FrameError, check_frame


def test_rgb_uint8_passes_through_unchanged():
    a = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    out = check_frame(a).rgb
    assert out is not None and np.array_equal(out, a)


def test_gray_rgba_bgr_and_float_are_converted():
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (40, 40), dtype=np.uint8)
    out = check_frame(gray).rgb
    assert out.shape == (40, 40, 3) and all(np.array_equal(out[..., c], gray) for c in range(3))
    assert np.array_equal(check_frame(gray[:, :, None]).rgb[..., 1], gray)
    rgba = rng.integers(0, 256, (40, 40, 4), dtype=np.uint8)
    assert np.array_equal(check_frame(rgba).rgb, rgba[..., :3])
    bgr = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    assert np.array_equal(check_frame(bgr, color_order="BGR").rgb, bgr[..., ::-1])
    f = np.full((40, 40, 3), 0.5, np.float32)
    assert (check_frame(f).rgb == 128).all()          # rint(0.5 * 255) = 128


@pytest.mark.parametrize("frame, words", [
    (np.zeros((0, 0, 3), np.uint8), "smaller"),
    (np.zeros((1, 1, 3), np.uint8), "smaller"),
    (np.zeros((40, 40, 2), np.uint8), "shape"),
    (np.zeros((40, 40, 3, 1), np.uint8), "shape"),
    (np.zeros((40, 40, 3), np.int16), "dtype"),
    (np.zeros((40, 40, 3), bool), "dtype"),
    (np.full((40, 40, 3), np.nan, np.float32), "NaN"),
    (np.full((40, 40, 3), 2.0), "[0, 1]"),
    (np.zeros((MAX_FRAME_SIDE + 1, 40), np.uint8), "larger"),
])
def test_unusable_frames_give_a_reason(frame, words):
    check = check_frame(frame)
    assert check.rgb is None and words in check.message


@pytest.mark.parametrize("thing", [None, [[1, 2, 3]], "frame.png", 3.0])
def test_non_arrays_raise(thing):
    with pytest.raises(FrameError, match="numpy array"):
        check_frame(thing)
