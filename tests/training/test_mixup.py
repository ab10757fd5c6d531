"""Mixup (Eq. 8) by hand: convex combinations with a ~ U(0, 1), labels mixed alike."""

from __future__ import annotations

import torch
from helpers import random_batch

from gazesdk.losses.ordinal import OrdinalBins, ordinal_encode
from gazesdk.training.mixup import mixup


def test_every_input_and_the_gaze_are_the_same_convex_combination():
    b = random_batch(5)
    m = mixup(b, generator=torch.Generator().manual_seed(3))
    a, j = m.weight, m.partner
    assert ((a >= 0) & (a <= 1)).all() and sorted(j.tolist()) == list(range(5))
    for i in range(5):
        for name in ("face", "left_eye", "right_eye", "face_grid", "gaze"):
            expected = a[i] * b[name][i] + (1 - a[i]) * b[name][j[i]]
            assert torch.allclose(m.batch[name][i], expected), name


def test_weight_is_uniform_not_beta():
    a = torch.cat([mixup(random_batch(5), generator=torch.Generator().manual_seed(s)).weight
                   for s in range(400)])
    # U(0, 1): mean 1/2, variance 1/12 (Beta(0.2, 0.2), mixup's usual choice, has ~0.18).
    assert abs(a.mean().item() - 0.5) < 0.03 and abs(a.var().item() - 1 / 12) < 0.01


def test_ordinal_targets_mix_the_label_vectors():
    bins = OrdinalBins(bins=4, x_range=(0.0, 4.0), y_range=(0.0, 4.0))
    b = {**random_batch(2), "gaze": torch.tensor([[0.5, 3.5], [3.5, 0.5]])}
    m = mixup(b, generator=torch.Generator().manual_seed(1))
    y = ordinal_encode(b["gaze"], bins)          # x: [0,0,0,0] and [1,1,1,0]
    t = m.ordinal_targets(b["gaze"], bins)
    a0, j0 = float(m.weight[0]), int(m.partner[0])
    assert torch.allclose(t[0], a0 * y[0] + (1 - a0) * y[j0])
