"""Rendering a :class:`~gazesdk.sim.scene.Scene` into images.

A *view* is an axis-aligned box of the camera frame (x, y, w, h in frame pixels) sampled on an
output grid: a 64x64 patch (face or eye crop) or the whole frame. Every feature is an analytic
shape evaluated at the view's pixel centres, with edges softened over one pixel footprint (the
larger of a view pixel and a sensor pixel), so a patch rendered directly looks like the same box
cropped from the rendered frame and resized with area averaging. Blur and sensor noise are
specified per sensor pixel and scaled to the view (noise averages down with the footprint).
Blur is analytic: every edge is widened by the blur, which is what a Gaussian blur does to a
scene made of smooth fields and edges.

Eye details (``Subjects.eye_detail``, from ``SimConfig.eye_detail``): lashes, lid crease,
socket shading, lower-lid line, iris striations and limbal ring, sclera tint, caruncle. They are
separate branches of the kernel, taken only for subjects with the flag, so without it the
image is bit-identical to the plain renderer; they change no geometry (iris, lids, glints).

Colour is linear reflectance x light; sensor noise acts on linear intensities, which are then
encoded with gamma 2 (a square root) to 8 bits, RGB.

The per-pixel work is one compiled kernel (numba): per frame, the scene is packed into a row
of numbers (:func:`_pack`), and the kernel shades every pixel of every view with early exits
outside each feature's extent. Sensor noise is a hash of (frame, view, pixel, channel), so a
frame's pixels do not depend on how frames are batched.
"""

from __future__ import annotations

from collections import namedtuple

import numba
import numpy as np

from gazesdk.sim.scene import EYE_SIGN, Planar, Scene

F32 = np.float32
VIEW_IDS = {"face": 0, "right_eye": 1, "left_eye": 2, "frame": 3}
# The eyes each kind of view draws (0 right, 1 left): an eye crop never reaches the other eye,
# the nose or the mouth.
VIEW_EYES = {"frame": (0, 1), "face": (0, 1), "right_eye": (0,), "left_eye": (1,)}
GLINT_RADIUS_CM = 0.045
LASH_RGB = np.array([0.04, 0.03, 0.03])
PUPIL_RGB = np.array([0.015, 0.015, 0.02])

# Layout of a frame's parameter row. A planar feature takes 7 numbers (see _planar_row).
_NAMES = (
    "frame_w frame_h flags "
    "face:7 shade_c:3 ambient light_rgb:3 glow exposure "
    "skin:3 hair_rgb:3 brow_rgb:3 lip_rgb:3 sclera:3 iris_rgb:3 glasses_rgb:3 "
    "bg:9 wave:4 nose:7 mouth:7 hair:7 "
    "eye0:7 iris0:7 brow0:7 glasses0:7 eye1:7 iris1:7 brow1:7 glasses1:7 "
    "lid_up:2 lid_low:2 inv_half_width tilt iris_r pupil_r brow_thick glasses_size:2 "
    "glint:12 glint_inv_r2:2 glint_k:2 noise "
    "lid_rest lash:2 lash_rgb:3 crease:2 socket lower_line iris_tex:4 sclera_tint:3 "
    "sclera_corner caruncle:3"
).split()
_OFFSET: dict[str, int] = {}
_n = 0
for _name in _NAMES:
    _key, _, _width = _name.partition(":")
    _OFFSET[_key] = _n
    _n += int(_width or 1)
N_PARAMS = _n
# The kernel reads offsets as attributes of a named tuple, which numba compiles to constants.
O = namedtuple("Offsets", list(_OFFSET))(*_OFFSET.values())  # noqa: E741 - read all over the kernel

# Flags (bit field).
WHOLE, EYE0, EYE1, GLASSES, DETAIL = 1, 2, 4, 8, 16


