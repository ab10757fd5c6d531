"""The mirror-averaged face mesh (issue 17): the pairing table is an involution that pairs the
eye corners MediaPipe documents, the average is worked by hand, and on a real face with an
exactly mirrored ROI the averaged mesh of the mirrored frame is the mirror image of the
averaged mesh (the plain mesh is not)."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.runtime.face_mesh import (
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
)
from gazesdk.runtime.head_pose import canonical_face
from gazesdk.runtime.mesh_mirror import average_with_mirrored, mirror_pairs


def test_pairs_are_an_involution_pairing_the_eye_corners():
    p = mirror_pairs()
    assert np.array_equal(p[p], np.arange(468))
    assert p[RIGHT_EYE_OUTER] == LEFT_EYE_OUTER and p[RIGHT_EYE_INNER] == LEFT_EYE_INNER
    assert p[1] == 1 and p[152] == 152           # nose tip and chin sit on the midline
    # the canonical face mirrored onto its pairs: every point within 2 mm of its partner
    face = canonical_face() - np.array([canonical_face()[:, 0].mean(), 0, 0])
    assert np.abs(face[p] * np.array([-1, 1, 1]) - face).max() < 0.2
    with pytest.raises(ValueError):
        p[0] = 5                                 # read-only: nobody edits the shared table


def test_average_by_hand():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(468, 3))
    mirrored = rng.normal(size=(468, 3))
    got = average_with_mirrored(pts, mirrored)
    p = mirror_pairs()
    i = RIGHT_EYE_OUTER                          # estimated by the mirrored run's point 263
    np.testing.assert_allclose(got[i], (pts[i] + mirrored[p[i]]) / 2)
    np.testing.assert_allclose(average_with_mirrored(pts, pts[p]), pts)


def _mirror_roi(roi, width):
    from gazesdk.runtime.roi import Roi

    return Roi(width - roi.cx, roi.cy, roi.side, -roi.angle)


def test_averaged_mesh_is_mirror_consistent_on_a_real_face(landmark_models, detector_model):
    from gazesdk.mobile_bench.real_faces import BASE, mirror_frame, place, real_photos
    from gazesdk.runtime.detector import MediaPipeFaceDetector
    from gazesdk.runtime.face_mesh import FaceMesh, roi_from_detection

    frame = place(real_photos()[0], BASE)[0]
    w = frame.shape[1]
    det = MediaPipeFaceDetector()
    try:
        roi = roi_from_detection(det.detect(frame)[0])
    finally:
        det.close()
    flipped, froi = mirror_frame(frame), _mirror_roi(roi, w)
    errors = {}
    for on in (False, True):
        mesh = FaceMesh(mirror_average=on)
        a = mesh.run(frame, roi).points
        b = mesh.run(flipped, froi).points
        back = b[mirror_pairs()].copy()          # the mirrored frame's mesh, mirrored back
        back[:, 0] = w - back[:, 0]
        errors[on] = float(np.abs(back[:, :2] - a[:, :2]).max())
    assert errors[True] < 0.05 < errors[False]   # px: exact up to resampling; plain: not


def test_the_runtime_option_is_strict():
    from gazesdk.errors import ConfigError
    from gazesdk.runtime import GazeEstimatorOptions

    assert GazeEstimatorOptions().mesh_mirror_average is False
    with pytest.raises(ConfigError, match="mesh_mirror_average must be true or false"):
        GazeEstimatorOptions(mesh_mirror_average="yes")
