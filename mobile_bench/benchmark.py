"""The benchmark run: every configuration timed on the same frames, the detector alone timed
next to each one as its reference, jitter and lag, model facts, optionally a memory check."""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata as pkg_metadata
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.mobile_bench.inputs import BenchFrames, built_in_frames, user_frames
from gazesdk.mobile_bench.jitter import lag_by_filter, model_level_msd, stage_msd
from gazesdk.mobile_bench.memory import rss_bytes
from gazesdk.mobile_bench.profiles import get_profile
from gazesdk.mobile_bench.sequences import decode_jpeg
from gazesdk.mobile_bench.stats import ratio, summarize
from gazesdk.runtime.backends import backend_for_path, create_backend, installed_backends
from gazesdk.runtime.detector import MediaPipeFaceDetector
from gazesdk.runtime.estimator import GazeEstimator
from gazesdk.runtime.options import GazeEstimatorOptions, RunningMode
from gazesdk.runtime.result import STAGES
from gazesdk.runtime.smoothing import SmoothingOptions

SCHEMA = "gazesdk-benchmark"
# end to end against the detector: the goal of a pipeline that detects every frame (keypoint
# crops); against the landmark stages (mesh + iris): issue 16's goal for the tracking pipeline
GOALS = {"model_to_detector_ratio": 1.0, "end_to_end_to_detector_ratio": 1.5,
         "end_to_end_to_landmarks_ratio": 1.5}


@dataclass(frozen=True)
class BenchmarkSettings:
    """What to benchmark. ``None`` fields come from the profile (``default`` or ``phone``).
    ``model``: "default" or an exported model / checkpoint path (its own backend and
    precision). ``video`` / ``images``: time the user's frames instead of the built-in
    real-face stares (no end-to-end MSD then: they are not stares)."""

    model: str = "default"
    profile: str = "default"
    backends: tuple[str, ...] | None = None
    precisions: tuple[str, ...] | None = None
    threads: tuple[int | str, ...] | None = None
    device: str = "cpu"
    sequences: int = 8
    frames_per_sequence: int = 30
    warmup: int = 20
    seed: int = 0
    video: str | None = None
    images: str | None = None
    max_frames: int = 300
    memory_frames: int = 0
    detector_model: str | None = None
    compare_crops: bool = True
    smoothing: SmoothingOptions = field(default_factory=SmoothingOptions)

    def __post_init__(self) -> None:
        get_profile(self.profile)
        for name in ("sequences", "frames_per_sequence", "max_frames"):
            if getattr(self, name) < (2 if name == "frames_per_sequence" else 1):
                raise ConfigError(f"{name} must be at least "
                                  f"{2 if name == 'frames_per_sequence' else 1}")
        if self.warmup < 0 or self.memory_frames < 0:
            raise ConfigError("warmup and memory_frames must be >= 0")
        if self.video is not None and self.images is not None:
            raise ConfigError("give --video or --images, not both")


def _versions() -> dict[str, str]:
    out = {}
    for name in ("gazesdk", "numpy", "opencv-python-headless", "mediapipe", "onnxruntime",
                 "ai-edge-litert", "torch", "filterpy"):
        try:
            out[name] = pkg_metadata.version(name)
        except pkg_metadata.PackageNotFoundError:
            pass
    return out


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {"system": platform.system(), "machine": platform.machine(), "cpu": cpu,
            "cores": os.cpu_count(), "python": platform.python_version(),
            "versions": _versions()}


