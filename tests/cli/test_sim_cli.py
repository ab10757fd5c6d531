"""``gazesdk sim``: generate (both formats, config files, flags, refusals) and preview, run
in-process through gazesdk.cli.main."""

from __future__ import annotations

import json

import cv2
import helpers
import numpy as np
import pytest

from gazesdk.cli import build_parser, main
from gazesdk.cli.sim import config_from_args
from gazesdk.data.arrays import FIELDS, load_arrays
from gazesdk.data.gazecapture import load_gazecapture
from gazesdk.sim.config import SimConfig
from gazesdk.sim.generator import GazeSim

SMALL = ["--subjects", "3", "--frames-per-subject", "4", "--quiet"]


def generate(out, *extra: str) -> int:
    return main(["sim", "generate", "--out", str(out), *extra])


def one_line_error(capsys, *needles: str) -> str:  # noqa: ANN001
    return helpers.one_line_error(capsys, *needles, prefix="gazesdk sim: error: ")


# --- generate ---------------------------------------------------------------------------------

def test_generate_arrays(tmp_path, capsys):
    out = tmp_path / "ds"
    assert generate(out, *SMALL) == 0
    text = capsys.readouterr().out
    assert f"GazeSim wrote 12 frames to {out} (arrays" in text
    assert "subjects  3:" in text and "sessions  6:" in text
    assert "random dots 12, calibration grid 0, stare 0" in text
    data = load_arrays(out)
    assert len(data) == 12
    assert data.info["config"]["subjects"] == 3 and data.info["config"]["frames_per_subject"] == 4
    # landmark crops by default: the same dataset as the runtime's cropper makes
    assert data.info["crops"] == "landmarks-v1" and data.info["crop_failures"]["frames"] == 12
    assert "crops     landmarks-v1" in text
    pytest.importorskip("ai_edge_litert")
    from gazesdk.runtime.gazesim_crops import LandmarkCropper

    cropper = LandmarkCropper()
    direct = cropper.chunk(GazeSim(SimConfig(subjects=3, frames_per_subject=4)), 0, 12)
    cropper.close()
    for k in FIELDS:
        np.testing.assert_array_equal(data[k], direct[k], err_msg=k)


def test_generate_arrays_with_truth_crops(tmp_path, capsys):
    out = tmp_path / "ds"
    assert generate(out, *SMALL, "--crops", "truth") == 0
    assert "crops     GazeSim truth boxes" in capsys.readouterr().out
    data = load_arrays(out)
    assert data.info["crops"] == "gazesim-truth"
    # the same dataset as the library makes for that config
    direct = GazeSim(SimConfig(subjects=3, frames_per_subject=4)).render_chunk(0, 12)
    for k in FIELDS:
        np.testing.assert_array_equal(data[k], direct[k], err_msg=k)


def test_landmark_crops_need_the_array_form(tmp_path, capsys):
    assert generate(tmp_path / "gc", *SMALL, "--format", "gazecapture", "--crops",
                    "landmarks") == 2
    one_line_error(capsys, "--crops landmarks applies to the array form")


def test_generate_gazecapture(tmp_path, capsys):
    out = tmp_path / "gc"
    assert generate(out, *SMALL, "--format", "gazecapture") == 0
    assert "(gazecapture" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [f"{i:05d}" for i in range(1, 7)]
    data, summary = load_gazecapture(out, progress=False)
    assert len(data) == 12 and summary.recordings_used == 6 and summary.frames_skipped == {}
    assert sorted(set(data["session"].tolist())) == list(range(1, 7))


def test_generate_stare_and_calibration(tmp_path, capsys):
    out = tmp_path / "stare"
    assert generate(out, *SMALL, "--stare", "--stare-frames", "5") == 0
    data = load_arrays(out)
    assert len(data) == 3 * (4 + 2 * 5)
    seq = np.asarray(data["sequence"])
    ids, counts = np.unique(seq[seq >= 0], return_counts=True)
    assert len(ids) == 3 * 2 and (counts == 5).all()
    assert "(6 sequences)" in capsys.readouterr().out

    out = tmp_path / "calib"
    assert generate(out, *SMALL, "--calibration-dots", "9") == 0
    data = load_arrays(out)
    assert len(data) == 3 * (4 + 2 * 9)
    assert int(np.sum(data["is_calibration"])) == 3 * 2 * 9
    assert "calibration grid 54" in capsys.readouterr().out


def parse(*argv: str) -> SimConfig:
    return config_from_args(build_parser().parse_args(["sim", "generate", "--out", "x", *argv]))


