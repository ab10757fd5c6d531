"""Subjects: the traits a person keeps across sessions (anatomy, kappa, colours, glasses).

Anatomical means follow the usual adult figures: eyeball radius about 1.2 cm, interocular
distance about 6.3 cm, iris radius about 0.59 cm, palpebral fissure about 2.9 cm wide. Angle
kappa, between the optical axis (where the iris/pupil points) and the visual axis (the line of
sight to the dot), is drawn per subject: horizontal about 5 +- 2 deg with the visual axis nasal
of the optical axis, vertical about 1.5 +- 1 deg with it above. The two eyes' horizontal kappas
differ by a small per-subject asymmetry, which is what leaves a person-specific bias after the
two eyes are combined (the symmetric, nasal part cancels).

Eye appearance details (lashes, lid crease, socket shading, lower-lid line, iris striations and
limbal ring, sclera tint, caruncle) are drawn for every subject, last, from the same generator,
so adding them changed no other trait; the renderer uses them only where ``eye_detail`` is set
(``SimConfig.eye_detail``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# Reflectances in linear-ish RGB, 0-1. Interpolated or picked per subject.
SKIN_LIGHT = np.array([0.87, 0.70, 0.60])
SKIN_DARK = np.array([0.30, 0.19, 0.13])
IRIS_COLOURS = np.array([
    [0.25, 0.14, 0.07],  # brown
    [0.13, 0.08, 0.05],  # dark brown
    [0.36, 0.28, 0.14],  # hazel
    [0.25, 0.36, 0.22],  # green
    [0.28, 0.42, 0.58],  # blue
    [0.40, 0.44, 0.46],  # grey
])
IRIS_WEIGHTS = np.array([0.40, 0.25, 0.12, 0.07, 0.12, 0.04])
HAIR_COLOURS = np.array([
    [0.05, 0.04, 0.04],  # black
    [0.20, 0.12, 0.07],  # brown
    [0.55, 0.42, 0.25],  # blond
    [0.45, 0.20, 0.10],  # red
    [0.55, 0.55, 0.55],  # grey
])
HAIR_WEIGHTS = np.array([0.40, 0.30, 0.13, 0.05, 0.12])


@dataclass(frozen=True)
class Subjects:
    """Traits of N subjects, one row each (struct of arrays; lengths in cm, angles in rad)."""

    interocular_cm: np.ndarray
    eyeball_radius_cm: np.ndarray
    iris_radius_cm: np.ndarray
    pupil_radius_cm: np.ndarray
    fissure_width_cm: np.ndarray
    upper_lid_cm: np.ndarray       # lid opening above the corner line at straight gaze
    lower_lid_cm: np.ndarray
    canthal_tilt_cm: np.ndarray    # outer corner higher than inner by this
    kappa_h: np.ndarray            # horizontal kappa, visual axis nasal of optical (rad)
    kappa_v: np.ndarray            # vertical kappa, visual axis above optical (rad)
    kappa_asym: np.ndarray         # right-eye minus left-eye horizontal kappa, halved (rad)
    face_scale: np.ndarray
    brow_height_cm: np.ndarray
    brow_thickness_cm: np.ndarray
    hairline_cm: np.ndarray
    skin_rgb: np.ndarray           # (N, 3)
    iris_rgb: np.ndarray           # (N, 3)
    sclera_rgb: np.ndarray         # (N, 3)
    hair_rgb: np.ndarray           # (N, 3)
    lip_rgb: np.ndarray            # (N, 3)
    glasses: np.ndarray            # bool
    glasses_rgb: np.ndarray        # (N, 3)
    glasses_size_cm: np.ndarray    # (N, 2) half width, half height of a lens
    # Eye appearance details (drawn only where eye_detail; alphas are opacities/strengths 0-1).
    eye_detail: np.ndarray         # bool
    lash_cm: np.ndarray            # upper-lash band thickness at mid-lid (thicker outwards)
    lash_alpha: np.ndarray
    crease_cm: np.ndarray          # upper-lid crease height above the lid margin
    crease_alpha: np.ndarray
    socket_alpha: np.ndarray       # eye-socket shading depth
    lower_lid_alpha: np.ndarray    # lower-lid margin line
    iris_texture: np.ndarray       # radial striation contrast
    iris_phase: np.ndarray         # (N, 2) phases of the striation pattern (rad)
    limbus_alpha: np.ndarray       # darkening of the limbal ring
    sclera_tint: np.ndarray        # (N, 3) grey/pink factor on sclera_rgb (stronger at corners)
    sclera_corner: np.ndarray      # sclera darkening towards the corners
    caruncle_rgb: np.ndarray       # (N, 3)

    def __len__(self) -> int:
        return len(self.kappa_h)

    def take(self, index: np.ndarray) -> Subjects:
        """Rows for ``index`` (e.g. the subject of every frame)."""
        return Subjects(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def sample_subjects(rng: np.random.Generator, n: int, *,
                    kappa_h_deg: tuple[float, float] = (5.0, 2.0),
                    kappa_v_deg: tuple[float, float] = (1.5, 1.0), kappa_asym_deg: float = 0.8,
                    glasses_fraction: float = 0.25, eye_detail: bool = False) -> Subjects:
    """Draw ``n`` subjects. Kappa arguments are (mean, std) in degrees, drawn from a normal
    clipped at 4 std; ``kappa_asym_deg`` is the std of the per-eye deviation of horizontal
    kappa; ``eye_detail`` marks the subjects for the renderer's eye details (their traits are
    drawn either way, so the flag changes no draw)."""
    def normal(mean: float, std: float, lo: float, hi: float) -> np.ndarray:
        return np.clip(rng.normal(mean, std, n), lo, hi)

    tone = rng.beta(1.6, 1.6, n)[:, None]
    skin = SKIN_LIGHT * (1 - tone) + SKIN_DARK * tone
    skin = skin * rng.normal(1.0, 0.04, (n, 3))
    iris = IRIS_COLOURS[rng.choice(len(IRIS_COLOURS), n, p=IRIS_WEIGHTS)]
    iris = iris * rng.normal(1.0, 0.12, (n, 1)) * rng.normal(1.0, 0.05, (n, 3))
    hair = HAIR_COLOURS[rng.choice(len(HAIR_COLOURS), n, p=HAIR_WEIGHTS)]
    hair = hair * rng.normal(1.0, 0.15, (n, 1))
    sclera = np.array([0.86, 0.83, 0.80]) * rng.normal(1.0, 0.04, (n, 1)) \
        * rng.normal(1.0, 0.02, (n, 3))
    lips = skin * np.array([0.95, 0.62, 0.62]) * rng.normal(1.0, 0.05, (n, 1))
    glasses = rng.random(n) < glasses_fraction
    frame_rgb = np.where(rng.random((n, 1)) < 0.6, rng.uniform(0.02, 0.12, (n, 1)),
                         rng.uniform(0.2, 0.7, (n, 3)))
    rad = np.pi / 180
    return Subjects(
        interocular_cm=normal(6.3, 0.35, 5.4, 7.3),
        eyeball_radius_cm=normal(1.2, 0.05, 1.05, 1.35),
        iris_radius_cm=normal(0.59, 0.03, 0.5, 0.68),
        pupil_radius_cm=normal(0.19, 0.04, 0.1, 0.32),
        fissure_width_cm=normal(2.9, 0.2, 2.3, 3.5),
        upper_lid_cm=normal(0.50, 0.08, 0.30, 0.72),
        lower_lid_cm=normal(0.42, 0.06, 0.26, 0.58),
        canthal_tilt_cm=normal(0.06, 0.08, -0.15, 0.3),
        kappa_h=normal(*kappa_h_deg, kappa_h_deg[0] - 4 * kappa_h_deg[1],
                       kappa_h_deg[0] + 4 * kappa_h_deg[1]) * rad,
        kappa_v=normal(*kappa_v_deg, kappa_v_deg[0] - 4 * kappa_v_deg[1],
                       kappa_v_deg[0] + 4 * kappa_v_deg[1]) * rad,
        kappa_asym=rng.normal(0.0, kappa_asym_deg, n) * rad,
        face_scale=normal(1.0, 0.06, 0.82, 1.18),
        brow_height_cm=normal(1.55, 0.18, 1.1, 2.1),
        brow_thickness_cm=normal(0.32, 0.07, 0.15, 0.5),
        hairline_cm=normal(5.2, 0.9, 3.2, 8.0),
        skin_rgb=np.clip(skin, 0.05, 0.95),
        iris_rgb=np.clip(iris, 0.02, 0.8),
        sclera_rgb=np.clip(sclera, 0.6, 0.95),
        hair_rgb=np.clip(hair, 0.02, 0.8),
        lip_rgb=np.clip(lips, 0.05, 0.9),
        glasses=glasses,
        glasses_rgb=np.broadcast_to(frame_rgb, (n, 3)).copy(),
        glasses_size_cm=np.stack([normal(2.3, 0.2, 1.8, 2.8), normal(1.7, 0.2, 1.2, 2.2)], 1),
        # Drawn last (keyword arguments are evaluated in order): no other trait moved.
        eye_detail=np.full(n, bool(eye_detail)),
        **_eye_detail_traits(rng, n, lips, sclera),
    )


def _eye_detail_traits(rng: np.random.Generator, n: int, lips: np.ndarray,
                       sclera: np.ndarray) -> dict[str, np.ndarray]:
    """The eye-appearance traits, in a fixed order of draws."""
    def normal(mean: float, std: float, lo: float, hi: float) -> np.ndarray:
        return np.clip(rng.normal(mean, std, n), lo, hi)

    pink = rng.random((n, 1))
    grey = rng.uniform(0.74, 0.95, (n, 1))
    caruncle = (0.55 * lips + 0.45 * sclera * np.array([0.88, 0.72, 0.72])) \
        * rng.normal(1.0, 0.08, (n, 1))
    return dict(
        lash_cm=normal(0.14, 0.035, 0.06, 0.22),
        lash_alpha=rng.uniform(0.75, 1.0, n),
        crease_cm=normal(0.3, 0.08, 0.15, 0.5),
        crease_alpha=rng.uniform(0.08, 0.35, n),
        socket_alpha=rng.uniform(0.08, 0.3, n),
        lower_lid_alpha=rng.uniform(0.08, 0.25, n),
        iris_texture=rng.uniform(0.25, 0.6, n),
        iris_phase=rng.uniform(0.0, 2 * np.pi, (n, 2)),
        limbus_alpha=rng.uniform(0.4, 0.8, n),
        sclera_tint=grey * (1.0 - pink * np.array([0.0, 0.07, 0.09])),
        sclera_corner=rng.uniform(0.3, 0.55, n),
        caruncle_rgb=np.clip(caruncle, 0.05, 0.9),
    )
