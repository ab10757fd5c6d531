"""Training data selection: the labelled subset of a label-efficiency run."""

from __future__ import annotations

import numpy as np

from gazesdk.training.data import labelled_subset


class Rows(dict):
    pass


def test_labelled_subset_keeps_whole_subjects():
    data = Rows(subject=np.repeat(np.arange(20), 5))
    index = np.arange(100)
    assert np.array_equal(labelled_subset(data, index, 1.0, seed=0), index)
    ten = labelled_subset(data, index, 0.1, seed=0)
    subjects = np.unique(data["subject"][ten])
    assert len(subjects) == 2 and len(ten) == 10          # all five frames of two people
    assert np.array_equal(ten, labelled_subset(data, index, 0.1, seed=0))   # seeded
    others = {tuple(np.unique(data["subject"][labelled_subset(data, index, 0.1, seed=s)]))
              for s in range(1, 8)}
    assert len(others) > 1                                  # the seed draws the people
    assert len(np.unique(data["subject"][labelled_subset(data, index, 0.001, seed=0)])) == 1
    # Only subjects of the given rows are candidates.
    part = np.arange(50)
    assert set(data["subject"][labelled_subset(data, part, 0.5, seed=0)]) <= set(range(10))
