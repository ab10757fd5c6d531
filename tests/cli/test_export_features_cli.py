"""`gazesdk export --features`: the artifact has the features output, named in its metadata,
and the summary reports its parity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import small_sim

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
    path = tmp_path_factory.mktemp("export_features_cli") / "tiny.safetensors"
    export_weights(path, model.state_dict(), model.config)
    return path


def test_export_with_features(checkpoint, tmp_path, capsys):
    data = small_sim(tmp_path, stare_sequences=1, stare_frames=5)
    out = tmp_path / "exported"
    assert main(["export", "--checkpoint", str(checkpoint), "--format", "onnx", "--precision",
                 "fp32", "--out", str(out), "--data", str(data), "--name", "tiny",
                 "--features", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    row = summary["exports"][0]
    assert row["outputs"] == ["gaze_cm", "features"] and row["parity"] == "passed"
    assert row["features_max_rel"] < 1e-4
    meta = json.loads((out / "tiny_fp32.onnx.json").read_text())
    assert [t["name"] for t in meta["outputs"]] == ["gaze_cm", "features"]
    assert meta["parity"]["features_max_rel"] < 1e-4
