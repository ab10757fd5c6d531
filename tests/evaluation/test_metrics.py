"""Error and MSD (Guo et al. Eq. 10-12) worked by hand on small cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.data.arrays import GazeArrays, empty_fields
from gazesdk.evaluation.metrics import (
    euclidean_errors,
    evaluate_predictions,
    format_table,
    mean_error_cm,
    msd_cm,
    sequence_spreads,
)
from gazesdk.geometry.devices import get_device

# Sequence A: predictions (0,0), (3,0), (0,4).
#   mu = ((0+3+0)/3, (0+0+4)/3) = (1, 4/3)
#   squared distances to mu: 1 + 16/9 = 25/9, 4 + 16/9 = 52/9, 1 + 64/9 = 73/9
#   mean = (150/9) / 3 = 50/9  ->  sigma_A = sqrt(50/9) = 5*sqrt(2)/3 ~ 2.357
SIGMA_A = 5 * math.sqrt(2) / 3
# Sequence B: (1,1), (1,3): mu = (1,2), squared distances 1 and 1, sigma_B = 1.
SIGMA_B = 1.0


def test_euclidean_errors_and_mean() -> None:
    pred = np.array([[3.0, 4.0], [1.0, 1.0], [-2.0, 0.0]])
    true = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    assert euclidean_errors(pred, true).tolist() == [5.0, 0.0, 2.0]
    assert mean_error_cm(pred, true) == pytest.approx(7 / 3)
    assert math.isnan(mean_error_cm(np.zeros((0, 2)), np.zeros((0, 2))))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        euclidean_errors(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="differ in shape"):
        euclidean_errors(np.zeros((3, 2)), np.zeros((2, 2)))


def test_msd_of_one_sequence_by_hand() -> None:
    pred = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    assert msd_cm(pred, np.array([7, 7, 7])) == pytest.approx(SIGMA_A)


def test_msd_averages_sequences_and_ignores_minus_one_and_single_frames() -> None:
    pred = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 0.0], [50.0, -50.0], [1.0, 3.0],
                     [0.0, 4.0], [-40.0, 9.0], [8.0, 8.0]])
    seq = np.array([0, 5, 0, -1, 5, 0, -1, 9])       # 9 is a one-frame sequence: skipped
    assert sequence_spreads(pred, seq) == pytest.approx([SIGMA_A, SIGMA_B])
    assert msd_cm(pred, seq) == pytest.approx((SIGMA_A + SIGMA_B) / 2)
    # The mean of sigma_j (Eq. 12), not the pooled spread of all frames.
    pooled = math.sqrt((3 * SIGMA_A**2 + 2 * SIGMA_B**2) / 5)
    assert msd_cm(pred, seq) != pytest.approx(pooled)


def test_msd_without_sequences_is_nan() -> None:
    assert math.isnan(msd_cm(np.zeros((3, 2)), np.array([-1, -1, -1])))
    assert math.isnan(msd_cm(np.zeros((2, 2)), np.array([0, 1])))     # only single frames
    assert math.isnan(msd_cm(np.zeros((0, 2)), np.zeros(0, int)))
    with pytest.raises(ValueError, match="rows"):
        msd_cm(np.zeros((3, 2)), np.array([0, 0]))


DEVICES = ("iPhone 6s", "iPad Air 2", "iPhone 5s")


def _data() -> dict[str, np.ndarray]:
    # 6 frames: errors 1, 2, 3 (phones), 4 (tablet), 10 (calibration, excluded), 6 (tablet);
    # frames 1 and 2 form stare sequence 4 (MSD only, not in the error).
    return {
        "gaze_cm": np.zeros((6, 2), np.float32),
        "device": np.array([0, 2, 0, 1, 0, 1], np.int16),
        "orientation": np.array([1, 1, 3, 1, 4, 3], np.int8),
        "sequence": np.array([-1, 4, 4, -1, -1, -1], np.int32),
        "is_calibration": np.array([False, False, False, False, True, False]),
    }


PRED = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [0.0, -4.0], [10.0, 0.0], [6.0, 0.0]])


def test_evaluate_breaks_down_by_device_type_and_orientation() -> None:
    assert [get_device(d).kind for d in DEVICES] == ["phone", "tablet", "phone"]
    r = evaluate_predictions(PRED, _data(), device_names=DEVICES)
    # Error over frames 0, 3, 5 (not calibration, not stare): errors 1, 4, 6.
    assert r["count"] == 3 and r["error_cm"] == pytest.approx((1 + 4 + 6) / 3)
    assert r["by_device_type"] == {"phone": {"error_cm": pytest.approx(1.0), "count": 1},
                                   "tablet": {"error_cm": pytest.approx(5.0), "count": 2}}
    # Orientation 4 holds only the calibration frame: no key for it.
    assert r["by_orientation"] == {"1": {"error_cm": pytest.approx(2.5), "count": 2},
                                   "3": {"error_cm": pytest.approx(6.0), "count": 1}}
    # Sequence 4: predictions (0,2) and (3,0): mu = (1.5, 1), sigma = sqrt(1.5^2 + 1) .
    assert r["msd_cm"] == pytest.approx(math.sqrt(3.25)) and r["msd_sequences"] == 1


def test_evaluate_only_lists_groups_with_frames_and_omits_msd_without_sequences() -> None:
    data = _data()
    data["device"][:] = 0
    data["sequence"][:] = -1
    r = evaluate_predictions(PRED, data, device_names=DEVICES)
    assert list(r["by_device_type"]) == ["phone"]
    assert "msd_cm" not in r and r["msd_sequences"] == 0
    del data["sequence"], data["is_calibration"]     # optional fields
    assert evaluate_predictions(PRED, data, device_names=DEVICES)["count"] == 6


def test_evaluate_accepts_gaze_arrays_and_checks_input() -> None:
    fields = empty_fields(6)
    for k, v in _data().items():
        fields[k][:] = v
    arrays = GazeArrays(fields, DEVICES, {})
    assert evaluate_predictions(PRED, arrays) == \
        evaluate_predictions(PRED, _data(), device_names=DEVICES)
    with pytest.raises(ValueError, match="device_names"):
        evaluate_predictions(PRED, _data())
    with pytest.raises(ValueError, match="rows"):
        evaluate_predictions(PRED[:3], _data(), device_names=DEVICES)
    with pytest.raises(ValueError, match="out of range"):
        evaluate_predictions(PRED, _data(), device_names=DEVICES[:2])
    with pytest.raises(ValueError, match="orientation"):
        evaluate_predictions(PRED, {k: v for k, v in _data().items() if k != "orientation"},
                             device_names=DEVICES)


def test_format_table_lists_every_part() -> None:
    text = format_table(evaluate_predictions(PRED, _data(), device_names=DEVICES))
    lines = text.splitlines()
    assert lines[0].split() == ["error", "(cm)", "frames"]
    assert lines[1].split() == ["all", "3.667", "3"]
    assert any(line.split()[:3] == ["tablet", "5.000", "2"] for line in lines)
    assert any(line.startswith("orientation 3 (landscape") for line in lines)
    assert "MSD" in lines[-1] and "1.803" in lines[-1] and "1 seq." in lines[-1]


def test_error_falls_back_to_stare_frames_when_there_is_nothing_else() -> None:
    data = _data()
    data["sequence"][:] = 7
    r = evaluate_predictions(PRED, data, device_names=DEVICES)
    # Every non-calibration frame is a stare frame: errors 1, 2, 3, 4, 6.
    assert r["count"] == 5 and r["error_cm"] == pytest.approx(16 / 5)


def test_msd_of_a_constant_sequence_is_exactly_zero() -> None:
    pred = np.array([[1.25, -3.5]] * 7 + [[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    seq = np.array([4] * 7 + [2, 2, 2])          # lengths 7 and 3
    assert sequence_spreads(pred, seq)[1] == 0.0                 # id 4, exactly
    assert msd_cm(pred[:7], seq[:7]) == 0.0
    assert msd_cm(pred, seq) == pytest.approx(SIGMA_A / 2)