def _planar_row(p: Planar, grid: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """A feature's local coordinates as affine functions of the view's pixel indices:
    (s, t) at pixel (0, 0), their steps per x and per y, and the reciprocal of the soft-edge
    width in local units."""
    u0 = grid[:, 0] + 0.5 * grid[:, 1] - p.centre[:, 0]
    v0 = grid[:, 2] + 0.5 * grid[:, 3] - p.centre[:, 1]
    m = p.inv
    return np.stack([m[:, 0, 0] * u0 + m[:, 0, 1] * v0, m[:, 1, 0] * u0 + m[:, 1, 1] * v0,
                     m[:, 0, 0] * grid[:, 1], m[:, 1, 0] * grid[:, 1],
                     m[:, 0, 1] * grid[:, 3], m[:, 1, 1] * grid[:, 3],
                     p.px_per_unit / footprint], axis=1)


def _pack(scene: Scene, boxes: np.ndarray, size: tuple[int, int], kind: str,
          noisy: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame parameter rows (N, N_PARAMS) and view grids (N, 4): u0, du, v0, dv."""
    subj, sess = scene.subjects, scene.sessions
    n = len(boxes)
    boxes = np.asarray(boxes, np.float64)
    sx, sy = boxes[:, 2] / size[0], boxes[:, 3] / size[1]
    pixel = np.maximum(np.maximum(sx, sy), 1.0)
    # Optical blur widens every edge: a ramp of width 3.2 sigma has a Gaussian edge's 10-90%.
    blur = 3.2 * sess.blur_sigma if noisy else 0.0
    footprint = np.sqrt(pixel**2 + blur**2)
    grid = np.stack([boxes[:, 0], sx, boxes[:, 1], sy], 1)
    p = np.zeros((n, N_PARAMS))

    def put(name: str, value: np.ndarray) -> None:
        value = np.asarray(value, np.float64)
        value = value.reshape(n, -1) if value.ndim > 1 else value[:, None]
        p[:, _OFFSET[name]:_OFFSET[name] + value.shape[1]] = value

    whole = kind in ("face", "frame")
    flags = (WHOLE if whole else 0) | sum((EYE0, EYE1)[e] for e in VIEW_EYES[kind])
    put("frame_w", scene.frame_w)
    put("frame_h", scene.frame_h)
    put("flags", flags + GLASSES * subj.glasses + DETAIL * subj.eye_detail)
    put("face", _planar_row(scene.face, grid, footprint))
    put("shade_c", scene.face_shading)
    put("ambient", sess.ambient)
    put("light_rgb", sess.light_rgb)
    put("glow", sess.screen_glow)
    put("exposure", scene.exposure)
    put("skin", subj.skin_rgb)
    put("hair_rgb", subj.hair_rgb)
    put("brow_rgb", subj.hair_rgb * 0.8 + subj.skin_rgb * 0.2)
    put("lip_rgb", subj.lip_rgb)
    put("sclera", subj.sclera_rgb)
    put("iris_rgb", subj.iris_rgb)
    put("glasses_rgb", subj.glasses_rgb)
    put("bg", sess.background)
    put("wave", sess.background_wave)
    put("nose", _planar_row(scene.nose, grid, footprint))
    put("mouth", _planar_row(scene.mouth, grid, footprint))
    put("hair", _planar_row(scene.hair, grid, footprint))
    for e in (0, 1):
        put(f"eye{e}", _planar_row(scene.eyes[e], grid, footprint))
        put(f"iris{e}", _planar_row(scene.irises[e], grid, footprint))
        put(f"brow{e}", _planar_row(scene.brows[e], grid, footprint))
        put(f"glasses{e}", _planar_row(scene.glasses[e], grid, footprint))
    put("lid_up", scene.lid_upper_cm)
    put("lid_low", scene.lid_lower_cm)
    put("inv_half_width", 2 / subj.fissure_width_cm)
    put("tilt", subj.canthal_tilt_cm / 2)
    put("iris_r", subj.iris_radius_cm)
    put("pupil_r", subj.pupil_radius_cm)
    put("brow_thick", subj.brow_thickness_cm / 2)
    put("glasses_size", subj.glasses_size_cm)
    put("glint", scene.glints)
    # A glint smaller than a pixel spreads over the pixel: dimmer, not smaller.
    radius = np.stack([np.maximum(GLINT_RADIUS_CM * scene.eyes[e].px_per_unit, 0.7 * footprint)
                       for e in (0, 1)], 1)
    natural = np.stack([GLINT_RADIUS_CM * scene.eyes[e].px_per_unit for e in (0, 1)], 1)
    put("glint_inv_r2", 1 / radius**2)
    put("glint_k", np.minimum(1.0, (natural / radius) ** 2))
    put("noise", sess.noise_sigma / pixel)
    put("lid_rest", subj.upper_lid_cm)
    put("lash", np.stack([subj.lash_cm, subj.lash_alpha], 1))
    put("lash_rgb", LASH_RGB + 0.12 * subj.hair_rgb)       # fair hair: less black lashes
    put("crease", np.stack([subj.crease_cm, subj.crease_alpha], 1))
    put("socket", subj.socket_alpha)
    put("lower_line", subj.lower_lid_alpha)
    put("iris_tex", np.concatenate([subj.iris_texture[:, None], subj.iris_phase,
                                    subj.limbus_alpha[:, None]], 1))
    put("sclera_tint", subj.sclera_tint)
    put("sclera_corner", subj.sclera_corner)
    put("caruncle", subj.caruncle_rgb)
    return p, grid


@numba.njit(cache=True, fastmath=True, inline="always")
def _cover(d: float, inv_width: float) -> float:
    """Coverage of a pixel by a shape whose signed distance (negative inside) is ``d``."""
    return min(max(0.5 - d * inv_width, 0.0), 1.0)


@numba.njit(cache=True, fastmath=True, inline="always")
def _band(d: float, half: float, inv_width: float) -> float:
    """Coverage of a pixel (a box one footprint wide) by a band |d| < ``half``: energy-true
    for bands thinner than the footprint (fainter, not wider than a pixel's worth)."""
    h = 0.5 / inv_width
    return max(min(d + h, half) - max(d - h, -half), 0.0) * inv_width


@numba.njit(cache=True, fastmath=True, inline="always")
def _local(p: np.ndarray, o: int, x: float, y: float) -> tuple[float, float, float]:
    """Local coordinates (s, t) of view pixel (x, y) for the feature at offset o, and the
    reciprocal soft-edge width."""
    return (p[o] + x * p[o + 2] + y * p[o + 4], p[o + 1] + x * p[o + 3] + y * p[o + 5],
            p[o + 6])


@numba.njit(cache=True, fastmath=True, inline="always")
def _bbox(p: np.ndarray, o: int, s0: float, s1: float, t0: float, t1: float, width: int,
          height: int) -> tuple[int, int, int, int]:
    """View pixels (x0, x1, y0, y1; half-open) that can hold local points of the feature at
    offset o within [s0, s1] x [t0, t1]: the local rectangle's corners mapped back to pixels."""
    a, c, b, d = p[o + 2], p[o + 3], p[o + 4], p[o + 5]     # ds/dx, dt/dx, ds/dy, dt/dy
    det = a * d - b * c
    if det == 0.0:
        return 0, 0, 0, 0
    xmin = ymin = 1e30
    xmax = ymax = -1e30
    for s in (s0, s1):
        for t in (t0, t1):
            ds = s - p[o]
            dt = t - p[o + 1]
            x = (d * ds - b * dt) / det
            y = (a * dt - c * ds) / det
            xmin, xmax = min(xmin, x), max(xmax, x)
            ymin, ymax = min(ymin, y), max(ymax, y)
    x0 = int(max(np.floor(xmin), 0.0))
    y0 = int(max(np.floor(ymin), 0.0))
    x1 = int(min(max(np.ceil(xmax) + 1.0, 0.0), float(width)))
    y1 = int(min(max(np.ceil(ymax) + 1.0, 0.0), float(height)))
    return x0, x1, y0, y1


@numba.njit(cache=True, fastmath=True, nogil=True)
def _shade(params: np.ndarray, grid: np.ndarray, keys: np.ndarray,  # noqa: C901
           view_salt: np.uint64, out: np.ndarray) -> None:
    """Shade every pixel of N views into ``out`` (N, H, W, 3) uint8, with sensor noise.

    Per view: a branch-free pass over all pixels (silhouette, shading, background), passes
    over each small feature's bounding box only (nose, mouth, eye sockets, openings, brows),
    a branch-free pass for hair and light, the glasses' and glints' boxes, and a last pass for
    exposure, noise and encoding. Planes hold the intermediate state of one view."""
    n_views, height, width = out.shape[0], out.shape[1], out.shape[2]
    cr = np.empty((height, width))
    cg = np.empty((height, width))
    cb = np.empty((height, width))
    shade = np.empty((height, width))
    face_a = np.empty((height, width))
    zeta = np.empty((height, width))
    diffuse = np.empty((height, width))
    eta_p = np.empty((height, width))
    xi_p = np.empty((height, width))
    open_a = np.zeros((2, height, width))
    sin_a = np.empty(width)
    cos_a = np.empty(width)
    for n in range(n_views):
        p = params[n]
        flags = int(p[O.flags])
        whole = (flags & WHOLE) != 0
        of = O.face
        fwf = p[of + 6]
        sc0, sc1, sc2 = p[O.shade_c], p[O.shade_c + 1], p[O.shade_c + 2]
        # Background only where the view reaches outside the silhouette; r^2 is convex, so
        # its largest value over the view is at a corner.
        reach = 0.0
        for cx in (0.0, width - 1.0):
            for cy in (0.0, height - 1.0):
                xi, eta, _ = _local(p, of, cx, cy)
                reach = max(reach, xi * xi + eta * eta)
        background = whole or reach > max(1.0 - 1.0 / fwf, 0.0) ** 2
        sk0, sk1, sk2 = p[O.skin], p[O.skin + 1], p[O.skin + 2]

        # 1. Silhouette (unit disc), Lambert shading on a sphere through it, background.
        b, wv = O.bg, O.wave
        for x in range(width):     # the wave sin(a u + b v + c) = sin(a u) cos(b v + c) + ...
            un = (grid[n, 0] + (x + 0.5) * grid[n, 1]) / p[O.frame_w]
            sin_a[x] = np.sin(p[wv + 1] * un)
            cos_a[x] = np.cos(p[wv + 1] * un)
        for y in range(height):
            vn = (grid[n, 2] + (y + 0.5) * grid[n, 3]) / p[O.frame_h]
            ang = p[wv + 2] * vn + p[wv + 3]
            sin_b, cos_b = np.sin(ang) * p[wv], np.cos(ang) * p[wv]
            xi0 = p[of] + y * p[of + 4]
            eta0 = p[of + 1] + y * p[of + 5]
            for x in range(width):
                xi = xi0 + x * p[of + 2]
                eta = eta0 + x * p[of + 3]
                r2 = xi * xi + eta * eta
                a = _cover(np.sqrt(r2) - 1.0, fwf)
                z = np.sqrt(max(1.0 - r2, 0.0))
                xi_p[y, x] = xi
                eta_p[y, x] = eta
                face_a[y, x] = a
                zeta[y, x] = z
                diffuse[y, x] = max(sc0 * xi + sc1 * eta + sc2 * z, 0.0)
                shade[y, x] = 1.0
            if background:
                for x in range(width):
                    un = (grid[n, 0] + (x + 0.5) * grid[n, 1]) / p[O.frame_w]
                    pat = sin_a[x] * cos_b + cos_a[x] * sin_b
                    a = face_a[y, x]
                    bg = p[b] + un * p[b + 3] + vn * p[b + 6] + pat
                    cr[y, x] = bg + a * (sk0 - bg)
                    bg = p[b + 1] + un * p[b + 4] + vn * p[b + 7] + pat
                    cg[y, x] = bg + a * (sk1 - bg)
                    bg = p[b + 2] + un * p[b + 5] + vn * p[b + 8] + pat
                    cb[y, x] = bg + a * (sk2 - bg)
            else:
                for x in range(width):
                    cr[y, x] = sk0
                    cg[y, x] = sk1
                    cb[y, x] = sk2

        # 2. Nose and mouth (whole-face views only).
        if whole:
            o = O.nose
            x0, x1, y0, y1 = _bbox(p, o, -1.6, 1.6, -1.2, 0.6, width, height)
            for y in range(y0, y1):
                for x in range(x0, x1):
                    s, t, fw = _local(p, o, float(x), float(y))
                    k = 1.0
                    for side in (-1.0, 1.0):
                        ds = (s - side * 0.55) / 0.3
                        dt = (t + 0.35) / 0.15
                        k *= 1.0 - 0.6 * _cover((np.sqrt(ds * ds + dt * dt) - 1.0) * 0.15, fw)
                    under = 1.0 - (s / 1.2) ** 2 - ((t + 0.6) / 0.35) ** 2
                    shade[y, x] *= k * (1.0 - 0.25 * max(under, 0.0))
            o = O.mouth
            m = 1.0 / p[o + 6]
            lo = O.lip_rgb
            x0, x1, y0, y1 = _bbox(p, o, -2.3 - m, 2.3 + m, -0.5 - m, 0.5 + m, width, height)
            for y in range(y0, y1):
                for x in range(x0, x1):
                    s, t, fw = _local(p, o, float(x), float(y))
                    lips = _cover((np.sqrt((s / 2.3) ** 2 + (t / 0.5) ** 2) - 1.0) * 0.5, fw)
                    line = _cover(abs(t) - 0.04, fw) if abs(s) < 2.2 else 0.0
                    for c in range(3):
                        plane = cr if c == 0 else (cg if c == 1 else cb)
                        val = plane[y, x]
                        val += lips * (p[lo + c] - val)
                        val += line * (0.3 * p[lo + c] - val)
                        plane[y, x] = val

        # 3. Eyes: the orbit's shading, the opening (sclera, iris, pupil, lid shadow), lashes,
        # and the brows. With eye details (``detail``): socket shading and the lid crease in
        # the orbit pass; iris texture, limbal ring, tinted sclera, caruncle, lower-lid line and
        # shaped lashes in the opening pass. (s, t): cm along the head's x and y at the eye;
        # es = sig * EYE_SIGN[e] runs from -1 at the inner corner to +1 at the outer one.
        open_a[:] = 0.0
        half = 1.0 / p[O.inv_half_width]
        detail = (flags & DETAIL) != 0
        for e in range(2):
            if (flags & (EYE0 if e == 0 else EYE1)) == 0:
                continue
            oe = O.eye0 if e == 0 else O.eye1
            up, low = p[O.lid_up + e], p[O.lid_low + e]
            # The crease sits above the lid margin (it rises with a raised lid) and fades as
            # the lid comes down.
            crease_mid = max(up, p[O.lid_rest]) + p[O.crease]
            crease_k = p[O.crease + 1] * min(max(0.3 + 0.7 * up / p[O.lid_rest], 0.3), 1.0)
            crease_w = 0.5 * p[O.crease]      # the width of its shadow below the fold
            c_lo, c_hi = -crease_w - 1.0 / p[oe + 6], 0.03 + 1.0 / p[oe + 6]
            top = max(1.07, crease_mid + 0.25) if detail else 1.02
            x0, x1, y0, y1 = _bbox(p, oe, -1.42 * half, 1.42 * half, -0.82, top, width, height)
            for y in range(y0, y1):
                for x in range(x0, x1):
                    s, t, fw = _local(p, oe, float(x), float(y))
                    sig = s * p[O.inv_half_width]
                    dt = t - 0.1
                    shade[y, x] *= 1.0 - 0.2 * max(1.0 - 0.5 * sig * sig - 1.2 * dt * dt, 0.0)
                    if not detail or t < -0.78:
                        continue
                    es = sig * EYE_SIGN[e]
                    if t > 0.15:   # socket: deepest above the inner corner, under the brow
                        u, v, depth = (es + 0.45) / 0.95, (t - 0.6) / 0.45, p[O.socket]
                    else:          # and a softer shade under the eye
                        u, v, depth = (es - 0.1) / 0.9, (t + 0.5) / 0.28, 0.5 * p[O.socket]
                    b = max(1.0 - u * u - v * v, 0.0)
                    k = 1.0 - depth * b * b
                    qc = 1.0 - (sig / 1.15) ** 2
                    d = t - p[O.tilt] * es - crease_mid * qc * (1.5 - 0.5 * qc)
                    if qc > 0.0 and c_lo < d < c_hi:
                        # a dark fold line, and its shadow on the lid below
                        fold = 0.8 * _band(d, 0.03, fw) \
                            + 0.35 * _cover(d, fw) * max(1.0 + d / crease_w, 0.0)
                        k *= 1.0 - crease_k * qc * fold
                    shade[y, x] *= k
            m = 1.0 / p[oe + 6] + abs(p[O.tilt])
            lash_top = up + 1.5 * p[O.lash] if detail else up + 0.07
            low_bottom = low + 0.04 if detail else low
            x0, x1, y0, y1 = _bbox(p, oe, -half - m, half + m, -low_bottom - m, lash_top + m,
                                   width, height)
            oi = O.iris0 if e == 0 else O.iris1
            ri, rp = p[O.iris_r], p[O.pupil_r]
            ph1, ph2 = p[O.iris_tex + 1], p[O.iris_tex + 2]     # striation phases
            wr1, wi1, wr2, wi2 = np.cos(ph1), np.sin(ph1), np.cos(ph2), np.sin(ph2)
            wr3, wi3 = np.cos(ph1 + ph2), np.sin(ph1 + ph2)
            fw_car = p[oe + 6] / (1.0 + 0.12 * p[oe + 6])     # the caruncle's soft edge
            fp_low = 0.5 / p[oe + 6]                            # the lower line's reach
            for y in range(y0, y1):
                for x in range(x0, x1):
                    s, t, fw = _local(p, oe, float(x), float(y))
                    sig = s * p[O.inv_half_width]
                    q = 1.0 - sig * sig
                    if q <= 0.0:
                        continue
                    centre = p[O.tilt] * sig * EYE_SIGN[e]
                    upper = centre + up * q * (1.5 - 0.5 * q)
                    lower = centre - low * q
                    a_open = _cover(max(lower - t, t - upper), fw)
                    es = sig * EYE_SIGN[e]
                    if detail:   # lashes: from just over the margin, thicker outwards, wispy
                        th = p[O.lash] * (0.7 + 0.8 * (0.5 + 0.5 * es) ** 2) * min(1.5 * q, 1.0)
                        lash = p[O.lash + 1] * _band(t - upper - 0.5 * th + 0.025, 0.5 * th, fw)
                        if fw > 28.0 and lash > 0.0:   # gaps 0.05 cm apart, where resolved
                            g = np.sin(125.0 * s + 2.0 * np.sin(37.0 * s) + 9.0 * t)
                            lash *= 1.0 - 0.5 * (1.0 - 28.0 / fw) * (0.5 + 0.5 * g)
                    else:
                        lash = 0.8 * _cover(abs(t - upper - 0.035) - 0.035, fw)
                    if a_open > 0.0:
                        ia, ib, fwi = _local(p, oi, float(x), float(y))
                        r = np.sqrt(ia * ia + ib * ib)
                        iris_a = _cover(r - ri, fwi)
                        pupil_a = _cover(r - rp, fwi)
                        limbus = 1.0 - 0.5 * min(max((r / ri - 0.75) * 4.0, 0.0), 1.0)
                        sclera_k = 1.0 - 0.3 * sig * sig
                        lid = 0.7 + 0.3 * min(max((upper - t) * 4.0, 0.0), 1.0)
                        if detail:
                            ws = sig * sig
                            rr = r / ri
                            # Limbal ring; radial striations (faded where finer than the
                            # footprint) and a lighter ring round the pupil.
                            iris_k = 1.0 - p[O.iris_tex + 3] * min(max((rr - 0.72) * 3.6, 0.0),
                                                                   1.0) ** 2
                            if iris_a > 0.0 and pupil_a < 1.0 and r > 0.5 * rp:
                                # Harmonics k of the angle a: sin(k a + phase) = Im(z^k w),
                                # z = e^(ia), w = e^(i phase), by products (no trig).
                                zr, zi = ia / r, ib / r
                                z2r, z2i = zr * zr - zi * zi, 2.0 * zr * zi
                                z4r, z4i = z2r * z2r - z2i * z2i, 2.0 * z2r * z2i
                                z8r, z8i = z4r * z4r - z4i * z4i, 2.0 * z4r * z4i
                                z9r, z9i = z8r * zr - z8i * zi, z8r * zi + z8i * zr
                                z12r, z12i = z8r * z4r - z8i * z4i, z8r * z4i + z8i * z4r
                                z14r, z14i = z12r * z2r - z12i * z2i, z12r * z2i + z12i * z2r
                                z23r, z23i = z14r * z9r - z14i * z9i, z14r * z9i + z14i * z9r
                                w = 1.4 / (2.0 * np.pi * r * fwi)   # footprints per radian
                                fib = 0.5 * max(1.0 - 9.0 * w, 0.0) * (z9i * wr1 + z9r * wi1) \
                                    + 0.3 * max(1.0 - 14.0 * w, 0.0) * (1.6 - 1.2 * rr) \
                                    * (z14i * wr2 + z14r * wi2) \
                                    + 0.35 * max(1.0 - 23.0 * w, 0.0) * (2.0 * rr - 0.6) \
                                    * (z23i * wr3 + z23r * wi3)
                                ring = max(1.0 - ((rr - 0.42) / 0.18) ** 2, 0.0)
                                iris_k *= 1.0 + p[O.iris_tex] * (fib + 0.6 * ring)
                            car = _cover((0.83 + es) * half, fw_car)
                            lid_d = 0.55 + 0.45 * min(max((upper - t) * 3.0, 0.0), 1.0)
                            for c in range(3):
                                plane = cr if c == 0 else (cg if c == 1 else cb)
                                col = p[O.sclera + c] * (1.0 - p[O.sclera_corner] * ws) \
                                    * (1.0 + (p[O.sclera_tint + c] - 1.0) * (0.5 + 0.5 * ws))
                                col += car * (p[O.caruncle + c] - col)
                                col += iris_a * (p[O.iris_rgb + c] * iris_k - col)
                                col += pupil_a * (PUPIL_RGB[c] - col)
                                col *= lid_d
                                plane[y, x] += a_open * (col - plane[y, x])
                        else:
                            for c in range(3):
                                plane = cr if c == 0 else (cg if c == 1 else cb)
                                col = p[O.sclera + c] * sclera_k
                                col += iris_a * (p[O.iris_rgb + c] * limbus - col)
                                col += pupil_a * (PUPIL_RGB[c] - col)
                                col *= lid
                                plane[y, x] += a_open * (col - plane[y, x])
                        open_a[e, y, x] = a_open
                    if detail:   # the lower lid's margin, a thin line just below the opening
                        ll = p[O.lower_line] * _band(t - lower + 0.02, 0.02, fw) \
                            * (0.6 + 0.4 * es) * min(3.0 * q, 1.0) if t < lower + fp_low else 0.0
                        if ll > 0.0:
                            cr[y, x] *= 1.0 - ll
                            cg[y, x] *= 1.0 - ll
                            cb[y, x] *= 1.0 - ll
                        if lash > 0.0:
                            lo = O.lash_rgb
                            cr[y, x] += lash * (p[lo] - cr[y, x])
                            cg[y, x] += lash * (p[lo + 1] - cg[y, x])
                            cb[y, x] += lash * (p[lo + 2] - cb[y, x])
                    elif lash > 0.0:
                        cr[y, x] += lash * (LASH_RGB[0] - cr[y, x])
                        cg[y, x] += lash * (LASH_RGB[1] - cg[y, x])
                        cb[y, x] += lash * (LASH_RGB[2] - cb[y, x])
            ob = O.brow0 if e == 0 else O.brow1
            m = 1.0 / p[ob + 6]
            th = p[O.brow_thick]
            x0, x1, y0, y1 = _bbox(p, ob, -1.9 - m, 1.9 + m, -th - m, 0.25 + th + m,
                                   width, height)
            for y in range(y0, y1):
                for x in range(x0, x1):
                    s, t, fw = _local(p, ob, float(x), float(y))
                    sg = s / 1.9
                    d = max(abs(t - 0.25 * (1.0 - sg * sg)) - th, abs(s) - 1.9)
                    ba = 0.85 * _cover(d, fw)
                    cr[y, x] += ba * (p[O.brow_rgb] - cr[y, x])
                    cg[y, x] += ba * (p[O.brow_rgb + 1] - cg[y, x])
                    cb[y, x] += ba * (p[O.brow_rgb + 2] - cb[y, x])

        # 4. Hair over the top of the silhouette and above the hairline; then the light.
        oh = O.hair
        h0, h1, h2 = p[O.hair_rgb], p[O.hair_rgb + 1], p[O.hair_rgb + 2]
        amb, glow = p[O.ambient], p[O.glow]
        l0, l1, l2 = p[O.light_rgb], p[O.light_rgb + 1], p[O.light_rgb + 2]
        fwh = p[oh + 6]
        for y in range(height):
            hs0 = p[oh] + y * p[oh + 4]
            ht0 = p[oh + 1] + y * p[oh + 5]
            for x in range(width):
                hs = hs0 + x * p[oh + 2]
                ht = ht0 + x * p[oh + 3]
                xi = xi_p[y, x]
                eta = eta_p[y, x]
                fa = face_a[y, x]
                above = _cover(0.05 * hs * hs - ht, fwh)
                side = (1.0 - fa) * (eta > -0.25)
                outer = _cover(np.sqrt((xi * xi + (eta - 0.06) ** 2) / 1.21) - 1.0, fwf)
                hair_a = outer * max(above, side)
                lit = max(fa, hair_a)
                base = (amb + glow * zeta[y, x]) * shade[y, x]
                dl = diffuse[y, x] * shade[y, x]
                val = cr[y, x]
                val += hair_a * (h0 - val)
                cr[y, x] = val * (1.0 + lit * (base + dl * l0 - 1.0))
                val = cg[y, x]
                val += hair_a * (h1 - val)
                cg[y, x] = val * (1.0 + lit * (base + dl * l1 - 1.0))
                val = cb[y, x]
                val += hair_a * (h2 - val)
                cb[y, x] = val * (1.0 + lit * (base + dl * l2 - 1.0))

        # 5. Glasses: tinted lenses and a rim (a rounded rectangle: a superellipse).
        if flags & GLASSES:
            gw, gh = p[O.glasses_size], p[O.glasses_size + 1]
            go = O.glasses_rgb
            for e in range(2):
                if (flags & (EYE0 if e == 0 else EYE1)) == 0:
                    continue
                og = O.glasses0 if e == 0 else O.glasses1
                m = 0.12 + 1.0 / p[og + 6]
                x0, x1, y0, y1 = _bbox(p, og, -gw * 1.1 - m, gw * 1.1 + m, -gh * 1.1 - m,
                                       gh * 1.1 + m, width, height)
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        s, t, fw = _local(p, og, float(x), float(y))
                        x2 = (s / gw) ** 2
                        y2 = (t / gh) ** 2
                        r = np.sqrt(np.sqrt(x2 * x2 + y2 * y2))
                        rim = _cover(abs(r - 1.0) * gh - 0.1, fw)
                        lens = 1.0 - 0.06 * _cover((r - 1.0) * gh, fw)
                        for c in range(3):
                            plane = cr if c == 0 else (cg if c == 1 else cb)
                            val = plane[y, x] * lens
                            plane[y, x] = val + rim * (p[go + c] - val)

        # 6. Corneal glints (after exposure: added in exposure-free units here).
        k = p[O.exposure]
        for e in range(2):
            if (flags & (EYE0 if e == 0 else EYE1)) == 0:
                continue
            inv_r2 = p[O.glint_inv_r2 + e]
            rad = 1.0 / np.sqrt(inv_r2)
            for light in range(2):
                g = O.glint + e * 6 + light * 3
                energy = p[g + 2] * p[O.glint_k + e] / k
                if energy <= 0.0:
                    continue
                gx = (p[g] - grid[n, 0]) / grid[n, 1] - 0.5
                gy = (p[g + 1] - grid[n, 2]) / grid[n, 3] - 0.5
                rx, ry = rad / grid[n, 1], rad / grid[n, 3]
                x0 = int(min(max(np.floor(gx - rx), 0.0), float(width)))
                x1 = int(min(max(np.ceil(gx + rx) + 1.0, 0.0), float(width)))
                y0 = int(min(max(np.floor(gy - ry), 0.0), float(height)))
                y1 = int(min(max(np.ceil(gy + ry) + 1.0, 0.0), float(height)))
                for y in range(y0, y1):
                    dv = grid[n, 2] + (y + 0.5) * grid[n, 3] - p[g + 1]
                    for x in range(x0, x1):
                        du = grid[n, 0] + (x + 0.5) * grid[n, 1] - p[g]
                        bump = max(1.0 - (du * du + dv * dv) * inv_r2, 0.0)
                        add = energy * bump * bump * open_a[e, y, x]
                        cr[y, x] += add
                        cg[y, x] += add
                        cb[y, x] += add

        # 7. Exposure, sensor noise, gamma encoding.
        sigma = p[O.noise] if len(keys) else 0.0
        key = _hash(keys[n] ^ view_salt) if len(keys) else np.uint64(0)
        for y in range(height):
            if sigma > 0.0:
                for x in range(width):
                    r, g_, b_ = _sensor_noise(cr[y, x] * k, cg[y, x] * k, cb[y, x] * k, sigma,
                                              key + np.uint64(y * width + x))
                    out[n, y, x, 0] = _encode(r)
                    out[n, y, x, 1] = _encode(g_)
                    out[n, y, x, 2] = _encode(b_)
            else:
                for x in range(width):
                    out[n, y, x, 0] = _encode(cr[y, x] * k)
                    out[n, y, x, 1] = _encode(cg[y, x] * k)
                    out[n, y, x, 2] = _encode(cb[y, x] * k)


@numba.njit(cache=True, inline="always")
def _hash(x: np.uint64) -> np.uint64:
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def _triangular(h: np.uint64, shift: int) -> float:
    """Unit-variance triangular noise from two 8-bit uniforms in bits shift..shift+16 of h."""
    pair = (h >> np.uint64(shift)) & np.uint64(0xFFFF)
    return (float(pair & np.uint64(0xFF)) + float(pair >> np.uint64(8))) \
        * (2.449489742783178 / 256.0) - 2.449489742783178


@numba.njit(cache=True, fastmath=True, inline="always")
def _sensor_noise(r: float, g: float, b: float, sigma: float,
                  key: np.uint64) -> tuple[float, float, float]:
    """Read plus shot noise on linear intensities, partly shared by the channels; a hash of
    the frame's key and the pixel, so a frame's noise does not depend on batching."""
    h = _hash(key)
    shared = 0.45 * _triangular(h, 48)
    return (r + sigma * (0.3 + r) * (0.9 * _triangular(h, 0) + shared),
            g + sigma * (0.3 + g) * (0.9 * _triangular(h, 16) + shared),
            b + sigma * (0.3 + b) * (0.9 * _triangular(h, 32) + shared))


# Gamma-2 encoding of linear intensity in [0, 1] to 8 bits, through a table.
GAMMA_STEPS = 16384
GAMMA_LUT = np.round(np.sqrt(np.arange(GAMMA_STEPS + 1) / GAMMA_STEPS) * 255).astype(np.uint8)


@numba.njit(cache=True, fastmath=True, inline="always")
def _encode(value: float) -> np.uint8:
    return GAMMA_LUT[int(min(max(value, 0.0), 1.0) * GAMMA_STEPS + 0.5)]


def render_views(scene: Scene, boxes: np.ndarray, size: tuple[int, int], kind: str, *,
                 noise_keys: np.ndarray | None = None) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB images of ``boxes`` (N, 4) in frame pixels; ``size`` is (W, H).

    ``kind`` ("face", "left_eye", "right_eye" or "frame") selects the features worth drawing.
    With ``noise_keys`` (one unsigned 64-bit integer per frame, unique across everything that
    should get independent noise), the session's optical blur and sensor noise are applied,
    deterministically for each key and view kind; without, the image is the sharp, noise-free
    scene.
    """
    if kind not in VIEW_EYES:
        raise ValueError(f"unknown view kind {kind!r}; expected one of {sorted(VIEW_EYES)}")
    noisy = noise_keys is not None
    keys = np.asarray(noise_keys).astype(np.uint64) if noisy else np.zeros(0, np.uint64)
    if noisy and keys.shape != (len(boxes),):
        raise ValueError(f"need one noise key per view, got {keys.shape} for {len(boxes)} views")
    params, grid = _pack(scene, boxes, size, kind, noisy)
    w, h = size
    out = np.empty((len(params), h, w, 3), np.uint8)
    _shade(params, grid, keys, np.uint64((VIEW_IDS[kind] + 1) * 0x9E3779B97F4A7C15 % 2**64), out)
    return out
