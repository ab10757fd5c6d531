"""The iris-in-eye geometry, the hybrid models' extra input: hand-worked values, invariance to
scale, position and roll, and the mirror identity on a real face through MediaPipe's models."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from gazesdk.runtime.eye_geometry import eye_geometry, iris_in_eye


def test_worked_by_hand():
    # corners (0, 0) and (10, 0): midpoint (5, 0), width 10; iris (6, 1) -> (0.1, 0.1)
    assert iris_in_eye((6.0, 1.0), (0.0, 0.0), (10.0, 0.0)) == pytest.approx((0.1, 0.1))
    # the same eye turned 90 degrees (corners down the image): e1 = (0, 1), e2 = (-1, 0)
    assert iris_in_eye((-1.0, 6.0), (0.0, 0.0), (0.0, 10.0)) == pytest.approx((0.1, 0.1))
    with pytest.raises(ValueError, match="coincide"):
        iris_in_eye((1.0, 1.0), (2.0, 2.0), (2.0, 2.0))


@pytest.mark.parametrize("scale,angle,shift", [(2.0, 0.0, (0, 0)), (0.5, 30.0, (100, -7)),
                                               (3.0, -80.0, (-5, 40))])
def test_invariant_to_scale_roll_and_position(scale, angle, shift):
    pts = np.array([[3.0, 4.0], [13.0, 5.0], [9.2, 5.9]])       # corner a, corner b, iris
    t = math.radians(angle)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    moved = scale * pts @ rot.T + np.asarray(shift, float)
    assert iris_in_eye(moved[2], moved[0], moved[1]) == pytest.approx(
        iris_in_eye(pts[2], pts[0], pts[1]), abs=1e-12)


def test_mirrored_real_face_gives_the_mirrored_geometry(landmark_models, detector_model,
                                                        astronaut):
    """On a real face, the geometry of the mirrored frame is the mirror of the geometry: the
    eyes swap and u changes sign. MediaPipe's models agree with themselves on where both eyes
    look (the mean of the two eyes, within 0.01 eye widths), less on each eye alone (about
    0.035 here: a vergence the mirror does not keep)."""
    from gazesdk.runtime.detector import MediaPipeFaceDetector
    from gazesdk.runtime.face_mesh import FaceMesh
    from gazesdk.runtime.iris import IrisLandmarker
    from gazesdk.runtime.tracking import FaceTracker

    m = cv2.getRotationMatrix2D((225.0, 110.0), 0, 2.0)
    m[:, 2] += (15.0, 140.0)
    frame = cv2.warpAffine(astronaut, m, (480, 640))
    det = MediaPipeFaceDetector()
    try:
        tracker, iris = FaceTracker(det, FaceMesh()), IrisLandmarker()
        out = []
        for f in (frame, np.ascontiguousarray(frame[:, ::-1])):
            found = tracker.update(f, video=False)
            out.append(eye_geometry(found.mesh.points, iris.run(f, found.mesh.points)))
            tracker.reset()
    finally:
        det.close()
    g, gm = out
    assert g.shape == (4,) and g.dtype == np.float32
    assert np.abs(g).max() < 0.2                 # an open eye looking ahead: near the middle
    want = g[[2, 3, 0, 1]] * np.array([-1, 1, -1, 1])
    assert gm[[0, 2]].mean() == pytest.approx(want[[0, 2]].mean(), abs=0.01)
    assert gm[[1, 3]].mean() == pytest.approx(want[[1, 3]].mean(), abs=0.01)
    assert gm == pytest.approx(want, abs=0.05)
