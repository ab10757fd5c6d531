"""What the face mesh and iris models cost per frame next to the face detector, and how often
tracking from the previous frame's mesh holds, on the built-in real-face stares
(``skimage.data.astronaut()`` under a simulated hand-held camera, as in ``gazesdk benchmark``).

Per frame, interleaved so that all stages see the same machine state: BlazeFace alone, the
mesh on the detection's ROI, the mesh on the ROI tracked from the previous frame's mesh, and the
iris model on both eyes. One thread each (LiteRT / MediaPipe Tasks). Writes
``benchmarks/results/landmark_stages.{json,md}``.

    python benchmarks/landmark_stages.py [--stares 8] [--frames 30]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _results import RESULTS, command, write

from gazesdk.mobile_bench.benchmark import machine
from gazesdk.mobile_bench.inputs import built_in_frames
from gazesdk.mobile_bench.profiles import get_profile
from gazesdk.mobile_bench.sequences import decode_jpeg
from gazesdk.runtime.detector import MediaPipeFaceDetector
from gazesdk.runtime.face_mesh import FaceMesh, roi_from_detection
from gazesdk.runtime.iris import IrisLandmarker

TRACK_MIN_SCORE = 0.5           # MediaPipe's face-presence threshold


def _ms(t0: int) -> float:
    return (time.perf_counter_ns() - t0) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stares", type=int, default=8)
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args()
    profile = get_profile("default")
    frames = built_in_frames(args.stares, args.frames, seed=0, size=profile.frame_size,
                             scale=profile.photo_scale)
    decoded = [decode_jpeg(j) for j in frames.jpegs]
    det, mesh, iris = MediaPipeFaceDetector(), FaceMesh(), IrisLandmarker()
    times: dict[str, list[float]] = {"detector": [], "mesh_on_detection": [],
                                     "mesh_tracked": [], "iris_both_eyes": []}
    landmarks: list[float] = []         # tracked mesh + iris, on the same frames
    held, tracked_frames, no_face = 0, 0, 0
    prev = None
    for i, (rgb, seq) in enumerate(zip(decoded, frames.sequence, strict=True)):
        if i and seq != frames.sequence[i - 1]:
            prev = None                                  # a new stare: start from a detection
        t0 = time.perf_counter_ns()
        faces = det.detect(rgb)
        t_det = _ms(t0)
        if not faces:
            no_face += 1
            prev = None
            continue
        t0 = time.perf_counter_ns()
        first = mesh.run(rgb, roi_from_detection(faces[0]))
        t_mesh_det = _ms(t0)
        t_track = None
        if prev is not None:
            t0 = time.perf_counter_ns()
            tracked = mesh.run(rgb, prev.next_roi())
            t_track = _ms(t0)
            tracked_frames += 1
            held += tracked.score >= TRACK_MIN_SCORE
            current = tracked if tracked.score >= TRACK_MIN_SCORE else first
        else:
            current = first
        t0 = time.perf_counter_ns()
        iris.run(rgb, current.points)
        t_iris = _ms(t0)
        prev = current
        if i >= args.warmup:
            times["detector"].append(t_det)
            times["mesh_on_detection"].append(t_mesh_det)
            times["iris_both_eyes"].append(t_iris)
            if t_track is not None:
                times["mesh_tracked"].append(t_track)
                landmarks.append(t_track + t_iris)
    det.close()
    stats = {k: {"p50_ms": float(np.percentile(v, 50)), "p95_ms": float(np.percentile(v, 95)),
                 "n": len(v)} for k, v in times.items()}
    detector_p50 = stats["detector"]["p50_ms"]
    result = {
        "command": command(), "machine": machine(), "frames": frames.source,
        "frame_size": list(frames.size), "stages": stats,
        "landmark_stages_tracked_p50_ms": float(np.percentile(landmarks, 50)),
        "landmarks_to_detector_ratio": float(np.percentile(landmarks, 50)) / detector_p50,
        "track_held_share": held / max(tracked_frames, 1),
        "frames_without_face": no_face,
    }
    lines = ["| stage (1 thread) | p50 ms | p95 ms | frames |", "|---|---|---|---|"]
    lines += [f"| {k} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['n']} |"
              for k, s in stats.items()]
    lines += ["", f"Mesh (tracked) + iris per frame: "
                  f"{result['landmark_stages_tracked_p50_ms']:.2f} ms p50, "
                  f"{result['landmarks_to_detector_ratio']:.2f}x the detector alone. "
                  f"Tracking held on {100 * result['track_held_share']:.1f}% of "
                  f"{tracked_frames} frames; {no_face} frames without a detection.", "",
              f"`{result['command']}`, {result['machine']['cpu']}", ""]
    write(RESULTS, "landmark_stages", result, "\n".join(lines))


if __name__ == "__main__":
    main()
