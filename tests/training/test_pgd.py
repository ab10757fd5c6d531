"""PGD (Eq. 13-14): one step is gamma * sign(gradient) from autograd; every sample stays in
the eps ball and the pixel range; the model's weights get no gradient."""

from __future__ import annotations

import pytest
import torch

from gazesdk.training.pgd import pgd_attack, pixel_scale


def tiny():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))


def test_one_step_is_gamma_times_the_gradient_sign():
    net = tiny()
    x = torch.rand(5, 3, 2, 2) * 0.5 + 0.25          # away from the range edges
    y = torch.randn(5, 3)

    def loss(a: torch.Tensor) -> torch.Tensor:
        return ((net(a) - y) ** 2).sum()

    xr = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(xr), xr)
    (adv,) = pgd_attack(loss, [x], eps=0.1, gamma=0.02, steps=1)
    assert torch.allclose(adv, x + 0.02 * g.sign(), atol=1e-7)
    assert all(p.grad is None for p in net.parameters())
    assert float(loss(adv).detach()) > float(loss(x).detach())    # it is an attack


def test_stays_in_the_ball_and_the_pixel_range():
    net = tiny()
    x = torch.rand(64, 3, 2, 2)
    x[0] = 0.0
    x[1] = 1.0                                              # samples at the range edges
    y = torch.randn(64, 3)
    eps = pixel_scale(3)
    for steps in (1, 2, 3, 10):
        (adv,) = pgd_attack(lambda a: ((net(a) - y) ** 2).sum(), [x], eps=eps,
                            gamma=pixel_scale(1), steps=steps)
        assert (adv - x).abs().max() <= eps + 1e-7
        assert adv.min() >= 0.0 and adv.max() <= 1.0
    assert (adv - x).abs().max() > 0.9 * eps               # ten steps of 1 reach the 3 limit


def test_several_inputs_are_perturbed_together():
    w = torch.tensor([1.0, -2.0])
    a, b = torch.full((4,), 0.5), torch.full((4,), 0.5)
    adv_a, adv_b = pgd_attack(lambda p, q: (w[0] * p + w[1] * q).sum(), [a, b],
                              eps=0.1, gamma=0.05, steps=3)
    assert torch.allclose(adv_a, torch.full((4,), 0.6))    # + until the ball's edge
    assert torch.allclose(adv_b, torch.full((4,), 0.4))


def test_pixel_scale_and_misuse():
    assert pixel_scale(3) == pytest.approx(3 / 255)
    with pytest.raises(ValueError, match="at least one step"):
        pgd_attack(lambda x: x.sum(), [torch.zeros(1)], eps=0.1, gamma=0.1, steps=0)
    with pytest.raises(ValueError, match="gamma"):
        pgd_attack(lambda x: x.sum(), [torch.zeros(1)], eps=0.1, gamma=0.0)
