"""Tests for gazesdk.data.facegrid against GazeCapture's faceGrid.json formula:

    X = round(fx * 25 / frameW) + 1,  W = round(fw * 25 / frameW)   (1-indexed)
    Y = round(fy * 25 / frameH) + 1,  H = round(fh * 25 / frameH)

rounding half away from zero; cells of the box are 1, the rest 0, clamped to the 25x25 grid;
the mask's row index is y.
"""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.data.facegrid import GRID, face_grid, face_grid_mask, face_grid_params


def _params(box, frame_wh):
    return face_grid_params(box, frame_wh)[0].tolist()


def test_grid_size():
    assert GRID == 25


def test_hand_worked_640x480():
    # Frame 640 x 480, face box (128, 96, 256, 192):
    # X = round(128 * 25 / 640) + 1 = round(5.0) + 1 = 6;  W = round(256 * 25 / 640) = 10
    # Y = round(96 * 25 / 480) + 1 = round(5.0) + 1 = 6;   H = round(192 * 25 / 480) = 10
    assert _params([128, 96, 256, 192], [640, 480]) == [6, 6, 10, 10]
    g = face_grid([128, 96, 256, 192], [640, 480])
    assert g.shape == (1, 25, 25) and g.dtype == np.uint8
    # 1-indexed cells 6..15 are 0-indexed 5..14
    expected = np.zeros((25, 25), np.uint8)
    expected[5:15, 5:15] = 1
    np.testing.assert_array_equal(g[0], expected)


def test_hand_worked_portrait_frame_non_square_box():
    # Frame 480 x 640, box (100, 300, 150, 80):
    # X = round(100 * 25 / 480) + 1 = round(5.208) + 1 = 6
    # W = round(150 * 25 / 480) = round(7.8125) = 8
    # Y = round(300 * 25 / 640) + 1 = round(11.719) + 1 = 13
    # H = round(80 * 25 / 640) = round(3.125) = 3
    assert _params([100, 300, 150, 80], [480, 640]) == [6, 13, 8, 3]
    g = face_grid([100, 300, 150, 80], [480, 640])[0]
    # Row index is y: rows 13..15 (0-idx 12..14), columns 6..13 (0-idx 5..12).
    expected = np.zeros((25, 25), np.uint8)
    expected[12:15, 5:13] = 1
    np.testing.assert_array_equal(g, expected)
    assert g.sum() == 8 * 3


def test_rounding_at_exactly_half_is_away_from_zero():
    # Frame 50 x 50, so v * 25 / 50 = v / 2 exactly:
    # X = round(5 / 2) + 1 = round(2.5) + 1 = 3 + 1 = 4   (banker's rounding would give 3)
    # Y = round(1 / 2) + 1 = round(0.5) + 1 = 1 + 1 = 2   (banker's: 1)
    # W = round(9 / 2) = round(4.5) = 5                   (banker's: 4)
    # H = round(13 / 2) = round(6.5) = 7                  (banker's: 6)
    assert _params([5, 1, 9, 13], [50, 50]) == [4, 2, 5, 7]


def test_rounding_at_half_640x480():
    # X = round(64 * 25 / 640) + 1 = round(2.5) + 1 = 4;  W = round(192 * 25 / 640) = round(7.5) = 8
    # Y = round(48 * 25 / 480) + 1 = round(2.5) + 1 = 4;  H = round(144 * 25 / 480) = round(7.5) = 8
    assert _params([64, 48, 192, 144], [640, 480]) == [4, 4, 8, 8]


def test_negative_half_rounds_away_from_zero():
    # A box starting left of / above the frame: X = round(-64 * 25 / 640) + 1 = round(-2.5) + 1
    # = -3 + 1 = -2 (half away from zero; Python's round would give -2 + 1 = -1).
    # Y = round(-48 * 25 / 480) + 1 = round(-2.5) + 1 = -2.
    assert _params([-64, -48, 192, 144], [640, 480]) == [-2, -2, 8, 8]
    # Cells -2..5 exist only for 1..5: a 5 x 5 block in the top-left corner.
    g = face_grid([-64, -48, 192, 144], [640, 480])[0]
    expected = np.zeros((25, 25), np.uint8)
    expected[0:5, 0:5] = 1
    np.testing.assert_array_equal(g, expected)


def test_just_below_half_rounds_down():
    # X = round(63 * 25 / 640) + 1 = round(2.4609) + 1 = 3
    assert _params([63, 0, 0, 0], [640, 480])[0] == 3


@pytest.mark.parametrize(("fx", "frame_w", "expected_x"), [
    (97, 194, 14),    # round(97 * 25 / 194) + 1 = round(2425 / 194 = 12.5) + 1 = 14
    (195, 390, 14),   # round(195 * 25 / 390) + 1 = round(4875 / 390 = 12.5) + 1 = 14
    (117, 390, 9),    # round(117 * 25 / 390) + 1 = round(2925 / 390 = 7.5) + 1 = 9
])
def test_exact_half_with_inexact_scale(fx, frame_w, expected_x):
    assert _params([fx, 0, fx, 0], [frame_w, frame_w])[0] == expected_x
    assert _params([fx, 0, fx, 0], [frame_w, frame_w])[2] == expected_x - 1


def test_full_frame_box_fills_grid():
    # X = round(0) + 1 = 1, W = round(640 * 25 / 640) = 25; same for y.
    assert _params([0, 0, 640, 480], [640, 480]) == [1, 1, 25, 25]
    g = face_grid([0, 0, 640, 480], [640, 480])[0]
    assert g.sum() == 625 and (g == 1).all()


