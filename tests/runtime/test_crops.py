"""Crop geometry: boxes worked by hand, GazeSim's box rule, patches and the face grid."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.runtime.crops import CropGeometry, crop_boxes, model_inputs, square_box
from gazesdk.runtime.detector import FaceDetection
from gazesdk.runtime.frames import InvalidReason

# MediaPipe's detection of skimage.data.astronaut() (../shared notes): box and eye keypoints.
ASTRONAUT = FaceDetection(box=(177.0, 82.0, 95.0, 95.0), score=0.92,
                          keypoints={"right_eye": (201.4954, 104.8983),
                                     "left_eye": (245.8457, 109.0970)})


def _by_hand(det: FaceDetection, w: int, h: int) -> tuple[tuple, tuple, tuple]:
    """The GazeSim crop rule, worked with angles instead of the module's vectors."""
    (rx, ry), (lx, ly) = det.keypoints["right_eye"], det.keypoints["left_eye"]
    side = 15.5 / 13.5 * det.box[2]
    roll = math.atan2(ly - ry, lx - rx)
    drop = 2.2 / 15.5 * side                       # below the eyes, along the face's own axis
    cx = (lx + rx) / 2 - math.sin(roll) * drop
    cy = (ly + ry) / 2 + math.cos(roll) * drop

    def box(x, y, s):
        s = math.floor(s + 0.5)
        return (min(max(math.floor(x - s / 2 + 0.5), 0), w - s),
                min(max(math.floor(y - s / 2 + 0.5), 0), h - s), s, s)

    eye = 1.45 * 2.9 / 15.5 * side
    return box(cx, cy, side), box(lx, ly, eye), box(rx, ry, eye)


def test_astronaut_boxes_match_the_hand_computation():
    b = crop_boxes(ASTRONAUT, 512, 512)
    face, left, right = _by_hand(ASTRONAUT, 512, 512)
    assert (b.face, b.left_eye, b.right_eye) == (face, left, right)
    assert b.face == (168, 68, 109, 109)              # and the numbers, once, in full
    assert b.left_eye == (231, 94, 30, 30) and b.right_eye == (186, 90, 30, 30)


def test_rolled_face_moves_the_face_box_along_the_face():
    rng = np.random.default_rng(3)
    for _ in range(50):
        angle = rng.uniform(-0.5, 0.5)
        cx, cy, half = rng.uniform(250, 350), rng.uniform(200, 300), rng.uniform(20, 40)
        r = (cx - half * math.cos(angle), cy - half * math.sin(angle))
        left = (cx + half * math.cos(angle), cy + half * math.sin(angle))
        det = FaceDetection((cx - 50, cy - 50, 100.0, 100.0), 0.9,
                            {"right_eye": r, "left_eye": left})
        b = crop_boxes(det, 640, 640)
        assert (b.face, b.left_eye, b.right_eye) == _by_hand(det, 640, 640)


def test_square_box_agrees_with_gazesim_away_from_ties():
    from gazesdk.sim.scene import _square

    rng = np.random.default_rng(0)
    centres = rng.uniform(-20, 700, (300, 2)) + 0.123
    sizes = rng.uniform(8.3, 300, 300)
    ref = _square(centres, sizes, np.full(300, 640), np.full(300, 480))
    for c, s, want in zip(centres, sizes, ref, strict=True):
        got = square_box(c[0], c[1], s, 640, 480)
        assert got == tuple(int(v) for v in want)


def test_boxes_are_moved_not_cut_at_the_frame_edge():
    det = FaceDetection((0.0, 10.0, 100.0, 100.0), 0.9,
                        {"right_eye": (30.0, 50.0), "left_eye": (70.0, 50.0)})
    b = crop_boxes(det, 200, 200)
    assert b.face[0] == 0 and b.face[2] == round(100 * 15.5 / 13.5)


@pytest.mark.parametrize("det, size, reason", [
    (FaceDetection((10.0, 10.0, 40.0, 40.0), 0.9,
                   {"right_eye": (20.0, 25.0), "left_eye": (38.0, 25.0)}), 200,
     InvalidReason.FACE_TOO_SMALL),
    (FaceDetection((150.0, 10.0, 100.0, 100.0), 0.9,
                   {"right_eye": (170.0, 40.0), "left_eye": (215.0, 40.0)}), 200,
     InvalidReason.EYES_OUTSIDE_FRAME),
    (FaceDetection((10.0, 10.0, 150.0, 150.0), 0.9,
                   {"right_eye": (40.0, 50.0), "left_eye": (100.0, 50.0)}), 160,
     InvalidReason.EYES_OUTSIDE_FRAME),           # the face box is larger than the frame
    (FaceDetection((60.0, 60.0, 100.0, 100.0), 0.9,
                   {"right_eye": (2.0, 100.0), "left_eye": (45.0, 100.0)}), 300,
     InvalidReason.EYES_OUTSIDE_FRAME),           # the right eye box must move half its side
])
def test_refusals(det, size, reason):
    b = crop_boxes(det, size, size)
    assert b.invalid is reason and b.face is None and b.message


def test_geometry_options_are_checked():
    with pytest.raises(ValueError, match="face_scale"):
        CropGeometry(face_scale=0)
    with pytest.raises(ValueError, match="face_drop"):
        CropGeometry(face_drop=1.5)


