"""Pictures of what the runtime saw and decided, for demos and for debugging a set-up.

:func:`annotate` lays out one canvas per frame: the camera frame with the detector's box, the
model's face and eye boxes and the six keypoints; the model's three patches, enlarged; a phone
drawn to scale with its screen, the front camera at its true place and the gaze cursor; and a
text band. Everything is a pure function on numpy images: RGB uint8 in, a new RGB uint8 image
out (the frame passed in is never drawn on); colours are RGB tuples.

Canvas layout: the frame sits at the top-left corner at its own size (scaled down only when
taller than ``max_frame_height``), so frame pixels map to canvas pixels by that one scale. The
screen is drawn as a rectangle filled with :data:`SCREEN`, its outline just outside it; a
screen point (x_pt, y_pt) is drawn at ``rect.x + x_pt / width_pt * rect.w`` (and likewise in
y). A point off the screen is drawn clamped to its edge in :data:`CURSOR_OFF_SCREEN`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gazesdk.geometry.screen import cam_cm_to_screen
from gazesdk.runtime.result import STAGES, GazeResult
from gazesdk.runtime.screen import ScreenMapper

Color = tuple[int, int, int]

BACKGROUND: Color = (18, 18, 22)
DETECTOR_BOX: Color = (255, 230, 0)
FACE_BOX: Color = (0, 230, 0)
EYE_BOX: Color = (0, 200, 255)
KEYPOINT: Color = (255, 0, 255)
PHONE: Color = (70, 70, 78)
SCREEN: Color = (34, 40, 58)
SCREEN_EDGE: Color = (160, 160, 170)
CAMERA: Color = (0, 160, 255)
CURSOR: Color = (255, 40, 40)
CURSOR_OFF_SCREEN: Color = (255, 150, 0)
TARGET: Color = (60, 220, 90)            # a calibration target
RAW_POINT: Color = (130, 130, 150)
TEXT: Color = (235, 235, 235)
TEXT_INVALID: Color = (255, 110, 110)

PAD = 8
PATCH_PX = 128                   # each model patch is enlarged to this side
LABEL_H = 18
MIN_PANEL_H = 480                # below this the phone would be too small to read
TEXT_BAND_H = 3 * 20 + PAD           # two lines, and one for calibration progress
CURSOR_RADIUS = 7
RAW_RADIUS = 3
_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class Rect:
    """Whole-pixel rectangle (x, y, w, h) in canvas pixels."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Layout:
    """Where each part of the canvas lies; from :func:`layout`."""

    size: tuple[int, int]                # canvas (width, height)
    frame_scale: float                   # frame pixels -> canvas pixels
    frame: Rect
    patches: tuple[Rect, Rect, Rect]     # face, left eye, right eye
    phone: Rect
    screen: Rect
    camera: tuple[float, float]          # the camera's centre, canvas pixels
    text: Rect


def _fit_phone(area: Rect, mapper: ScreenMapper) -> tuple[Rect, Rect, tuple[float, float]]:
    """(phone body, screen, camera centre) drawn to scale inside ``area``."""
    w_pt, h_pt = mapper.size_pt
    cx, cy = (float(v) for v in cam_cm_to_screen(0.0, 0.0, mapper.geometry, mapper.orientation,
                                                  mapper.size_pt))
    margin = 0.05 * max(w_pt, h_pt)
    x0, x1 = min(0.0, cx) - margin, max(w_pt, cx) + margin
    y0, y1 = min(0.0, cy) - margin, max(h_pt, cy) + margin
    s = min(area.w / (x1 - x0), area.h / (y1 - y0))
    ox = area.x + (area.w - (x1 - x0) * s) / 2 - x0 * s      # canvas x of screen x_pt = 0
    oy = area.y + (area.h - (y1 - y0) * s) / 2 - y0 * s
    screen = Rect(round(ox), round(oy), round(w_pt * s), round(h_pt * s))
    phone = Rect(round(ox + x0 * s), round(oy + y0 * s), round((x1 - x0) * s),
                 round((y1 - y0) * s))
    camera = (screen.x + cx / w_pt * screen.w, screen.y + cy / h_pt * screen.h)
    return phone, screen, camera


