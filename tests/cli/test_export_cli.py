"""`gazesdk export` from the command line: files, summary, and one-line errors for misuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import one_line_error, small_sim

from gazesdk.cli import main

pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    import torch

    from gazesdk.losses.ordinal import OrdinalBins
    from gazesdk.models import create_model
    from gazesdk.training.checkpoint import export_weights

    torch.manual_seed(0)
    model = create_model("compact", width_mult=0.25, bins=OrdinalBins(bins=16))
    path = tmp_path_factory.mktemp("export_cli") / "tiny.safetensors"
    export_weights(path, model.state_dict(), model.config)
    return path


def test_export_onnx_with_user_data(checkpoint, tmp_path, capsys):
    data = small_sim(tmp_path, stare_sequences=1, stare_frames=5)
    out = tmp_path / "exported"
    assert main(["export", "--checkpoint", str(checkpoint), "--format", "onnx", "--precision",
                 "fp32", "--out", str(out), "--data", str(data), "--name", "tiny",
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "tiny_fp32.onnx" in printed and "passed" in printed
    assert sorted(p.name for p in out.iterdir()) == ["tiny_fp32.onnx", "tiny_fp32.onnx.golden",
                                                     "tiny_fp32.onnx.json"]
    meta = json.loads((out / "tiny_fp32.onnx.json").read_text())
    assert meta["parity"]["source"].endswith("test split")
    assert meta["model"]["source"] == str(checkpoint)


@pytest.mark.parametrize("argv, needles", [
    (["--format", "tflite", "--precision", "fp16"], ("tflite export has no fp16",)),
    (["--format", "onnx", "--precision", "int8", "--quant-config", "{bad}"],
     ("quant.yaml", "unknown quantization setting", "bits")),
    (["--format", "coreml", "--precision", "int8", "--int8-mode", "dynamic"],
     ("coreml int8 has no 'dynamic'",)),
])
def test_misuse_is_one_line(checkpoint, tmp_path, capsys, argv, needles):
    argv = list(argv)
    if "{bad}" in argv:
        cfg = tmp_path / "quant.yaml"
        cfg.write_text("bits: 4\n")
        argv[argv.index("{bad}")] = str(cfg)
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "o"),
                 *argv]) == 2
    one_line_error(capsys, *needles)
    assert not (tmp_path / "o").exists()


def test_missing_checkpoint(tmp_path, capsys):
    assert main(["export", "--checkpoint", str(tmp_path / "none.pt"), "--format", "onnx",
                 "--out", str(tmp_path / "o")]) == 2
    one_line_error(capsys, "none.pt")
