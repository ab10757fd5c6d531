"""DwO: the batch keeps Org.% of its samples bit for bit and replaces the rest with PGD samples
inside the eps ball (patches only, not the face grid); the attack leaves no trace in the model;
the adversarial samples raise the center-bin loss; whole runs of dwo and tat_dwo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers import random_batch

from gazesdk.errors import ConfigError
from gazesdk.losses.center_bins import center_bin_loss
from gazesdk.losses.ordinal import OrdinalBins, ordinal_encode
from gazesdk.models import create_model
from gazesdk.sim import GazeSim, SimConfig
from gazesdk.training.config import TrainConfig
from gazesdk.training.dwo import SupervisedDwO, TATDwO
from gazesdk.training.loop import train
from gazesdk.training.task import list_schemes

BINS = OrdinalBins(bins=41, x_range=(-10.0, 10.0), y_range=(-10.0, 10.0))


@pytest.mark.parametrize("org,expected", [(0.9, 1), (0.5, 5), (0.0, 10), (1.0, 0)])
def test_org_fraction_and_untouched_rows(org, expected):
    torch.manual_seed(0)
    model = create_model("compact", bins=BINS).train()
    task = SupervisedDwO(bins=BINS, org=org, center_bins=8, steps=2)
    b = random_batch(10, seed=1, gaze_scale=3.0)
    task.begin_step(0, 0)
    bn_before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    adv, rows = task.adversarial(model, b)
    assert len(rows) == expected
    keep = torch.ones(10, dtype=torch.bool)
    keep[rows] = False
    for k in ("face", "left_eye", "right_eye"):
        assert torch.equal(adv[k][keep], b[k][keep])
        if expected:
            d = (adv[k][rows] - b[k][rows]).abs()
            assert 0 < d.max() <= 3 / 255 + 1e-6
        assert adv[k].min() >= 0 and adv[k].max() <= 1
    assert torch.equal(adv["face_grid"], b["face_grid"]) and torch.equal(adv["gaze"], b["gaze"])
    # No trace in the model: BatchNorm statistics as before, no weight gradient.
    for k, v in model.state_dict().items():
        if "running" in k:
            assert torch.equal(v, bn_before[k]), k
    assert all(p.grad is None for p in model.parameters())
    # The same step draws the same rows (a resumed run repeats them).
    task.begin_step(0, 0)
    assert torch.equal(task.adversarial(model, b)[1], rows)


@pytest.mark.parametrize("org,n_adv", [(0.9, 1), (0.5, 4), (0.75, 2), (0.95, 0)])
def test_processes_together_attack_what_one_process_would(org, n_adv):
    """Global batch of 8 split as the loop splits it (rank r takes rows r, r + 2, ...): the
    union of the two processes' attacked rows is the single process's, rounded half up."""
    torch.manual_seed(0)
    model = create_model("compact", bins=BINS).eval()
    b = random_batch(8, seed=1, gaze_scale=3.0)
    single = SupervisedDwO(bins=BINS, org=org, seed=5)
    single.begin_step(2, 3)
    _, rows = single.adversarial(model, b)
    assert len(rows) == n_adv
    union = []
    for rank in (0, 1):
        part = {k: v[rank::2] for k, v in b.items()}
        task = SupervisedDwO(bins=BINS, org=org, seed=5, rank=rank, world=2)
        task.begin_step(2, 3)
        union += [2 * int(r) + rank for r in task.adversarial(model, part)[1]]
    assert sorted(union) == rows.tolist()


def test_adversarial_samples_raise_the_center_bin_loss():
    torch.manual_seed(0)
    model = create_model("compact", bins=BINS).eval()
    task = SupervisedDwO(bins=BINS, org=0.0, center_bins=8, steps=1)
    b = random_batch(10, seed=1, gaze_scale=3.0)
    task.begin_step(0, 0)
    adv, _ = task.adversarial(model, b)
    target = ordinal_encode(b["gaze"], BINS)

    def loss(x: dict) -> float:
        with torch.no_grad():
            out = model(x["face"], x["left_eye"], x["right_eye"], x["face_grid"])
        return float(center_bin_loss(out, target, half_width=4))

    assert loss(adv) > loss(b)


def test_training_step_logs_the_fraction_and_backpropagates():
    torch.manual_seed(0)
    model = create_model("compact", bins=BINS)
    task = SupervisedDwO(bins=BINS, org=0.8)
    task.begin_step(0, 0)
    named = task(model, random_batch(10, seed=1, gaze_scale=3.0))
    assert float(named["metric_adversarial_fraction"]) == pytest.approx(0.2)
    named["loss"].backward()
    assert any(p.grad is not None for p in model.parameters())


def test_misuse():
    assert {"dwo", "tat_dwo", "tat", "supervised"} <= set(list_schemes())
    with pytest.raises(ConfigError, match="ordinal head"):
        SupervisedDwO(head="l2", bins=BINS)
    with pytest.raises(ConfigError, match="even number"):
        SupervisedDwO(bins=BINS, center_bins=7)
    with pytest.raises(ConfigError, match="at least one PGD step"):
        SupervisedDwO(bins=BINS, steps=0)
    with pytest.raises(ConfigError, match="fraction of original samples"):
        SupervisedDwO(bins=BINS, org=1.5)
    with pytest.raises(ConfigError, match="gamma > 0"):
        SupervisedDwO(bins=BINS, gamma=0.0)
    with pytest.raises(ConfigError, match="world"):
        SupervisedDwO(bins=BINS, rank=2, world=2)
    for values, message in [({"dwo_center_bins": 5}, "even number"),
                            ({"dwo_org": -0.1}, "dwo_org"), ({"dwo_steps": 0}, "dwo_steps"),
                            ({"dwo_gamma": 0.0}, "dwo_gamma"), ({"head": "l2"}, "ordinal")]:
        with pytest.raises(ConfigError, match=message):
            TrainConfig.from_dict({"scheme": "dwo", **values})
    assert TrainConfig.from_dict({"scheme": "tat_dwo"}).epochs == 36


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "sim"
    GazeSim(SimConfig(subjects=6, frames_per_subject=16, sessions_per_subject=1,
                      stare_sequences=1, stare_frames=5, split_fractions=(4 / 6, 1 / 6, 1 / 6),
                      seed=2)).write_arrays(path)
    return path


def test_dwo_and_tat_dwo_runs(dataset, tmp_path, restore_threads):
    base = {"data": str(dataset), "batch_size": 8, "threads": 1, "seed": 3,
            "checkpoint_every": 100}
    result = train(TrainConfig.from_dict({**base, "scheme": "dwo", "epochs": 1, "dwo_org": 0.5}),
                   tmp_path / "dwo", progress=False)
    assert result["msd_sequences"] == 1 and result["msd_cm"] >= 0
    row = json.loads((tmp_path / "dwo" / "metrics.jsonl").read_text().splitlines()[0])
    assert row["train_adversarial_fraction"] == pytest.approx(0.5)
    train(TrainConfig.from_dict({**base, "scheme": "tat_dwo", "tat_generations": 2,
                                 "tat_generation_epochs": 1}), tmp_path / "both",
          progress=False)
    log = json.loads((tmp_path / "both" / "generations.json").read_text())
    assert [g["generation"] for g in log] == [0, 1] and log[0]["reborn"] > 0
    assert isinstance(TATDwO(bins=BINS).base.pool.teachers, list)


@pytest.mark.slow
def test_dwo_under_torchrun(dataset, tmp_path):
    import os
    import subprocess
    import sys

    conf = tmp_path / "dwo.json"
    conf.write_text(json.dumps({"data": str(dataset), "scheme": "dwo", "epochs": 2,
                                "batch_size": 8, "threads": 1, "seed": 3, "dwo_org": 0.5}))
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(29900 + os.getpid() % 90), "-m", "gazesdk", "train",
           "--config", str(conf), "--out", str(out), "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[0]["train_adversarial_fraction"] == pytest.approx(0.5)
    assert json.loads((out / "eval_test.json").read_text())["msd_sequences"] == 1