def layout(frame_shape: tuple[int, ...], mapper: ScreenMapper, *,
           max_frame_height: int = 720) -> Layout:
    """The canvas layout for frames of ``frame_shape`` (H, W, ...) and ``mapper``'s screen."""
    fh, fw = frame_shape[:2]
    scale = min(1.0, max_frame_height / fh)
    frame = Rect(0, 0, max(1, round(fw * scale)), max(1, round(fh * scale)))
    panel_h = max(frame.h, MIN_PANEL_H)
    side_x = frame.w + PAD
    side_w = 3 * PATCH_PX + 2 * PAD
    tiles = [Rect(side_x + i * (PATCH_PX + PAD), PAD, PATCH_PX, PATCH_PX) for i in range(3)]
    top = PAD + PATCH_PX + LABEL_H + PAD
    phone, screen, camera = _fit_phone(Rect(side_x, top, side_w, panel_h - top - PAD), mapper)
    width = side_x + side_w + PAD
    return Layout((width, panel_h + TEXT_BAND_H), scale, frame, (tiles[0], tiles[1], tiles[2]),
                  phone, screen, camera, Rect(0, panel_h, width, TEXT_BAND_H))


def _pt(x: float, y: float, scale: float = 1.0) -> tuple[int, int]:
    return round(x * scale), round(y * scale)


def _box(img: np.ndarray, box: tuple[float, float, float, float], scale: float, color: Color,
         thickness: int) -> None:
    x, y, w, h = box
    cv2.rectangle(img, _pt(x, y, scale), _pt(x + w - 1, y + h - 1, scale), color, thickness)


def draw_face(frame_rgb: np.ndarray, result: GazeResult, scale: float = 1.0) -> np.ndarray:
    """A copy of the frame (resized by ``scale``) with the detector's box (thin), the model's
    face and eye crop boxes and the six keypoints."""
    img = np.ascontiguousarray(frame_rgb[:, :, :3], dtype=np.uint8)
    if scale != 1.0:
        h, w = img.shape[:2]
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    else:
        img = img.copy()
    if result.face is not None:
        _box(img, result.face.box, scale, DETECTOR_BOX, 1)
    if result.face_box is not None:
        _box(img, result.face_box, scale, FACE_BOX, 2)
    for eye in (result.left_eye_box, result.right_eye_box):
        if eye is not None:
            _box(img, eye, scale, EYE_BOX, 1)
    if result.face is not None:
        for x, y in result.face.keypoints.values():
            cv2.circle(img, _pt(x, y, scale), 3, KEYPOINT, -1, cv2.LINE_AA)
    return img


def _draw_patches(canvas: np.ndarray, result: GazeResult, rects: tuple[Rect, ...]) -> None:
    p = result.patches
    images = (p.face, p.left_eye, p.right_eye) if p is not None else (None, None, None)
    for rect, image, label in zip(rects, images, ("face", "left eye", "right eye"), strict=True):
        if image is not None:
            canvas[rect.y:rect.y + rect.h, rect.x:rect.x + rect.w] = cv2.resize(
                image, (rect.w, rect.h), interpolation=cv2.INTER_NEAREST)
        else:
            cv2.rectangle(canvas, (rect.x, rect.y), (rect.x + rect.w - 1, rect.y + rect.h - 1),
                          SCREEN_EDGE, 1)
        cv2.putText(canvas, label, (rect.x, rect.y + rect.h + LABEL_H - 5), _FONT, 0.45, TEXT,
                    1, cv2.LINE_AA)


def screen_to_canvas(x_pt: float, y_pt: float, screen: Rect, size_pt: tuple[float, float]
                     ) -> tuple[float, float, bool]:
    """(x, y, on_screen): where a screen point is drawn on the canvas; a point off the screen
    is clamped to its edge."""
    on = 0.0 <= x_pt < size_pt[0] and 0.0 <= y_pt < size_pt[1]
    u = min(max(x_pt, 0.0), size_pt[0]) / size_pt[0]
    v = min(max(y_pt, 0.0), size_pt[1]) / size_pt[1]
    return screen.x + u * screen.w, screen.y + v * screen.h, on


