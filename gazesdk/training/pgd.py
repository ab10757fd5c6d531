"""Projected gradient descent (PGD) adversarial samples, as DwO generates them (Guo et al.,
section 3.2, Eq. 13-14; Madry et al. 2018):

    x_0 = x,   x_{t+1} = clip_{x, eps}( x_t + gamma * sign(grad_x L(P(x_t), y)) ),

T steps inside the L-infinity ball of radius eps around x, and inside the valid pixel range.
The paper's eps = 3 and gamma = 1 are on the 0-255 pixel scale; gazesdk's model inputs are
RGB in [0, 1] (normalised inside the model), so they become 3/255 and 1/255 here
(:func:`pixel_scale` does the conversion).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


def pixel_scale(value_0_255: float) -> float:
    """A perturbation size on the paper's 0-255 scale, on gazesdk's [0, 1] input scale."""
    return float(value_0_255) / 255.0


def pgd_attack(loss_fn: Callable[..., torch.Tensor], inputs: Sequence[torch.Tensor], *,
               eps: float, gamma: float, steps: int = 1, lo: float = 0.0,
               hi: float = 1.0) -> tuple[torch.Tensor, ...]:
    """Adversarial versions of ``inputs`` (Eq. 13-14): ``loss_fn(*perturbed)`` is the loss to
    increase; every returned tensor stays within ``eps`` of its input (L-infinity) and in
    [``lo``, ``hi``]. No gradient flows to the returned tensors or into the model's weights."""
    if steps < 1:
        raise ValueError(f"PGD needs at least one step, got {steps}")
    if eps < 0 or gamma <= 0:
        raise ValueError(f"PGD needs eps >= 0 and gamma > 0, got eps={eps}, gamma={gamma}")
    originals = [x.detach() for x in inputs]
    current = [x.clone() for x in originals]
    for _ in range(steps):
        leaves = [x.requires_grad_(True) for x in current]
        with torch.enable_grad():
            loss = loss_fn(*leaves)
            grads = torch.autograd.grad(loss, leaves)
        current = [
            torch.minimum(torch.maximum(x.detach() + gamma * g.sign(), x0 - eps), x0 + eps)
            .clamp_(lo, hi)                                                    # Eq. 14
            for x, g, x0 in zip(leaves, grads, originals, strict=True)]
    return tuple(current)