def configurations(settings: BenchmarkSettings) -> tuple[list[tuple[str, str, int]],
                                                          list[dict[str, str]]]:
    """(backend, precision, threads) to run, and the skipped ones with why."""
    profile = get_profile(settings.profile)
    threads = (profile.thread_counts() if settings.threads is None
               else [int(t) if t != "all" else (os.cpu_count() or 1) for t in settings.threads])
    threads = list(dict.fromkeys(threads))
    have = installed_backends()
    skipped: list[dict[str, str]] = []
    if settings.model != "default":
        if not os.path.exists(settings.model):
            raise ConfigError(f"no model at {settings.model}")
        name = backend_for_path(settings.model)
        wanted = settings.backends or (name,)
        if any(b != name for b in wanted):
            raise ConfigError(f"{settings.model} runs on the {name} backend only")
        return [(name, "model", t) for t in threads], skipped
    runs = []
    for b in settings.backends or profile.backends:
        if b not in have:
            skipped.append({"backend": b, "reason": "not installed"})
            continue
        for p in settings.precisions or profile.precisions:
            if b == "torch" and p != "fp32":
                skipped.append({"backend": b, "precision": p,
                                "reason": "the torch backend runs fp32 (export for int8)"})
                continue
            runs.extend((b, p, t) for t in threads)
    if not runs:
        raise ConfigError("nothing to benchmark: none of the chosen backends is installed "
                          f"({', '.join(skipped_b['backend'] for skipped_b in skipped)})")
    return runs, skipped


def _time_detector(detector: MediaPipeFaceDetector, frames: list[np.ndarray]) -> np.ndarray:
    ms = np.zeros(len(frames))
    for i, f in enumerate(frames):
        t0 = time.perf_counter_ns()
        detector.detect(f)
        ms[i] = (time.perf_counter_ns() - t0) / 1e6
    return ms


def _run_pipeline(estimator: GazeEstimator, frames: BenchFrames, warmup: int
                  ) -> dict[str, np.ndarray]:
    """Every frame through decode + estimate_for_video; per-stage ms and raw gaze."""
    n = len(frames.jpegs)
    for i in range(min(warmup, n)):
        estimator.estimate_for_video(decode_jpeg(frames.jpegs[i]), i + 1)
    estimator.reset()
    stages = {s: np.full(n, np.nan) for s in ("decode", *STAGES, "end_to_end")}
    raw = np.full((n, 2), np.nan)
    sources = []
    prev_seq = None
    for i, jpeg in enumerate(frames.jpegs):
        if frames.sequence[i] != prev_seq:
            estimator.reset()
            prev_seq = frames.sequence[i]
        t0 = time.perf_counter_ns()
        rgb = decode_jpeg(jpeg)
        t1 = time.perf_counter_ns()
        r = estimator.estimate_for_video(rgb, int(frames.timestamp_ms[i]))
        t2 = time.perf_counter_ns()
        stages["decode"][i] = (t1 - t0) / 1e6
        stages["end_to_end"][i] = (t2 - t1) / 1e6
        stages["detect"][i] = r.timings.detect
        sources.append(r.face_source.value if r.face_source is not None else None)
        if r.landmarks is not None:
            for s in ("mesh", "iris", "pose"):
                stages[s][i] = getattr(r.timings, s)
        if r.valid:
            for s in ("crop", "infer", "map", "smooth"):
                stages[s][i] = getattr(r.timings, s)
            raw[i] = r.raw_gaze_cm
    return {"stages": stages, "raw": raw, "sequence": frames.sequence,
            "timestamp_ms": frames.timestamp_ms.astype(float), "sources": sources}


def _time_model_alone(backend: Any, estimator: GazeEstimator, frame: np.ndarray,
                      count: int) -> np.ndarray:
    """The model back to back on one frame's inputs, caches warm: what the model costs alone,
    against its cost between detections in the pipeline (``infer``)."""
    from gazesdk.runtime.crops import crop_boxes, mesh_crop_boxes, model_inputs

    faces = estimator.detector.detect(frame)
    if not faces:
        return np.zeros(0)
    h, w = frame.shape[:2]
    if estimator.crop.source == "landmarks":
        from gazesdk.runtime.face_mesh import roi_from_detection

        points = estimator.mesh.run(frame, roi_from_detection(faces[0])).points
        boxes = mesh_crop_boxes(points, w, h, estimator.crop)
    else:
        boxes = crop_boxes(faces[0], w, h, estimator.crop)
    if boxes.face is None:
        return np.zeros(0)
    inputs, _ = model_inputs(frame, boxes, patch_size=estimator.spec.patch_size,
                             pixel_scale=estimator.spec.pixel_scale)
    # a hybrid model's eye geometry: any 4 numbers time alike (the model alone is timed)
    inputs.setdefault("eye_geometry", np.zeros((1, 4), np.float32))
    feed = {k: inputs[k] for k in estimator.spec.input_names}
    for _ in range(10):
        backend.infer(feed)
    ms = np.zeros(count)
    for i in range(count):
        t0 = time.perf_counter_ns()
        backend.infer(feed)
        ms[i] = (time.perf_counter_ns() - t0) / 1e6
    return ms


