"""The good frames every part of the campaign starts from: a real face, GazeSim's rendered
faces, and frames with no face at all, each (480, 640, 3) uint8 RGB (a portrait VGA front
camera, as :mod:`gazesdk.mobile_bench.real_faces` films its photos)."""

from __future__ import annotations

import numpy as np

FRAME_WH = (480, 640)


def real_face_frame(distance_cm: float = 35.0, anchor: tuple[float, float] = (0.5, 0.38)
                    ) -> np.ndarray:
    """``skimage.data.astronaut()`` placed in a 480x640 frame at ``distance_cm``."""
    from gazesdk.mobile_bench.real_faces import Condition, place, real_photos

    photo = next(p for p in real_photos() if p.name == "astronaut")
    frame, _ = place(photo, Condition("reliability", frame=FRAME_WH, distance_cm=distance_cm,
                                      anchor=anchor))
    return frame


def gazesim_frames(count: int = 4, seed: int = 0) -> list[np.ndarray]:
    """``count`` distinct GazeSim full frames (portrait sessions, resized to 480x640 when a
    device's camera gives another size)."""
    import cv2

    from gazesdk.sim import GazeSim, SimConfig

    sim = GazeSim(SimConfig(subjects=max(count, 2), frames_per_subject=1,
                            sessions_per_subject=1, devices=("iPhone 6s",), seed=seed,
                            split_fractions=(1.0, 0.0, 0.0)))
    frames, _ = sim.render_frames(np.arange(min(count, len(sim))))
    out = []
    for f in frames:
        if f.shape[1::-1] != FRAME_WH:
            f = cv2.resize(f, FRAME_WH, interpolation=cv2.INTER_AREA)
        out.append(np.ascontiguousarray(f))
    return out


def no_face_frames(seed: int = 0) -> list[np.ndarray]:
    """Frames without a face: black, mid grey, and smooth noise (a wall, a ceiling)."""
    import cv2

    w, h = FRAME_WH
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 6)
    return [np.zeros((h, w, 3), np.uint8), np.full((h, w, 3), 128, np.uint8), noise]
