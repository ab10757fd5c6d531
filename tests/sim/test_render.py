"""The renderer draws what the geometry says: iris position follows the eye's rotation, kappa
changes the label and not the image, patches agree with crops of the full frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import make_state

from gazesdk.sim.render import render_views
from gazesdk.sim.scene import build_scene

DEG = np.pi / 180


def iris_centroid(patches: np.ndarray) -> np.ndarray:
    """(N, 2) centroid (x, y) of blue-iris pixels, found from colour alone."""
    rgb = patches.astype(float)
    blueness = rgb[..., 2] - rgb[..., 0]
    w = np.clip(blueness - 40, 0, None)
    ys, xs = np.mgrid[0:patches.shape[1], 0:patches.shape[2]]
    total = w.sum((1, 2))
    assert (total > 0).all(), "no iris pixels found"
    return np.stack([(w * xs).sum((1, 2)) / total, (w * ys).sum((1, 2)) / total], 1)


def eye_patches(sim, camera, state, eye: str) -> np.ndarray:
    scene = build_scene(state, camera)
    e = 0 if eye == "right_eye" else 1
    # One box for all frames (the head is fixed): the first frame's detector box.
    boxes = np.repeat(scene.eye_boxes[:1, e], len(state.target), axis=0)
    return render_views(scene, boxes, (64, 64), eye)


@pytest.mark.parametrize("eye", ["right_eye", "left_eye"])
def test_iris_moves_left_in_the_image_as_the_dot_moves_right(base_sim, camera, eye):
    # The dot moves towards +x (the user's right); the eyes turn that way, and the camera sees
    # the user unmirrored, so the iris moves towards smaller u (image left).
    xs = np.linspace(-8, 8, 9)
    targets = np.stack([xs, np.full(9, -6.0), np.zeros(9)], 1)
    cx = iris_centroid(eye_patches(base_sim, camera, make_state(base_sim, targets), eye))[:, 0]
    assert (np.diff(cx) < 0).all(), cx
    # About 16 cm of dot travel at 30 cm turns the eye ~30 deg: several pixels in a 64 px patch.
    assert cx[0] - cx[-1] > 6


def test_iris_moves_up_in_the_image_as_the_dot_moves_up(base_sim, camera):
    ys = np.linspace(-12, 0, 7)
    targets = np.stack([np.zeros(7), ys, np.zeros(7)], 1)
    cy = iris_centroid(eye_patches(base_sim, camera, make_state(base_sim, targets),
                                   "right_eye"))[:, 1]
    assert (np.diff(cy) < 0).all(), cy


def test_lids_follow_gaze_pitch(base_sim, camera):
    # Looking down lowers the upper lid: fewer bright eye (sclera) or blue (iris) pixels are
    # visible, counted from the image; the head and the crop stay the same.
    targets = np.array([[0.0, 2.0, 0.0], [0.0, -16.0, 0.0]])
    patches = eye_patches(base_sim, camera, make_state(base_sim, targets), "right_eye")
    rgb = patches.astype(int)
    visible_eye = ((rgb[..., 2] - rgb[..., 0]) > 40) | (rgb.min(-1) > 200)
    up, down = visible_eye.sum((1, 2))
    assert down < 0.8 * up, (up, down)


@pytest.mark.parametrize("roll", [-0.4, 0.4])
def test_face_outline_rolls_with_the_eye_line(base_sim, camera, roll):
    """Under head roll, the face's long axis stays perpendicular to the line through the eyes
    (both measured from the rendered frame: skin pixels' second moments, iris centroids)."""
    state = make_state(base_sim, np.array([[0.0, -4.0, 0.0]]), head_pose=(0.0, 0.0, roll))
    scene = build_scene(state, camera)
    w, h = int(scene.frame_w[0]), int(scene.frame_h[0])
    frame = render_views(scene, np.array([[0.0, 0.0, w, h]]), (w, h), "frame")[0].astype(int)
    eyes = iris_centroid(np.stack([render_views(scene, scene.eye_boxes[:, e], (64, 64),
                                                kind)[0] for e, kind in
                                   ((0, "right_eye"), (1, "left_eye"))]))
    boxes = scene.eye_boxes[0]
    centres = boxes[:, :2] + eyes * boxes[:, 2:3] / 64
    eye_dx, eye_dy = centres[1] - centres[0]
    eye_angle = np.arctan2(eye_dy, eye_dx)
    # Skin: the subject's skin hue (red clearly above blue) and not the dark hair.
    skin = (frame[..., 0] - frame[..., 2] > 25) & (frame.sum(-1) > 300)
    ys, xs = np.nonzero(skin)
    cov = np.cov(np.stack([xs, ys]))
    evals, evecs = np.linalg.eigh(cov)
    long_axis = evecs[:, 1]
    cos_between = abs(np.cos(np.arctan2(long_axis[1], long_axis[0]) - eye_angle))
    assert cos_between < 0.12, (np.degrees(eye_angle), long_axis)
    # The eye line is rolled in the image as the head is (image y points down).
    assert np.sign(eye_angle) == np.sign(roll) or abs(eye_angle) > 0.2


def _rotate_down(v: np.ndarray, angle: float) -> np.ndarray:
    """Rotate directions about the x axis so they point ``angle`` lower (hand-written)."""
    c, s = np.cos(angle), np.sin(angle)
    # For a direction (x, y, z) with z < 0 (towards the screen), "down" decreases y.
    return np.stack([v[:, 0], v[:, 1] * c + v[:, 2] * s, -v[:, 1] * s + v[:, 2] * c], 1)


def _closest_point(p1, d1, p2, d2) -> np.ndarray:
    """The midpoint of the shortest segment between two lines."""
    w = p1 - p2
    a, b, c = d1 @ d1, d1 @ d2, d2 @ d2
    d, e = d1 @ w, d2 @ w
    t1 = (b * e - c * d) / (a * c - b * b)
    t2 = (a * e - b * d) / (a * c - b * b)
    return (p1 + t1 * d1 + p2 + t2 * d2) / 2


def test_kappa_shifts_the_label_not_the_image(base_sim, camera):
    """A subject with vertical kappa looking at dot D shows the same image as a kappa-free
    copy looking at the point where the first one's optical axes cross: the image is set by
    the optical axes, the label by the visual axes."""
    kappa = 3.0 * DEG
    dot = np.array([1.0, -6.0, 0.0])
    with_kappa = make_state(base_sim, dot[None], kappa_v=kappa)
    scene_k = build_scene(with_kappa, camera)
    centres = scene_k.eyeball_centres[0]
    visual = (dot - centres) / np.linalg.norm(dot - centres, axis=1, keepdims=True)
    optical = _rotate_down(visual, kappa)
    crossing = _closest_point(centres[0], optical[0], centres[1], optical[1])

    without = make_state(base_sim, crossing[None], kappa_v=0.0)
    scene_0 = build_scene(without, camera)
    np.testing.assert_allclose(scene_0.optical_axes, scene_k.optical_axes, atol=1e-9)
    for kind, boxes_k, boxes_0 in (("face", scene_k.face_box, scene_0.face_box),
                                   ("right_eye", scene_k.eye_boxes[:, 0], scene_0.eye_boxes[:, 0]),
                                   ("left_eye", scene_k.eye_boxes[:, 1], scene_0.eye_boxes[:, 1])):
        a = render_views(scene_k, boxes_k, (64, 64), kind)
        b = render_views(scene_0, boxes_0, (64, 64), kind)
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1, kind
    # ...while the labels (where the visual axes meet the screen) differ: the crossing lies
    # below the dot by roughly distance * tan(kappa) ~ 30 cm * 0.052 = 1.6 cm (along the ray).
    assert crossing[1] < dot[1] - 1.0

    # And the same dot with and without kappa gives different images (the check can fail).
    plain = build_scene(make_state(base_sim, dot[None]), camera)
    a = render_views(scene_k, scene_k.eye_boxes[:, 0], (64, 64), "right_eye")
    b = render_views(plain, scene_k.eye_boxes[:, 0], (64, 64), "right_eye")
    assert np.abs(a.astype(int) - b.astype(int)).max() > 30


def test_horizontal_kappa_turns_each_optical_axis_temporally(base_sim, camera):
    scene = build_scene(make_state(base_sim, np.array([[0.0, -5.0, 0.0]]), kappa_h=5 * DEG),
                        camera)
    vis, opt = scene.visual_axes[0], scene.optical_axes[0]
    # Kappa is an azimuth offset about the head's vertical axis (head neutral here): the
    # azimuth atan2(x, -z) differs by exactly 5 deg, temporally (right eye, index 0, at +x,
    # turns to +x; the left eye to -x); the elevation is unchanged.
    azimuth = np.degrees(np.arctan2(opt[:, 0], -opt[:, 2]) - np.arctan2(vis[:, 0], -vis[:, 2]))
    np.testing.assert_allclose(azimuth, [5.0, -5.0], atol=1e-9)
    elevation = np.arctan2(opt[:, 1], np.hypot(opt[:, 0], opt[:, 2]))
    np.testing.assert_allclose(elevation, np.arctan2(vis[:, 1], np.hypot(vis[:, 0], vis[:, 2])),
                               atol=1e-12)


def test_patch_matches_area_resized_crop_of_the_frame(base_sim, camera):
    """Direct patches are the same box of the full frame, area-resized (noise-free)."""
    state = make_state(base_sim, np.array([[2.0, -7.0, 0.0]]), head_pose=(0.1, -0.05, 0.04))
    scene = build_scene(state, camera)
    w, h = int(scene.frame_w[0]), int(scene.frame_h[0])
    frame = render_views(scene, np.array([[0.0, 0.0, w, h]]), (w, h), "frame")[0]
    for kind, box in (("face", scene.face_box[0]), ("right_eye", scene.eye_boxes[0, 0]),
                      ("left_eye", scene.eye_boxes[0, 1])):
        x, y, bw, bh = box.astype(int)
        crop = cv2.resize(frame[y:y + bh, x:x + bw], (64, 64), interpolation=cv2.INTER_AREA)
        direct = render_views(scene, box[None], (64, 64), kind)[0]
        diff = np.abs(crop.astype(float) - direct.astype(float))
        # Analytic soft edges vs averaged pixels differ only along edges, by a few levels.
        assert diff.mean() < 2.0, (kind, diff.mean())


def test_noise_is_deterministic_per_key_and_has_the_session_scale(base_sim, camera):
    state = make_state(base_sim, np.array([[0.0, -5.0, 0.0]] * 2))
    scene = build_scene(state, camera)
    boxes = scene.eye_boxes[:, 0]
    clean = render_views(scene, boxes, (64, 64), "right_eye").astype(float)
    a = render_views(scene, boxes, (64, 64), "right_eye", noise_keys=np.array([5, 6]))
    b = render_views(scene, boxes, (64, 64), "right_eye", noise_keys=np.array([5, 6]))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])               # different keys, different noise
    assert np.abs(a.astype(float) - clean).mean() > 0.2


def test_unknown_view_kind_is_an_error(base_sim, camera):
    scene = build_scene(make_state(base_sim, np.array([[0.0, -5.0, 0.0]])), camera)
    with pytest.raises(ValueError, match="unknown view kind"):
        render_views(scene, scene.face_box, (64, 64), "nose")
