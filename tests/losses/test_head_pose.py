"""HopeNet's head-pose loss: bins, expectation and loss worked by hand."""

from __future__ import annotations

import math

import pytest
import torch

from gazesdk.losses.head_pose import POSE_BINS, head_pose_loss, pose_bin, pose_expectation


def test_bins_and_expectation_by_hand():
    angles = torch.tensor([-99.0, -97.1, -96.0, 0.0, 1.4, 98.9, 150.0, -300.0])
    assert pose_bin(angles).tolist() == [0, 0, 1, 33, 33, 65, 65, 0]
    one_hot = torch.full((POSE_BINS,), -1e4)
    one_hot[40] = 0.0
    assert float(pose_expectation(one_hot)) == pytest.approx(-99 + 3 * 40 + 1.5)
    assert float(pose_expectation(torch.zeros(POSE_BINS))) == pytest.approx(0.0, abs=1e-4)


def test_loss_is_ce_plus_alpha_mse_summed_over_angles():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 3, POSE_BINS, generator=g)
    angles = torch.randn(4, 3, generator=g) * 20
    out = head_pose_loss(logits, angles, alpha=0.5)
    ce = mse = 0.0
    centres = [-99 + 3 * k + 1.5 for k in range(POSE_BINS)]
    for a in range(3):
        for i in range(4):
            z = logits[i, a].tolist()
            m = max(z)
            lse = m + math.log(sum(math.exp(v - m) for v in z))
            k = int((float(angles[i, a]) + 99) // 3)
            ce += (lse - z[k]) / 4
            p = [math.exp(v - lse) for v in z]
            mse += (sum(pi * c for pi, c in zip(p, centres, strict=True))
                    - float(angles[i, a])) ** 2 / 4
    assert float(out["pose_ce"]) == pytest.approx(ce, rel=1e-5)
    assert float(out["pose_mse"]) == pytest.approx(mse, rel=1e-4)
    assert float(out["loss"]) == pytest.approx(ce + 0.5 * mse, rel=1e-4)
    with pytest.raises(ValueError, match="66"):
        head_pose_loss(torch.randn(4, 2, POSE_BINS), angles)
    with pytest.raises(ValueError, match="alpha"):
        head_pose_loss(logits, angles, alpha=-1)
