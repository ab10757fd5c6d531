"""From a frame's 3-D state (head, eyes, target, light) to what the renderer needs in 2-D.

Head frame (cm): origin at the midpoint of the two eyeball centres; x towards the subject's
right, y up, z towards the back of the head, so that a neutral head (identity rotation) faces
the screen along the camera's -z. Features are placed in that frame and projected with the
camera (:mod:`gazesdk.sim.camera`). Planar features (eye opening, iris disc, brows, mouth,
glasses) are drawn through the projection's local Jacobian, so foreshortening, roll and
perspective follow from the 3-D state; nothing about gaze is drawn in 2-D directly.

Eyes: index 0 is the subject's right eye (+x), 1 the left eye. Each eye fixates the target with
its *visual* axis; the iris is drawn along the *optical* axis, which is the visual axis rotated
by the subject's kappa (temporally by kappa_h, downwards by kappa_v, in the head frame). The
label is the target, so kappa moves the label relative to what the image shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gazesdk.sim.camera import Camera
from gazesdk.sim.rotation import euler_to_matrix, rotate_towards
from gazesdk.sim.session import Sessions
from gazesdk.sim.subject import Subjects

EYE_SIGN = np.array([1.0, -1.0])   # right eye at +x, left eye at -x
CORNEA_OFFSET_CM = 0.55            # eyeball centre -> corneal sphere centre
CORNEA_RADIUS_CM = 0.78
FACE_RADII_CM = np.array([7.5, 9.8])       # silhouette half width, half height at scale 1
FACE_CENTRE_CM = np.array([0.0, -2.4, 4.0])
FACE_BOX_CENTRE_CM = np.array([0.0, -2.2, -1.0])
FACE_BOX_SIZE_CM = 15.5
EYE_BOX_SCALE = 1.45               # eye box side / eye fissure width (as a detector boxes it)


@dataclass(frozen=True)
class FrameState:
    """The 3-D state of N frames (cm, radians, camera frame)."""

    subjects: Subjects          # traits per frame
    sessions: Sessions          # session per frame
    head_pos: np.ndarray        # (N, 3) eye midpoint
    head_pose: np.ndarray       # (N, 3) yaw, pitch, roll
    target: np.ndarray          # (N, 3) point both visual axes go through
    fixation: np.ndarray        # (N, 2) conjugate fixation error (h, v) of the visual axes
    exposure: np.ndarray        # (N,) frame gain (session exposure x flicker)
    face_box_jitter: np.ndarray  # (N, 3) dx, dy (fractions of size), log-size
    eye_box_jitter: np.ndarray   # (N, 2, 3)
    lid_closure: np.ndarray | None = None  # (N,) blink: 0 open .. 1 shut; None: all open


@dataclass(frozen=True)
class Planar:
    """A planar feature seen in the image: ``local = inv @ (pixel - centre)`` gives coordinates
    in the feature's own plane (cm, or radii for the face); ``px_per_unit`` sets how soft its
    edges are."""

    centre: np.ndarray   # (N, 2) pixels
    inv: np.ndarray      # (N, 2, 2) pixels -> local units
    px_per_unit: np.ndarray  # (N,)


@dataclass(frozen=True)
class Scene:
    """Everything the renderer draws for N frames, in frame pixels."""

    frame_w: np.ndarray
    frame_h: np.ndarray
    face: Planar                 # silhouette, in units of its radii (unit disc)
    face_shading: np.ndarray     # (N, 3) n . light = c0 xi + c1 eta + c2 zeta
    nose: Planar
    mouth: Planar
    hair: Planar                 # at the hairline
    eyes: tuple[Planar, Planar]  # eye openings (corner midpoints), head x/y axes
    irises: tuple[Planar, Planar]  # iris discs
    brows: tuple[Planar, Planar]
    glasses: tuple[Planar, Planar]
    glints: np.ndarray           # (N, 2 eyes, 2 lights, 3): u, v, strength
    lid_upper_cm: np.ndarray     # (N, 2)
    lid_lower_cm: np.ndarray     # (N, 2)
    optical_axes: np.ndarray     # (N, 2, 3) unit vectors, camera frame
    visual_axes: np.ndarray      # (N, 2, 3)
    eyeball_centres: np.ndarray  # (N, 2, 3)
    face_box: np.ndarray         # (N, 4) x, y, w, h integer pixels
    eye_boxes: np.ndarray        # (N, 2, 4) right eye, left eye
    subjects: Subjects
    sessions: Sessions
    exposure: np.ndarray


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _planar(camera: Camera, point: np.ndarray, axes: np.ndarray, frame_w: np.ndarray,
            frame_h: np.ndarray, scale: np.ndarray | None = None) -> Planar:
    """Feature at 3-D ``point`` spanned by ``axes`` (N, 2, 3); ``scale`` (N, 2) divides the local
    coordinates (to express them in radii)."""
    jac = camera.jacobian(point, axes)               # (N, 2, 2): cm -> px
    if scale is not None:
        jac = jac * scale[:, None, :]
    inv = np.linalg.inv(jac)
    px_per_unit = np.sqrt(np.abs(np.linalg.det(jac)))
    return Planar(camera.project(point, frame_w, frame_h), inv, px_per_unit)


def optical_axes_for(state: FrameState, rot: np.ndarray,
                     centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Visual and optical axes (N, 2, 3) of both eyes, camera frame."""
    subj = state.subjects
    visual = _unit(state.target[:, None, :] - centres)
    out_v, out_o = [], []
    for e in (0, 1):
        v_head = np.einsum("nji,nj->ni", rot, visual[:, e])          # R^T v
        v_head = rotate_towards(v_head, state.fixation[:, 0], state.fixation[:, 1])
        # Optical axis: temporal of the visual axis by kappa_h (+x is temporal for the right
        # eye), below it by kappa_v.
        kh = subj.kappa_h + EYE_SIGN[e] * subj.kappa_asym
        o_head = rotate_towards(v_head, EYE_SIGN[e] * kh, -subj.kappa_v)
        out_v.append(np.einsum("nij,nj->ni", rot, v_head))
        out_o.append(np.einsum("nij,nj->ni", rot, o_head))
    return np.stack(out_v, 1), np.stack(out_o, 1)


