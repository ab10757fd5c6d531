"""I-DT (gazesdk.events.idt): dispersion by hand, window breaks, the max window, misuse."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.events import EyeState, IDTClassifier, IDTOptions
from gazesdk.events.idt import dispersion_deg

EYE = np.array([0.0, 0.0, 30.0])
CM_PER_DEG = 30.0 * math.tan(math.radians(1.0))


def test_dispersion_is_the_sum_of_ranges() -> None:
    p = np.array([[0.0, 0.0], [0.3, -0.2], [-0.1, 0.4]])
    assert math.isclose(dispersion_deg(p), 0.4 + 0.6)


def test_a_sample_that_spreads_the_window_is_the_saccade() -> None:
    c = IDTClassifier(IDTOptions(dispersion_deg=1.0, noise_factor=0.0))
    states = [c.update(33 * k, np.array([x * CM_PER_DEG, 0.0]), EYE).state
              for k, x in enumerate([0.0, 0.3, 0.6, 0.8, 3.0, 3.2, 3.4])]
    assert states == [EyeState.UNKNOWN, EyeState.FIXATION, EyeState.FIXATION,
                      EyeState.FIXATION, EyeState.SACCADE, EyeState.FIXATION,
                      EyeState.FIXATION]


def test_the_window_forgets_beyond_max_window() -> None:
    # a slow drift of 0.2 deg a frame: 5 frames span 0.8 deg, within a 150 ms window
    c = IDTClassifier(IDTOptions(dispersion_deg=1.0, max_window_ms=150.0, noise_factor=0.0))
    states = [c.update(33 * k, np.array([0.2 * k * CM_PER_DEG, 0.0]), EYE).state
              for k in range(30)]
    assert EyeState.SACCADE not in states[1:]
    # without the cap the drift spreads the window past 1 deg
    c = IDTClassifier(IDTOptions(dispersion_deg=1.0, max_window_ms=5000.0, noise_factor=0.0))
    states = [c.update(33 * k, np.array([0.2 * k * CM_PER_DEG, 0.0]), EYE).state
              for k in range(30)]
    assert EyeState.SACCADE in states


@pytest.mark.parametrize("bad", [{"dispersion_deg": 0}, {"max_window_ms": -1},
                                 {"noise_factor": -0.5}, {"min_duration_ms": 100}])
def test_bad_options(bad: dict) -> None:
    with pytest.raises(ConfigError):
        IDTOptions.from_dict(bad)
