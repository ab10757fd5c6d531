"""The real-face suite (issue 17): what a gaze model does with real eyes, without gaze labels.

No labelled real gaze data can reach our machines, but real face photos ship offline inside
installed packages, and three properties of gaze hold for any real face:

- **lens bias**: a subject looking into the lens gazes at the camera, (0, 0) cm in GazeCapture's
  frame, whatever the frame size, face size, position, roll or exposure;
- **mirror consistency**: the mirrored frame is a person whose gaze is the mirror image,
  (-x, y);
- **iris response**: moving the irises inside the eye aperture by a known image offset turns
  the eyes by an angle the eyeball's geometry gives, which moves the gaze point by a computable
  distance on the camera plane (:func:`expected_gaze_shift_cm`);

and a fourth is measured as elsewhere: **stability**, the raw MSD on shaken-camera stares of
the real face (:mod:`gazesdk.mobile_bench.sequences`).

Photos (:func:`real_photos`): ``skimage.data.astronaut()`` (Eileen Collins, NASA, public
domain) and matplotlib's ``grace_hopper.jpg`` (U.S. Navy, public domain); both subjects look
into the lens. Their iris centres were marked by hand (photo pixels) for the realism figures.

A photo is placed in a phone-like frame by a similarity transform (:func:`place`) whose scale
puts the eyes at the distance a :class:`Condition` names, under the runtime's focal-length
assumption (:func:`gazesdk.runtime.head_pose.default_focal_px`), so "35 cm" means what it means
to the model. Conditions marked ``held_out`` are never looked at while choosing a recipe and are
reported apart; so is every condition of the second photo.

Frames: x right, y down, pixels of the upright (un-mirrored) front-camera image; gaze: cm from
the camera, x right and y up as the user sees the screen (so an iris moving to the image's right
moves the gaze to the user's left: negative x).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path

import cv2
import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.runtime.head_pose import default_focal_px
from gazesdk.runtime.iris import EyeLandmarks

# Anatomical means (as GazeSim's subjects, gazesdk.sim.subject): iris radius and eyeball radius.
IRIS_RADIUS_CM = 0.59
EYEBALL_RADIUS_CM = 1.2
# The iris plane's distance from the eyeball's centre of rotation: sqrt(R^2 - r_iris^2).
IRIS_PLANE_CM = math.sqrt(EYEBALL_RADIUS_CM**2 - IRIS_RADIUS_CM**2)
INTERPUPILLARY_CM = 6.3
EYES = ("right_eye", "left_eye")     # the subject's


@dataclass(frozen=True)
class RealPhoto:
    """A real face photo looking into the lens, with hand-marked iris centres (photo px)."""

    name: str
    rgb: np.ndarray
    right_iris: tuple[float, float]
    left_iris: tuple[float, float]
    source: str

    @property
    def eye_midpoint(self) -> np.ndarray:
        return (np.asarray(self.right_iris) + np.asarray(self.left_iris)) / 2

    @property
    def iris_distance_px(self) -> float:
        return float(np.hypot(*(np.asarray(self.left_iris) - np.asarray(self.right_iris))))


def _grace_hopper() -> np.ndarray | None:
    try:
        import matplotlib
    except ImportError:
        return None
    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def real_photos() -> list[RealPhoto]:
    """Every real face photo found offline: the astronaut (scikit-image) and Grace Hopper
    (matplotlib), each when its package is installed."""
    photos = []
    try:
        from skimage.data import astronaut
        photos.append(RealPhoto("astronaut", astronaut(), (203.2, 101.0), (246.3, 103.5),
                                "skimage.data.astronaut() (NASA, public domain)"))
    except ImportError:
        pass
    hopper = _grace_hopper()
    if hopper is not None:
        photos.append(RealPhoto("grace_hopper", hopper, (222.5, 191.0), (304.3, 186.8),
                                "matplotlib sample_data/grace_hopper.jpg (U.S. Navy, public "
                                "domain)"))
    if not photos:
        raise ConfigError("the real-face suite needs scikit-image or matplotlib (their sample "
                          "photos): pip install scikit-image matplotlib")
    return photos


@dataclass(frozen=True)
class Condition:
    """How a photo is filmed: frame (width, height), eye distance from the camera (cm), where
    the eye midpoint lands (fractions of the frame), camera roll (degrees, counter-clockwise in
    the image), exposure gain and gamma, colour temperature (red/blue gain exp(+-t))."""

    name: str
    frame: tuple[int, int] = (480, 640)
    distance_cm: float = 35.0
    anchor: tuple[float, float] = (0.5, 0.38)
    roll_deg: float = 0.0
    gain: float = 1.0
    gamma: float = 1.0
    temperature: float = 0.0
    held_out: bool = False


BASE = Condition("base")
# One factor at a time around the base; the held-out ones test generalisation of any choice.
CONDITIONS: tuple[Condition, ...] = (
    BASE,
    replace(BASE, name="near 28 cm", distance_cm=28.0),
    replace(BASE, name="far 45 cm", distance_cm=45.0),
    replace(BASE, name="left of centre", anchor=(0.36, 0.38)),
    replace(BASE, name="low in frame", anchor=(0.5, 0.55)),
    replace(BASE, name="roll +8", roll_deg=8.0),
    replace(BASE, name="dim", gain=0.55, gamma=1.15),
    replace(BASE, name="720x1280", frame=(720, 1280)),
    replace(BASE, name="warm light", temperature=0.12),
    replace(BASE, name="bright", gain=1.45, gamma=0.9, held_out=True),
    replace(BASE, name="roll -10", roll_deg=-10.0, held_out=True),
    replace(BASE, name="right of centre, 40 cm", anchor=(0.64, 0.42), distance_cm=40.0,
            held_out=True),
    replace(BASE, name="360x640 landscape-res", frame=(360, 640), held_out=True),
    replace(BASE, name="cool light, 32 cm", temperature=-0.12, distance_cm=32.0,
            held_out=True),
)


def place(photo: RealPhoto, condition: Condition) -> tuple[np.ndarray, np.ndarray]:
    """(frame (H, W, 3) uint8 RGB, the 2x3 photo -> frame transform) for ``condition``."""
    w, h = condition.frame
    iris_px = default_focal_px(w, h) * INTERPUPILLARY_CM / condition.distance_cm
    scale = iris_px / photo.iris_distance_px
    centre = photo.eye_midpoint
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), condition.roll_deg, scale)
    m[:, 2] += np.array([condition.anchor[0] * w, condition.anchor[1] * h]) - centre
    frame = cv2.warpAffine(photo.rgb, m, (w, h), flags=cv2.INTER_AREA if scale < 1
                           else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return expose(frame, condition), m


def expose(frame: np.ndarray, condition: Condition) -> np.ndarray:
    """Exposure gain, gamma and white balance applied to an 8-bit RGB frame."""
    if condition.gain == 1.0 and condition.gamma == 1.0 and condition.temperature == 0.0:
        return frame
    x = frame.astype(np.float32) / 255.0
    t = condition.temperature
    x = x * condition.gain * np.array([math.exp(t), 1.0, math.exp(-t)], np.float32)
    x = np.clip(x, 0, 1) ** condition.gamma
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def mirror_frame(frame: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(frame[:, ::-1])


def mirror_error_cm(gaze: tuple[float, float], mirrored: tuple[float, float]) -> float:
    """Distance between the mirrored frame's gaze and the mirror image (-x, y) of the gaze."""
    return float(math.hypot(mirrored[0] + gaze[0], mirrored[1] - gaze[1]))