def _memory(estimator: GazeEstimator, decoded: list[np.ndarray], count: int) -> dict[str, Any]:
    """Resident memory growth over ``count`` frames, from after the first 200 (warm caches)."""
    estimator.reset()
    start = None
    t_start = time.perf_counter()
    for i in range(count):
        if i == min(200, count - 1):
            start = rss_bytes()
        estimator.estimate_for_video(decoded[i % len(decoded)], i + 1)
    end = rss_bytes()
    start = start or end
    return {"frames": count, "rss_start_mb": round(start / 2**20, 2),
            "rss_end_mb": round(end / 2**20, 2),
            "growth_percent": round(100.0 * (end - start) / start, 3) if start else None,
            "seconds": round(time.perf_counter() - t_start, 1)}


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="benchmark", unit="config", disable=not enabled,
                file=sys.stderr, leave=False)


def run_benchmark(settings: BenchmarkSettings = BenchmarkSettings(), *,
                  progress: bool = True) -> dict[str, Any]:
    """Run the benchmark and return its report (the JSON document)."""
    runs, skipped = configurations(settings)
    profile = get_profile(settings.profile)
    if settings.video or settings.images:
        frames = user_frames(video=settings.video, images=settings.images,
                             max_frames=settings.max_frames)
    else:
        frames = built_in_frames(settings.sequences, settings.frames_per_sequence,
                                 seed=settings.seed, size=profile.frame_size,
                                 scale=profile.photo_scale)
    decoded = [decode_jpeg(j) for j in frames.jpegs]
    detector = MediaPipeFaceDetector(model_path=settings.detector_model)
    smoothing = settings.smoothing if settings.smoothing.method != "none" else \
        SmoothingOptions(method="one_euro", kalman=settings.smoothing.kalman,
                         one_euro=settings.smoothing.one_euro)
    # the memory check runs on the phone-like configuration: int8 on one thread when there is one
    memory_run = next((r for r in runs if r[1] == "int8" and r[2] == 1),
                      next((r for r in runs if r[2] == 1), runs[0]))
    configs: list[dict[str, Any]] = []
    model_msd: dict[tuple[str, str], dict[str, float]] = {}
    facts: dict[str, Any] | None = None
    memory = None
    bar = _progress(len(runs), progress)
    try:
        found = sum(bool(detector.detect(f)) for f in decoded[:5])
        if frames.is_stare and not found:
            raise ConfigError("the face detector finds no face in the built-in frames")
        for run in runs:
            backend_name, precision, threads = run
            bar.set_postfix_str(f"{backend_name} {precision} {threads}t")
            try:
                backend = create_backend(settings.model, backend=backend_name,
                                         precision="int8" if precision == "model" else precision,
                                         device=settings.device, threads=threads)
            except ConfigError as e:
                skipped.append({"backend": backend_name, "precision": precision,
                                "threads": str(threads), "reason": str(e)})
                bar.update()
                continue
            precision = str(backend.metadata["artifact"]["precision"])
            if facts is None:
                facts = _facts(backend.metadata, settings.model)
            options = GazeEstimatorOptions(model=settings.model, running_mode=RunningMode.VIDEO,
                                           smoothing=smoothing)
            estimator = GazeEstimator(options, detector=detector, backend=backend)
            det_ms = _time_detector(detector, decoded)
            res = _run_pipeline(estimator, frames, settings.warmup)
            res["infer_alone"] = _time_model_alone(backend, estimator, decoded[0],
                                                   len(decoded))
            key = (backend_name, precision)
            if key not in model_msd:
                names = tuple(t["name"] for t in backend.metadata["inputs"])
                crops = "landmarks" if estimator.crop.source == "landmarks" else "truth"
                model_msd[key] = model_level_msd(backend.infer, names, smoothing, crops=crops)
            configs.append(_config_entry(backend_name, precision, threads, settings.device,
                                         det_ms, res, frames, model_msd[key], smoothing))
            if settings.memory_frames and run == memory_run:
                memory = {"backend": backend_name, "precision": precision, "threads": threads,
                          **_memory(estimator, decoded, settings.memory_frames)}
            estimator.close()
            backend.close()
            bar.update()
    finally:
        bar.close()
        detector.close()
    if not configs:
        raise ConfigError("no configuration could run: " + "; ".join(
            f"{s['backend']} {s.get('precision', '')}: {s['reason']}".replace("  ", " ")
            for s in skipped))
    lag = lag_by_filter(smoothing)
    for c in configs:
        c["lag_frames"] = lag
    crops = None
    if frames.is_stare and settings.compare_crops:
        crops = _compare_crops(settings, decoded, frames, progress)
    return {"schema": SCHEMA, "schema_version": 1,
            "settings": _settings_dict(settings), "profile": asdict(profile),
            "frames": {"source": frames.source, "count": len(frames.jpegs),
                       "size": list(frames.size), "fps": 30},
            "machine": machine(), "model": facts, "smoothing": smoothing.to_dict(),
            "goals": GOALS, "headline": _headline(configs),
            "configurations": configs, "skipped": skipped, "memory": memory,
            "crops": crops}


