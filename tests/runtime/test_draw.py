"""The demo drawing: boxes where the result puts them, the phone screen to scale with the
camera at its true place, and the cursor where the screen point says, checked against
positions computed here from the device table's millimetres (not from the drawing code)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gazesdk.geometry import get_device
from gazesdk.runtime import FaceDetection, GazeResult, InvalidReason, Patches, StageTimings, draw
from gazesdk.runtime.result import ScreenPoint
from gazesdk.runtime.screen import ScreenMapper

DEVICE = get_device("iPhone 6s")
KEYPOINTS = {"right_eye": (180.0, 170.0), "left_eye": (225.0, 172.0), "nose_tip": (203.0, 195.0),
             "mouth_center": (203.0, 215.0), "right_ear_tragion": (160.0, 185.0),
             "left_ear_tragion": (250.0, 187.0)}


def frame(h: int = 640, w: int = 480) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(60, 200, (h, w, 3), dtype=np.uint8)


def patches() -> Patches:
    rng = np.random.default_rng(1)
    p = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(3)]
    return Patches(face=p[0], left_eye=p[1], right_eye=p[2], face_grid=np.zeros((25, 25)))


def result(screen_pt: tuple[float, float] | None = (100.0, 200.0),
           raw_cm: tuple[float, float] = (0.0, -3.0), valid: bool = True) -> GazeResult:
    face = FaceDetection(box=(160.0, 140.0, 96.0, 96.0), score=0.9, keypoints=KEYPOINTS)
    if not valid:
        return GazeResult(False, face=face, faces_found=1,
                          invalid_reason=InvalidReason.FACE_TOO_SMALL, message="too small")
    x, y = screen_pt
    on = 0 <= x < DEVICE.screen_width_points and 0 <= y < DEVICE.screen_height_points
    return GazeResult(True, gaze_cm=(1.0, -5.0), raw_gaze_cm=raw_cm,
                      screen=ScreenPoint(x, y, 2 * x, 2 * y, on), face=face, faces_found=1,
                      face_box=(150, 130, 110, 110), left_eye_box=(210, 157, 30, 30),
                      right_eye_box=(165, 155, 30, 30), patches=patches(),
                      timings=StageTimings(detect=4.0, crop=0.5, infer=2.0, map=0.01))


def screen_rect(canvas: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the largest region of exactly the screen colour."""
    mask = np.all(canvas == draw.SCREEN, axis=2).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    assert n > 1, "no screen drawn"
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = (int(v) for v in stats[i, :4])
    return x, y, w, h


def color_at(canvas: np.ndarray, x: float, y: float) -> tuple[int, ...]:
    return tuple(int(v) for v in canvas[round(y), round(x)])