def test_stare_defaults():
    cfg = parse("--stare")
    assert (cfg.stare_sequences, cfg.stare_frames) == (2, 60)
    assert parse().stare_sequences == 0
    assert parse("--stare", "--stare-sequences", "3").stare_sequences == 3
    assert parse("--stare-sequences", "1", "--stare-frames", "7").stare_frames == 7
    assert parse("--devices", "iPhone 6s", "iPad Air 2").devices == ("iPhone 6s", "iPad Air 2")


def test_eye_detail_flag(tmp_path):
    assert parse().eye_detail is False
    assert parse("--eye-detail").eye_detail is True
    cfg = tmp_path / "c.json"
    cfg.write_text('{"eye_detail": true}')
    assert parse("--config", str(cfg)).eye_detail is True      # no flag: the file's value


# --- config files -----------------------------------------------------------------------------

def test_config_json_and_flags_override(tmp_path, capsys):
    cfg = tmp_path / "sim.json"
    cfg.write_text(json.dumps({"subjects": 2, "frames_per_subject": 3, "seed": 5,
                               "devices": ["iPhone 6s"], "split_fractions": [0.5, 0.5, 0.0]}))
    out = tmp_path / "a"
    assert generate(out, "--config", str(cfg), "--quiet") == 0
    data = load_arrays(out)
    assert len(data) == 6 and data.devices == ("iPhone 6s",)
    assert data.info["config"]["seed"] == 5
    assert data.info["config"]["split_fractions"] == [0.5, 0.5, 0.0]
    assert set(np.asarray(data["split"]).tolist()) <= {0, 1}

    out = tmp_path / "b"
    assert generate(out, "--config", str(cfg), "--subjects", "4", "--seed", "1", "--quiet") == 0
    data = load_arrays(out)
    assert len(data) == 4 * 3
    assert data.info["config"]["seed"] == 1 and data.devices == ("iPhone 6s",)
    capsys.readouterr()


def test_config_yaml(tmp_path, capsys):
    cfg = tmp_path / "sim.yaml"
    cfg.write_text("subjects: 2\nframes_per_subject: 2\ncalibration_dots: 3\n"
                   "devices:\n  - iPad Air 2\n")
    out = tmp_path / "y"
    assert generate(out, "--config", str(cfg), "--quiet") == 0
    data = load_arrays(out)
    assert len(data) == 2 * (2 + 2 * 3)
    assert data.devices == ("iPad Air 2",)
    assert "calibration grid 12" in capsys.readouterr().out
    # the flag beats the file
    assert parse("--config", str(cfg), "--calibration-dots", "1").calibration_dots == 1


def test_config_unknown_key(tmp_path, capsys):
    cfg = tmp_path / "sim.json"
    cfg.write_text(json.dumps({"subjects": 2, "colour_of_eyes": "blue"}))
    assert generate(tmp_path / "o", "--config", str(cfg)) == 2
    one_line_error(capsys, "colour_of_eyes")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("name", "text", "needle"), [
    ("missing.json", None, "does not exist"),
    ("bad.json", '{"subjects": 2,', "not valid"),
    ("list.json", "[1, 2]", "mapping"),
    ("types.json", '{"subjects": "three"}', "subjects must be an integer"),
])
def test_config_file_errors(tmp_path, capsys, name, text, needle):
    cfg = tmp_path / name
    if text is not None:
        cfg.write_text(text)
    assert generate(tmp_path / "o", "--config", str(cfg)) == 2
    one_line_error(capsys, needle)


