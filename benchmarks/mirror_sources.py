"""Where the real-face mirror error comes from (issue 17): for each real-face condition, the
model's inputs from the frame and from the mirrored frame, swapped into a mirror-averaged model
one input at a time. With f mirror-symmetric, f(mirror of the frame's inputs) is the mirrored
gaze, so the gaze change caused by one input taken from the mirrored frame instead is that
input's share of the mirror error.

    python benchmarks/mirror_sources.py [--model default] [--mesh-mirror-average]

Writes ``benchmarks/results/mirror_sources[_mesh_averaged].{json,md}``: per condition the total
mirror error, the error from the eye geometry alone, from the face grid alone and from the three
patches alone (cm), and the largest per-eye geometry disagreement (eye widths).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _results import RESULTS, command, machine, write

from gazesdk.mobile_bench.real_faces import CONDITIONS, mirror_frame, place, real_photos
from gazesdk.models.gaze_model import mirror_inputs
from gazesdk.models.loading import load_model
from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions

NAMES = ("face", "left_eye", "right_eye", "face_grid", "eye_geometry")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="default", help="weights (a hybrid model)")
    ap.add_argument("--mesh-mirror-average", action="store_true")
    args = ap.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(1)
    model = load_model(args.model).eval()
    model.set_mirror_average(True)
    feeds: list[dict[str, np.ndarray]] = []
    options = GazeEstimatorOptions(model=args.model, backend="torch", precision="fp32",
                                   threads=1,
                                   mesh_mirror_average=args.mesh_mirror_average)
    rows = []
    with GazeEstimator.create_from_options(options) as est:
        infer_all = est.backend.infer_all

        def grab(feed):  # noqa: ANN001, ANN202 - the backend's own signature
            feeds.append({k: np.array(v) for k, v in feed.items()})
            return infer_all(feed)

        est.backend.infer_all = grab
        for photo in real_photos():
            for c in CONDITIONS:
                frame = place(photo, c)[0]
                feeds.clear()
                est.estimate(frame)
                est.estimate(mirror_frame(frame))
                if len(feeds) != 2:
                    continue
                x, xp = ([torch.as_tensor(f[k]) for k in NAMES] for f in feeds)
                mx = list(mirror_inputs(*x))
                with torch.no_grad():
                    base = model.predict(*mx).numpy()[0]

                    def err(z: list[torch.Tensor], base: np.ndarray = base) -> float:
                        return round(float(np.hypot(*(model.predict(*z).numpy()[0] - base))), 3)

                    rows.append({
                        "photo": photo.name, "condition": c.name, "held_out": c.held_out,
                        "total_cm": err(xp), "geometry_cm": err([*mx[:4], xp[4]]),
                        "face_grid_cm": err([*mx[:3], xp[3], mx[4]]),
                        "patches_cm": err([*xp[:3], *mx[3:]]),
                        "geometry_disagreement": round(float(np.abs(
                            (xp[4] - mx[4]).numpy()).max()), 4)})
    keys = ("total_cm", "geometry_cm", "face_grid_cm", "patches_cm", "geometry_disagreement")
    mean = {k: round(float(np.mean([r[k] for r in rows])), 3) for k in keys}
    name = "mirror_sources" + ("_mesh_averaged" if args.mesh_mirror_average else "")
    out = {"command": command(), "machine": machine(), "model": args.model,
           "mesh_mirror_average": args.mesh_mirror_average, "mean": mean, "rows": rows,
           "seconds": round(time.perf_counter() - started, 1)}
    lines = ["Mirror error by source, mean over the real-face conditions (cm; disagreement in "
             "eye widths).", "", "| total | eye geometry | face grid | patches | geometry "
             "disagreement |", "|---|---|---|---|---|",
             "| " + " | ".join(str(mean[k]) for k in keys) + " |", "",
             f"`{out['command']}` ({out['seconds']:.0f} s)", ""]
    write(RESULTS, name, out, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
