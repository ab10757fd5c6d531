"""GazeSim's realism gap, in one number per stage (issue 17): how real GazeSim's faces and eyes
look to models that learned from real faces (MediaPipe's BlazeFace, face mesh and iris model).

On GazeSim the truth is exact (the renderer's own iris projection); on the real photos it is a
hand mark (:data:`gazesdk.mobile_bench.real_faces.RealPhoto` iris centres, mapped into each
frame). Errors are in frame pixels and in % of the eye's width (the distance between the face
mesh's two eye corners), so frames of different scale compare.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from gazesdk.mobile_bench.real_faces import CONDITIONS, EYES, RealPhoto, place, real_photos
from gazesdk.runtime.iris import EYE_CORNERS

REALISM_SEED = 91_919


def _eye_widths(points: np.ndarray) -> dict[str, float]:
    return {eye: float(np.linalg.norm(points[a, :2] - points[b, :2]))
            for eye, (a, b, _) in EYE_CORNERS.items()}


class _Landmarks:
    def __init__(self) -> None:
        from gazesdk.runtime.detector import MediaPipeFaceDetector
        from gazesdk.runtime.face_mesh import FaceMesh
        from gazesdk.runtime.iris import IrisLandmarker

        self.mesh, self.iris = FaceMesh(threads=1), IrisLandmarker(threads=1)
        self.detector = MediaPipeFaceDetector()

    def __call__(self, rgb: np.ndarray) -> tuple[bool, bool, dict | None, dict | None]:
        """(detected, meshed, iris centres, eye widths)."""
        from gazesdk.runtime.face_mesh import roi_from_detection

        faces = self.detector.detect(np.ascontiguousarray(rgb))
        if not faces:
            return False, False, None, None
        m = self.mesh.run(rgb, roi_from_detection(faces[0]))
        if m.score < 0.5:
            return True, False, None, None
        m = self.mesh.run(rgb, m.next_roi())        # refined on its own ROI, as when tracking
        eyes = self.iris.run(rgb, m.points)
        return True, True, {e: np.asarray(eyes[e].iris_center) for e in EYES}, \
            _eye_widths(m.points)

    def close(self) -> None:
        self.detector.close()


def _summary(errors: list[float], widths: list[float]) -> dict[str, float | None]:
    if not errors:
        return {"median_px": None, "median_pct_eye_width": None, "p90_px": None}
    e, w = np.asarray(errors), np.asarray(widths)
    return {"median_px": round(float(np.median(e)), 3),
            "median_pct_eye_width": round(float(np.median(100 * e / w)), 2),
            "p90_px": round(float(np.percentile(e, 90)), 3)}


def _gazesim(lm: _Landmarks, subjects: int, frames: int, eye_detail: bool,
             progress: bool) -> dict[str, object]:
    from gazesdk.sim.config import SimConfig
    from gazesdk.sim.generator import GazeSim

    sim = GazeSim(SimConfig(subjects=subjects, frames_per_subject=frames,
                            sessions_per_subject=1, seed=REALISM_SEED, eye_detail=eye_detail))
    n = len(sim)
    found = meshed = 0
    errors: list[float] = []
    widths: list[float] = []
    for start in tqdm(range(0, n, 50), desc="GazeSim realism", disable=not progress):
        index = np.arange(start, min(start + 50, n))
        rendered, scene = sim.render_frames(index)
        for k, rgb in enumerate(rendered):
            det, ok, iris, width = lm(rgb)
            found += det
            meshed += ok
            if not ok:
                continue
            for e, eye in enumerate(EYES):
                errors.append(float(np.linalg.norm(iris[eye] - scene.irises[e].centre[k])))
                widths.append(width[eye])
    return {"frames": n, "detection_rate": round(found / n, 4),
            "mesh_detection_rate": round(meshed / n, 4), "iris_error": _summary(errors, widths)}


def realism_gap(*, subjects: int = 20, frames: int = 10, photos: list[RealPhoto] | None = None,
                progress: bool = False) -> dict[str, object]:
    """Detection and mesh rates and iris-centre errors of the real-data models on GazeSim
    (``subjects`` x ``frames`` new frames, every device and orientation; with plain and with
    detailed eyes, the same people and poses) and on the real photos under every condition of
    :data:`~gazesdk.mobile_bench.real_faces.CONDITIONS`."""
    lm = _Landmarks()
    try:
        gazesim = _gazesim(lm, subjects, frames, False, progress)
        detailed = _gazesim(lm, subjects, frames, True, progress)
        real_errors: list[float] = []
        real_widths: list[float] = []
        real_found = real_meshed = real_n = 0
        for photo in real_photos() if photos is None else photos:
            truth = {"right_eye": photo.right_iris, "left_eye": photo.left_iris}
            for c in CONDITIONS:
                frame, m = place(photo, c)
                real_n += 1
                det, ok, iris, width = lm(frame)
                real_found += det
                real_meshed += ok
                if not ok:
                    continue
                for eye in EYES:
                    t = m[:, :2] @ np.asarray(truth[eye]) + m[:, 2]
                    real_errors.append(float(np.linalg.norm(iris[eye] - t)))
                    real_widths.append(width[eye])
    finally:
        lm.close()
    return {
        "gazesim": gazesim,
        "gazesim_eye_detail": detailed,
        "real": {"frames": real_n, "detection_rate": round(real_found / max(real_n, 1), 4),
                 "mesh_detection_rate": round(real_meshed / max(real_n, 1), 4),
                 "iris_error": _summary(real_errors, real_widths),
                 "truth": "iris centres marked by hand on each photo (about +-1 photo pixel), "
                          "mapped into each frame"},
    }
