"""The self-supervised losses against independent, loop-by-loop numpy versions of their papers'
equations on fixed random inputs (to 1e-5), batch-permutation invariance, and bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gazesdk.losses.barlow_twins import barlow_twins_loss, cross_correlation, redundancy_term
from gazesdk.losses.byol import byol_loss, byol_symmetric
from gazesdk.losses.contrastive_regression import contrastive_regression_loss
from gazesdk.losses.me_max import me_max
from gazesdk.losses.nt_xent import nt_xent
from gazesdk.losses.sinkhorn import sinkhorn_knopp

RNG = np.random.default_rng(0)
Z1, Z2 = RNG.normal(size=(6, 5)), RNG.normal(size=(6, 5))
T1, T2 = torch.tensor(Z1, dtype=torch.float32), torch.tensor(Z2, dtype=torch.float32)
PERM = torch.tensor([3, 0, 5, 1, 4, 2])


def ref_nt_xent(a: np.ndarray, b: np.ndarray, tau: float) -> float:
    z = np.concatenate([a, b])
    n2 = len(z)
    n = n2 // 2

    def s(i: int, j: int) -> float:
        return float(z[i] @ z[j] / (np.linalg.norm(z[i]) * np.linalg.norm(z[j])))

    total = 0.0
    for i in range(n2):
        j = (i + n) % n2
        den = sum(math.exp(s(i, k) / tau) for k in range(n2) if k != i)
        total += -math.log(math.exp(s(i, j) / tau) / den)
    return total / n2


def ref_cross_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n, d = a.shape
    c = np.zeros((d, d))
    for i in range(d):
        for j in range(d):
            ai = (a[:, i] - a[:, i].mean()) / math.sqrt(a[:, i].var() + 1e-5)
            bj = (b[:, j] - b[:, j].mean()) / math.sqrt(b[:, j].var() + 1e-5)
            c[i, j] = sum(ai[k] * bj[k] for k in range(n)) / n
    return c


def test_nt_xent_matches_the_equation_and_is_permutation_invariant():
    for tau in (0.1, 0.5, 1.0):
        assert float(nt_xent(T1, T2, temperature=tau)) == pytest.approx(
            ref_nt_xent(Z1, Z2, tau), abs=1e-5)
    assert float(nt_xent(T1[PERM], T2[PERM])) == pytest.approx(float(nt_xent(T1, T2)), abs=1e-6)
    # Identical views of orthogonal images: the positive dominates at a low temperature.
    eye = torch.eye(4)
    assert float(nt_xent(eye, eye, temperature=0.05)) < 1e-6
    # Swapping the partners breaks the pairs: the loss goes up.
    assert float(nt_xent(T1, T2[PERM])) != pytest.approx(float(nt_xent(T1, T2)))


def test_barlow_twins_matches_the_equation():
    c_ref = ref_cross_correlation(Z1, Z2)
    assert np.allclose(cross_correlation(T1, T2).numpy(), c_ref, atol=1e-5)
    on = sum((1 - c_ref[i, i]) ** 2 for i in range(5))
    off = sum(c_ref[i, j] ** 2 for i in range(5) for j in range(5) if i != j)
    assert float(barlow_twins_loss(T1, T2)) == pytest.approx(on + 5e-3 * off, abs=1e-5)
    assert float(barlow_twins_loss(T1, T2, lambda_offdiag=0.3)) == pytest.approx(
        on + 0.3 * off, abs=1e-5)
    assert float(redundancy_term(T1, T2)) == pytest.approx(off, abs=1e-5)
    assert float(barlow_twins_loss(T1[PERM], T2[PERM])) == pytest.approx(
        float(barlow_twins_loss(T1, T2)), abs=1e-5)


def test_contrastive_regression_is_nt_xent_plus_gamma_redundancy():
    for gamma in (0.001, 0.01, 0.1, 1.0):
        got = contrastive_regression_loss(T1, T2, temperature=0.5, gamma=gamma)
        off = float(np.sum(ref_cross_correlation(Z1, Z2) ** 2)
                    - np.sum(np.diag(ref_cross_correlation(Z1, Z2)) ** 2))
        assert float(got["loss"]) == pytest.approx(ref_nt_xent(Z1, Z2, 0.5) + gamma * off,
                                                   abs=1e-5)
        assert float(got["redundancy"]) == pytest.approx(off, abs=1e-5)
    with pytest.raises(ValueError, match="gamma"):
        contrastive_regression_loss(T1, T2, gamma=-1.0)


def test_byol_matches_the_equation_and_stops_the_target_gradient():
    def ref(q: np.ndarray, z: np.ndarray) -> float:
        return float(np.mean([np.sum((q[i] / np.linalg.norm(q[i]) - z[i] / np.linalg.norm(z[i]))
                                     ** 2) for i in range(len(q))]))

    assert float(byol_loss(T1, T2)) == pytest.approx(ref(Z1, Z2), abs=1e-5)
    assert float(byol_symmetric(T1, T2, T2, T1)) == pytest.approx(2 * ref(Z1, Z2), abs=1e-5)
    assert float(byol_loss(T1[PERM], T2[PERM])) == pytest.approx(float(byol_loss(T1, T2)),
                                                                 abs=1e-6)
    q, z = T1.clone().requires_grad_(True), T2.clone().requires_grad_(True)
    byol_loss(q, z).backward()
    assert q.grad is not None and z.grad is None
    assert float(byol_loss(T1, 3 * T1)) == pytest.approx(0.0, abs=1e-6)    # scale-free


def ref_sinkhorn(scores: np.ndarray, eps: float, iters: int) -> np.ndarray:
    q = np.exp(scores / eps).T                       # K x B, as SwAV writes it
    q /= q.sum()
    k, b = q.shape
    for _ in range(iters):
        for r in range(k):
            q[r] /= q[r].sum() * k
        for c in range(b):
            q[:, c] /= q[:, c].sum() * b
    return (q * b).T


def test_sinkhorn_matches_the_iteration_and_balances_prototypes():
    scores = RNG.normal(size=(8, 4)) * 0.2
    got = sinkhorn_knopp(torch.tensor(scores), epsilon=0.05, iterations=3).numpy()
    assert np.allclose(got, ref_sinkhorn(scores, 0.05, 3), atol=1e-5)
    assert np.allclose(got.sum(1), 1.0)
    many = sinkhorn_knopp(torch.tensor(scores), epsilon=0.05, iterations=50).numpy()
    assert np.allclose(many.sum(0), 8 / 4, atol=1e-3)           # prototypes used equally
    order = [3, 0, 5, 1, 4, 2, 7, 6]                            # permuting items commutes
    assert np.allclose(sinkhorn_knopp(torch.tensor(scores[order])).numpy(),
                       sinkhorn_knopp(torch.tensor(scores)).numpy()[order], atol=1e-6)
    with pytest.raises(ValueError, match="B, K"):
        sinkhorn_knopp(torch.zeros(3))


def test_me_max_is_negative_entropy_of_the_mean():
    p = torch.softmax(torch.tensor(RNG.normal(size=(5, 4))), dim=1)
    pbar = p.numpy().mean(0)
    assert float(me_max(p)) == pytest.approx(float(np.sum(pbar * np.log(pbar))), abs=1e-5)
    assert float(me_max(torch.full((3, 4), 0.25))) == pytest.approx(-math.log(4), abs=1e-6)
    collapsed = torch.zeros(3, 4)
    collapsed[:, 0] = 1
    assert float(me_max(collapsed)) == pytest.approx(0.0, abs=1e-6)   # the worst case
    assert float(me_max(p[[4, 2, 0, 1, 3]])) == pytest.approx(float(me_max(p)), abs=1e-6)
    with pytest.raises(ValueError, match="batch"):
        me_max(torch.ones(4))


@pytest.mark.parametrize("fn", [nt_xent, barlow_twins_loss, byol_loss])
def test_bad_shapes(fn):
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        fn(torch.zeros(4, 3), torch.zeros(4, 2))
