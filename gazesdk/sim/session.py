"""Recording sessions: one subject, one device in one orientation, one place (light, camera).

As in GazeCapture, a session fixes the device and its orientation, the lighting and the camera's
exposure and noise, and the way the person holds the device (typical distance and head offset).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from gazesdk.geometry.devices import DeviceGeometry
from gazesdk.geometry.screen import screen_mm_to_cam_cm

DISTANCE_CM = (20.0, 60.0)   # range of the eyes' z (distance from the screen plane), in cm


@dataclass(frozen=True)
class Sessions:
    """N sessions, one row each (struct of arrays; cm, radians, linear intensities)."""

    subject: np.ndarray
    device: np.ndarray             # index into the generator's device list
    orientation: np.ndarray        # 1-4
    screen_centre_cm: np.ndarray   # (N, 2) screen centre in camera cm
    head_mean_cm: np.ndarray       # (N, 3) mean eye-midpoint position
    head_std_cm: np.ndarray        # (N, 3) within-session spread of that position
    pose_mean: np.ndarray          # (N, 3) mean yaw, pitch, roll
    pose_std: np.ndarray           # (N, 3)
    light_dir: np.ndarray          # (N, 3) unit vector towards the main light, camera frame
    light_rgb: np.ndarray          # (N, 3) colour x intensity of the main light
    ambient: np.ndarray            # (N,) ambient level
    screen_glow: np.ndarray        # (N,) light from the device's own screen (frontal)
    exposure: np.ndarray           # (N,) camera gain
    noise_sigma: np.ndarray        # (N,) sensor noise std in frame pixels (0-1 scale)
    blur_sigma: np.ndarray         # (N,) Gaussian blur std in frame pixels
    background: np.ndarray         # (N, 3, 3) colour at top-left, and its x and y gradients
    background_wave: np.ndarray    # (N, 4) amplitude, x freq, y freq, phase of a soft pattern
    face_box_bias: np.ndarray      # (N, 3) the detector's habit in this session: dx, dy, ds
    eye_box_bias: np.ndarray       # (N, 3)

    def __len__(self) -> int:
        return len(self.subject)

    def take(self, index: np.ndarray) -> Sessions:
        return Sessions(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def sample_sessions(rng: np.random.Generator, subject: np.ndarray, devices: list[DeviceGeometry],
                    *, tablet_fraction: float = 0.25,
                    orientation_probs: tuple[float, float, float, float] = (0.7, 0.04, 0.13, 0.13),
                    distance_cm: tuple[float, float] = DISTANCE_CM,
                    noise_scale: float = 1.0, blur_scale: float = 1.0,
                    share_device: bool = False) -> Sessions:
    """One session per entry of ``subject`` (the subject index of each session).
    ``share_device``: every session of a subject uses its first session's device and
    orientation (the same phone held again: calibration studies); the other draws are as
    without it."""
    n = len(subject)
    kinds = np.array([d.kind for d in devices])
    phones, tablets = np.flatnonzero(kinds == "phone"), np.flatnonzero(kinds == "tablet")
    is_tablet = rng.random(n) < tablet_fraction if len(tablets) else np.zeros(n, bool)
    if not len(phones):
        is_tablet[:] = True
    device = np.where(is_tablet, rng.choice(tablets if len(tablets) else phones, n),
                      rng.choice(phones if len(phones) else tablets, n))
    probs = np.asarray(orientation_probs, float)
    orientation = rng.choice([1, 2, 3, 4], n, p=probs / probs.sum())
    if share_device:
        subj = np.asarray(subject)
        _, first = np.unique(subj, return_index=True)
        lookup = dict(zip(subj[first].tolist(), first.tolist(), strict=True))
        firsts = np.asarray([lookup[v] for v in subj.tolist()])
        device, orientation = device[firsts], orientation[firsts]

    centre = np.zeros((n, 2))
    for i, dev in enumerate(devices):
        m = device == i
        if m.any():
            for o in (1, 2, 3, 4):
                mo = m & (orientation == o)
                if mo.any():
                    w, h = dev.screen_size_mm(o)
                    centre[mo] = np.stack(screen_mm_to_cam_cm(w / 2, h / 2, dev, o))

    # People hold tablets farther away; the face sits above the screen centre (devices are held
    # below eye level) and near it sideways.
    lo, hi = distance_cm
    dist = np.where(is_tablet, rng.normal(38, 6, n), rng.normal(30, 5, n))
    dist = np.clip(dist, lo + 2, hi - 2)
    head_mean = np.stack([centre[:, 0] + rng.normal(0, 2.0, n),
                          centre[:, 1] + rng.normal(4.0, 3.0, n), dist], 1)
    head_std = np.stack([rng.uniform(0.5, 2.0, n), rng.uniform(0.5, 2.0, n),
                         rng.uniform(0.5, 3.0, n)], 1)
    deg = np.pi / 180
    pose_mean = np.stack([rng.normal(0, 6, n), rng.normal(-2, 7, n), rng.normal(0, 4, n)], 1) * deg
    pose_std = np.stack([rng.uniform(1, 5, n), rng.uniform(1, 5, n),
                         rng.uniform(0.5, 3, n)], 1) * deg

    az = rng.uniform(-np.pi, np.pi, n)
    el = rng.uniform(0.1, 1.2, n)            # light above the horizon mostly
    toward_device = rng.uniform(0.2, 1.0, n)  # lights on the device's side of the face: z < 0
    light_dir = np.stack([np.cos(el) * np.sin(az), np.sin(el), -toward_device], 1)
    light_dir /= np.linalg.norm(light_dir, axis=1, keepdims=True)
    temperature = rng.uniform(-1, 1, (n, 1))  # warm (+) to cool (-)
    light_rgb = (1 + temperature * np.array([0.12, 0.0, -0.15])) * rng.uniform(0.5, 1.1, (n, 1))
    ambient = rng.uniform(0.15, 0.45, n)
    screen_glow = rng.uniform(0.0, 0.35, n)
    exposure = rng.lognormal(0.0, 0.18, n)
    noise_sigma = rng.uniform(0.004, 0.025, n) * noise_scale
    blur_sigma = rng.uniform(0.0, 1.2, n) * blur_scale
    base = rng.uniform(0.15, 0.8, (n, 1, 3))
    grads = rng.normal(0, 0.15, (n, 2, 3))
    background = np.concatenate([base, grads], axis=1)
    background_wave = np.stack([rng.uniform(0, 0.12, n), rng.uniform(0.5, 6, n) * np.pi,
                                rng.uniform(0.5, 6, n) * np.pi, rng.uniform(0, 2 * np.pi, n)], 1)
    face_box_bias = np.stack([rng.normal(0, 0.03, n), rng.normal(0, 0.03, n),
                              rng.normal(0, 0.04, n)], 1)
    eye_box_bias = np.stack([rng.normal(0, 0.04, n), rng.normal(0, 0.04, n),
                             rng.normal(0, 0.05, n)], 1)
    return Sessions(subject=np.asarray(subject), device=device, orientation=orientation,
                    screen_centre_cm=centre, head_mean_cm=head_mean, head_std_cm=head_std,
                    pose_mean=pose_mean, pose_std=pose_std, light_dir=light_dir,
                    light_rgb=light_rgb, ambient=ambient, screen_glow=screen_glow,
                    exposure=exposure, noise_sigma=noise_sigma, blur_sigma=blur_sigma,
                    background=background, background_wave=background_wave,
                    face_box_bias=face_box_bias, eye_box_bias=eye_box_bias)
