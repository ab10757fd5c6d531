"""Center bins: the window sits around the decoded prediction, holds 2k bins, and bins outside
it contribute nothing to the loss or its gradient."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gazesdk.losses.center_bins import center_bin_loss, center_bin_mask


def run_logits(position: float, bins: int = 20, sharp: float = 8.0) -> torch.Tensor:
    """Logits whose sigmoids are ~1 below ``position`` and ~0 above (an ordinal prediction)."""
    b = torch.arange(bins, dtype=torch.float32) + 0.5
    return sharp * (position - b)


def test_window_follows_the_prediction():
    logits = torch.stack([run_logits(7.0), run_logits(15.2)])[None]     # (1, 2, 20)
    mask = center_bin_mask(logits, half_width=2)
    assert mask[0, 0].nonzero().flatten().tolist() == [5, 6, 7, 8]     # round(7.0) = 7
    assert mask[0, 1].nonzero().flatten().tolist() == [13, 14, 15, 16]  # round(15.2) = 15
    # Near the ends the window shifts inside and keeps 2k bins.
    edge = torch.stack([run_logits(0.4), run_logits(19.9)])[None]
    m = center_bin_mask(edge, half_width=3)
    assert m[0, 0].nonzero().flatten().tolist() == [0, 1, 2, 3, 4, 5]
    assert m[0, 1].nonzero().flatten().tolist() == [14, 15, 16, 17, 18, 19]
    assert center_bin_mask(logits, half_width=0).all()
    assert center_bin_mask(logits, half_width=None).all()
    assert center_bin_mask(logits, half_width=10).all()                 # 2k = B: all bins


def test_outside_bins_contribute_nothing():
    torch.manual_seed(0)
    logits = (torch.randn(3, 2, 20) + torch.stack([run_logits(9.0)] * 6).reshape(3, 2, 20)
              ).requires_grad_(True)
    target = (torch.rand(3, 2, 20) > 0.5).float()
    loss = center_bin_loss(logits, target, half_width=4)
    (grad,) = torch.autograd.grad(loss, logits)
    mask = center_bin_mask(logits, half_width=4)
    assert mask.sum(-1).eq(8).all()
    assert torch.all(grad[~mask] == 0)
    # Inside the window: d BCE / d logit = (sigmoid - target) / N, the plain Eq. 2 gradient.
    expect = (torch.sigmoid(logits) - target) / 3
    assert torch.allclose(grad[mask], expect.detach()[mask], atol=1e-6)
    # The value: Eq. 2 summed over the masked bins only, by hand.
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    assert float(loss.detach()) == pytest.approx(float((bce * mask).detach().sum() / 3),
                                                 rel=1e-6)
    assert float(center_bin_loss(logits.detach(), target, half_width=0)) == pytest.approx(
        float(bce.detach().sum() / 3), rel=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="N, 2, B"):
        center_bin_mask(torch.zeros(2, 20), half_width=2)
    with pytest.raises(ValueError, match="half_width"):
        center_bin_mask(torch.zeros(1, 2, 20), half_width=-1)
    with pytest.raises(ValueError, match="differ"):
        center_bin_loss(torch.zeros(1, 2, 20), torch.zeros(1, 2, 19), half_width=2)