def test_box_touching_right_and_bottom_edges_is_clamped():
    # Frame 640 x 480, box (576, 384, 128, 192) extends past the right and bottom edges:
    # X = round(576 * 25 / 640) + 1 = round(22.5) + 1 = 24; W = round(128 * 25 / 640) = 5
    # Y = round(384 * 25 / 480) + 1 = round(20) + 1 = 21;   H = round(192 * 25 / 480) = 10
    # cells x 24..28 -> 24, 25 exist (2 columns); y 21..30 -> 21..25 exist (5 rows)
    assert _params([576, 384, 128, 192], [640, 480]) == [24, 21, 5, 10]
    g = face_grid([576, 384, 128, 192], [640, 480])[0]
    expected = np.zeros((25, 25), np.uint8)
    expected[20:25, 23:25] = 1
    np.testing.assert_array_equal(g, expected)
    assert g.sum() == 2 * 5


def test_box_touching_top_left_edge():
    # Box (0, 0, 128, 96) in 640 x 480: X = 1, W = 5, Y = 1, H = 5 -> 25 cells in the corner.
    g = face_grid([0, 0, 128, 96], [640, 480])[0]
    assert g[:5, :5].all() and g.sum() == 25


def test_row_index_is_y():
    # Grid box X = 2, Y = 10, W = 3, H = 5: rows (y) 10..14, columns (x) 2..4, 1-indexed.
    m = face_grid_mask([2, 10, 3, 5])[0]
    assert m[9, 1] == 1 and m[13, 3] == 1
    assert m[1, 9] == 0  # the transposed cell is empty
    assert m[14, 1] == 0 and m[9, 4] == 0  # one past the box in y and in x
    assert m.sum(axis=1).tolist() == [0] * 9 + [3] * 5 + [0] * 11  # per row: 3 cells wide
    assert m.sum(axis=0).tolist() == [0] + [5] * 3 + [0] * 21      # per column: 5 cells tall


def test_empty_and_outside_boxes():
    masks = face_grid_mask([[5, 5, 0, 4],       # zero width
                            [5, 5, 4, 0],       # zero height
                            [26, 1, 3, 3],      # entirely right of the grid
                            [1, -5, 3, 5],      # rows -5..-1: entirely above the grid
                            [-3, 1, 4, 4]])     # columns -3..0: entirely left
    assert masks.shape == (5, 25, 25)
    assert masks.sum() == 0


def _clipped_area(x, y, w, h):
    # Independent count: length of [x, x + w - 1] intersected with [1, 25], times that for y.
    def span(a, n):
        return max(0, min(a + n - 1, 25) - max(a, 1) + 1)
    return span(x, w) * span(y, h)


def test_mask_sum_is_clipped_area_random():
    rng = np.random.default_rng(0)
    params = np.stack([rng.integers(-10, 30, 500), rng.integers(-10, 30, 500),
                       rng.integers(0, 30, 500), rng.integers(0, 30, 500)], axis=1)
    masks = face_grid_mask(params)
    assert masks.dtype == np.uint8
    assert set(np.unique(masks).tolist()) <= {0, 1}
    sums = masks.reshape(len(params), -1).sum(axis=1)
    expected = [_clipped_area(*p) for p in params.tolist()]
    assert sums.tolist() == expected
    # Boxes entirely inside the grid: exactly w * h cells, in a single rectangle.
    for (x, y, w, h), m in zip(params.tolist(), masks, strict=True):
        if x >= 1 and y >= 1 and x + w - 1 <= 25 and y + h - 1 <= 25 and w and h:
            assert m[y - 1:y - 1 + h, x - 1:x - 1 + w].all()


def test_batch_with_per_frame_sizes():
    # Two frames of different sizes in one call (frame_wh of shape (N, 2)).
    boxes = [[128, 96, 256, 192], [64, 48, 192, 144]]
    p = face_grid_params(boxes, [[640, 480], [1280, 960]])
    # second: X = round(64 * 25 / 1280) + 1 = round(1.25) + 1 = 2; W = round(3.75) = 4
    #         Y = round(48 * 25 / 960) + 1 = round(1.25) + 1 = 2; H = round(3.75) = 4
    assert p.tolist() == [[6, 6, 10, 10], [2, 2, 4, 4]]
    assert p.dtype.kind == "i"
    g = face_grid(boxes, [[640, 480], [1280, 960]])
    assert g.shape == (2, 25, 25)
    assert g.reshape(2, -1).sum(axis=1).tolist() == [100, 16]


def test_batch_with_one_shared_frame_size():
    p = face_grid_params(np.array([[0, 0, 640, 480], [320, 240, 0, 0]], float), (640, 480))
    # second: X = round(320 * 25 / 640) + 1 = round(12.5) + 1 = 14; Y = round(12.5) + 1 = 14
    assert p.tolist() == [[1, 1, 25, 25], [14, 14, 0, 0]]


def test_fractional_pixel_boxes():
    # Face boxes from detectors are floats: X = round(25.6 * 25 / 640) + 1 = round(1.0) + 1 = 2
    # W = round(300.8 * 25 / 640) = round(11.75) = 12; Y = round(19.2 * 25 / 480) + 1 = 2;
    # H = round(249.6 * 25 / 480) = round(13.0) = 13
    assert _params([25.6, 19.2, 300.8, 249.6], [640, 480]) == [2, 2, 12, 13]
