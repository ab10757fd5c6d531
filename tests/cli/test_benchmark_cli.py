"""``gazesdk benchmark`` from the command line: outputs, flags and one-line errors."""

from __future__ import annotations

import json

import pytest

from gazesdk.cli import main

pytest.importorskip("mediapipe")
pytest.importorskip("onnxruntime")


def test_small_run_writes_table_json_and_markdown(tmp_path, capsys, detector_model):
    rc = main(["benchmark", "--backend", "onnxruntime", "--precision", "int8", "--threads",
               "1", "--sequences", "1", "--frames", "4", "--warmup", "1", "--no-plots",
               "--detector-model", str(detector_model), "--out", str(tmp_path / "b"),
               "--json", str(tmp_path / "copy.json")])
    out = capsys.readouterr().out
    assert rc == 0 and "onnxruntime/int8/1t" in out and "lag (frames" in out
    doc = json.loads((tmp_path / "copy.json").read_text())
    assert doc == json.loads((tmp_path / "b" / "benchmark.json").read_text())
    c = doc["configurations"][0]
    assert c["model_to_detector_ratio"] > 0 and set(c["msd_cm"]) == {"raw", "kalman",
                                                                      "one_euro"}
    assert (tmp_path / "b" / "benchmark.md").read_text().count("|") > 10


@pytest.mark.parametrize("argv, words", [
    (["--video", "missing.mp4"], "no video file"),
    (["--images", "missing_dir"], "no image folder"),
    (["--model", "missing.onnx"], "no model"),
    (["--backend", "litert", "--device", "cuda"], "no configuration could run"),
])
def test_user_mistakes_are_one_line(tmp_path, capsys, argv, words, detector_model):
    rc = main(["benchmark", "--out", str(tmp_path), "--quiet", "--detector-model",
               str(detector_model), *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and words in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("argv", [["--threads", "0"], ["--backend", "tensorrt"],
                                  ["--precision", "fp16"]])
def test_bad_flags_are_argparse_errors(argv):
    with pytest.raises(SystemExit) as e:
        main(["benchmark", *argv])
    assert e.value.code == 2