def expected_gaze_shift_cm(offset_px: tuple[float, float], iris_radius_px: float,
                           focal_px: float) -> np.ndarray:
    """The gaze point's shift on the camera plane (GazeCapture's x, y, cm) when both irises
    move by ``offset_px`` (image x right, y down) from a stare into the lens.

    The iris radius in the image gives the scale (``IRIS_RADIUS_CM`` per ``iris_radius_px``)
    and the distance D = f r_iris / r_px; an iris-centre shift d (cm) turns the eye by
    theta = asin(d / IRIS_PLANE_CM), which moves the gaze point by D tan(theta) on the camera
    plane, away from the image direction of the shift in x (the image is un-mirrored) and
    opposite in y (image y points down)."""
    if iris_radius_px <= 0 or focal_px <= 0:
        raise ValueError("iris_radius_px and focal_px must be > 0")
    cm_per_px = IRIS_RADIUS_CM / iris_radius_px
    distance = focal_px * cm_per_px
    out = []
    for d_px in offset_px:
        s = float(np.clip(d_px * cm_per_px / IRIS_PLANE_CM, -1.0, 1.0))
        out.append(distance * math.tan(math.asin(s)))
    return np.array([-out[0], -out[1]])


def _disc_coverage(xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, r: float
                   ) -> np.ndarray:
    """Anti-aliased coverage (0-1) of a disc over pixel centres."""
    d = np.hypot(xx + 0.5 - cx, yy + 0.5 - cy) - r
    return np.clip(0.5 - d, 0.0, 1.0)


