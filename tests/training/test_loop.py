"""The training loop: a run killed mid-epoch resumes to the uninterrupted result; torchrun with
two CPU processes trains like one process with the same global batch; run-folder misuse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_same_weights, kill_when

from gazesdk.errors import ConfigError, DataFormatError
from gazesdk.sim import GazeSim, SimConfig
from gazesdk.training.config import TrainConfig
from gazesdk.training.loop import CHECKPOINT, train


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "sim"
    GazeSim(SimConfig(subjects=8, frames_per_subject=24, sessions_per_subject=1,
                      stare_sequences=1, stare_frames=6, split_fractions=(0.75, 0.125, 0.125),
                      seed=3)).write_arrays(path)
    return path


def config(data: Path, **kw: object) -> TrainConfig:
    base = {"data": str(data), "model": "compact", "epochs": 2, "batch_size": 8,
            "checkpoint_every": 2, "threads": 1, "seed": 7}
    return TrainConfig(**{**base, **kw})


def cli(cfg: TrainConfig, out: Path) -> list[str]:
    return [sys.executable, "-m", "gazesdk", "train", "--data", cfg.data, "--out", str(out),
            "--model", cfg.model, "--epochs", str(cfg.epochs), "--batch-size",
            str(cfg.batch_size), "--checkpoint-every", str(cfg.checkpoint_every), "--threads",
            str(cfg.threads), "--seed", str(cfg.seed), "--quiet"]


@pytest.mark.slow
def test_killed_mid_epoch_then_resumed_matches_uninterrupted(dataset, tmp_path, restore_threads):
    cfg = config(dataset)
    whole = tmp_path / "whole"
    train(cfg, whole, progress=False)

    killed = tmp_path / "killed"
    position = kill_when(cli(cfg, killed), killed / CHECKPOINT,
                         lambda p: p["epoch"] == 0 and p["step"] >= 4)   # mid-epoch
    assert position is not None, "the run never wrote a mid-epoch checkpoint"
    assert not (killed / "model.safetensors").exists()        # it really died before the end

    train(cfg, killed, resume=True, progress=False)
    assert_same_weights(whole / "model.safetensors", killed / "model.safetensors")
    assert json.loads((whole / "eval_test.json").read_text()) == \
        json.loads((killed / "eval_test.json").read_text())


@pytest.mark.slow
def test_torchrun_two_cpu_processes_trains_like_one(dataset, tmp_path):
    cfg = config(dataset, epochs=3, batch_size=16, checkpoint_every=100)
    single = tmp_path / "single"
    subprocess.run(cli(cfg, single), check=True, capture_output=True, timeout=300)
    ddp = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(29500 + os.getpid() % 1000), *cli(cfg, ddp)[1:]]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {name: [json.loads(x) for x in (path / "metrics.jsonl").read_text().splitlines()]
            for name, path in (("single", single), ("ddp", ddp))}
    assert [r["epoch"] for r in rows["ddp"]] == [1, 2, 3]      # rank 0 alone wrote the log
    # Same global batches and the same averaged gradients: the only difference is that each
    # process normalises its half batch on its own (BatchNorm), so the curves stay close.
    for a, b in zip(rows["single"], rows["ddp"], strict=True):
        assert abs(a["val_error_cm"] - b["val_error_cm"]) < 0.25 * a["val_error_cm"], (a, b)
    assert (ddp / "model.safetensors").exists() and (ddp / "eval_test.json").exists()


def test_run_folder_misuse(dataset, tmp_path, restore_threads):
    cfg = config(dataset, epochs=1, checkpoint_every=100)
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="nothing to resume"):
        train(cfg, out, resume=True, progress=False)
    train(cfg, out, progress=False)
    with pytest.raises(ConfigError, match="already holds a run"):
        train(cfg, out, progress=False)
    with pytest.raises(ConfigError, match="different configuration"):
        train(config(dataset, epochs=1, checkpoint_every=100, lr=1e-2), out, resume=True,
              progress=False)
    # Files the run promises.
    for name in ("config.json", CHECKPOINT, "metrics.jsonl", "learning_curve.png",
                 "model.safetensors", "eval_test.json"):
        assert (out / name).exists(), name


def test_bad_data_and_batch(dataset, tmp_path, restore_threads):
    with pytest.raises(ConfigError, match="no training data"):
        train(TrainConfig(), tmp_path / "a", progress=False)
    with pytest.raises(DataFormatError, match="does not exist"):
        train(config(tmp_path / "nowhere"), tmp_path / "b", progress=False)
    with pytest.raises(DataFormatError, match="fewer than one batch"):
        train(config(dataset, batch_size=4096), tmp_path / "c", progress=False)