def _draw_phone(canvas: np.ndarray, result: GazeResult, mapper: ScreenMapper, lay: Layout,
                target_pt: tuple[float, float] | None = None) -> None:
    ph, sc = lay.phone, lay.screen
    radius = max(2, min(ph.w, ph.h) // 12)
    # the phone body: a rounded rectangle as two rectangles and four discs
    cv2.rectangle(canvas, (ph.x + radius, ph.y), (ph.x + ph.w - 1 - radius, ph.y + ph.h - 1),
                  PHONE, -1)
    cv2.rectangle(canvas, (ph.x, ph.y + radius), (ph.x + ph.w - 1, ph.y + ph.h - 1 - radius),
                  PHONE, -1)
    for cx in (ph.x + radius, ph.x + ph.w - 1 - radius):
        for cy in (ph.y + radius, ph.y + ph.h - 1 - radius):
            cv2.circle(canvas, (cx, cy), radius, PHONE, -1, cv2.LINE_AA)
    cv2.rectangle(canvas, (sc.x - 1, sc.y - 1), (sc.x + sc.w, sc.y + sc.h), SCREEN_EDGE, 1)
    canvas[sc.y:sc.y + sc.h, sc.x:sc.x + sc.w] = SCREEN
    cv2.circle(canvas, _pt(*lay.camera), 4, CAMERA, -1, cv2.LINE_AA)
    if target_pt is not None:          # a calibration target: a ring with a centre dot
        tx, ty, _ = screen_to_canvas(target_pt[0], target_pt[1], sc, mapper.size_pt)
        cv2.circle(canvas, _pt(tx, ty), CURSOR_RADIUS + 4, TARGET, 2, cv2.LINE_AA)
        cv2.circle(canvas, _pt(tx, ty), 2, TARGET, -1, cv2.LINE_AA)
    if result.valid and result.raw_gaze_cm is not None and result.screen is not None:
        raw = mapper(*result.raw_gaze_cm)
        rx, ry, _ = screen_to_canvas(raw.x_pt, raw.y_pt, sc, mapper.size_pt)
        cv2.circle(canvas, _pt(rx, ry), RAW_RADIUS, RAW_POINT, -1, cv2.LINE_AA)
        x, y, on = screen_to_canvas(result.screen.x_pt, result.screen.y_pt, sc, mapper.size_pt)
        cv2.circle(canvas, _pt(x, y), CURSOR_RADIUS, CURSOR if on else CURSOR_OFF_SCREEN, -1,
                   cv2.LINE_AA)


def describe(result: GazeResult, fps: float | None = None) -> tuple[str, str]:
    """The two text lines under the picture: the gaze (or why there is none), then the frame
    rate and the milliseconds of each stage."""
    if result.valid and result.gaze_cm is not None and result.screen is not None:
        s = result.screen
        first = (f"gaze ({result.gaze_cm[0]:+.2f}, {result.gaze_cm[1]:+.2f}) cm   screen "
                 f"({s.x_pt:.0f}, {s.y_pt:.0f}) pt" + ("" if s.on_screen else "   off screen"))
    else:
        reason = result.invalid_reason.value if result.invalid_reason is not None else "invalid"
        first = f"no gaze: {reason}" + (f" ({result.message})" if result.message else "")
    stages = "  ".join(f"{name} {getattr(result.timings, name):.1f}" for name in STAGES)
    second = (f"{fps:.1f} fps   " if fps is not None else "") + f"{stages} ms"
    return first, second


def annotate(frame_rgb: np.ndarray, result: GazeResult, mapper: ScreenMapper, *,
             fps: float | None = None, max_frame_height: int = 720,
             target_pt: tuple[float, float] | None = None, status: str = "") -> np.ndarray:
    """One RGB uint8 canvas for a frame and its result (see the module for the layout).

    ``mapper`` is the estimator's :class:`~gazesdk.runtime.screen.ScreenMapper` (its device
    and orientation); ``fps`` is shown when given. Patches appear only when the estimator runs
    with ``return_patches=True``. ``target_pt``: a calibration target to draw on the screen
    (screen points); ``status``: a third text line (the calibration's progress).
    """
    lay = layout(frame_rgb.shape, mapper, max_frame_height=max_frame_height)
    canvas = np.empty((lay.size[1], lay.size[0], 3), np.uint8)
    canvas[:] = BACKGROUND
    face = draw_face(frame_rgb, result, lay.frame_scale)
    canvas[:face.shape[0], :face.shape[1]] = face
    _draw_patches(canvas, result, lay.patches)
    _draw_phone(canvas, result, mapper, lay, target_pt)
    color = TEXT if result.valid else TEXT_INVALID
    lines = describe(result, fps) + ((status,) if status else ())
    for i, line in enumerate(lines):
        cv2.putText(canvas, line, (PAD, lay.text.y + 18 + 20 * i), _FONT, 0.45,
                    color if i == 0 else TEXT, 1, cv2.LINE_AA)
    return canvas
