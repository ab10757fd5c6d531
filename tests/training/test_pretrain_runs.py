"""Pre-training and co-training through the one loop: labels hidden, the encoder exported and
fine-tuned, resume after a kill, torchrun with two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_same_weights, kill_when, small_sim

from gazesdk.errors import ConfigError
from gazesdk.training.checkpoint import load_weights
from gazesdk.training.config import PRETRAIN_SCHEMES, TrainConfig
from gazesdk.training.loop import CHECKPOINT, ENCODER, train


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return small_sim(tmp_path_factory.mktemp("data"), stare_sequences=1, stare_frames=6,
                     seed=4)


def cfg(data: Path, **kw: object) -> TrainConfig:
    base = {"data": str(data), "epochs": 1, "batch_size": 8, "threads": 1, "seed": 2,
            "checkpoint_every": 100}
    return TrainConfig.from_dict({**base, **kw})


@pytest.mark.parametrize("method", PRETRAIN_SCHEMES)
def test_every_method_pretrains_without_labels_then_fine_tunes(method, dataset, tmp_path,
                                                               restore_threads):
    out = tmp_path / method
    result = train(cfg(dataset, scheme=method), out, progress=False)
    assert result["encoder"] == str(out / ENCODER)
    # No gaze evaluation, no gaze model: an encoder for --init.
    history = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert all("train_error_cm" not in r and "val_error_cm" not in r for r in history)
    assert not (out / "model.safetensors").exists() and not (out / "eval_test.json").exists()
    assert (out / "loss_curve.png").exists()
    state, config = load_weights(out / ENCODER)
    assert config["name"] == "compact" and not any(k.startswith(("projector", "target",
                                                                 "heads", "neck"))
                                                   for k in state)
    if method == "fra":
        assert (out / "fra_heatmaps.png").exists()
    # Fine-tuning starts from it.
    tuned = train(cfg(dataset, init=str(out), label_fraction=0.5), tmp_path / "ft",
                  progress=False)
    assert tuned["count"] > 0


def test_labels_never_reach_a_pretraining_task(dataset, tmp_path, monkeypatch,
                                               restore_threads):
    from gazesdk.pretrain.contrastive import ContrastiveTask

    keys: list[set[str]] = []
    real = ContrastiveTask.__call__

    def spy(self, net, batch):  # noqa: ANN001, ANN202
        keys.append(set(batch))
        return real(self, net, batch)

    monkeypatch.setattr(ContrastiveTask, "__call__", spy)
    train(cfg(dataset, scheme="simclr"), tmp_path / "run", progress=False)
    assert keys and all(k == {"face", "left_eye", "right_eye", "face_grid"} for k in keys)


def test_hmtl_cotraining_exports_a_plain_gaze_model(dataset, tmp_path, restore_threads):
    result = train(cfg(dataset, aux="puzzle-rotation", aux_branch=2), tmp_path / "co",
                   progress=False)
    assert result["count"] > 0
    state, _ = load_weights(tmp_path / "co" / "model.safetensors")
    assert not any(k.startswith(("heads.", "gaze.")) for k in state)     # SSL heads dropped
    row = json.loads((tmp_path / "co" / "metrics.jsonl").read_text().splitlines()[-1])
    assert {"train_ssl", "train_puzzle_accuracy", "train_rotation_accuracy",
            "val_error_cm"} <= set(row)


def test_misuse(dataset, tmp_path):
    with pytest.raises(ConfigError, match="uses no labels"):
        cfg(dataset, scheme="byol", label_fraction=0.1)
    with pytest.raises(ConfigError, match="supervised scheme"):
        cfg(dataset, scheme="dwo", aux="puzzle")
    with pytest.raises(ConfigError, match="stage 1-4"):
        train(cfg(dataset, aux="puzzle", aux_branch=9), tmp_path / "a", progress=False)
    with pytest.raises(ConfigError, match="no such file"):
        train(cfg(dataset, init=str(tmp_path / "missing.safetensors")), tmp_path / "b",
              progress=False)


def _cli(method: str, data: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "gazesdk", "pretrain", "--method", method, "--data", str(data),
            "--out", str(out), "--epochs", "2", "--batch-size", "8", "--checkpoint-every", "2",
            "--threads", "1", "--seed", "5", "--quiet", *extra]


@pytest.mark.slow
def test_killed_pretraining_resumes_to_the_same_encoder(dataset, tmp_path):
    """FRA: the momentum network (BYOL's too), the decoder and the running mask embeddings
    all come back from the checkpoint."""
    method = "fra"
    whole = tmp_path / "whole"
    subprocess.run(_cli(method, dataset, whole), check=True, capture_output=True, timeout=600)
    killed = tmp_path / "killed"
    position = kill_when(_cli(method, dataset, killed), killed / CHECKPOINT,
                         lambda p: p["epoch"] == 1 and p["step"] >= 2, timeout=600)
    assert position is not None and not (killed / ENCODER).exists()
    subprocess.run(_cli(method, dataset, killed, "--resume"), check=True, capture_output=True,
                   timeout=600)
    assert_same_weights(whole / ENCODER, killed / ENCODER)


@pytest.mark.slow
@pytest.mark.parametrize("extra", [["pretrain", "--method", "fra"],
                                   ["train", "--aux", "puzzle"]])
def test_torchrun_two_processes(extra, dataset, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(29700 + os.getpid() % 200), "-m", "gazesdk", *extra,
           "--data", str(dataset), "--out", str(out), "--epochs", "2", "--batch-size", "16",
           "--threads", "1", "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert (out / (ENCODER if extra[0] == "pretrain" else "model.safetensors")).exists()
