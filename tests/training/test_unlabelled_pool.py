"""HMTL co-training with an unlabelled pool (``aux_unlabelled``): the pool's frames reach the
SSL heads only, are drawn reproducibly per step, and a run with a pool trains, resumes and
refuses misuse in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import assert_same_weights, kill_when, one_line_error, random_batch, small_sim

from gazesdk.data.arrays import load_arrays
from gazesdk.errors import ConfigError, DataFormatError
from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.models import create_model
from gazesdk.pretrain.hmtl import HMTLCoTraining, join_unlabelled
from gazesdk.training.config import TrainConfig
from gazesdk.training.loop import CHECKPOINT, Dist, _pool_batch, train


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    return small_sim(tmp_path_factory.mktemp("labelled"), seed=4)


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    """Other people (another seed), every row in the train split: an unlabelled pool."""
    return small_sim(tmp_path_factory.mktemp("pool"), subjects=12, frames_per_subject=6,
                     split_fractions=(1.0, 0.0, 0.0), seed=99)


def cfg(data: Path, **kw: object) -> TrainConfig:
    base = {"data": str(data), "epochs": 1, "batch_size": 8, "threads": 1, "seed": 2,
            "checkpoint_every": 100, "aux": "rotation", "aux_branch": 2}
    return TrainConfig.from_dict({**base, **kw})


def _inputs(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in batch.items() if k != "gaze"}


def test_config_misuse(labelled, pool):
    with pytest.raises(ConfigError, match="set aux"):
        cfg(labelled, aux="none", aux_unlabelled=str(pool))
    with pytest.raises(ConfigError, match="aux_unlabelled_batch"):
        cfg(labelled, aux_unlabelled=str(pool), aux_unlabelled_batch=-1)
    with pytest.raises(ConfigError, match="aux_unlabeled"):          # strict: a typo is an error
        cfg(labelled, aux_unlabeled=str(pool))
    with pytest.raises(ConfigError, match="train nothing"):
        cfg(labelled, aux_unlabelled=str(pool), aux_weight=0.0)
    with pytest.raises(ConfigError, match="eye geometry"):
        cfg(labelled, eye_geometry=True)


def test_the_training_dataset_is_refused_as_its_own_pool(labelled, tmp_path, restore_threads):
    with pytest.raises(ConfigError, match="training dataset itself"):
        train(cfg(labelled, aux_unlabelled=str(labelled)), tmp_path / "run", progress=False)


def test_join_puts_the_labelled_rows_first_and_drops_labels():
    lab, unl = random_batch(3, seed=0), _inputs(random_batch(2, seed=1))
    joint = join_unlabelled(lab, unl)
    assert "gaze" not in joint
    assert torch.equal(joint["face"][:3], lab["face"]) and torch.equal(joint["face"][3:],
                                                                        unl["face"])
    assert joint["face_grid"].shape == (5, 25, 25)
    with pytest.raises(ConfigError, match="lack face_grid"):
        join_unlabelled(lab, {k: v for k, v in unl.items() if k != "face_grid"})


def test_unlabelled_rows_reach_the_ssl_loss_and_not_the_gaze_loss():
    """Eval mode (BatchNorm per row, no dropout): changing the unlabelled frames leaves the
    gaze loss and the gaze head's gradient exactly as they were and changes the SSL loss."""
    bins = OrdinalBins()
    torch.manual_seed(0)
    task = HMTLCoTraining(head="ordinal", bins=bins, kind="rotation", stage=2, weight=50.0)
    net = task.wrap(create_model("compact", bins=bins), steps_per_epoch=1, epochs=1)
    net.eval()
    lab = random_batch(4, seed=0)

    def step(unlabelled: dict[str, torch.Tensor] | None) -> tuple[dict, torch.Tensor]:
        net.zero_grad(set_to_none=True)
        task.begin_step(0, 0)
        losses = task(net, lab, unlabelled=unlabelled)
        losses["loss"].backward()      # only the gaze loss reaches the gaze head
        grad = torch.cat([p.grad.flatten() for p in net.gaze.head.parameters()
                          if p.grad is not None])
        return losses, grad

    a, grad_a = step(_inputs(random_batch(3, seed=1)))
    b, grad_b = step(_inputs(random_batch(3, seed=2)))
    none, _ = step(None)
    assert float(a["ordinal"]) == pytest.approx(float(b["ordinal"]), rel=1e-6)
    assert torch.allclose(grad_a, grad_b, rtol=1e-5, atol=1e-7)
    assert float(a["ssl"]) != pytest.approx(float(b["ssl"]), rel=1e-4)
    assert float(a["loss"].detach()) == pytest.approx(float(a["ordinal"] + 50.0 * a["ssl"]),
                                                      rel=1e-5)
    assert float(none["ssl"]) != pytest.approx(float(a["ssl"]), rel=1e-4)


