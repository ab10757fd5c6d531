"""A small real benchmark run: the report's contract and its arithmetic."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.mobile_bench import BenchmarkSettings, run_benchmark
from gazesdk.mobile_bench.report import markdown, plain_json, plots, text_table

pytest.importorskip("mediapipe")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def report(detector_model):
    settings = BenchmarkSettings(backends=("onnxruntime",), precisions=("int8", "fp32"),
                                 threads=(1,), sequences=2, frames_per_sequence=6, warmup=2,
                                 memory_frames=30, detector_model=str(detector_model))
    return run_benchmark(settings, progress=False)


def test_contract_keys(report):
    assert [c["name"] for c in report["configurations"]] == ["onnxruntime/int8/1t",
                                                              "onnxruntime/fp32/1t"]
    for c in report["configurations"]:
        for stage in ("decode", "detect", "crop", "infer", "map", "smooth", "end_to_end"):
            assert {"p50_ms", "p95_ms"} <= set(c["stages"][stage])
        assert set(c["msd_cm"]) == {"raw", "kalman", "one_euro"}
        assert set(c["lag_frames"]) == {"kalman", "one_euro"}
        assert c["valid_frames"] == c["frames"] == 12 and c["batch"] == 1
        # the default pipeline tracks by the mesh: one detection per stare, the rest tracked
        assert c["face_source_share"]["detected"] == pytest.approx(2 / 12, abs=1e-3)
        assert c["tracked_share"] == pytest.approx(10 / 12, abs=1e-3)
        for stage in ("mesh", "iris", "pose"):
            assert c["stages"][stage]["p50_ms"] > 0
    crops = report["crops"]
    assert set(crops["real_face_msd_cm"]) == set(crops["lag_frames"]) == {
        "keypoints", "landmarks", "landmarks_stabilised"}
    assert crops["tracked_share"]["keypoints"] == 0.0
    assert all(v > 0 for v in crops["real_face_msd_cm"].values())
    assert report["headline"]["name"] == "onnxruntime/int8/1t"
    assert report["model"]["parameters"] > 0 and report["model"]["files"]


def test_ratios_are_the_stage_percentiles_over_the_detector(report):
    for c in report["configurations"]:
        det, st = c["detector_only"], c["stages"]
        assert c["model_to_detector_ratio"] == round(st["infer"]["p50_ms"] / det["p50_ms"], 3)
        assert c["end_to_end_to_detector_ratio"] == round(
            st["end_to_end"]["p50_ms"] / det["p50_ms"], 3)
        assert c["end_to_end_to_detector_ratio_p95"] == round(
            st["end_to_end"]["p95_ms"] / det["p95_ms"], 3)
        # end to end contains every stage but decode
        parts = sum(st[s]["p50_ms"] for s in ("detect", "crop", "infer", "map", "smooth"))
        assert st["end_to_end"]["p50_ms"] >= 0.8 * parts


def test_msd_is_recomputed_from_the_trace(report):
    from gazesdk.evaluation.metrics import msd_cm

    c = report["configurations"][0]
    tr = c["_trace"]
    assert c["msd_cm"]["raw"] == round(msd_cm(tr["raw"], tr["sequence"]), 4)
    assert np.isfinite(tr["raw"]).all()


def test_memory_entry(report):
    m = report["memory"]
    assert m["frames"] == 30 and m["rss_end_mb"] > 0 and "growth_percent" in m


def test_outputs(report, tmp_path):
    doc = json.loads(json.dumps(plain_json(report)))
    assert "_trace" not in doc["configurations"][0]
    md = markdown(report, "gazesdk benchmark --test")
    assert "| onnxruntime/int8/1t |" in md and "gazesdk benchmark --test" in md
    assert "headline onnxruntime/int8/1t" in text_table(report)
    files = plots(report, tmp_path)
    assert [f.name for f in files] == ["latency.png", "jitter.png"]
    assert all(f.read_bytes().startswith(b"\x89PNG") for f in files)


def test_user_video_has_no_end_to_end_msd(tmp_path, detector_model):
    import cv2

    from gazesdk.mobile_bench.sequences import shaky_sequences

    frames = shaky_sequences(1, 5, seed=1)[0]
    path = tmp_path / "v.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (480, 640))
    for f in frames:
        w.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    w.release()
    r = run_benchmark(BenchmarkSettings(backends=("onnxruntime",), precisions=("int8",),
                                        threads=(1,), video=str(path), warmup=1,
                                        detector_model=str(detector_model)), progress=False)
    c = r["configurations"][0]
    assert c["frames"] == 5 and c["msd_cm"] is None and "msd_note" in c


@pytest.mark.parametrize("kwargs, words", [
    ({"profile": "tablet"}, "unknown profile"),
    ({"sequences": 0}, "sequences"),
    ({"video": "a.mp4", "images": "b"}, "not both"),
    ({"warmup": -1}, "warmup"),
])
def test_bad_settings(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        BenchmarkSettings(**kwargs)


def test_nothing_installed_to_run(monkeypatch):
    from gazesdk.mobile_bench import benchmark

    monkeypatch.setattr(benchmark, "installed_backends", lambda: [])
    with pytest.raises(ConfigError, match="nothing to benchmark"):
        run_benchmark(BenchmarkSettings(), progress=False)