def _compare_crops(settings: BenchmarkSettings, decoded: list[np.ndarray], frames: BenchFrames,
                   progress: bool) -> dict[str, Any]:
    """Keypoint vs landmark vs stabilised landmark crops, the model of ``settings`` for all
    (ONNX Runtime int8, one thread): raw end-to-end MSD on the stares, and the lag of the raw
    output to a GazeSim gaze step (issue 16)."""
    from gazesdk.mobile_bench.landmarks import (
        PIPELINES,
        gazesim_stare_frames,
        gazesim_step_frames,
        stare_msd,
        step_lag,
    )

    backend = create_backend(settings.model, backend="onnxruntime", precision="int8",
                             device=settings.device, threads=1)
    try:
        detector = MediaPipeFaceDetector(model_path=settings.detector_model)
    except BaseException:
        backend.close()
        raise

    hybrid = "eye_geometry" in {t["name"] for t in backend.metadata["inputs"]}

    def make(name: str) -> GazeEstimator:
        options = dict(PIPELINES[name])
        if hybrid:        # a hybrid model needs the mesh and iris even under keypoint crops
            options.pop("landmarks", None)
        return GazeEstimator(GazeEstimatorOptions(model=settings.model,
                                                  running_mode=RunningMode.VIDEO, **options),
                             detector=detector, backend=backend)

    names = tuple(PIPELINES)
    try:
        if progress:
            print("comparing crops (keypoints, landmarks, landmarks + stabiliser) ...",
                  flush=True)
        msd = stare_msd(make, names, decoded, frames.sequence)
        sim_frames, sim_seq = gazesim_stare_frames(4)
        sim_msd = stare_msd(make, names, sim_frames, sim_seq)
        lag = step_lag(make, names, gazesim_step_frames(6))
    finally:
        detector.close()
        backend.close()
    return {"model": settings.model, "backend": "onnxruntime/int8/1t",
            "real_face_msd_cm": {k: v["msd_cm"] for k, v in msd.items()},
            "gazesim_msd_cm": {k: v["msd_cm"] for k, v in sim_msd.items()},
            "tracked_share": {k: v["tracked_share"] for k, v in msd.items()},
            "lag_frames": lag,
            "note": "one model for every row (the crops differ, not the training); "
                    "benchmarks/landmarks.py compares each crop with the model trained on it"}