def aperture_mask(contour: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The eye opening (float 0-1, anti-aliased) inside the 16 lid points of the iris model's
    contour."""
    h, w = shape
    ss = 4
    big = np.zeros((h * ss, w * ss), np.uint8)
    pts = np.rint(np.asarray(contour, np.float64)[:16, :2] * ss).astype(np.int32)
    cv2.fillPoly(big, [pts], 255)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def shift_irises(frame: np.ndarray, eyes: dict[str, EyeLandmarks],
                 offset_px: tuple[float, float]) -> np.ndarray:
    """``frame`` with both irises re-rendered ``offset_px`` (image x, y) away, lids kept.

    Per eye, inside the aperture (the iris model's lid contour): the iris disc (centre and
    radius from the iris landmarks, 1.1x to take the limbus) is painted over with the sclera's
    colour (the median of the aperture outside the disc), then the iris is drawn at its new
    place from its own pixels, where those were visible, and from its mean colour where the lid
    had hidden them. Outside the aperture nothing changes, so the lids occlude the moved iris as
    they occluded the old one."""
    out = frame.astype(np.float32).copy()
    h, w = frame.shape[:2]
    dx, dy = (float(v) for v in offset_px)
    for eye in EYES:
        lm = eyes[eye]
        cx, cy = lm.iris_center
        r = 1.1 * lm.iris_radius
        pad = int(math.ceil(r + abs(dx) + abs(dy) + 4))
        x0, x1 = max(int(cx) - 2 * pad, 0), min(int(cx) + 2 * pad + 1, w)
        y0, y1 = max(int(cy) - 2 * pad, 0), min(int(cy) + 2 * pad + 1, h)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        region = out[y0:y1, x0:x1]
        contour = np.asarray(lm.contour)[:16] - np.array([x0, y0])
        aperture = aperture_mask(contour, (y1 - y0, x1 - x0))
        old = _disc_coverage(xx, yy, cx, cy, r)
        new = _disc_coverage(xx, yy, cx + dx, cy + dy, r)
        sclera_px = region[(aperture > 0.9) & (old == 0)]
        iris_px = region[(aperture > 0.9) & (old > 0.9)]
        if len(sclera_px) < 4 or len(iris_px) < 4:
            raise ValueError(f"the {eye.replace('_', ' ')}'s aperture shows too little sclera "
                             f"or iris to re-render")
        sclera = np.median(sclera_px, axis=0)
        iris_mean = iris_px.mean(axis=0)
        # the iris texture at its new place: the old pixels, moved, where they were visible
        map_x = (xx - dx).astype(np.float32) - x0
        map_y = (yy - dy).astype(np.float32) - y0
        moved = cv2.remap(region, map_x, map_y, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
        seen = cv2.remap(aperture, map_x, map_y, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)[..., None]
        texture = seen * moved + (1 - seen) * iris_mean
        base = old[..., None] * sclera + (1 - old[..., None]) * region
        painted = new[..., None] * texture + (1 - new[..., None]) * base
        a = aperture[..., None]
        out[y0:y1, x0:x1] = a * painted + (1 - a) * region
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# Iris offsets as fractions of the iris radius (image x, y): inside every open aperture.
IRIS_OFFSETS = {"horizontal": (0.4, 0.0), "vertical": (0.0, 0.3)}
IRIS_CONDITIONS = ("base", "near 28 cm", "far 45 cm", "roll -10", "right of centre, 40 cm")


class EyeFinder:
    """Both eyes' iris-model landmarks in a frame (detector + face mesh + iris model, the
    runtime's own), for re-rendering irises; a context manager (closes the detector)."""

    def __init__(self) -> None:
        from gazesdk.runtime.detector import MediaPipeFaceDetector
        from gazesdk.runtime.face_mesh import FaceMesh
        from gazesdk.runtime.iris import IrisLandmarker
        from gazesdk.runtime.tracking import FaceTracker

        mesh, self.iris = FaceMesh(threads=1), IrisLandmarker(threads=1)
        self.detector = MediaPipeFaceDetector()
        self.tracker = FaceTracker(self.detector, mesh)

    def __call__(self, frame: np.ndarray) -> dict[str, EyeLandmarks] | None:
        self.tracker.reset()
        found = self.tracker.update(frame, video=False)
        return None if found is None else self.iris.run(frame, found.mesh.points)

    def close(self) -> None:
        self.detector.close()

    def __enter__(self) -> EyeFinder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class SuiteFrames:
    """Every frame of the suite with what it tests. ``kind``: lens | mirror | iris | stare;
    ``pair``: for mirror and iris frames, the index of the frame they are compared with;
    ``expected_cm``: an iris frame's geometric gaze shift; ``sequence``: stare id (-1 for
    stills)."""

    frames: list[np.ndarray]
    kind: list[str]
    photo: list[str]
    condition: list[str]
    held_out: list[bool]
    pair: list[int]
    direction: list[str]
    expected_cm: list[tuple[float, float]]
    sequence: list[int]
    rerender_px: list[float]          # iris frames: re-detected / intended iris shift

    def add(self, frame: np.ndarray, kind: str, photo: str, condition: str, held_out: bool, *,
            pair: int = -1, direction: str = "", expected: tuple[float, float] = (0.0, 0.0),
            sequence: int = -1, rerender: float = float("nan")) -> int:
        self.frames.append(frame)
        self.kind.append(kind)
        self.photo.append(photo)
        self.condition.append(condition)
        self.held_out.append(held_out)
        self.pair.append(pair)
        self.direction.append(direction)
        self.expected_cm.append(expected)
        self.sequence.append(sequence)
        self.rerender_px.append(rerender)
        return len(self.frames) - 1

    def stares(self) -> SuiteFrames:
        """Only the stare frames (pairs are not kept: stares have none)."""
        rows = [i for i, s in enumerate(self.sequence) if s >= 0]
        return SuiteFrames(*([getattr(self, f.name)[i] for i in rows] for f in fields(self)))


def build_suite(photos: list[RealPhoto] | None = None, *,
                conditions: tuple[Condition, ...] = CONDITIONS, stares: int = 4,
                stare_frames: int = 30, seed: int = 0) -> SuiteFrames:
    """The suite's frames: per photo, each condition and its mirror, the irises re-rendered at
    :data:`IRIS_OFFSETS` (both signs) under :data:`IRIS_CONDITIONS`, and shaken-camera
    stares at the base condition."""
    from gazesdk.mobile_bench.sequences import ShakeSettings, shaky_sequences

    photos = real_photos() if photos is None else photos
    s = SuiteFrames([], [], [], [], [], [], [], [], [], [])
    seq_id = 0
    with EyeFinder() as find:
        for k, photo in enumerate(photos):
            second = k > 0        # every condition of a second photo is held out
            for c in conditions:
                frame, _ = place(photo, c)
                i = s.add(frame, "lens", photo.name, c.name, c.held_out or second)
                s.add(mirror_frame(frame), "mirror", photo.name, c.name, c.held_out or second,
                      pair=i)
                if c.name not in IRIS_CONDITIONS:
                    continue
                eyes = find(frame)
                if eyes is None:
                    continue
                r_px = float(np.mean([eyes[e].iris_radius for e in EYES]))
                focal = default_focal_px(*c.frame)
                for direction, (fx, fy) in IRIS_OFFSETS.items():
                    for sign in (1.0, -1.0):
                        off = (sign * fx * r_px, sign * fy * r_px)
                        edited = shift_irises(frame, eyes, off)
                        again = find(edited)
                        fidelity = float("nan")
                        if again is not None:
                            moved = np.mean([np.subtract(again[e].iris_center,
                                                         eyes[e].iris_center) for e in EYES], 0)
                            axis = np.array(off) / np.hypot(*off)
                            fidelity = float(moved @ axis / np.hypot(*off))
                        exp = expected_gaze_shift_cm(off, r_px, focal)
                        s.add(edited, "iris", photo.name, c.name, c.held_out or second, pair=i,
                              direction=f"{direction}{'+' if sign > 0 else '-'}",
                              expected=(float(exp[0]), float(exp[1])), rerender=fidelity)
            w, h = BASE.frame
            scale = (default_focal_px(w, h) * INTERPUPILLARY_CM / BASE.distance_cm
                     / photo.iris_distance_px)
            mid = photo.eye_midpoint
            settings = ShakeSettings(size=BASE.frame, scale=float(scale),
                                     anchor_photo=(float(mid[0]), float(mid[1])),
                                     anchor_frame=BASE.anchor)
            seqs = shaky_sequences(stares, stare_frames, seed=seed + k, settings=settings,
                                   photo=photo.rgb)
            for q in seqs:
                for f in q:
                    s.add(f, "stare", photo.name, "shaken stare", second, sequence=seq_id)
                seq_id += 1
    return s


def run_estimator(options: object, suite: SuiteFrames) -> tuple[np.ndarray, np.ndarray]:
    """(gaze (N, 2) cm, NaN where invalid; latency (N,) ms) of a
    :class:`~gazesdk.runtime.GazeEstimatorOptions` on the suite: stills in IMAGE mode, stares
    in VIDEO mode (a fresh stream per stare, 30 fps), smoothing off (raw gaze)."""
    import time

    from gazesdk.runtime import GazeEstimator, RunningMode

    n = len(suite.frames)
    gaze = np.full((n, 2), np.nan)
    latency = np.full(n, np.nan)
    seq = np.asarray(suite.sequence)
    for mode in (RunningMode.IMAGE, RunningMode.VIDEO):
        rows = np.flatnonzero((seq >= 0) == (mode is RunningMode.VIDEO))
        if not len(rows):
            continue
        with GazeEstimator.create_from_options(replace(options, running_mode=mode)) as est:
            prev, ts = None, 0
            for i in rows:
                t0 = time.perf_counter()
                if mode is RunningMode.VIDEO:
                    if seq[i] != prev:
                        est.reset()
                        prev = seq[i]
                    ts += 33
                    r = est.estimate_for_video(suite.frames[i], ts)
                else:
                    r = est.estimate(suite.frames[i])
                latency[i] = 1e3 * (time.perf_counter() - t0)
                if r.valid:
                    gaze[i] = r.raw_gaze_cm
    return gaze, latency


def _iris_cases(suite: SuiteFrames, gaze: np.ndarray, rows: np.ndarray) -> list[dict]:
    """One case per (photo, condition, axis): the model's shift between the + and - offsets
    over the geometric one, projected on the expected direction (signed)."""
    cases = []
    kind = np.asarray(suite.kind)
    keyed: dict[tuple[str, str, str], dict[str, int]] = {}
    for i in rows:
        if kind[i] != "iris":
            continue
        axis, sign = suite.direction[i][:-1], suite.direction[i][-1]
        keyed.setdefault((suite.photo[i], suite.condition[i], axis), {})[sign] = int(i)
    for (photo, condition, axis), pair in keyed.items():
        if set(pair) != {"+", "-"}:
            continue
        p, m = pair["+"], pair["-"]
        expected = (np.subtract(suite.expected_cm[p], suite.expected_cm[m])) / 2
        shift = (gaze[p] - gaze[m]) / 2
        ratio = float(shift @ expected / (expected @ expected)) if np.isfinite(shift).all() \
            else float("nan")
        cases.append({"photo": photo, "condition": condition, "axis": axis,
                      "expected_cm": expected.round(3).tolist(),
                      "model_cm": np.round(shift, 3).tolist(), "ratio": round(ratio, 3),
                      "rerender_fidelity": round(float(np.nanmean(
                          [suite.rerender_px[p], suite.rerender_px[m]])), 3),
                      "held_out": bool(suite.held_out[p])})
    return cases


def score(suite: SuiteFrames, gaze: np.ndarray) -> dict[str, object]:
    """The suite's figures for one model's gaze on every frame (NaN = invalid), for the
    decision conditions (``dev``), the held-out ones (``held_out``) and ``all``."""
    from gazesdk.evaluation.metrics import msd_cm

    kind = np.asarray(suite.kind)
    held = np.asarray(suite.held_out)
    pair = np.asarray(suite.pair)
    seq = np.asarray(suite.sequence)
    ok = np.isfinite(gaze).all(1)
    out: dict[str, object] = {}
    for group, sel in (("dev", ~held), ("held_out", held), ("all", np.ones_like(held))):
        lens = np.flatnonzero(sel & (kind == "lens") & ok)
        mirror = [i for i in np.flatnonzero(sel & (kind == "mirror") & ok) if ok[pair[i]]]
        cases = _iris_cases(suite, gaze, np.flatnonzero(sel))
        ratios = {a: [c["ratio"] for c in cases if c["axis"] == a] for a in IRIS_OFFSETS}
        stare = sel & (kind == "stare") & ok
        n_still = int((sel & (kind != "stare")).sum())
        out[group] = {
            "lens_bias_cm": _mean([math.hypot(*gaze[i]) for i in lens]),
            "mirror_cm": _mean([mirror_error_cm(gaze[pair[i]], gaze[i]) for i in mirror]),
            "iris_response_ratio": {a: _median(r) for a, r in ratios.items()},
            "iris_right_sign": _share([r > 0 for rs in ratios.values() for r in rs]),
            "iris_in_range": _share([0.5 <= r <= 2.0 for rs in ratios.values() for r in rs]),
            "real_face_msd_cm": round(msd_cm(gaze[stare], seq[stare]), 3)
            if stare.any() else None,
            "valid_share": round(float(ok[sel & (kind != "stare")].mean()), 3)
            if n_still else None,
            "iris_cases": cases,
            "lens_cases": [{"photo": suite.photo[i], "condition": suite.condition[i],
                            "gaze_cm": np.round(gaze[i], 2).tolist()} for i in lens],
        }
    return out


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 3) if len(values) else None


def _median(values: list[float]) -> float | None:
    v = [x for x in values if np.isfinite(x)]
    return round(float(np.median(v)), 3) if v else None


def _share(flags: list[bool]) -> float | None:
    return round(float(np.mean(flags)), 3) if flags else None
