"""FRA's losses against loop-by-loop implementations of the authors' equations, and their
invariances (relabelling the masks, reordering pixels)."""

from __future__ import annotations

import math

import pytest
import torch

from gazesdk.losses.fra import local_consistency, semantic_consistency_loss, semantic_relation_loss


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(a @ b / (a.norm() * b.norm()))


def _local_by_hand(p: torch.Tensor, t: torch.Tensor, w: float) -> float:
    b, n, _ = p.shape
    matched = off = 0.0
    for i in range(b):
        for q in range(n):
            matched += 2 - 2 * _cos(p[i, q], t[i, q])
            off += sum(_cos(p[i, q], t[i, r]) ** 2 for r in range(n) if r != q) / n
    return matched / (b * n) + w * off / (b * n)


def _sinkhorn_by_hand(t: list[list[float]], iterations: int) -> list[list[float]]:
    """The authors' loop on a (pixels x masks) matrix, in plain Python."""
    rows, cols = len(t), len(t[0])
    q = [[v for v in r] for r in t]
    total = sum(map(sum, q))
    q = [[v / total for v in r] for r in q]
    for _ in range(iterations):
        col = [sum(q[i][k] for i in range(rows)) for k in range(cols)]
        q = [[q[i][k] / col[k] / cols for k in range(cols)] for i in range(rows)]
        row = [sum(r) for r in q]
        q = [[q[i][k] / row[i] / rows for k in range(cols)] for i in range(rows)]
    return [[v * rows for v in r] for r in q]


def test_local_consistency_matches_the_loops():
    g = torch.Generator().manual_seed(0)
    p, t = torch.randn(3, 4, 5, generator=g), torch.randn(3, 4, 5, generator=g)
    assert float(local_consistency(p, t, decorrelation=0.02)) == pytest.approx(
        _local_by_hand(p, t, 0.02), abs=1e-5)
    assert float(local_consistency(p, t, decorrelation=0.0)) == pytest.approx(
        _local_by_hand(p, t, 0.0), abs=1e-5)


def test_consistency_is_weighted_and_summed_over_both_directions():
    g = torch.Generator().manual_seed(1)

    def side() -> dict[str, torch.Tensor]:
        return {"global": torch.randn(4, 6, generator=g), "local": torch.randn(4, 3, 6,
                                                                               generator=g)}
    on, tg = (side(), side()), (side(), side())
    out = semantic_consistency_loss(on, tg, lambda_c=0.3, decorrelation=0.02)
    glob = sum(sum(2 - 2 * _cos(on[a]["global"][i], tg[b]["global"][i]) for i in range(4)) / 4
               for a, b in ((0, 1), (1, 0)))
    loc = sum(_local_by_hand(on[a]["local"], tg[b]["local"], 0.02) for a, b in ((0, 1), (1, 0)))
    assert float(out["loss"]) == pytest.approx(0.3 * glob + 0.7 * loc, abs=1e-4)
    # Relabelling the masks the same way in every tensor changes nothing.
    perm = torch.tensor([2, 0, 1])
    shuffled = tuple({"global": s["global"], "local": s["local"][:, perm]} for s in on)
    target = tuple({"global": s["global"], "local": s["local"][:, perm]} for s in tg)
    assert float(semantic_consistency_loss(shuffled, target, lambda_c=0.3)["loss"]) == \
        pytest.approx(float(out["loss"]), abs=1e-5)
    with pytest.raises(ValueError, match="lambda_c"):
        semantic_consistency_loss(on, tg, lambda_c=1.5)


def test_relation_loss_matches_sinkhorn_cross_entropy_and_me_max_by_hand():
    g = torch.Generator().manual_seed(2)
    s_on, s_t = torch.rand(2, 5, 4, generator=g) * 2 - 1, torch.rand(2, 5, 4, generator=g) * 2 - 1
    out = semantic_relation_loss(s_on, s_t, student_temperature=0.1, teacher_temperature=0.04,
                                 iterations=3, me_max_weight=1.0)
    on, tg = s_on.reshape(-1, 4).tolist(), s_t.reshape(-1, 4).tolist()

    def softmax(row: list[float], tau: float) -> list[float]:
        e = [math.exp(v / tau) for v in row]
        return [v / sum(e) for v in e]
    p = [softmax(r, 0.1) for r in on]
    q = _sinkhorn_by_hand([softmax(r, 0.04) for r in tg], 3)
    ce = sum(-sum(q[i][k] * math.log(p[i][k]) for k in range(4)) for i in range(10)) / 10
    pbar = [sum(p[i][k] for i in range(10)) / 10 for k in range(4)]
    spread = sum(v * math.log(v) for v in pbar) + math.log(4)
    assert float(out["cross_entropy"]) == pytest.approx(ce, rel=1e-4)
    assert float(out["me_max"]) == pytest.approx(spread, abs=1e-5)
    assert float(out["loss"]) == pytest.approx(ce + spread, rel=1e-4)
    # Pixels are a set: reordering them (the same way online and momentum) changes nothing.
    perm = torch.randperm(10, generator=g)
    again = semantic_relation_loss(s_on.reshape(-1, 4)[perm], s_t.reshape(-1, 4)[perm])
    assert float(again["loss"]) == pytest.approx(float(out["loss"]), rel=1e-5)


def test_relation_loss_sends_no_gradient_to_the_momentum_scores_and_checks_shapes():
    s_on = torch.randn(6, 3, requires_grad=True)
    s_t = torch.randn(6, 3, requires_grad=True)
    semantic_relation_loss(s_on, s_t)["loss"].backward()
    assert s_on.grad is not None and s_t.grad is None
    with pytest.raises(ValueError, match="scores"):
        semantic_relation_loss(torch.randn(6, 3), torch.randn(6, 4))
    with pytest.raises(ValueError, match="temperatures"):
        semantic_relation_loss(torch.randn(6, 3), torch.randn(6, 3), teacher_temperature=0)
    with pytest.raises(ValueError, match="local embeddings"):
        local_consistency(torch.randn(2, 3), torch.randn(2, 3))
