"""TAT (Guo et al., Algorithm 1, Eq. 9): the schedule, the loss worked out term by term, the
end-of-generation step (teachers, pruning, re-birth, optimiser state), its learning-rate
cycles, and whole runs: single process, killed and resumed, and under torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from helpers import assert_same_weights, kill_when, random_batch

from gazesdk.errors import ConfigError, DataFormatError
from gazesdk.losses.ordinal import OrdinalBins, ordinal_encode
from gazesdk.models import create_model
from gazesdk.sim import GazeSim, SimConfig
from gazesdk.training.config import TrainConfig
from gazesdk.training.csp import prunable_layers
from gazesdk.training.loop import CHECKPOINT, _scheduler, one_cycle_factor, train
from gazesdk.training.mixup import mixup
from gazesdk.training.tat import Generations, TATTask, forget_optimizer_rows

BINS = OrdinalBins(bins=21, x_range=(-10.0, 10.0), y_range=(-10.0, 10.0))


def test_generations_schedule():
    g = Generations(5, 7)                       # the paper's K and L
    assert g.total_epochs == 36
    assert g.bounds() == [(0, 8), (8, 15), (15, 22), (22, 29), (29, 36)]
    assert [g.index(e) for e in (0, 7, 8, 14, 35)] == [0, 0, 1, 1, 4]
    with pytest.raises(ValueError):
        g.index(36)
    with pytest.raises(ConfigError):
        Generations(0, 7)


def bce_sum(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 2 written out: -sum_b [t log s + (1 - t) log(1 - s)], batch mean."""
    s = torch.sigmoid(logits.double())
    t = target.double()
    return -(t * torch.log(s) + (1 - t) * torch.log(1 - s)).sum(dim=(1, 2)).mean()


def test_loss_is_eq9_term_by_term():
    torch.manual_seed(0)
    model = create_model("compact", bins=BINS).eval()   # eval: one joint pass == two passes
    task = TATTask(bins=BINS, generations=3, generation_epochs=1, seed=4)
    b = random_batch(6)
    inputs = (b["face"], b["left_eye"], b["right_eye"], b["face_grid"])

    # Generation 0: no teacher yet -> l_hard * hard + l_mix * mix.
    task.begin_step(0, 3)
    got = task(model, b)
    task.begin_step(0, 3)                      # the same draws (weights a, partners j) ...
    drawn = mixup(b, generator=task._rng)
    a, j = drawn.weight, drawn.partner
    assert sorted(j.tolist()) == list(range(6)) and 0 < float(a.min()) < float(a.max()) < 1

    def mix_inputs(a: torch.Tensor, j: torch.Tensor) -> list[torch.Tensor]:
        # ... but the mixing itself (Eq. 8) written out here
        return [x * a.reshape(-1, *[1] * (x.ndim - 1))
                + x[j] * (1 - a).reshape(-1, *[1] * (x.ndim - 1)) for x in inputs]

    with torch.no_grad():
        out = model(*inputs)
        out_mix = model(*mix_inputs(a, j))
    hard = bce_sum(out, ordinal_encode(b["gaze"], BINS))
    y = ordinal_encode(b["gaze"], BINS).double()
    aa = a[:, None, None].double()
    mix = bce_sum(out_mix, aa * y + (1 - aa) * y[j])
    assert "teacher" not in got
    assert float(got["loss"].detach()) == pytest.approx(float(0.2 * hard + 0.4 * mix), rel=1e-4)

    # With a teacher: + l_teacher * BCE against the teacher's sigmoids (Eq. 4).
    teacher = create_model("compact", bins=BINS)
    task.pool.add(teacher, 3.0)
    task.begin_step(1, 0)
    got = task(model, b)
    with torch.no_grad():
        soft = torch.sigmoid(task.pool.teachers[0](*inputs))
    task.begin_step(1, 0)
    drawn = mixup(b, generator=task._rng)
    a, j = drawn.weight, drawn.partner
    with torch.no_grad():
        out_mix = model(*mix_inputs(a, j))
    aa = a[:, None, None].double()
    mix = bce_sum(out_mix, aa * y + (1 - aa) * y[j])
    expect = 0.2 * hard + 0.4 * mix + 0.6 * bce_sum(out, soft)
    assert float(got["teacher"]) == pytest.approx(float(bce_sum(out, soft)), rel=1e-4)
    assert float(got["loss"].detach()) == pytest.approx(float(expect), rel=1e-4)
    assert task._choices == {0: 1}


