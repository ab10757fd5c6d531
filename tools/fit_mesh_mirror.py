"""Fit the face mesh's left-right pairing (``gazesdk/runtime/data/mesh_mirror.npy``): which of
the 468 points is each point's mirror image, for running the mesh on a mirrored ROI
(:mod:`gazesdk.runtime.mesh_mirror`).

    python tools/fit_mesh_mirror.py        # a second

The canonical face (``canonical_face.npy``, fitted by ``tools/fit_canonical_face.py``) is
centred on its mean x, mirrored (x -> -x), and matched to itself by the assignment of least
total distance (scipy's ``linear_sum_assignment``): a permutation, checked here to be an
involution. Scipy is needed for this tool only; the runtime reads the table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from gazesdk.runtime.head_pose import canonical_face

OUT = Path(__file__).resolve().parents[1] / "gazesdk" / "runtime" / "data" / "mesh_mirror.npy"


def main() -> int:
    face = canonical_face().astype(np.float64)
    face = face - np.array([face[:, 0].mean(), 0.0, 0.0])
    mirrored = face * np.array([-1.0, 1.0, 1.0])
    cost = np.linalg.norm(face[:, None] - mirrored[None], axis=2)
    _, pair = linear_sum_assignment(cost)
    if not np.array_equal(pair[pair], np.arange(len(pair))):
        print("the assignment is not an involution: the canonical face is too asymmetric")
        return 1
    gap = cost[np.arange(len(pair)), pair]
    np.save(OUT, pair.astype(np.int16))
    print(f"{OUT}: {int((pair == np.arange(len(pair))).sum())} points on the midline, "
          f"mirror distance median {np.median(gap):.3f} cm, max {gap.max():.3f} cm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
