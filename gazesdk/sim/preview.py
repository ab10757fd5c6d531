"""A contact sheet of GazeSim samples, so a person can see what the models are trained on."""

from __future__ import annotations

import errno
import os

import cv2
import numpy as np

from gazesdk.data.arrays import PATCH_SIZE
from gazesdk.sim.config import SimConfig
from gazesdk.sim.generator import GazeSim

# Calibration-grid dots shown: the four corners and the centre of the screen.
SHOWN_DOTS = (0, 2, 4, 6, 8)
SCALE = 2
LABEL_H = 22


def contact_sheet(path: str | os.PathLike, *, subjects: int = 4, seed: int = 0) -> np.ndarray:
    """Write (and return) an RGB sheet: one row per subject, one cell per dot, each cell the
    face, left-eye and right-eye patches with the subject, device and label (XCam, YCam)."""
    sim = GazeSim(SimConfig(subjects=subjects, frames_per_subject=0, sessions_per_subject=1,
                            calibration_dots=9, seed=seed, split_fractions=(1.0, 0.0, 0.0)))
    data = sim.render_chunk(0, len(sim))
    cell_w, cell_h = 3 * PATCH_SIZE * SCALE, PATCH_SIZE * SCALE + LABEL_H
    sheet = np.full((subjects * cell_h, len(SHOWN_DOTS) * cell_w, 3), 255, np.uint8)
    for row in range(subjects):
        for col, dot in enumerate(SHOWN_DOTS):
            i = row * 9 + dot
            trio = np.concatenate([data["face"][i], data["left_eye"][i], data["right_eye"][i]], 1)
            trio = cv2.resize(trio, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_NEAREST)
            y0, x0 = row * cell_h, col * cell_w
            sheet[y0:y0 + PATCH_SIZE * SCALE, x0:x0 + cell_w] = trio
            device = sim.device_names[int(data["device"][i])]
            gx, gy = data["gaze_cm"][i]
            label = (f"s{row} {device} o{int(data['orientation'][i])}  "
                     f"({gx:+.1f}, {gy:+.1f}) cm")
            cv2.putText(sheet, label, (x0 + 4, y0 + PATCH_SIZE * SCALE + 16),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
    if not cv2.imwrite(os.fspath(path), sheet[..., ::-1]):
        raise OSError(errno.EIO, "could not write the PNG", os.fspath(path))
    return sheet
