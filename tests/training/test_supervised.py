"""The supervised task computes Eq. 2 on Eq. 1 labels (ordinal) or the squared error (L2)."""

from __future__ import annotations

import math

import pytest
import torch

from gazesdk.errors import ConfigError
from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.training.task import create_task


class Fixed(torch.nn.Module):
    """Returns a fixed output whatever the input (to check the loss arithmetic)."""

    def __init__(self, out: torch.Tensor) -> None:
        super().__init__()
        self.out = out

    def forward(self, face, left, right, grid):  # noqa: ANN001, ANN201
        return self.out.expand(len(face), *self.out.shape[1:])


def batch(gaze: list[list[float]]) -> dict[str, torch.Tensor]:
    n = len(gaze)
    return {"face": torch.zeros(n, 3, 64, 64), "left_eye": torch.zeros(n, 3, 64, 64),
            "right_eye": torch.zeros(n, 3, 64, 64), "face_grid": torch.zeros(n, 25, 25),
            "gaze": torch.tensor(gaze)}


def test_ordinal_task_by_hand():
    bins = OrdinalBins(bins=2, x_range=(0.0, 2.0), y_range=(0.0, 2.0), centred=False)
    task = create_task("supervised", head="ordinal", bins=bins)
    # Logits 0 everywhere: every bin costs log 2, 4 bins -> loss 4 log 2; decoded = 0 + 1 * 1.
    out = task(Fixed(torch.zeros(1, 2, 2)), batch([[1.5, 0.5]]))
    assert out["loss"].item() == pytest.approx(4 * math.log(2))
    assert out["metric_error_cm"].item() == pytest.approx(math.sqrt(0.5))  # |(1,1)-(1.5,0.5)|


def test_l2_task_by_hand():
    task = create_task("supervised", head="l2")
    out = task(Fixed(torch.tensor([[1.0, 2.0]])), batch([[4.0, 6.0], [1.0, 2.0]]))
    # squared errors 9 + 16 = 25 and 0 -> mean 12.5; Euclidean errors 5 and 0 -> 2.5
    assert out["loss"].item() == pytest.approx(12.5)
    assert out["metric_error_cm"].item() == pytest.approx(2.5)


def test_task_misuse():
    with pytest.raises(ConfigError, match="unknown training scheme"):
        create_task("magic", head="l2")
    with pytest.raises(ConfigError, match="unknown head"):
        create_task("supervised", head="softmax")
    with pytest.raises(ConfigError, match="bins"):
        create_task("supervised", head="ordinal")