def test_boxes_and_keypoints_drawn_where_the_result_says_and_nothing_else_changes():
    img = frame()
    before = img.copy()
    r = result()
    canvas = draw.annotate(img, r, ScreenMapper(DEVICE, 1))
    assert np.array_equal(img, before)                      # the input is not drawn on
    assert canvas.dtype == np.uint8 and canvas.shape[2] == 3
    x, y, w, h = r.face_box
    for px, py in ((x, y + h // 2), (x + w - 1, y + h // 2), (x + w // 2, y),
                   (x + w // 2, y + h - 1)):
        assert color_at(canvas, px, py) == draw.FACE_BOX
    for ex, ey, ew, _ in (r.left_eye_box, r.right_eye_box):
        assert color_at(canvas, ex + ew // 2, ey) == draw.EYE_BOX
    dx, dy, dw, _ = r.face.box
    assert color_at(canvas, dx + dw / 2, dy) == draw.DETECTOR_BOX
    for kx, ky in KEYPOINTS.values():
        assert color_at(canvas, kx, ky) == draw.KEYPOINT
    # away from the annotations the camera frame is copied unchanged
    assert np.array_equal(canvas[300:640, 0:480], img[300:640])
    assert np.array_equal(canvas[0:120, 0:480], img[0:120])


@pytest.mark.parametrize("orientation", [1, 2, 3, 4])
def test_screen_has_the_device_aspect_and_the_camera_at_its_true_place(orientation):
    canvas = draw.annotate(frame(), result(), ScreenMapper(DEVICE, orientation))
    sx, sy, sw, sh = screen_rect(canvas)
    w_mm, h_mm = DEVICE.screen_size_mm(orientation)
    assert sw / sh == pytest.approx(w_mm / h_mm, rel=0.02)
    # GazeCapture: the screen's portrait top-left corner lies dX left of and dY below the
    # camera, so in portrait the camera sits at (dX, -dY) mm from that corner
    dx, dy = DEVICE.camera_to_screen_x_mm, DEVICE.camera_to_screen_y_mm
    pw, ph = DEVICE.screen_width_mm, DEVICE.screen_height_mm
    cam_mm = {1: (dx, -dy), 2: (pw - dx, ph + dy), 3: (-dy, pw - dx), 4: (ph + dy, dx)}
    cx, cy = cam_mm[orientation]
    assert color_at(canvas, sx + cx / w_mm * sw, sy + cy / h_mm * sh) == draw.CAMERA


def test_cursor_on_screen_at_its_point_and_raw_point_as_a_faint_dot():
    r = result(screen_pt=(100.0, 200.0), raw_cm=(0.0, -6.0))
    canvas = draw.annotate(frame(), r, ScreenMapper(DEVICE, 1))
    sx, sy, sw, sh = screen_rect(canvas)
    w_pt, h_pt = DEVICE.screen_size_points(1)
    assert color_at(canvas, sx + 100.0 / w_pt * sw, sy + 200.0 / h_pt * sh) == draw.CURSOR
    # raw (0, -6) cm: dX mm right of the screen's left edge, 60 - dY mm below its top
    rx = DEVICE.camera_to_screen_x_mm / DEVICE.screen_width_mm
    ry = (60.0 - DEVICE.camera_to_screen_y_mm) / DEVICE.screen_height_mm
    assert color_at(canvas, sx + rx * sw, sy + ry * sh) == draw.RAW_POINT


@pytest.mark.parametrize("point, edge", [((-80.0, 300.0), "left"), ((200.0, -500.0), "top"),
                                         ((900.0, 300.0), "right")])
def test_cursor_off_screen_is_clamped_to_the_edge_in_its_own_colour(point, edge):
    canvas = draw.annotate(frame(), result(screen_pt=point), ScreenMapper(DEVICE, 1))
    sx, sy, sw, sh = screen_rect(canvas)
    w_pt, h_pt = DEVICE.screen_size_points(1)
    u = min(max(point[0], 0.0), w_pt) / w_pt
    v = min(max(point[1], 0.0), h_pt) / h_pt
    x, y = sx + u * sw, sy + v * sh
    assert {"left": x == sx, "top": y == sy, "right": x == sx + sw}[edge]
    assert color_at(canvas, x, y) == draw.CURSOR_OFF_SCREEN
    assert not np.all(canvas == draw.CURSOR, axis=2).any()


def test_patches_are_enlarged_pixel_for_pixel_in_a_strip():
    r = result()
    canvas = draw.annotate(frame(), r, ScreenMapper(DEVICE, 1))
    lay = draw.layout((640, 480, 3), ScreenMapper(DEVICE, 1))
    for rect, patch in zip(lay.patches, (r.patches.face, r.patches.left_eye,
                                         r.patches.right_eye), strict=True):
        k = rect.w // patch.shape[1]
        tile = canvas[rect.y:rect.y + rect.h, rect.x:rect.x + rect.w]
        assert np.array_equal(tile, np.repeat(np.repeat(patch, k, axis=0), k, axis=1))
    xs = [rect.x for rect in lay.patches]
    assert xs == sorted(xs) and len({rect.y for rect in lay.patches}) == 1
    assert min(xs) >= 480                           # beside the frame, not over it


def test_invalid_result_draws_the_face_but_no_cursor_and_says_why():
    r = result(valid=False)
    canvas = draw.annotate(frame(), r, ScreenMapper(DEVICE, 1), fps=30.0)
    assert color_at(canvas, 160 + 48, 140) == draw.DETECTOR_BOX
    for c in (draw.CURSOR, draw.CURSOR_OFF_SCREEN, draw.RAW_POINT):
        assert not np.all(canvas == c, axis=2).any()
    first, second = draw.describe(r, fps=30.0)
    assert first == "no gaze: face_too_small (too small)"
    assert second.startswith("30.0 fps")
    assert np.all(canvas[-draw.TEXT_BAND_H:] == draw.TEXT_INVALID, axis=2).any()


def test_describe_valid_gives_gaze_screen_point_and_stage_times():
    first, second = draw.describe(result(screen_pt=(100.0, 200.0)))
    assert first == "gaze (+1.00, -5.00) cm   screen (100, 200) pt"
    assert second == ("detect 4.0  mesh 0.0  iris 0.0  pose 0.0  crop 0.5  infer 2.0  map 0.0  "
                      "smooth 0.0 ms")
    assert draw.describe(result(screen_pt=(-80.0, 3.0)))[0].endswith("off screen")


def test_tall_frames_are_scaled_down_with_their_boxes():
    img = frame(1280, 960)
    r = result()
    canvas = draw.annotate(img, r, ScreenMapper(DEVICE, 1), max_frame_height=640)
    lay = draw.layout(img.shape, ScreenMapper(DEVICE, 1), max_frame_height=640)
    assert lay.frame_scale == 0.5 and (lay.frame.w, lay.frame.h) == (480, 640)
    assert canvas.shape[:2] == (lay.size[1], lay.size[0])
    x, y, w, h = r.face_box
    assert color_at(canvas, x / 2, (y + h / 2) / 2) == draw.FACE_BOX


def test_real_face_result_drawn_on_the_astronaut(detector_model, astronaut):
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions

    options = GazeEstimatorOptions(detector_model=str(detector_model), return_patches=True)
    with GazeEstimator.create_from_options(options) as estimator:
        r = estimator.estimate(astronaut)
        canvas = draw.annotate(astronaut, r, estimator.mapper)
    assert r.valid and r.patches is not None
    x, y, w, h = r.face_box
    assert color_at(canvas, x, y + h // 2) == draw.FACE_BOX
    sx, sy, sw, sh = screen_rect(canvas)
    w_pt, h_pt = estimator.mapper.size_pt
    u = min(max(r.screen.x_pt, 0.0), w_pt) / w_pt
    v = min(max(r.screen.y_pt, 0.0), h_pt) / h_pt
    color = draw.CURSOR if r.screen.on_screen else draw.CURSOR_OFF_SCREEN
    assert color_at(canvas, sx + u * sw, sy + v * sh) == color
