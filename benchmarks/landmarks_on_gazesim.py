"""How often the real-face detector and face mesh find GazeSim's faces (issue 16's detector/mesh
failure rate on GazeSim), and how far the mesh's iris centres land from GazeSim's true pupil
positions. GazeSim's faces are analytic renders, not photos: this measures how far the
real-data-trained landmark models transfer to them.

    python benchmarks/landmarks_on_gazesim.py [--subjects 20] [--frames 10]
"""

from __future__ import annotations

import argparse

import numpy as np
from _results import RESULTS, command, machine, write
from tqdm import tqdm

from gazesdk.runtime.detector import MediaPipeFaceDetector
from gazesdk.runtime.face_mesh import FaceMesh, roi_from_detection
from gazesdk.runtime.iris import IrisLandmarker
from gazesdk.sim.config import SimConfig
from gazesdk.sim.generator import GazeSim


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=20)
    ap.add_argument("--frames", type=int, default=10)
    args = ap.parse_args()
    sim = GazeSim(SimConfig(subjects=args.subjects, frames_per_subject=args.frames,
                            sessions_per_subject=1, seed=7))
    det, mesh, iris = MediaPipeFaceDetector(), FaceMesh(), IrisLandmarker()
    n = len(sim)
    detected = meshed = 0
    errors, iods = [], []
    for start in tqdm(range(0, n, 50), desc="GazeSim frames"):
        index = np.arange(start, min(start + 50, n))
        frames, scene = sim.render_frames(index)
        for k, rgb in enumerate(frames):
            faces = det.detect(np.ascontiguousarray(rgb))
            if not faces:
                continue
            detected += 1
            m = mesh.run(rgb, roi_from_detection(faces[0]))
            if m.score < 0.5:
                continue
            meshed += 1
            eyes = iris.run(rgb, mesh.run(rgb, m.next_roi()).points)
            true = {"right_eye": scene.irises[0].centre[k], "left_eye": scene.irises[1].centre[k]}
            iod = float(np.linalg.norm(true["right_eye"] - true["left_eye"]))
            for eye, t in true.items():
                errors.append(float(np.linalg.norm(np.asarray(eyes[eye].iris_center) - t)))
                iods.append(iod)
    det.close()
    rel = np.asarray(errors) / np.asarray(iods) if errors else np.array([np.nan])
    result = {"command": command(), "machine": machine(), "frames": n,
              "detector_found_share": detected / n, "mesh_confirmed_share": meshed / n,
              "iris_error_px_median": float(np.median(errors)) if errors else None,
              "iris_error_over_interocular_median": float(np.median(rel)),
              "iris_error_over_interocular_p90": float(np.percentile(rel, 90))}
    md = "\n".join([
        "| frames | detector found | mesh confirmed | iris error (median px) | "
        "iris error / interocular (median, p90) |", "|---|---|---|---|---|",
        f"| {n} | {100 * detected / n:.1f}% | {100 * meshed / n:.1f}% | "
        f"{result['iris_error_px_median'] or float('nan'):.2f} | "
        f"{result['iris_error_over_interocular_median']:.3f}"
        f", {result['iris_error_over_interocular_p90']:.3f} |", "",
        f"`{result['command']}`", ""])
    write(RESULTS, "landmarks_on_gazesim", result, md)


if __name__ == "__main__":
    main()