def build_scene(state: FrameState, camera: Camera) -> Scene:
    subj, sess = state.subjects, state.sessions
    n = len(state.head_pos)
    frame_w, frame_h = (a.astype(np.float64) for a in camera.frame_size(sess.orientation))
    rot = euler_to_matrix(*state.head_pose.T)                        # head -> camera
    hx, hy = rot[:, :, 0], rot[:, :, 1]
    head_axes = np.stack([hx, hy], 1)

    def at(local: np.ndarray) -> np.ndarray:                          # head point -> camera
        return state.head_pos + np.einsum("nij,nj->ni", rot, local)

    fs = subj.face_scale
    zeros = np.zeros(n)
    half_iod = subj.interocular_cm / 2
    centres = np.stack([at(np.stack([s * half_iod, zeros, zeros], 1)) for s in EYE_SIGN], 1)
    visual, optical = optical_axes_for(state, rot, centres)

    # Face silhouette: a head ellipsoid whose outline stays upright in the head's roll.
    face_c = at(FACE_CENTRE_CM * np.stack([fs, fs, np.ones(n)], 1))
    roll = state.head_pose[:, 2]
    roll_axes = np.stack([np.stack([np.cos(roll), np.sin(roll), zeros], 1),      # = R_z's columns
                          np.stack([-np.sin(roll), np.cos(roll), zeros], 1)], 1)
    face = _planar(camera, face_c, roll_axes, frame_w, frame_h,
                   scale=FACE_RADII_CM[None, :] * fs[:, None])
    # Lambert on a sphere through the silhouette: the outward normal at local (xi, eta) is
    # xi a_x + eta a_y - zeta z (a: the local axes in the camera frame; -z faces the camera),
    # zeta = sqrt(1 - xi^2 - eta^2); the renderer forms n . light from these coefficients.
    ld = sess.light_dir
    face_shading = np.stack([(roll_axes[:, 0] * ld).sum(1), (roll_axes[:, 1] * ld).sum(1),
                             -ld[:, 2]], 1)

    nose = _planar(camera, at(np.stack([zeros, -3.3 * fs, -2.4 * fs], 1)), head_axes,
                   frame_w, frame_h)
    mouth = _planar(camera, at(np.stack([zeros, -6.3 * fs, -1.3 * fs], 1)), head_axes,
                    frame_w, frame_h)
    hair = _planar(camera, at(np.stack([zeros, subj.hairline_cm * fs, -1.0 + zeros], 1)),
                   head_axes, frame_w, frame_h)

    eyes, irises, brows, glasses = [], [], [], []
    glints = np.zeros((n, 2, 2, 3))
    lid_up, lid_low = np.zeros((n, 2)), np.zeros((n, 2))
    screen_point = np.concatenate([sess.screen_centre_cm, zeros[:, None]], 1)
    for e, sign in enumerate(EYE_SIGN):
        r = subj.eyeball_radius_cm
        eyes.append(_planar(camera, at(np.stack([sign * half_iod, zeros, -0.85 * r], 1)),
                            head_axes, frame_w, frame_h))
        # Lids follow the eye's elevation in the head (looking down lowers the upper lid).
        o_head = np.einsum("nji,nj->ni", rot, optical[:, e])
        elev = np.arcsin(np.clip(o_head[:, 1], -1, 1))
        lid_up[:, e] = np.clip(subj.upper_lid_cm * (1 + 1.6 * elev), 0.05, 1.8 * subj.upper_lid_cm)
        lid_low[:, e] = np.clip(subj.lower_lid_cm * (1 - 0.5 * elev), 0.1, 1.5 * subj.lower_lid_cm)
        if state.lid_closure is not None:
            # A blink: the upper lid comes down to the lower one, which rises a little; at
            # closure 1 the opening (lower < t < upper in the renderer) is empty everywhere.
            c = np.clip(state.lid_closure, 0.0, 1.0)
            lid_low[:, e] *= 1.0 - 0.3 * c
            lid_up[:, e] = lid_up[:, e] * (1.0 - c) - c * lid_low[:, e]

        o = optical[:, e]
        iris_c = centres[:, e] + np.sqrt(r**2 - subj.iris_radius_cm**2)[:, None] * o
        e1 = _unit(np.cross(hy, o))
        e2 = np.cross(o, e1)
        irises.append(_planar(camera, iris_c, np.stack([e1, e2], 1), frame_w, frame_h))
        brows.append(_planar(camera, at(np.stack([sign * (half_iod + 0.25),
                                                  subj.brow_height_cm * fs, -1.3 + zeros], 1)),
                             head_axes, frame_w, frame_h))
        lens_centre = at(np.stack([sign * half_iod, 0.05 + zeros, -2.0 + zeros], 1))
        glasses.append(_planar(camera, lens_centre, head_axes, frame_w, frame_h))
        # Corneal reflections (mirror on the corneal sphere) of the main light and the screen.
        cornea = centres[:, e] + CORNEA_OFFSET_CM * o
        to_cam = _unit(-cornea)
        for k, to_light in enumerate((ld, _unit(screen_point - cornea))):
            normal = _unit(to_light + to_cam)
            point = cornea + CORNEA_RADIUS_CM * normal
            on_cornea = (normal * o).sum(1) > np.cos(np.deg2rad(38))
            facing = (to_light * -rot[:, :, 2]).sum(1) > 0.05     # light in front of the face
            strength = np.where(k == 0, (sess.light_rgb.mean(1) * 0.9),
                                sess.screen_glow * 2.5) * on_cornea * facing
            glints[:, e, k, :2] = camera.project(point, frame_w, frame_h)
            glints[:, e, k, 2] = strength

    # Detector boxes: square, axis-aligned, integer pixels; session habit + per-frame jitter.
    fb_c = camera.project(at(FACE_BOX_CENTRE_CM * np.stack([fs, fs, np.ones(n)], 1)),
                          frame_w, frame_h)
    fb_size = FACE_BOX_SIZE_CM * fs * camera.focal_px / state.head_pos[:, 2]
    fj = sess.face_box_bias + state.face_box_jitter
    face_box = _square(fb_c + fj[:, :2] * fb_size[:, None], fb_size * np.exp(fj[:, 2]),
                       frame_w, frame_h)
    eye_boxes = np.zeros((n, 2, 4))
    for e in (0, 1):
        p = eyes[e]
        width_px = subj.fissure_width_cm * p.px_per_unit
        size = EYE_BOX_SCALE * width_px
        ej = sess.eye_box_bias + state.eye_box_jitter[:, e]
        eye_boxes[:, e] = _square(p.centre + ej[:, :2] * size[:, None], size * np.exp(ej[:, 2]),
                                  frame_w, frame_h)
    return Scene(frame_w=frame_w, frame_h=frame_h, face=face, face_shading=face_shading,
                 nose=nose, mouth=mouth, hair=hair, eyes=tuple(eyes), irises=tuple(irises),
                 brows=tuple(brows), glasses=tuple(glasses), glints=glints,
                 lid_upper_cm=lid_up, lid_lower_cm=lid_low, optical_axes=optical,
                 visual_axes=visual, eyeball_centres=centres, face_box=face_box,
                 eye_boxes=eye_boxes, subjects=subj, sessions=sess, exposure=state.exposure)


def _square(centre: np.ndarray, size: np.ndarray, frame_w: np.ndarray,
            frame_h: np.ndarray) -> np.ndarray:
    """Integer square boxes, moved (not cut) to lie inside the frame, as a detector reports."""
    side = np.clip(np.round(size), 8, np.minimum(frame_w, frame_h))
    x0 = np.clip(np.round(centre[:, 0] - side / 2), 0, frame_w - side)
    y0 = np.clip(np.round(centre[:, 1] - side / 2), 0, frame_h - side)
    return np.stack([x0, y0, side, side], 1)
