"""CLI defects the reliability campaign (issue 19) found, each pinned: a killed ``sim
generate`` could not be replaced, a settings file nested past the parser escaped as a
RecursionError, ``export --data`` of a dataset without eye geometry raised a KeyError for the
hybrid bundled model, and an image claiming huge dimensions printed libpng's own warning."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pytest
from helpers import one_line_error

from gazesdk.cli import main
from gazesdk.data.arrays import load_arrays
from gazesdk.mobile_bench.reliability.fuzz_media import png_claiming
from gazesdk.mobile_bench.sequences import shaky_sequences

SMALL = ["--subjects", "3", "--frames-per-subject", "4", "--quiet"]


def test_overwrite_replaces_a_gazecapture_folder_a_killed_run_left(tmp_path, capsys) -> None:
    out = tmp_path / "gc"
    assert main(["sim", "generate", "--out", str(out), "--format", "gazecapture", *SMALL]) == 0
    # what kill -9 leaves: finished recordings and the one being written, under .partial
    shutil.copytree(out / "00001", out / "00002.partial")
    shutil.rmtree(out / "00002")
    assert main(["sim", "generate", "--out", str(out), *SMALL, "--overwrite"]) == 0
    assert len(load_arrays(out)) == 12
    capsys.readouterr()
    # but a folder holding anything else is still refused
    other = tmp_path / "other"
    shutil.copytree(out, other / "x")
    (other / "notes.partial").mkdir()
    assert main(["sim", "generate", "--out", str(other), *SMALL, "--overwrite"]) == 2
    one_line_error(capsys, "not a GazeSim dataset", prefix="gazesdk sim: error: ")


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_settings_nested_past_the_parser_are_one_line(tmp_path, capsys, suffix) -> None:
    cfg = tmp_path / f"deep{suffix}"
    cfg.write_text("[" * 50_000 + "]" * 50_000)
    assert main(["sim", "generate", "--out", str(tmp_path / "o"), "--config", str(cfg),
                 "--quiet"]) == 2
    one_line_error(capsys, str(cfg), prefix="gazesdk sim: error: ")


def test_export_of_the_hybrid_model_with_data_lacking_eye_geometry(tmp_path, capsys) -> None:
    data = tmp_path / "truth"
    assert main(["sim", "generate", "--out", str(data), "--crops", "truth", *SMALL]) == 0
    capsys.readouterr()
    rc = main(["export", "--checkpoint", "default", "--format", "onnx", "--out",
               str(tmp_path / "e"), "--data", str(data), "--quiet"])
    assert rc == 2
    one_line_error(capsys, "eye geometry", "--crops landmarks", prefix="gazesdk export: error: ")
    assert not (tmp_path / "e").exists() or not any((tmp_path / "e").iterdir())


def test_demo_skips_an_image_claiming_huge_dimensions_in_one_line(tmp_path, capfd,
                                                                   detector_model) -> None:
    images = tmp_path / "images"
    images.mkdir()
    frame = shaky_sequences(1, 2, seed=0)[0][0]
    cv2.imwrite(str(images / "00.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (images / "01.png").write_bytes(png_claiming(1, 10**6))
    cv2.imwrite(str(images / "02.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    rc = main(["demo", "--images", str(images), "--out", str(tmp_path / "out"),
               "--detector-model", str(detector_model)])
    err = capfd.readouterr().err
    assert rc == 0, err
    assert "libpng" not in err and "Traceback" not in err
    assert "01.png" in err                       # said once, as a skipped file
    assert len(list((tmp_path / "out").glob("*.png"))) == 2


def test_benchmark_inputs_skip_the_same_image(tmp_path: Path, capfd) -> None:
    from gazesdk.mobile_bench.inputs import user_frames

    images = tmp_path / "images"
    images.mkdir()
    frame = shaky_sequences(1, 2, seed=0)[0][0]
    cv2.imwrite(str(images / "00.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (images / "01.png").write_bytes(png_claiming(60000, 60000))
    frames = user_frames(images=str(images))
    assert "libpng" not in capfd.readouterr().err
    assert frames is not None
