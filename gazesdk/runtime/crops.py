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

Two named, versioned geometries (:data:`CROP_GEOMETRIES`, :func:`get_crop_geometry`); a model's
metadata records the one it was trained with, and the runtime uses that one unless told:

- ``keypoints-v1``: from BlazeFace (box and eye keypoints), detected on every frame.
- ``landmarks-v1``: from the face mesh. Eye centres are the midpoints of each eye's corners
  (mesh points 33-133 and 362-263), which stay put when the eye turns or the lids move; the face
  scale is the 3-D distance between those midpoints (the mesh's z included, so a turned head
  keeps its scale), x 15.5 / 6.3 (GazeSim's face box over the average interocular distance).
  The lids do not place the boxes (they follow vertical gaze and would take the iris's
  displacement out of the patch); they give the eye openness (:mod:`~.eye_openness`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import cv2
import numpy as np

from gazesdk.data.facegrid import face_grid, round_half_away
from gazesdk.errors import ConfigError
from gazesdk.runtime.detector import FaceDetection
from gazesdk.runtime.face_mesh import (
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
)
from gazesdk.runtime.frames import InvalidReason

GAZESIM_FACE_BOX_CM = 15.5
GAZESIM_FACE_BELOW_EYES_CM = 2.2
GAZESIM_EYE_BOX_CM = 1.45 * 2.9
BLAZEFACE_BOX_CM = 13.5
INTEROCULAR_CM = 6.3
SOURCES = ("keypoints", "landmarks")
VERSION = 1
_FACE_SCALE = {"keypoints": GAZESIM_FACE_BOX_CM / BLAZEFACE_BOX_CM,
               "landmarks": GAZESIM_FACE_BOX_CM / INTEROCULAR_CM}


@dataclass(frozen=True)
class CropGeometry:
    """How boxes follow from a face (defaults: GazeSim's conventions, see the module).

    ``source``: ``"keypoints"`` (BlazeFace's box and eye keypoints) or ``"landmarks"`` (the
    face mesh). ``face_scale``: face box side / the source's face size (keypoints: the detector
    box's side; landmarks: the 3-D distance between the eyes' corner midpoints); None takes the
    source's default. ``face_drop``: how far below the eye midpoint the face box's centre lies,
    as a fraction of its side, along the face's own down direction (perpendicular to the line
    between the eyes). ``eye_scale``: eye box side / face box side. ``min_face_px``: smaller
    face boxes are refused (their eye patches would be upsampled from a dozen pixels).
    """

    source: str = "keypoints"
    face_scale: float | None = None
    face_drop: float = GAZESIM_FACE_BELOW_EYES_CM / GAZESIM_FACE_BOX_CM
    eye_scale: float = GAZESIM_EYE_BOX_CM / GAZESIM_FACE_BOX_CM
    min_face_px: float = 60.0

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ConfigError(f"CropGeometry.source must be one of {', '.join(SOURCES)}, got "
                              f"{self.source!r}")
        if self.face_scale is None:
            object.__setattr__(self, "face_scale", _FACE_SCALE[self.source])
        for name in ("face_scale", "eye_scale", "min_face_px"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise ConfigError(f"CropGeometry.{name} must be a number > 0, got {v!r}")
        if isinstance(self.face_drop, bool) or not isinstance(self.face_drop, (int, float)) \
                or not -1.0 < self.face_drop < 1.0:
            raise ConfigError(f"CropGeometry.face_drop must be a number in (-1, 1), got "
                              f"{self.face_drop!r}")

    @property
    def name(self) -> str:
        """``<source>-v1`` for the registered geometry, ``<source>-custom`` otherwise."""
        base = f"{self.source}-v{VERSION}"
        return base if CROP_GEOMETRIES.get(base) == self else f"{self.source}-custom"

    def to_dict(self) -> dict[str, object]:
        """What an export's metadata records (``preprocessing.crops.geometry``)."""
        return {"name": self.name, "source": self.source, "face_scale": float(self.face_scale),
                "face_drop": float(self.face_drop), "eye_scale": float(self.eye_scale),
                "min_face_px": float(self.min_face_px)}

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> CropGeometry:
        """Strict construction (unknown keys are errors; ``name`` is checked, not taken)."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"crop geometry must be a mapping, got {type(values).__name__}")
        v = dict(values)
        name = v.pop("name", None)
        known = {f.name for f in fields(cls)}
        bad = sorted(set(v) - known)
        if bad:
            raise ConfigError(f"unknown crop option(s) {', '.join(bad)}; known: "
                              f"{', '.join(sorted(known))}")
        geometry = cls(**v)
        if name is not None and name != geometry.name:
            raise ConfigError(f"crop geometry {name!r} does not match its numbers "
                              f"(they make {geometry.name!r})")
        return geometry


CROP_GEOMETRIES: dict[str, CropGeometry] = {}
for _source in SOURCES:
    CROP_GEOMETRIES[f"{_source}-v{VERSION}"] = CropGeometry(source=_source)
DEFAULT_CROPS = "keypoints-v1"          # models whose metadata names none were trained on these


def get_crop_geometry(spec: str | CropGeometry | Mapping[str, object]) -> CropGeometry:
    """A crop geometry by name (:data:`CROP_GEOMETRIES`), from a mapping, or as given."""
    if isinstance(spec, CropGeometry):
        return spec
    if isinstance(spec, Mapping):
        return CropGeometry.from_dict(spec)
    if spec not in CROP_GEOMETRIES:
        raise ConfigError(f"unknown crop geometry {spec!r}; known: "
                          f"{', '.join(sorted(CROP_GEOMETRIES))}")
    return CROP_GEOMETRIES[spec]


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


@dataclass(frozen=True)
class BoxPlacement:
    """Continuous box centres and sides in frame pixels, before rounding: what the box
    stabiliser smooths. Eye centres are (x, y); ``face`` is (cx, cy, side)."""

    face: tuple[float, float, float]
    right_eye: tuple[float, float]
    left_eye: tuple[float, float]
    eye_side: float


def place_from_keypoints(detection: FaceDetection, geometry: CropGeometry) -> BoxPlacement:
    """Boxes from BlazeFace's box and eye keypoints (``keypoints-*`` geometry)."""
    right, left = detection.keypoints["right_eye"], detection.keypoints["left_eye"]
    side = geometry.face_scale * max(detection.box[2], detection.box[3])
    return _place(right, left, side, geometry)


def eye_centres_3d(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(right, left) eye centres (x, y, z) from the face mesh: each eye's corner midpoint."""
    p = np.asarray(points, np.float64)
    return ((p[RIGHT_EYE_OUTER] + p[RIGHT_EYE_INNER]) / 2,
            (p[LEFT_EYE_INNER] + p[LEFT_EYE_OUTER]) / 2)


def place_from_mesh(points: np.ndarray, geometry: CropGeometry) -> BoxPlacement:
    """Boxes from the face mesh's 468 points (frame pixels, ``landmarks-*`` geometry)."""
    p = np.asarray(points, np.float64)
    if p.ndim != 2 or p.shape[0] < 468 or p.shape[1] != 3 or not np.isfinite(p).all():
        raise ValueError(f"face mesh points must be finite (468, 3), got shape {p.shape}")
    right, left = eye_centres_3d(p)
    side = geometry.face_scale * float(np.linalg.norm(left - right))
    return _place(tuple(right[:2]), tuple(left[:2]), side, geometry)


def _place(right: tuple[float, float], left: tuple[float, float], side: float,
           geometry: CropGeometry) -> BoxPlacement:
    (rx, ry), (lx, ly) = (float(v) for v in right), (float(v) for v in left)
    dx, dy = lx - rx, ly - ry           # right eye (image left) -> left eye (image right)
    norm = float(np.hypot(dx, dy)) or 1.0
    down = (-dy / norm, dx / norm)      # the face's down direction in the image
    mx, my = (lx + rx) / 2, (ly + ry) / 2
    drop = geometry.face_drop * side
    return BoxPlacement(face=(mx + drop * down[0], my + drop * down[1], side),
                        right_eye=(rx, ry), left_eye=(lx, ly),
                        eye_side=geometry.eye_scale * side)


def boxes_from_placement(place: BoxPlacement, frame_w: int, frame_h: int,
                         geometry: CropGeometry) -> CropBoxes:
    """Whole-pixel boxes inside the frame, or why there are none."""
    eyes_xy = {"left_eye": place.left_eye, "right_eye": place.right_eye}
    if not all(0 <= x < frame_w and 0 <= y < frame_h for x, y in eyes_xy.values()):
        return CropBoxes(invalid=InvalidReason.EYES_OUTSIDE_FRAME,
                         message="an eye lies outside the frame")
    cx, cy, side = place.face
    if side < geometry.min_face_px:
        return CropBoxes(invalid=InvalidReason.FACE_TOO_SMALL,
                         message=f"face box {side:.0f} px is smaller than "
                                 f"{geometry.min_face_px:.0f} px")
    face = square_box(cx, cy, side, frame_w, frame_h)
    if face is None:
        return CropBoxes(invalid=InvalidReason.EYES_OUTSIDE_FRAME,
                         message=f"face box {side:.0f} px does not fit the "
                                 f"{frame_w}x{frame_h} frame")
    eyes = {}
    for name, (ex, ey) in eyes_xy.items():
        box = square_box(ex, ey, place.eye_side, frame_w, frame_h)
        # An eye box moved by more than a quarter of its side no longer shows the whole eye.
        if box is None or max(abs(box[0] + box[2] / 2 - ex),
                              abs(box[1] + box[3] / 2 - ey)) > box[2] / 4:
            return CropBoxes(invalid=InvalidReason.EYES_OUTSIDE_FRAME,
                             message=f"the {name.replace('_', ' ')} box leaves the frame")
        eyes[name] = box
    return CropBoxes(face=face, **eyes)


def crop_boxes(detection: FaceDetection, frame_w: int, frame_h: int,
               geometry: CropGeometry = CROP_GEOMETRIES["keypoints-v1"]) -> CropBoxes:
    """Face and eye boxes for ``detection`` in a ``frame_w`` x ``frame_h`` frame (keypoint
    geometry; a landmarks geometry needs the mesh: :func:`mesh_crop_boxes`)."""
    if geometry.source != "keypoints":
        raise ConfigError(f"crop geometry {geometry.name!r} places boxes from the face mesh; "
                          f"use mesh_crop_boxes")
    return boxes_from_placement(place_from_keypoints(detection, geometry), frame_w, frame_h,
                                geometry)


def mesh_crop_boxes(points: np.ndarray, frame_w: int, frame_h: int,
                    geometry: CropGeometry = CROP_GEOMETRIES["landmarks-v1"]) -> CropBoxes:
    """Face and eye boxes from face mesh points (468, 3) in frame pixels."""
    return boxes_from_placement(place_from_mesh(points, geometry), frame_w, frame_h, geometry)


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