def test_config_malformed_yaml(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("subjects: [3\n")
    assert generate(tmp_path / "o", "--config", str(cfg)) == 2
    one_line_error(capsys, "bad.yaml")


@pytest.mark.parametrize("setting", [{"seed": -1}, {"seed": 1.5}, {"subjects": 2.5},
                                     {"kappa_h_deg": 5}])
def test_config_values_numpy_cannot_use(tmp_path, capsys, setting):
    cfg = tmp_path / "sim.json"
    cfg.write_text(json.dumps({"subjects": 2, "frames_per_subject": 2, **setting}))
    rc = generate(tmp_path / "o", "--config", str(cfg), "--quiet")
    assert rc == 2
    one_line_error(capsys, next(iter(setting)))


# --- refusals ---------------------------------------------------------------------------------

def test_refuses_non_empty_out_without_overwrite(tmp_path, capsys, monkeypatch):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    assert generate(out, *SMALL) == 2
    one_line_error(capsys, str(out), "--overwrite")
    assert (out / "notes.txt").read_text() == "keep me"
    # a bad setting is reported before anything is deleted, even with --overwrite
    assert generate(out, "--subjects", "0", "--overwrite") == 2
    one_line_error(capsys, "subjects")
    assert (out / "notes.txt").exists()
    # --overwrite never deletes a folder that is not GazeSim output...
    assert generate(out, *SMALL, "--overwrite") == 2
    one_line_error(capsys, "not a GazeSim dataset")
    assert (out / "notes.txt").read_text() == "keep me"
    # ...but replaces an earlier dataset, in either format
    ds = tmp_path / "ds2"
    assert generate(ds, *SMALL, "--format", "gazecapture") == 0
    assert generate(ds, *SMALL, "--overwrite") == 0
    assert len(load_arrays(ds)) == 12
    assert generate(ds, "--subjects", "2", "--frames-per-subject", "4", "--quiet",
                    "--overwrite") == 0
    assert len(load_arrays(ds)) == 8
    # a plain file at --out is refused, with or without --overwrite
    f = tmp_path / "file"
    f.write_text("x")
    assert generate(f, *SMALL) == 2
    one_line_error(capsys, "not a folder")
    assert generate(f, *SMALL, "--overwrite") == 2
    one_line_error(capsys, "not a folder")
    assert f.read_text() == "x"
    # the working folder is never overwritten
    monkeypatch.chdir(ds)
    assert generate(ds, *SMALL, "--overwrite") == 2
    one_line_error(capsys, "working folder")
    # an existing empty folder needs no --overwrite
    empty = tmp_path / "empty"
    empty.mkdir()
    assert generate(empty, *SMALL) == 0
    capsys.readouterr()


@pytest.mark.parametrize(("argv", "needle"), [
    (["--subjects", "0"], "subjects"),
    (["--calibration-dots", "12"], "calibration_dots"),
    (["--devices", "iPhone 99"], "iPhone 99"),
    (["--frames-per-subject", "-1"], "frames_per_subject"),
    (["--stare-frames", "1", "--stare"], "stare_frames"),
    (["--sessions-per-subject", "0"], "sessions_per_subject"),
])
def test_bad_values(tmp_path, capsys, argv, needle):
    out = tmp_path / "o"
    assert generate(out, *argv) == 2
    one_line_error(capsys, needle)
    assert not out.exists()


def test_argparse_rejects_non_numbers_and_formats(tmp_path, capsys):
    for argv in (["--subjects", "three"], ["--format", "hdf5"]):
        with pytest.raises(SystemExit) as e:
            generate(tmp_path / "o", *argv)
        assert e.value.code == 2
        assert "usage:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["sim", "generate"])            # --out is required
    assert e.value.code == 2
    assert "--out" in capsys.readouterr().err


# --- preview ----------------------------------------------------------------------------------

def test_preview(tmp_path, capsys):
    out = tmp_path / "sub" / "sheet.png"
    assert main(["sim", "preview", "--out", str(out), "--subjects", "2", "--seed", "1"]) == 0
    assert str(out) in capsys.readouterr().out
    img = cv2.imread(str(out))
    assert img is not None
    assert img.shape == (2 * (128 + 22), 5 * 384, 3)
    # not blank: the patches are there, and the label strip below them is mostly white
    assert img[:128].std() > 10
    assert (img[128:150] == 255).mean() > 0.8


@pytest.mark.parametrize(("argv", "needle"), [
    (["--out", "sheet.jpg"], ".png"),
    (["--out", "sheet.png", "--subjects", "0"], "1-32"),
    (["--out", "sheet.png", "--subjects", "33"], "1-32"),
])
def test_preview_refusals(tmp_path, capsys, argv, needle):
    argv = [str(tmp_path / a) if a.startswith("sheet") else a for a in argv]
    assert main(["sim", "preview", *argv]) == 2
    one_line_error(capsys, needle)
    assert list(tmp_path.iterdir()) == []


# --- help -------------------------------------------------------------------------------------

def test_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "usage: gazesdk" in out and "sim" in out
    with pytest.raises(SystemExit) as e:
        main(["sim", "generate", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--format" in out and "gazecapture" in out and "--overwrite" in out
    with pytest.raises(SystemExit) as e:
        main(["sim", "preview", "--help"])
    assert e.value.code == 0
    assert "--out" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main([])                              # a command is required
    assert e.value.code == 2
