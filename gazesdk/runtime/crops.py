"""Face and eye patches from a detection, with the geometry the models were trained on.

GazeSim (issue 2) draws its "detector" boxes from head geometry: a square face box of
15.5 cm x the face's scale, centred 2.2 cm below the midpoint of the eyes, and square eye boxes
1.45 x the eye's width (2.9 cm on average) centred on each eye. BlazeFace gives a face box and
eye centres, not that geometry, so :class:`CropGeometry` maps one onto the other: the face
scale comes from the detector's box (it changes little with yaw, unlike the distance between
the eyes), and the centres come from the eye keypoints. The detector box to GazeSim box factor
(1.15) is BlazeFace's box in units of an average 6.3 cm interocular distance (13.5 cm, measured
on ``skimage.data.astronaut()``, box 95.3 px for eyes 44.5 px apart) against GazeSim's 15.5 cm.

Boxes are in frame pixels (x, y, w, h from the top-left of the upright camera image): whole
pixels rounded half away from zero, moved (not cut) to lie inside the frame, as the model
metadata's ``preprocessing.crops`` says. Patches are cut from the full frame and resized with
area averaging.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gazesdk.data.facegrid import face_grid, round_half_away
from gazesdk.errors import ConfigError
from gazesdk.runtime.detector import FaceDetection
from gazesdk.runtime.frames import InvalidReason

GAZESIM_FACE_BOX_CM = 15.5
GAZESIM_FACE_BELOW_EYES_CM = 2.2
GAZESIM_EYE_BOX_CM = 1.45 * 2.9
BLAZEFACE_BOX_CM = 13.5


@dataclass(frozen=True)
class CropGeometry:
    """How boxes follow from a detection (defaults: GazeSim's conventions, see the module).

    ``face_scale``: face box side / detector box side. ``face_drop``: how far below the eye
    midpoint the face box's centre lies, as a fraction of its side, along the face's own down
    direction (perpendicular to the line between the eyes). ``eye_scale``: eye box side / face
    box side. ``min_face_px``: smaller face boxes are refused (their eye patches would be
    upsampled from a dozen pixels).
    """

    face_scale: float = GAZESIM_FACE_BOX_CM / BLAZEFACE_BOX_CM
    face_drop: float = GAZESIM_FACE_BELOW_EYES_CM / GAZESIM_FACE_BOX_CM
    eye_scale: float = GAZESIM_EYE_BOX_CM / GAZESIM_FACE_BOX_CM
    min_face_px: float = 60.0

    def __post_init__(self) -> None:
        for name in ("face_scale", "eye_scale", "min_face_px"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"CropGeometry.{name} must be > 0, got {getattr(self, name)}")
        if not -1.0 < self.face_drop < 1.0:
            raise ConfigError(f"CropGeometry.face_drop must lie in (-1, 1), got {self.face_drop}")


@dataclass(frozen=True)
class CropBoxes:
    """Integer boxes (x, y, w, h) in frame pixels, or why there are none."""

    face: tuple[int, int, int, int] | None = None
    left_eye: tuple[int, int, int, int] | None = None
    right_eye: tuple[int, int, int, int] | None = None
    invalid: InvalidReason | None = None
    message: str = ""


def square_box(cx: float, cy: float, side: float, frame_w: int, frame_h: int
               ) -> tuple[int, int, int, int] | None:
    """The whole-pixel square of ``side`` centred on (cx, cy), moved to lie inside the frame;
    None when it cannot fit."""
    s = int(round_half_away(np.float64(side)))
    if s < 1 or s > min(frame_w, frame_h):
        return None
    x = int(round_half_away(np.float64(cx - s / 2)))
    y = int(round_half_away(np.float64(cy - s / 2)))
    return min(max(x, 0), frame_w - s), min(max(y, 0), frame_h - s), s, s


def crop_boxes(detection: FaceDetection, frame_w: int, frame_h: int,
               geometry: CropGeometry = CropGeometry()) -> CropBoxes:
    """Face and eye boxes for ``detection`` in a ``frame_w`` x ``frame_h`` frame."""
    (rx, ry), (lx, ly) = detection.keypoints["right_eye"], detection.keypoints["left_eye"]
    inside = [0 <= x < frame_w and 0 <= y < frame_h for x, y in ((rx, ry), (lx, ly))]
    if not all(inside):
        return CropBoxes(invalid=InvalidReason.EYES_OUTSIDE_FRAME,
                         message="an eye lies outside the frame")
    side = geometry.face_scale * max(detection.box[2], detection.box[3])
    if side < geometry.min_face_px:
        return CropBoxes(invalid=InvalidReason.FACE_TOO_SMALL,
                         message=f"face box {side:.0f} px is smaller than "
                                 f"{geometry.min_face_px:.0f} px")
    dx, dy = lx - rx, ly - ry           # right eye (image left) -> left eye (image right)
    norm = float(np.hypot(dx, dy)) or 1.0
    down = (-dy / norm, dx / norm)      # the face's down direction in the image
    mx, my = (lx + rx) / 2, (ly + ry) / 2
    drop = geometry.face_drop * side
    face = square_box(mx + drop * down[0], my + drop * down[1], side, frame_w, frame_h)
    if face is None:
        return CropBoxes(invalid=InvalidReason.EYES_OUTSIDE_FRAME,
                         message=f"face box {side:.0f} px does not fit the "
                                 f"{frame_w}x{frame_h} frame")
    eye_side = geometry.eye_scale * side
    eyes = {}
    for name, (ex, ey) in (("left_eye", (lx, ly)), ("right_eye", (rx, ry))):
        box = square_box(ex, ey, eye_side, frame_w, frame_h)
        # An eye box moved by more than a quarter of its side no longer shows the whole eye.
        if box is None or max(abs(box[0] + box[2] / 2 - ex),
                              abs(box[1] + box[3] / 2 - ey)) > box[2] / 4:
            return CropBoxes(invalid=InvalidReason.EYES_OUTSIDE_FRAME,
                             message=f"the {name.replace('_', ' ')} box leaves the frame")
        eyes[name] = box
    return CropBoxes(face=face, **eyes)


def cut_patch(rgb: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
    """(size, size, 3) uint8: ``box`` cut from the frame, resized with area averaging."""
    x, y, w, h = box
    return cv2.resize(rgb[y:y + h, x:x + w], (size, size), interpolation=cv2.INTER_AREA)


def model_inputs(rgb: np.ndarray, boxes: CropBoxes, *, patch_size: int = 64,
                 pixel_scale: float = 1.0 / 255.0) -> tuple[dict[str, np.ndarray],
                                                            dict[str, np.ndarray]]:
    """(inputs, patches): the model's float32 inputs {name: (1, 3, S, S) or (1, 25, 25)} and
    the uint8 RGB patches {name: (S, S, 3)} they were made from."""
    if boxes.face is None:
        raise ValueError("no boxes to crop")
    patches = {name: cut_patch(rgb, getattr(boxes, name), patch_size)
               for name in ("face", "left_eye", "right_eye")}
    inputs = {name: (p.transpose(2, 0, 1)[None].astype(np.float32) * np.float32(pixel_scale))
              for name, p in patches.items()}
    h, w = rgb.shape[:2]
    inputs["face_grid"] = face_grid(np.asarray(boxes.face, float), (w, h)).astype(np.float32)
    return inputs, patches