def test_patches_are_area_means_and_inputs_are_nchw_over_255():
    rng = np.random.default_rng(5)
    frame = rng.integers(0, 256, (400, 400, 3), dtype=np.uint8)
    # A face box of exactly 128 px: area resizing to 64 is the mean of each 2x2 block.
    side = 128 * 13.5 / 15.5
    det = FaceDetection((100.0, 100.0, side, side), 0.9,
                        {"right_eye": (160.0, 150.0), "left_eye": (220.0, 150.0)})
    boxes = crop_boxes(det, 400, 400)
    assert boxes.face[2] == 128
    inputs, patches = model_inputs(frame, boxes)
    x, y, _, _ = boxes.face
    block = frame[y:y + 128, x:x + 128].astype(float).reshape(64, 2, 64, 2, 3).mean((1, 3))
    assert np.abs(patches["face"].astype(float) - block).max() <= 0.5 + 1e-9
    for name in ("face", "left_eye", "right_eye"):
        assert inputs[name].shape == (1, 3, 64, 64) and inputs[name].dtype == np.float32
        assert np.allclose(inputs[name][0].transpose(1, 2, 0) * 255, patches[name], atol=1e-3)
    # Face grid (GazeCapture): X = round(x * 25 / W) + 1, W = round(w * 25 / W), 1-indexed.
    gx, gy = math.floor(x * 25 / 400 + 0.5), math.floor(y * 25 / 400 + 0.5)
    gw = math.floor(128 * 25 / 400 + 0.5)
    want = np.zeros((25, 25))
    want[gy:gy + gw, gx:gx + gw] = 1
    assert np.array_equal(inputs["face_grid"][0], want)


# --- named geometries and landmark crops ------------------------------------------------------

def test_registered_geometries_by_name():
    from gazesdk.runtime.crops import CROP_GEOMETRIES, get_crop_geometry

    assert sorted(CROP_GEOMETRIES) == ["keypoints-v1", "landmarks-v1"]
    lm = get_crop_geometry("landmarks-v1")
    assert lm.source == "landmarks" and lm.face_scale == pytest.approx(15.5 / 6.3)
    assert get_crop_geometry("keypoints-v1").face_scale == pytest.approx(15.5 / 13.5)
    assert CropGeometry(source="landmarks", min_face_px=40).name == "landmarks-custom"
    # the metadata form round-trips, and a name that does not match its numbers is refused
    assert CropGeometry.from_dict(lm.to_dict()) == lm
    with pytest.raises(ConfigError, match="does not match"):
        CropGeometry.from_dict({**lm.to_dict(), "eye_scale": 0.3})
    with pytest.raises(ConfigError, match="unknown crop option"):
        CropGeometry.from_dict({"source": "landmarks", "nose": 1})
    with pytest.raises(ConfigError, match="unknown crop geometry"):
        get_crop_geometry("landmarks-v7")
    with pytest.raises(ConfigError, match="source"):
        CropGeometry(source="mesh")


def _mesh(right_corners, left_corners, z=(0.0, 0.0)):
    from gazesdk.runtime.face_mesh import (
        LEFT_EYE_INNER,
        LEFT_EYE_OUTER,
        RIGHT_EYE_INNER,
        RIGHT_EYE_OUTER,
    )

    pts = np.zeros((468, 3))
    pts[:, :2] = 200.0
    pts[RIGHT_EYE_OUTER, :2], pts[RIGHT_EYE_INNER, :2] = right_corners
    pts[LEFT_EYE_INNER, :2], pts[LEFT_EYE_OUTER, :2] = left_corners
    pts[[RIGHT_EYE_OUTER, RIGHT_EYE_INNER], 2] = z[0]
    pts[[LEFT_EYE_INNER, LEFT_EYE_OUTER], 2] = z[1]
    return pts


def test_landmark_boxes_by_hand():
    from gazesdk.runtime.crops import mesh_crop_boxes

    # level eyes: corner midpoints (170, 150) and (230, 150), 60 px apart
    pts = _mesh(((155, 150), (185, 150)), ((215, 150), (245, 150)))
    b = mesh_crop_boxes(pts, 400, 400)
    side = 15.5 / 6.3 * 60                                 # 147.6 -> 148
    drop = 2.2 / 15.5 * side                               # 20.95 px below the eye midpoint
    assert b.face == square_box(200, 150 + drop, side, 400, 400)
    assert b.face[2] == 148
    eye = 0.27129032258064517 * side                       # 40.04 -> 40
    assert b.right_eye == (150, 130, 40, 40) and b.left_eye == (210, 130, 40, 40)
    assert eye == pytest.approx(40.04, abs=0.01)
    # a head turned away keeps its scale: the mesh's depth difference enters the distance
    turned = _mesh(((160, 150), (185, 150)), ((210, 150), (232, 150)), z=(-20.0, 12.0))
    d3 = np.hypot(np.hypot(221 - 172.5, 0.0), 32.0)
    assert mesh_crop_boxes(turned, 400, 400).face[2] == round(15.5 / 6.3 * d3)
    with pytest.raises(ValueError, match="468"):
        mesh_crop_boxes(np.zeros((10, 3)), 400, 400)
    with pytest.raises(ConfigError, match="face mesh"):
        crop_boxes(ASTRONAUT, 512, 512, CropGeometry(source="landmarks"))
