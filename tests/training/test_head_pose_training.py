"""The head-pose auxiliary head: built into the model when asked, trained from GazeSim's
labels, reported in the evaluation, refused without labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers import random_batch, small_sim

from gazesdk.errors import ConfigError, DataFormatError
from gazesdk.models import create_model, model_from_config
from gazesdk.training.augment import mirror
from gazesdk.training.config import TrainConfig
from gazesdk.training.loop import train
from gazesdk.training.supervised import SupervisedTask


def test_model_head_pose_is_optional_and_rebuilt_from_config():
    plain = create_model("compact")
    assert plain.pose is None and "head_pose" not in plain.config
    with pytest.raises(ValueError, match="no head-pose head"):
        plain.predict_head_pose(*[torch.rand(2, 3, 64, 64)] * 3, torch.zeros(2, 25, 25))
    model = create_model("compact", head_pose=True).eval()
    x = [torch.rand(2, 3, 64, 64) for _ in range(3)] + [torch.zeros(2, 25, 25)]
    out, logits = model(*x, with_pose=True)
    assert torch.equal(out, model(*x)) and logits.shape == (2, 3, 66)
    assert model.predict_head_pose(*x).shape == (2, 3)
    assert model_from_config(model.config).pose is not None


def test_task_adds_the_weighted_pose_loss():
    torch.manual_seed(0)
    model = create_model("compact", head_pose=True)
    batch = random_batch(4)
    batch["head_pose"] = torch.randn(4, 3) * 10
    task = SupervisedTask(head="ordinal", bins=model.bins, pose_weight=2.0)
    losses = task(model, batch)
    base = SupervisedTask(head="ordinal", bins=model.bins)(model, batch)
    from gazesdk.losses.head_pose import head_pose_loss

    _, logits = model(batch["face"], batch["left_eye"], batch["right_eye"],
                      batch["face_grid"], with_pose=True)
    pose = head_pose_loss(logits, batch["head_pose"])
    assert float(losses["loss"].detach()) == pytest.approx(
        float(base["loss"].detach() + 2.0 * pose["loss"].detach()), rel=1e-5)


def test_mirror_negates_yaw_and_roll():
    batch = random_batch(2)
    batch["head_pose"] = torch.tensor([[10.0, -5.0, 3.0], [-2.0, 4.0, -7.0]])
    assert mirror(batch)["head_pose"].tolist() == [[-10.0, -5.0, -3.0], [2.0, 4.0, 7.0]]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return small_sim(tmp_path_factory.mktemp("pose"), subjects=6,
                     split_fractions=(0.67, 0.0, 0.33), seed=3)


def test_training_reports_head_pose_error(dataset, tmp_path, restore_threads):
    cfg = TrainConfig(data=str(dataset), epochs=2, batch_size=8, threads=1,
                      head_pose_weight=1.0)
    result = train(cfg, tmp_path / "run", progress=False)
    assert set(result["head_pose_error_deg"]) == {"yaw", "pitch", "roll"}
    row = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert "train_head_pose_error_deg" in row and "train_pose_ce" in row


def test_misuse(dataset, tmp_path):
    with pytest.raises(ConfigError, match="supervised scheme"):
        TrainConfig(data="d", scheme="dwo", head_pose_weight=1.0)
    from gazesdk.data.arrays import load_arrays, write_arrays

    data = load_arrays(dataset)
    fields = {k: v for k, v in data.fields.items() if k != "head_pose_deg"}
    from gazesdk.data.arrays import GazeArrays

    write_arrays(tmp_path / "nopose", GazeArrays(fields, data.devices, data.info))
    with pytest.raises(DataFormatError, match="no head"):
        train(TrainConfig(data=str(tmp_path / "nopose"), epochs=1, batch_size=8,
                          head_pose_weight=1.0), tmp_path / "run", progress=False)
