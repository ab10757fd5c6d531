"""TrainConfig is strict: unknown keys, wrong types and bad values are one-line errors."""

from __future__ import annotations

import pytest

from gazesdk.errors import ConfigError
from gazesdk.training.config import TrainConfig


def test_defaults_and_round_trip():
    c = TrainConfig(data="d")
    assert (c.model, c.head, c.bins, c.batch_size) == ("compact", "ordinal", 133, 64)
    assert TrainConfig.from_dict(c.to_dict()) == c


@pytest.mark.parametrize(("values", "needle"), [
    ({"epoch": 3}, "unknown training setting"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": 2.5}, "epochs must be an integer"),
    ({"lr": -1.0}, "lr"),
    ({"lr": float("nan")}, "finite"),
    ({"optimizer": "lion"}, "optimizer"),
    ({"schedule": "cosine"}, "schedule"),
    ({"device": "tpu"}, "device"),
    ({"face_grid": "yes"}, "true or false"),
    ({"batch_size": 1}, "batch_size"),
])
def test_bad_settings(values, needle):
    with pytest.raises(ConfigError, match=needle):
        TrainConfig.from_dict({"data": "d", **values})


def test_yaml_style_number_strings_are_read_as_numbers():
    # PyYAML reads 2e-3 (no dot) as a string; a float setting takes it as the number.
    assert TrainConfig.from_dict({"lr": "2e-3"}).lr == 0.002
    with pytest.raises(ConfigError, match="lr must be a number"):
        TrainConfig.from_dict({"lr": "fast"})
