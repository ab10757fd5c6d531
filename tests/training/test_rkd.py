"""RKD teacher pool: selection follows the rule, filtered teachers are never chosen, and no
gradient or statistics update reaches a teacher."""

from __future__ import annotations

import pytest
import torch

from gazesdk.errors import ConfigError
from gazesdk.losses.ordinal import ordinal_loss
from gazesdk.models import create_model
from gazesdk.training.rkd import TeacherPool


def pool(rule: str, errors: list[float], ratio: float = 1.2) -> TeacherPool:
    p = TeacherPool(rule=rule, max_ratio_to_best=ratio)
    for e in errors:
        p.teachers.append(torch.nn.Identity())   # selection does not look at the networks
        p.val_errors.append(e)
    return p


def test_rules_and_filtering():
    errors = [3.0, 2.0, 2.3, 5.0]              # best 2.0; 1.2x -> 2.4: teacher 3 is filtered
    assert pool("last", errors).choose() == [2]
    assert pool("best", errors).choose() == [1]
    assert pool("mean", errors).choose() == [1, 2]            # 3.0 > 2.4 is dropped too
    g = torch.Generator().manual_seed(0)
    drawn = [pool("random", errors).choose(g)[0] for _ in range(300)]
    assert set(drawn) == {1, 2} and 100 < drawn.count(1) < 200   # uniform over the eligible
    assert pool("random", errors, ratio=2.5).eligible() == [0, 1, 2, 3]


def test_teachers_get_no_gradient_and_keep_their_statistics():
    torch.manual_seed(0)
    student = create_model("compact")
    p = TeacherPool(rule="random")
    p.add(student, 3.0)
    teacher = p.teachers[0]
    stats = {k: v.clone() for k, v in teacher.state_dict().items()}
    x = (torch.rand(4, 3, 64, 64), torch.rand(4, 3, 64, 64), torch.rand(4, 3, 64, 64),
         torch.zeros(4, 25, 25))
    target = p.soft_targets(x)
    assert target.shape == (4, 2, 133) and not target.requires_grad
    ordinal_loss(student(*x), target).backward()
    assert all(q.grad is None and not q.requires_grad for q in teacher.parameters())
    assert all(torch.equal(v, stats[k]) for k, v in teacher.state_dict().items())
    assert any(q.grad is not None for q in student.parameters())
    # The teacher is a copy: training the student does not move it.
    with torch.no_grad():
        next(student.parameters()).add_(1.0)
    assert all(torch.equal(v, stats[k]) for k, v in teacher.state_dict().items())


def test_misuse():
    with pytest.raises(ConfigError, match="teacher rule"):
        TeacherPool(rule="oldest")
    with pytest.raises(ConfigError, match="max_ratio_to_best"):
        TeacherPool(max_ratio_to_best=0.5)
    with pytest.raises(ConfigError, match="empty"):
        TeacherPool().choose()


def test_explicit_choice_must_be_eligible():
    p = pool("random", [2.0, 9.0])               # 9.0 > 1.2 x 2.0: filtered out
    x = (torch.zeros(1),)
    with pytest.raises(ConfigError, match="not all eligible"):
        p.soft_targets(x, chosen=[1])
    assert torch.equal(p.soft_targets(x, chosen=[0]), torch.sigmoid(torch.zeros(1))[None][0])
