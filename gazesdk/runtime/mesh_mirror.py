"""The face mesh averaged with itself on the mirrored ROI, so that the landmarks, and every crop
and eye geometry cut from them, are mirror-consistent (issue 17).

MediaPipe's face mesh is not mirror-symmetric: on a mirrored real face it places the eye
corners, and with them the eye crops the iris model sees, a few hundredths of an eye width
differently than the mirror image of its first answer, and a hybrid model turns that into
centimetres of gaze (``benchmarks/mirror_sources.py``: for the bundled model 0.87 cm of
the 1.10 cm mean mirror error comes from the eye geometry alone, 0.52 with this averaging).
Running the mesh a second time on the horizontally mirrored ROI,
mapping each answer point back to frame pixels and to the index of its mirror-image point
(:func:`mirror_pairs`, fitted by ``tools/fit_mesh_mirror.py`` on the canonical face), and
averaging the two is test-time mirror averaging of the landmark stage: the mirrored frame then
gives the mirrored mesh up to the ROI's own asymmetry, and the two runs' independent errors
partly cancel. It costs a second mesh inference per frame. MediaPipe's iris model already
treats the eyes alike (it flips one eye's crop to look like the other).
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

N_POINTS = 468


@functools.cache
def mirror_pairs() -> np.ndarray:
    """(468,) int: ``pairs[i]`` is the mesh point at the mirror image of point ``i`` (33 <->
    263 for the outer eye corners; points on the face's midline pair with themselves). An
    involution (read-only)."""
    with resources.files("gazesdk.runtime").joinpath("data/mesh_mirror.npy").open("rb") as f:
        pairs = np.load(f).astype(np.intp)
    if pairs.shape != (N_POINTS,) or not np.array_equal(pairs[pairs], np.arange(N_POINTS)):
        raise RuntimeError("data/mesh_mirror.npy is not a pairing of the 468 mesh points: "
                           "reinstall gazesdk or rerun tools/fit_mesh_mirror.py")
    pairs.flags.writeable = False
    return pairs


def average_with_mirrored(points: np.ndarray, mirrored_points: np.ndarray) -> np.ndarray:
    """The mean of ``points`` (468, D), the mesh on the ROI, and ``mirrored_points`` (468, D),
    the mesh on the mirrored ROI already mapped back to frame pixels (whose point ``i`` sits at
    the mirror image of the face's point ``i``, so it estimates point ``pairs[i]``)."""
    p = np.asarray(points, np.float64)
    q = np.empty_like(p)
    q[mirror_pairs()] = np.asarray(mirrored_points, np.float64)
    return (p + q) / 2
