"""Fit the canonical 3-D face that head pose uses (``gazesdk/runtime/data/canonical_face.npy``):
the face mesh run on GazeSim frames whose head poses and positions are known exactly, each mesh
point triangulated over all frames (:func:`gazesdk.runtime.head_pose.triangulate_canonical`).

    python tools/fit_canonical_face.py [--subjects 200] [--frames 8]    # about a minute

Uses its own seed; ``benchmarks/landmarks.py`` measures head pose on other GazeSim subjects.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gazesdk.runtime.detector import MediaPipeFaceDetector
from gazesdk.runtime.face_mesh import FaceMesh, roi_from_detection
from gazesdk.runtime.head_pose import triangulate_canonical
from gazesdk.sim import GazeSim, SimConfig
from gazesdk.sim.rotation import euler_to_matrix

OUT = Path(__file__).resolve().parents[1] / "gazesdk" / "runtime" / "data" / "canonical_face.npy"
SEED = 20261203


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subjects", type=int, default=200)
    ap.add_argument("--frames", type=int, default=8)
    args = ap.parse_args()
    sim = GazeSim(SimConfig(subjects=args.subjects, frames_per_subject=args.frames,
                            sessions_per_subject=1, seed=SEED))
    det, mesh = MediaPipeFaceDetector(), FaceMesh()
    pts, rows = [], []
    for start in tqdm(range(0, len(sim), 64), desc="GazeSim frames"):
        index = np.arange(start, min(start + 64, len(sim)))
        frames, _ = sim.render_frames(index)
        for i, rgb in zip(index, frames, strict=True):
            faces = det.detect(rgb)
            if not faces:
                continue
            m = mesh.run(rgb, roi_from_detection(faces[0]))
            m = mesh.run(rgb, m.next_roi())        # the tracked ROI, as in VIDEO mode
            if m.score >= 0.5:
                pts.append(m.points[:, :2])
                rows.append(i)
    det.close()
    rows_a = np.asarray(rows)
    plan = sim.plan
    rot = euler_to_matrix(*plan.head_pose[rows_a].T)
    w, h = sim.camera.frame_size(plan.sessions.orientation[plan.session[rows_a]])
    face = triangulate_canonical(np.stack(pts), rot, plan.head_pos[rows_a],
                                 np.stack([w, h], 1), sim.camera.focal_px)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.save(OUT, face.astype(np.float32))
    print(f"{len(rows)} frames -> {OUT} (468 points; eye corners 33, 263 at "
          f"{face[33].round(2)}, {face[263].round(2)} cm)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
