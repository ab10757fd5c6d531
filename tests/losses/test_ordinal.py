"""Eq. 1-2 worked by hand on small cases."""

from __future__ import annotations

import math

import pytest
import torch

from gazesdk.errors import ConfigError
from gazesdk.losses.ordinal import OrdinalBins, ordinal_decode, ordinal_encode, ordinal_loss

SPEC = OrdinalBins(bins=5, x_range=(0.0, 5.0), y_range=(-10.0, 0.0),   # BinSize 1 and 2 cm
                   centred=False)                                       # the paper's decoding


def test_encode_matches_equation_1_by_hand():
    # x: gt 2.5 - lo 0 = 2.5 -> bins b=1,2 (1, 2 <= 2.5) are 1; b=3 (3 > 2.5) is 0.
    # y: gt -3 - lo (-10) = 7, BinSize 2 -> b*2 <= 7 for b = 1, 2, 3.
    y = ordinal_encode(torch.tensor([[2.5, -3.0]]), SPEC)
    assert y.tolist() == [[[1, 1, 0, 0, 0], [1, 1, 1, 0, 0]]]
    # Exactly on a bin edge counts (<=): x = 3 -> bins 1..3.
    assert ordinal_encode(torch.tensor([[3.0, -10.0]]), SPEC).tolist() == \
        [[[1, 1, 1, 0, 0], [0, 0, 0, 0, 0]]]
    # Outside the range clamps to all zeros / all ones.
    assert ordinal_encode(torch.tensor([[-4.0, 9.0]]), SPEC).tolist() == \
        [[[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]]]


def test_decode_is_lo_plus_binsize_times_sum_of_sigmoids():
    logits = torch.tensor([[[0.0, 0.0, 0.0, 0.0, 0.0], [2.0, -1.0, 0.0, 0.0, 0.0]]])
    s = 1 / (1 + math.exp(-2.0)) + 1 / (1 + math.exp(1.0)) + 1.5
    expected = [0.0 + 1.0 * 2.5, -10.0 + 2.0 * s]
    assert ordinal_decode(logits, SPEC)[0].tolist() == pytest.approx(expected, rel=1e-6)


def test_decoding_an_exact_encoding_is_within_one_bin():
    spec = OrdinalBins()                                      # 133 bins of 0.4 cm
    gaze = torch.rand(500, 2) * 53.2 - 26.6
    labels = ordinal_encode(gaze, spec)
    logits = torch.where(labels > 0, torch.tensor(30.0), torch.tensor(-30.0))
    err = (ordinal_decode(logits, spec) - gaze).abs()
    # The run of ones rounds down: centred decoding is within half a bin, the paper's formula
    # is below the truth by up to one bin (on average half a bin).
    assert err.max() < 0.2 + 1e-4
    paper = OrdinalBins(centred=False)
    low = gaze - ordinal_decode(logits, paper)
    assert (low >= -1e-4).all() and (low < 0.4 + 1e-4).all()
    assert low.mean().item() == pytest.approx(0.2, abs=0.03)


def test_loss_is_equation_2_summed_over_bins():
    logits = torch.tensor([[[1.0, -2.0], [0.5, 0.0]]])
    target = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    spec_terms = [-math.log(1 / (1 + math.exp(-1.0))), -math.log(1 - 1 / (1 + math.exp(2.0))),
                  -math.log(1 - 1 / (1 + math.exp(-0.5))), -math.log(0.5)]
    assert ordinal_loss(logits, target).item() == pytest.approx(sum(spec_terms), rel=1e-6)
    # Batch mean: duplicating the sample leaves it unchanged.
    assert ordinal_loss(logits.repeat(3, 1, 1), target.repeat(3, 1, 1)).item() == \
        pytest.approx(sum(spec_terms), rel=1e-6)


def test_soft_targets_and_shape_errors():
    logits = torch.zeros(2, 2, 4)
    assert ordinal_loss(logits, torch.full((2, 2, 4), 0.5)).item() == pytest.approx(8 * math.log(2))
    with pytest.raises(ValueError, match="differ"):
        ordinal_loss(logits, torch.zeros(2, 2, 5))


@pytest.mark.parametrize("kwargs", [{"bins": 1}, {"bins": 2.5}, {"x_range": (1.0, 1.0)},
                                    {"y_range": (3.0, -3.0)}])
def test_bad_bins_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        OrdinalBins(**kwargs)