def test_no_gradient_reaches_the_teacher_and_the_student_learns():
    torch.manual_seed(1)
    model = create_model("compact", bins=BINS)
    task = TATTask(bins=BINS, generations=2, generation_epochs=1)
    task.pool.add(model, 2.0)
    task.begin_step(1, 0)
    task(model, random_batch(6))["loss"].backward()
    assert all(p.grad is None for p in task.pool.teachers[0].parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_end_of_generation_adds_teacher_prunes_and_resets_optimizer_rows():
    torch.manual_seed(2)
    model = create_model("compact", bins=BINS)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    task = TATTask(bins=BINS, generations=3, generation_epochs=1, prune_fraction=0.2)
    task.begin_step(0, 0)
    task(model, random_batch(6))["loss"].backward()
    opt.step()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    moments = {p: opt.state[p]["exp_avg"].clone() for p in model.parameters()}
    second = {p: opt.state[p]["exp_avg_sq"].clone() for p in model.parameters()}

    assert task.end_of_epoch(epoch=0, model=model, optimizer=opt, val_error_cm=3.0,
                             train_error_cm=2.0) == {"generation": 0}   # mid-generation
    assert len(task.pool) == 0
    row = task.end_of_epoch(epoch=1, model=model, optimizer=opt, val_error_cm=3.0,
                            train_error_cm=2.0)
    assert len(task.pool) == 1 and task.pool.val_errors == [3.0]
    layers = prunable_layers(model)
    total = sum(layer.conv.out_channels for layer in layers)
    assert row == {"generation": 0, "reborn": round(0.2 * total)}
    pruned = task.log[0]["pruned"]
    assert sum(pruned.values()) == round(0.2 * total)
    for layer in layers:
        w0 = before[layer.name + ".weight"]
        changed = (layer.conv.weight != w0).flatten(1).any(1)
        assert int(changed.sum()) == pruned.get(layer.name, 0), layer.name
        assert int(changed.sum()) <= 0.5 * layer.conv.out_channels       # the per-layer cap
        m = opt.state[layer.conv.weight]["exp_avg"]
        assert torch.all(m[changed] == 0)                                  # forgotten
        assert torch.equal(m[~changed], moments[layer.conv.weight][~changed])
        assert torch.equal(opt.state[layer.conv.weight]["exp_avg_sq"],
                           second[layer.conv.weight])                     # kept
    # The teacher is the model *before* the re-birth.
    t = task.pool.teachers[0].state_dict()
    assert all(torch.equal(t[k], before[k]) for k in before)
    # The last generation adds no teacher and prunes nothing.
    task.end_of_epoch(epoch=2, model=model, optimizer=opt, val_error_cm=2.5, train_error_cm=2.0)
    row = task.end_of_epoch(epoch=3, model=model, optimizer=opt, val_error_cm=2.4,
                            train_error_cm=1.9)
    assert row["reborn"] == 0 and len(task.pool) == 2
    assert [e["generation"] for e in task.log] == [0, 1, 2]
    assert [e["val_error_cm"] for e in task.log] == [3.0, 2.5, 2.4]
    assert "pruned" not in task.log[2]


def test_pruning_none_changes_no_weight():
    torch.manual_seed(3)
    model = create_model("compact", bins=BINS)
    opt = torch.optim.AdamW(model.parameters())
    task = TATTask(bins=BINS, generations=2, generation_epochs=1, pruning="none")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    row = task.end_of_epoch(epoch=1, model=model, optimizer=opt, val_error_cm=3.0,
                            train_error_cm=2.0)
    assert row["reborn"] == 0 and len(task.pool) == 1
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_forget_optimizer_rows_sgd_and_adam():
    p = torch.nn.Parameter(torch.ones(4, 3))
    for opt, name in ((torch.optim.SGD([p], lr=0.1, momentum=0.9), "momentum_buffer"),
                      (torch.optim.AdamW([p]), "exp_avg")):
        p.grad = torch.arange(1.0, 13.0).reshape(4, 3)
        opt.step()
        second = opt.state[p].get("exp_avg_sq")
        second = second.clone() if second is not None else None
        forget_optimizer_rows(opt, p, torch.tensor([1, 3]))
        m = opt.state[p][name]
        assert torch.all(m[[1, 3]] == 0) and torch.all(m[[0, 2]] != 0)
        if second is not None:                  # Adam's second moment is kept
            assert torch.equal(opt.state[p]["exp_avg_sq"], second)


def test_reborn_rows_do_not_take_oversized_adam_steps():
    """After the reset, a re-born row's first AdamW update stays near lr (not ~3x lr, as when
    both moments are zeroed while the bias correction is ~1)."""
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(6, 4))
    opt = torch.optim.AdamW([p], lr=1e-2, weight_decay=0.0)
    for _ in range(200):
        p.grad = torch.randn(6, 4)
        opt.step()
    forget_optimizer_rows(opt, p, torch.tensor([0, 1]))
    before = p.detach().clone()
    p.grad = torch.randn(6, 4)
    opt.step()
    step = (p.detach() - before).abs()
    assert step[:2].max() <= 1.2e-2