def test_mirror_augmentation_of_a_pool_batch_needs_no_labels(pool):
    from gazesdk.training.augment import AUGMENTS

    data = load_arrays(pool)
    plain = _pool_batch((data, np.arange(len(data))), 8, 3, 0, 5, Dist(), torch.device("cpu"),
                        None)
    mirrored = _pool_batch((data, np.arange(len(data))), 8, 3, 0, 5, Dist(),
                           torch.device("cpu"), AUGMENTS["mirror"])
    assert set(mirrored) == set(plain)
    pairs = list(zip(mirrored["face"], plain["face"], strict=True))
    flipped = [torch.allclose(m, p.flip(-1), atol=1e-5) for m, p in pairs]
    kept = [torch.allclose(m, p, atol=1e-5) for m, p in pairs]
    assert any(flipped) and any(kept) and all(f or k for f, k in zip(flipped, kept, strict=True))


def test_pool_rows_are_drawn_from_seed_epoch_and_step(pool):
    data = load_arrays(pool)
    rows = np.arange(len(data))
    one = _pool_batch((data, rows), 8, 3, 0, 5, Dist(), torch.device("cpu"), None)
    again = _pool_batch((data, rows), 8, 3, 0, 5, Dist(), torch.device("cpu"), None)
    other = _pool_batch((data, rows), 8, 3, 0, 6, Dist(), torch.device("cpu"), None)
    assert set(one) == {"face", "left_eye", "right_eye", "face_grid"}        # no labels
    assert torch.equal(one["face"], again["face"])
    assert not torch.equal(one["face"], other["face"])
    # two processes take disjoint halves of the same draw
    halves = [_pool_batch((data, rows), 8, 3, 0, 5, Dist(rank=r, world=2), torch.device("cpu"),
                          None)["face"] for r in (0, 1)]
    assert sum(h.shape[0] for h in halves) == 8
    whole = sorted(x.numpy().tobytes() for x in one["face"])
    assert sorted(x.numpy().tobytes() for h in halves for x in h) == whole


def test_a_run_with_a_pool_trains_and_logs_the_ssl_heads(labelled, pool, tmp_path,
                                                         restore_threads):
    result = train(cfg(labelled, aux_unlabelled=str(pool), aux_unlabelled_batch=6),
                   tmp_path / "run", progress=False)
    assert result["count"] > 0
    row = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert {"train_ssl", "train_rotation_accuracy", "val_error_cm"} <= set(row)
    with pytest.raises(DataFormatError, match="does not exist"):
        train(cfg(labelled, aux_unlabelled=str(tmp_path / "nowhere")), tmp_path / "bad",
              progress=False)


def test_cli_without_aux_is_one_line(labelled, pool, tmp_path, capsys):
    from gazesdk.cli import main

    code = main(["train", "--data", str(labelled), "--out", str(tmp_path / "x"),
                 "--aux-unlabelled", str(pool), "--epochs", "1", "--quiet"])
    assert code != 0
    one_line_error(capsys, "set aux")


def _cli(data: Path, pool: Path, out: Path, *extra: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "gazesdk", "train", "--data", str(data), "--out", str(out),
            "--aux", "rotation", "--aux-branch", "2", "--aux-unlabelled", str(pool),
            "--epochs", "2", "--batch-size", "8", "--checkpoint-every", "2", "--threads", "1",
            "--seed", "5", "--quiet", *extra]


@pytest.mark.slow
def test_killed_run_with_a_pool_resumes_to_the_same_weights(labelled, pool, tmp_path):
    """The pool's rows come from (seed, epoch, step), so a resumed run sees the same ones."""
    import subprocess

    whole = tmp_path / "whole"
    subprocess.run(_cli(labelled, pool, whole), check=True, capture_output=True, timeout=600)
    killed = tmp_path / "killed"
    position = kill_when(_cli(labelled, pool, killed), killed / CHECKPOINT,
                         lambda p: p["epoch"] == 1 and p["step"] >= 2, timeout=600)
    assert position is not None and not (killed / "model.safetensors").exists()
    subprocess.run(_cli(labelled, pool, killed, "--resume"), check=True, capture_output=True,
                   timeout=600)
    assert_same_weights(whole / "model.safetensors", killed / "model.safetensors")
