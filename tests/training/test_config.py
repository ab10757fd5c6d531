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
    ({"label_fraction": 0.0}, "label_fraction"),
    ({"aux": "jigsaw"}, "aux must be one of"),
    ({"aux_grid": 4}, "aux_grid"),
    ({"aux_patches": "eyes"}, "aux_patches"),
    ({"aux_dropout": 1.0}, "aux_dropout"),
    ({"ssl_temperature": 0.0}, "ssl_temperature"),
    ({"ssl_momentum": 1.5}, "ssl_momentum"),
    ({"fra_queries": 1}, "fra_queries"),
    ({"fra_lambda_c": 2.0}, "fra_lambda_c"),
    ({"model_options": [1, 2]}, "model_options must be a mapping"),
    ({"scheme": "simclr", "label_fraction": 0.5}, "uses no labels"),
    ({"scheme": "tat", "aux": "puzzle"}, "supervised scheme"),
])
def test_bad_settings(values, needle):
    with pytest.raises(ConfigError, match=needle):
        TrainConfig.from_dict({"data": "d", **values})


def test_yaml_style_number_strings_are_read_as_numbers():
    # PyYAML reads 2e-3 (no dot) as a string; a float setting takes it as the number.
    assert TrainConfig.from_dict({"lr": "2e-3"}).lr == 0.002
    with pytest.raises(ConfigError, match="lr must be a number"):
        TrainConfig.from_dict({"lr": "fast"})


def test_pretraining_schemes_and_model_options():
    c = TrainConfig.from_dict({"scheme": "fra", "model": "dilated",
                               "model_options": {"dilations": [1], "widths": [8, 16]}})
    assert c.pretraining and not TrainConfig().pretraining
    assert TrainConfig.from_dict(c.to_dict()) == c
    from gazesdk.training.loop import build_model

    assert build_model(c).face.dilations == (1,)
    with pytest.raises(ConfigError, match="no option 'depth'"):
        build_model(TrainConfig.from_dict({"model_options": {"depth": 3}}))