def test_task_misuse():
    with pytest.raises(ConfigError, match="ordinal"):
        TATTask(head="l2", bins=BINS)
    with pytest.raises(ConfigError, match="pruning"):
        TATTask(bins=BINS, pruning="magnitude")
    with pytest.raises(ConfigError, match="teacher rule"):
        TATTask(bins=BINS, teacher="oldest")
    with pytest.raises(ConfigError, match="Eq. 9"):
        TATTask(bins=BINS, l_hard=0.0, l_mix=0.0)
    with pytest.raises(ConfigError, match="re-initialisation"):
        TATTask(bins=BINS, reinit="zeros")
    with pytest.raises(ConfigError, match="prune_fraction"):
        TATTask(bins=BINS, prune_fraction=2.0)
    # A model without Conv -> BatchNorm fails on the first step, not a generation later.

    class NoBN(torch.nn.Module):
        def forward(self, *x: torch.Tensor) -> torch.Tensor:
            return torch.zeros(len(x[0]), 2, BINS.bins, requires_grad=True)

    task = TATTask(bins=BINS)
    task.begin_step(0, 0)
    with pytest.raises(ConfigError, match="has none"):
        task(NoBN(), random_batch(6))
    TATTask(bins=BINS, pruning="none")(NoBN(), random_batch(6))             # fine without pruning


def test_one_cycle_factor_matches_torch_and_generations_restart():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.5)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=101, pct_start=0.15)
    pct = (0.15 * 101 - 1) / 100               # torch ends the warm-up at pct * steps - 1
    for step in range(101):
        expect = 0.5 * one_cycle_factor(step / 100, pct_start=pct)
        assert opt.param_groups[0]["lr"] == pytest.approx(expect, rel=1e-6, abs=1e-12)
        opt.step()
        ref.step() if step < 100 else None
    cfg = TrainConfig.from_dict({"data": "x", "scheme": "tat", "tat_generations": 3,
                                 "tat_generation_epochs": 2})
    assert cfg.epochs == 7 and cfg.resolved_schedule == "generations"
    opt = torch.optim.AdamW([p], lr=cfg.lr)
    sched = _scheduler(cfg, opt, steps_per_epoch=5)
    lrs = []
    for _ in range(35):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    starts = [0, 15, 25]                       # generation 0: 3 epochs, then 2 and 2
    for s in starts:
        assert lrs[s] == pytest.approx(cfg.lr / 25)
    assert max(lrs[:15]) == pytest.approx(cfg.lr, rel=0.05)
    assert lrs[14] < cfg.lr / 20 and lrs[24] < cfg.lr / 20