def _facts(metadata: dict[str, Any], model: str) -> dict[str, Any]:
    from gazesdk.mobile_bench.facts import model_facts

    return model_facts(metadata, model)


def _settings_dict(settings: BenchmarkSettings) -> dict[str, Any]:
    d = asdict(settings)
    d["smoothing"] = settings.smoothing.to_dict()
    return d


def _config_entry(backend: str, precision: str, threads: int, device: str,
                  det_ms: np.ndarray, res: dict[str, Any], frames: BenchFrames,
                  model_msd: dict[str, float], smoothing: SmoothingOptions) -> dict[str, Any]:
    stages = {s: summarize(v[np.isfinite(v)]) for s, v in res["stages"].items()}
    sources = res.get("sources", [])
    share = {k: round(sum(x == k for x in sources) / max(len(sources), 1), 4)
             for k in ("detected", "tracked", "held")}
    det = summarize(det_ms)
    valid = int(np.isfinite(res["raw"]).all(1).sum())
    entry: dict[str, Any] = {
        "name": f"{backend}/{precision}/{threads}t", "backend": backend,
        "precision": precision, "threads": threads, "batch": 1, "device": device,
        "stages": stages, "detector_only": det, "model_alone": summarize(res["infer_alone"]),
        "fps": stages["end_to_end"]["fps"],
        "model_to_detector_ratio": ratio(stages["infer"]["p50_ms"], det["p50_ms"]),
        "model_to_detector_ratio_p95": ratio(stages["infer"]["p95_ms"], det["p95_ms"]),
        "end_to_end_to_detector_ratio": ratio(stages["end_to_end"]["p50_ms"], det["p50_ms"]),
        "end_to_end_to_detector_ratio_p95": ratio(stages["end_to_end"]["p95_ms"],
                                                  det["p95_ms"]),
        "end_to_end_to_landmarks_ratio": (
            ratio(stages["end_to_end"]["p50_ms"],
                  stages["mesh"]["p50_ms"] + stages["iris"]["p50_ms"])
            if stages["mesh"]["n"] and stages["iris"]["n"] else None),
        "valid_frames": valid, "frames": len(frames.jpegs),
        "face_source_share": share, "tracked_share": share["tracked"],
        "msd_cm": stage_msd(res, smoothing) if frames.is_stare else None,
        "model_msd_cm": model_msd,
    }
    if not frames.is_stare:
        entry["msd_note"] = "user frames are not stares: no end-to-end MSD"
    entry["_trace"] = {"raw": res["raw"], "sequence": res["sequence"],
                       "timestamp_ms": res["timestamp_ms"],
                       "stages": res["stages"]}
    return entry


def _headline(configs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The phone-relevant configuration: int8 on one thread (ONNX Runtime first)."""
    if not configs:
        return None
    order = sorted(configs, key=lambda c: (c["threads"] != 1, c["precision"] != "int8",
                                           c["backend"] != "onnxruntime"))
    c = order[0]
    return {"name": c["name"],
            "model_to_detector_ratio": c["model_to_detector_ratio"],
            "model_to_detector_ratio_p95": c["model_to_detector_ratio_p95"],
            "end_to_end_to_detector_ratio": c["end_to_end_to_detector_ratio"],
            "end_to_end_to_detector_ratio_p95": c["end_to_end_to_detector_ratio_p95"],
            "model_goal_met": bool(c["model_to_detector_ratio"] <=
                                   GOALS["model_to_detector_ratio"]),
            "end_to_end_goal_met": bool(c["end_to_end_to_detector_ratio"] <=
                                        GOALS["end_to_end_to_detector_ratio"]),
            "end_to_end_to_landmarks_ratio": c["end_to_end_to_landmarks_ratio"],
            "landmarks_goal_met": (None if c["end_to_end_to_landmarks_ratio"] is None else
                                   bool(c["end_to_end_to_landmarks_ratio"] <=
                                        GOALS["end_to_end_to_landmarks_ratio"]))}
