"""`gazesdk pretrain`, `gazesdk train --init/--aux/--label-fraction` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import one_line_error, small_sim

from gazesdk.cli import main


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return small_sim(tmp_path_factory.mktemp("cli"), subjects=6, frames_per_subject=20,
                     split_fractions=(0.67, 0.0, 0.33), seed=9)


@pytest.fixture(autouse=True)
def _threads(restore_threads):
    """In-process training sets torch's thread count: restored after each test."""


def test_pretrain_then_fine_tune(dataset, tmp_path, capsys):
    pre = tmp_path / "pre"
    assert main(["pretrain", "--method", "barlow-twins", "--data", str(dataset), "--out",
                 str(pre), "--epochs", "1", "--batch-size", "8", "--threads", "1",
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert str(pre / "encoder.safetensors") in printed and "--init" in printed
    assert json.loads((pre / "config.json").read_text())["scheme"] == "barlow-twins"
    ft = tmp_path / "ft"
    assert main(["train", "--data", str(dataset), "--out", str(ft), "--init", str(pre),
                 "--label-fraction", "0.5", "--aux", "rotation", "--aux-branch", "2",
                 "--epochs", "1", "--batch-size", "8", "--threads", "1", "--quiet"]) == 0
    saved = json.loads((ft / "config.json").read_text())
    assert (saved["init"], saved["label_fraction"], saved["aux"], saved["aux_branch"]) == \
        (str(pre), 0.5, "rotation", 2)


def test_misuse(dataset, tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"scheme": "byol"}))
    assert main(["pretrain", "--method", "fra", "--config", str(cfg), "--data", str(dataset),
                 "--out", str(tmp_path / "a")]) == 2
    one_line_error(capsys, "--method fra contradicts scheme 'byol'")
    assert main(["train", "--data", str(dataset), "--out", str(tmp_path / "b"), "--init",
                 str(tmp_path / "nothing")]) == 2
    one_line_error(capsys, "--init", "no such file")
    assert main(["train", "--data", str(dataset), "--out", str(tmp_path / "c"), "--aux",
                 "puzzle", "--scheme", "dwo"]) == 2
    one_line_error(capsys, "supervised scheme")
    with pytest.raises(SystemExit):
        main(["pretrain", "--method", "moco", "--data", str(dataset), "--out", "x"])
