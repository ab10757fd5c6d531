"""FRA's neck and network: heatmaps normalised over the masks, heatmap pooling, the running
mask embeddings, and the loss reaching the decoder but not the momentum network."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import random_batch

from gazesdk.models import create_model
from gazesdk.pretrain.fra import FRANeck, FRATask, sine_positions


def test_heatmaps_sum_to_one_and_constant_maps_pool_to_themselves():
    torch.manual_seed(0)
    neck = FRANeck(16, hidden=32, dim=8, queries=4)
    fmap = torch.rand(3, 16, 1, 1).expand(3, 16, 4, 4).contiguous()
    out = neck(torch.rand(3, 128), fmap)
    assert out["heatmaps"].shape == (3, 16, 4)
    assert torch.allclose(out["heatmaps"].sum(-1), torch.full((3, 16), 1 + 4e-7), atol=1e-6)
    # A map equal at every pixel: each mask's weighted average is that pixel's feature.
    neck.eval()
    want = neck.local_projector(fmap[:, :, 0, 0][:, None].expand(3, 4, 16))
    assert torch.allclose(neck(torch.rand(3, 128), fmap)["local"], want, atol=1e-5)


def test_running_mask_embeddings():
    torch.manual_seed(1)
    neck = FRANeck(16, hidden=32, dim=8, queries=4).train()
    f1, f2 = torch.rand(2, 16, 4, 4), torch.rand(2, 16, 4, 4)
    torch.manual_seed(5)
    e1 = neck.mask_embeddings(f1).detach()
    assert torch.allclose(neck.proto, e1)                    # the first one is copied
    torch.manual_seed(6)
    e2 = neck.mask_embeddings(f2).detach()
    assert torch.allclose(neck.proto, 0.9 * e1 + 0.1 * e2, atol=1e-6)
    neck.eval()
    assert torch.equal(neck.mask_embeddings(f1), neck.proto)


def test_sine_positions():
    pe = sine_positions(3, 2, 8)
    assert pe.shape == (6, 8)
    # row 2 is (y=1, x=0): channel 0 = sin(1 * 1), channel 2 (cos part) = cos(1 * 1)
    assert float(pe[2, 0]) == pytest.approx(math.sin(1.0))
    assert float(pe[2, 2]) == pytest.approx(math.cos(1.0))
    assert float(pe[2, 4]) == pytest.approx(0.0)             # x = 0: sin 0
    with pytest.raises(ValueError, match="divisible by 4"):
        sine_positions(2, 2, 6)


def test_fra_task_trains_the_decoder_not_the_target():
    torch.manual_seed(0)
    task = FRATask(seed=0, hidden=64, dim=32)
    net = task.wrap(create_model("compact"), steps_per_epoch=3, epochs=1)
    batch = random_batch(4)
    del batch["gaze"]
    task.begin_step(0, 0)
    losses = task(net, batch)
    assert math.isfinite(float(losses["loss"].detach()))
    assert float(losses["loss"].detach()) == pytest.approx(
        float(losses["consistency"] + 0.1 * losses["relation"]), rel=1e-5)
    losses["loss"].backward()
    assert net.neck.queries.weight.grad is not None
    assert net.neck.pixel_projector[0].weight.grad is not None
    assert all(p.grad is None for p in net.target.parameters())
    net.eval()
    maps = net.heatmaps(batch["face"], batch["left_eye"], batch["right_eye"],
                        batch["face_grid"])
    assert maps.shape == (4, 8, 4, 4)                         # compact's last map is 4x4
    with pytest.raises(ValueError, match="at least 2"):
        FRANeck(16, queries=1)
