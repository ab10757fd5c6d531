"""HMTL: the pretext loss is the per-position cross-entropy, pre-training trains only what
feeds the heads, co-training adds weight x SSL to the gaze loss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import random_batch

from gazesdk.errors import ConfigError
from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.models import create_model
from gazesdk.pretrain.heads import MLP, PretextHeads
from gazesdk.pretrain.hmtl import HMTLCoTraining, PretextNet, PretextTask, pretext_loss


def test_pretext_loss_is_the_sum_of_per_position_cross_entropies():
    g = torch.Generator().manual_seed(0)
    out = {"face": {"puzzle": torch.randn(3, 4, 4, generator=g),
                    "rotation": torch.randn(3, 4, 4, generator=g)}}
    labels = {"face": {"puzzle": torch.stack([torch.randperm(4, generator=g) for _ in range(3)]),
                       "rotation": torch.randint(4, (3, 4), generator=g)}}
    want = 0.0
    for task in ("puzzle", "rotation"):
        for p in range(4):
            logp = out["face"][task][:, p].log_softmax(-1)
            want += float(-logp[torch.arange(3), labels["face"][task][:, p]].mean())
    got = pretext_loss(out, labels)
    assert float(got["ssl"]) == pytest.approx(want, rel=1e-5)
    perfect = {"face": {t: F.one_hot(labels["face"][t], 4).float() * 50 for t in labels["face"]}}
    assert float(pretext_loss(perfect, labels)["metric_puzzle_accuracy"]) == 1.0


def test_pretraining_freezes_what_the_heads_do_not_reach():
    net = PretextNet(create_model("compact"), kind="puzzle", stage=2, patches="face",
                     supervised=False)
    trained = {n for n, p in net.named_parameters() if p.requires_grad}
    assert any(n.startswith("gaze.face.block3.") for n in trained)       # stage 2 ends there
    assert not any(n.startswith(("gaze.face.block4.", "gaze.face.fc.", "gaze.eye.",
                                 "gaze.fc.", "gaze.head.", "gaze.grid.")) for n in trained)
    assert any(n.startswith("heads.face.") for n in trained)
    task = PretextTask(kind="rotation", stage=4)
    net = task.wrap(create_model("compact"), steps_per_epoch=2, epochs=1)
    batch = random_batch(4)
    del batch["gaze"]
    task.begin_step(0, 0)
    losses = task(net, batch)
    losses["loss"].backward()
    assert net.gaze.eye.stem.conv.weight.grad is not None          # patches 'all': eyes too
    assert float(losses["loss"].detach()) == pytest.approx(float(losses["ssl"]))


def test_cotraining_adds_weighted_ssl_and_ablation_freezes_heads():
    bins = OrdinalBins()
    task = HMTLCoTraining(head="ordinal", bins=bins, kind="puzzle-rotation", weight=50.0)
    net = task.wrap(create_model("compact", bins=bins), steps_per_epoch=2, epochs=1)
    task.begin_step(0, 1)
    losses = task(net, random_batch(4))
    assert float(losses["loss"].detach()) == pytest.approx(
        float(losses["ordinal"] + 50.0 * losses["ssl"]), rel=1e-5)
    assert "metric_error_cm" in losses and "metric_rotation_accuracy" in losses
    ablation = HMTLCoTraining(head="ordinal", bins=bins, kind="puzzle", weight=0.0)
    net = ablation.wrap(create_model("compact", bins=bins), steps_per_epoch=2, epochs=1)
    assert not any(p.requires_grad for p in net.heads.parameters())
    with pytest.raises(ConfigError, match="aux_weight"):
        HMTLCoTraining(head="ordinal", bins=bins, kind="puzzle", weight=-1)
    with pytest.raises(ConfigError, match="aux_patches"):
        PretextNet(create_model("compact"), kind="puzzle", patches="eyes")


def test_three_by_three_on_64_pixels_keeps_the_last_row_and_column():
    from gazesdk.pretrain.hmtl import pretext_batch

    batch = random_batch(3)
    out, labels = pretext_batch(batch, kind="puzzle", grid=3, patches=("face",),
                                generator=torch.Generator().manual_seed(0))
    x, y = batch["face"], out["face"]
    assert torch.equal(y[..., 63, :], x[..., 63, :]) and torch.equal(y[..., :, 63], x[..., :, 63])
    for i in range(3):
        for pos, src in enumerate(labels["face"]["puzzle"][i].tolist()):
            r, c = divmod(pos, 3)
            sr, sc = divmod(src, 3)
            assert torch.equal(y[i, :, 21 * r:21 * r + 21, 21 * c:21 * c + 21],
                               x[i, :, 21 * sr:21 * sr + 21, 21 * sc:21 * sc + 21])
    assert torch.equal(out["left_eye"], batch["left_eye"])          # only the face


def test_frozen_layers_keep_their_batchnorm_statistics():
    net = PretextNet(create_model("compact"), kind="rotation", stage=2, supervised=False)
    net.train()
    after = net.gaze.face.block5.project.bn
    assert not after.training and net.gaze.face.block2.project.bn.training
    before = after.running_mean.clone()
    batch = random_batch(4)
    net(batch)
    assert torch.equal(after.running_mean, before)


def test_heads_and_mlp_shapes():
    heads = PretextHeads(8, grid=3, puzzle=True, rotation=True)
    out = heads(torch.rand(2, 8, 6, 6))
    assert out["puzzle"].shape == (2, 9, 9) and out["rotation"].shape == (2, 9, 4)
    mlp = MLP(5, 7, 3).eval()
    x = torch.rand(2, 4, 5)
    assert torch.allclose(mlp(x), mlp(x.reshape(8, 5)).reshape(2, 4, 3))
    with pytest.raises(ValueError, match="puzzle or the rotation"):
        PretextHeads(8, grid=2, puzzle=False, rotation=False)
