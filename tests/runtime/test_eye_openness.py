"""Eye openness: the ratio by hand on a made-up contour (also turned and mirrored), and on the
real astronaut portrait with her eyes open and with her eyelids painted shut."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from gazesdk.runtime.eye_openness import eye_openness


def _contour(width: float, gap: float) -> np.ndarray:
    """Corners at x=0 and x=width; lower lid (1-7) sagging by gap/3, upper (9-15) by -2gap/3."""
    c = np.zeros((71, 2))
    t = np.linspace(0, 1, 9)
    c[:9, 0] = t * width
    c[:9, 1] = np.sin(np.pi * t) * gap / 3
    t2 = np.linspace(1, 0, 9)[1:8]
    c[9:16, 0] = t2 * width
    c[9:16, 1] = -np.sin(np.pi * t2) * 2 * gap / 3
    return c


def test_ratio_by_hand_and_invariance():
    c = _contour(30.0, 9.0)
    assert eye_openness(c) == pytest.approx(9 / 30)
    a = 0.4
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    assert eye_openness(c @ rot.T * 2.5 + [100, 40]) == pytest.approx(9 / 30)
    assert eye_openness(c * [-1, 1]) == pytest.approx(9 / 30)
    assert eye_openness(_contour(30.0, 0.0)) == 0.0
    assert eye_openness(np.zeros((71, 2))) == 0.0
    assert eye_openness(np.ones((5, 2))) == 0.0          # too few points: not an eye contour


def test_open_and_painted_shut_on_a_real_face(landmark_models, detector_model, astronaut):
    pytest.importorskip("ai_edge_litert")
    from gazesdk.runtime.detector import MediaPipeFaceDetector
    from gazesdk.runtime.face_mesh import FaceMesh, roi_from_detection
    from gazesdk.runtime.iris import IrisLandmarker

    det = MediaPipeFaceDetector(model_path=detector_model)
    mesh = FaceMesh(model_path=landmark_models[0])
    iris = IrisLandmarker(model_path=landmark_models[1])
    rgb = np.ascontiguousarray(astronaut)

    def openness(img):
        first = mesh.run(img, roi_from_detection(det.detect(img)[0]))
        eyes = iris.run(img, mesh.run(img, first.next_roi()).points)
        return {k: eye_openness(v.contour) for k, v in eyes.items()}

    opened = openness(rgb)
    # paint each eye's opening with the skin just below it and draw a lash line: closed lids
    shut = rgb.copy()
    skin = rgb[118:122, 205:240].reshape(-1, 3).mean(axis=0)
    for cx, cy in ((203, 102), (246, 104)):
        cv2.ellipse(shut, (cx, cy), (12, 7), 0, 0, 360, tuple(float(c) for c in skin), -1)
        cv2.line(shut, (cx - 11, cy + 1), (cx + 11, cy + 1), (60, 40, 35), 1)
    closed = openness(shut)
    det.close()
    assert all(0.3 < v < 0.5 for v in opened.values()), opened
    assert all(v < 0.15 for v in closed.values()), closed
