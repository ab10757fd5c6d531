"""The event study's scoring (gazesdk.mobile_bench.events_study): Cohen's kappa worked by hand,
onsets within one frame, blink counts, the noise references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.mobile_bench.events_study import (
    cohen_kappa,
    fixation_noise_cm,
    score_stream,
    summarise_scores,
    with_noise,
)


def test_kappa_by_hand() -> None:
    # 10 items: each says 6 F / 4 S; they agree on 8
    a = np.array(list("FFFFFFSSSS"))
    b = np.array(list("FFFFFSSSSF"))
    po = 8 / 10
    pe = 0.6 * 0.6 + 0.4 * 0.4
    assert math.isclose(cohen_kappa(a, b), (po - pe) / (1 - pe))
    assert cohen_kappa(a, a) == 1.0
    with pytest.raises(ValueError):
        cohen_kappa(a, b[:3])


def stream() -> dict[str, np.ndarray]:
    n = 30
    t = np.arange(n) * 33 + 1
    labels = np.zeros(n, np.int8)
    labels[[10, 20]] = 1                      # two one-frame saccades
    labels[25:27] = 3                         # a blink
    lid = np.where(labels == 3, 1.0, 0.0)
    raw = np.zeros((n, 2))
    raw[25:27] = np.nan
    saccades = np.array([[t[9] + 10, t[10] - 5, 5.0, 0], [t[19] + 10, t[20] - 5, 5.0, 0],
                         [t[4] + 5, t[4] + 20, 0.5, 3]], float)
    return {"t": t, "labels": labels, "lid": lid, "raw": raw, "saccades": saccades}


def test_score_stream_counts() -> None:
    d = stream()
    states = np.array(["fixation"] * 30, "<U8")
    states[11] = "saccade"                    # one frame late: still within one frame
    states[25:27] = "blink"
    states[5] = "blink"                       # a false blink frame
    s = score_stream(d, states)
    assert s["onsets"] == 2 and s["onset_hits"] == 1      # the second saccade was missed
    assert s["blink_frames"] == 2 and s["blink_hits"] == 2 and s["blink_false"] == 1
    assert s["open_frames"] == 28
    out = summarise_scores([s])
    assert out["blink_false_positive_rate"] == round(1 / 28, 4)
    assert out["saccade_onset_within_1_frame"] == 0.5
    # 27 frames classified (2 blink frames and the false blink frame left out)
    assert out["classified_frames"] == 27


def test_noise_references() -> None:
    d = stream()
    d["truth_cm"] = np.zeros((30, 2))
    perfect = with_noise(d, 0.0, 0)
    np.testing.assert_array_equal(np.isnan(perfect["raw"]), np.isnan(d["raw"]))
    assert np.nanmax(np.abs(perfect["raw"])) == 0.0
    rng = np.random.default_rng(0)
    big = {"labels": np.zeros(20000, np.int8), "raw": rng.normal(0, 0.3, (20000, 2))}
    assert abs(fixation_noise_cm([big]) - 0.3) < 0.01
