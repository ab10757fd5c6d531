"""How open an eye is, from the iris model's eyelid contour: an eye aspect ratio in the spirit
of Soukupova and Cech (2016, "Real-Time Eye Blink Detection using Facial Landmarks", eq. 1):
the lids' extent across the eye line over the distance between the corners,

    openness = (max_i d_i - min_i d_i) / |c_8 - c_0|,   d_i = (c_i - c_0) x unit(c_8 - c_0)

over the 16 lid points c_0..c_15 that open the model's contour (c_0 and c_8 the corners, 1-7
one lid, 9-15 the other). About 0.3-0.45 for an open adult eye, under 0.1 when closed; a ratio
of image distances, so unchanged by scale, roll and mirroring. The face mesh's own lid points
respond far less (on the astronaut portrait with the lids painted shut: mesh 0.36 -> 0.22, iris
contour 0.42 -> 0.08), hence the iris model.
"""

from __future__ import annotations

import numpy as np

N_LID_POINTS = 16


def eye_openness(contour: np.ndarray) -> float:
    """Lid extent over eye width from an eye's contour ((>=16, 2) frame pixels, the iris
    model's order); 0 for a degenerate contour."""
    c = np.asarray(contour, np.float64)[:N_LID_POINTS, :2]
    if c.shape[0] < N_LID_POINTS:
        return 0.0
    axis = c[8] - c[0]
    width = float(np.hypot(*axis))
    if width == 0.0:
        return 0.0
    rel = c - c[0]
    d = (rel[:, 0] * axis[1] - rel[:, 1] * axis[0]) / width
    return float(np.ptp(d)) / width