@pytest.mark.parametrize("values,message", [
    ({"scheme": "tat", "epochs": 10}, "make 36 epochs"),
    ({"scheme": "tat", "head": "l2"}, "use head ordinal"),
    ({"scheme": "tat", "tat_pruning": "magnitude"}, "tat_pruning"),
    ({"scheme": "tat", "tat_reinit": "zeros"}, "tat_reinit"),
    ({"scheme": "tat", "tat_teacher": "oldest"}, "tat_teacher"),
    ({"scheme": "tat", "tat_prune_fraction": 1.5}, "tat_prune_fraction"),
    ({"scheme": "tat", "tat_teacher_max_ratio": 0.5}, "tat_teacher_max_ratio"),
    ({"scheme": "tat", "tat_generations": 0}, "at least 1"),
    ({"schedule": "generations", "epochs": 5}, "make 36 epochs"),
    ({"schedule": "cosine"}, "schedule"),
])
def test_config_errors(values, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict({"data": "x", **values})


def test_config_fills_tat_epochs():
    cfg = TrainConfig.from_dict({"scheme": "tat", "tat_generations": 2,
                                 "tat_generation_epochs": 3})
    assert cfg.epochs == 7
    assert TrainConfig.from_dict({"scheme": "tat"}).epochs == 36
    assert TrainConfig.from_dict({}).resolved_schedule == "onecycle"


# ---- whole runs ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "sim"
    GazeSim(SimConfig(subjects=8, frames_per_subject=24, sessions_per_subject=1,
                      split_fractions=(0.75, 0.125, 0.125), seed=5)).write_arrays(path)
    return path


def tat_config(data: Path, **kw: object) -> TrainConfig:
    base = {"data": str(data), "model": "compact", "scheme": "tat", "tat_generations": 2,
            "tat_generation_epochs": 1, "batch_size": 8, "checkpoint_every": 2, "threads": 1,
            "seed": 11}
    return TrainConfig.from_dict({**base, **kw})


def test_tat_run_writes_generation_log_and_marks_rebirth(dataset, tmp_path, restore_threads):
    out = tmp_path / "run"
    result = train(tat_config(dataset), out, progress=False)
    assert result["error_cm"] > 0 and "train_error_cm" in result
    log = json.loads((out / "generations.json").read_text())
    assert [g["generation"] for g in log] == [0, 1]
    assert log[0]["reborn"] > 0 and log[1]["reborn"] == 0
    assert log[0]["teacher_choices"] == {}
    steps = 6 * 24 // 8                       # 6 training subjects x 24 frames, batch 8
    assert sum(log[1]["teacher_choices"].values()) == steps     # one teacher per step
    history = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [h.get("reborn", 0) for h in history] == [0, log[0]["reborn"], 0]
    assert "train_teacher" in history[2] and "train_teacher" not in history[0]
    assert (out / "learning_curve.png").stat().st_size > 0


def test_tat_needs_validation_rows(tmp_path, restore_threads):
    path = tmp_path / "noval"
    GazeSim(SimConfig(subjects=3, frames_per_subject=12, sessions_per_subject=1,
                      split_fractions=(1.0, 0.0, 0.0), seed=1)).write_arrays(path)
    with pytest.raises(DataFormatError, match="validation rows"):
        train(tat_config(path), tmp_path / "run", progress=False)


def cli(cfg: TrainConfig, out: Path, tmp: Path) -> list[str]:
    conf = tmp / f"{out.name}.json"
    conf.write_text(json.dumps(cfg.to_dict()))
    return [sys.executable, "-m", "gazesdk", "train", "--config", str(conf), "--out", str(out),
            "--quiet"]


@pytest.mark.slow
def test_tat_killed_after_a_rebirth_resumes_to_the_same_model(dataset, tmp_path,
                                                              restore_threads):
    cfg = tat_config(dataset, tat_generation_epochs=2, checkpoint_every=1)   # 5 epochs
    whole = tmp_path / "whole"
    train(cfg, whole, progress=False)
    killed = tmp_path / "killed"
    position = kill_when(cli(cfg, killed, tmp_path), killed / CHECKPOINT,
                         lambda p: p["epoch"] == 3 and p["step"] >= 1)   # a teacher exists
    assert position is not None, "the run never wrote a checkpoint after the re-birth"
    assert not (killed / "model.safetensors").exists()
    train(cfg, killed, resume=True, progress=False)
    assert_same_weights(whole / "model.safetensors", killed / "model.safetensors")
    assert json.loads((whole / "generations.json").read_text()) == \
        json.loads((killed / "generations.json").read_text())


@pytest.mark.slow
def test_tat_under_torchrun(dataset, tmp_path):
    cfg = tat_config(dataset, batch_size=8, checkpoint_every=100)
    single = tmp_path / "single"
    subprocess.run(cli(cfg, single, tmp_path), check=True, capture_output=True, timeout=300)
    ddp = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", str(29700 + os.getpid() % 1000), *cli(cfg, ddp, tmp_path)[1:]]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    a = json.loads((single / "generations.json").read_text())
    b = json.loads((ddp / "generations.json").read_text())
    steps = 6 * 24 // 8                         # global batches per epoch, as single-process
    assert sum(b[1]["teacher_choices"].values()) == steps             # one teacher per step
    assert a[1]["teacher_choices"] == b[1]["teacher_choices"]        # the same draws
    assert sum(a[0]["pruned"].values()) == sum(b[0]["pruned"].values())
    for x, y in zip(a, b, strict=True):
        assert abs(x["val_error_cm"] - y["val_error_cm"]) < 0.3 * x["val_error_cm"]
    assert (ddp / "model.safetensors").exists()


def test_bce_helper_matches_torch():
    logits, target = torch.randn(3, 2, 5), torch.rand(3, 2, 5)
    ref = F.binary_cross_entropy_with_logits(logits.double(), target.double(),
                                             reduction="sum") / 3
    assert float(bce_sum(logits, target)) == pytest.approx(float(ref))
