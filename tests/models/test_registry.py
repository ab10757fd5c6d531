"""create_model / list_models / model_from_config: the registry, configs and misuse errors."""

from __future__ import annotations

import json

import pytest
import torch

from gazesdk.errors import ConfigError
from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.models import GazeModel, create_model, list_models, model_from_config
from gazesdk.models.casia import CHANNELS
from gazesdk.models.registry import register_backbone


def inputs(n: int = 2, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    patches = tuple(torch.rand(n, 3, 64, 64, generator=g) for _ in range(3))
    return (*patches, (torch.rand(n, 25, 25, generator=g) > 0.5).float())


def test_list_models():
    assert list_models() == ["casia", "compact", "dilated"]


def test_unknown_model_and_head_are_config_errors_listing_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown model 'resnet'.*casia, compact"):
        create_model("resnet")
    with pytest.raises(ConfigError, match=r"unknown head 'softmax'.*ordinal, l2"):
        create_model("compact", head="softmax")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"widht_mult": 2.0}, r"no option 'widht_mult'.*width_mult, expansion"),
    ({"eye_depth": 3}, r"no option 'depth'"),
    ({"x_range": (0, 1)}, r"not a backbone option.*OrdinalBins"),
    ({"width_mult": 0.0}, r"width_mult"),
    ({"expansion": 2.5}, r"expansion"),
    ({"bins": 133}, r"bins must be an OrdinalBins"),
    ({"face_grid": 1}, r"face_grid must be true or false"),
])
def test_bad_options_are_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        create_model("compact", **kwargs)


def test_bad_casia_channels():
    with pytest.raises(ConfigError, match="10 positive integers"):
        create_model("casia", channels=[32, 64])


def test_register_backbone_refuses_duplicates_and_bad_names():
    with pytest.raises(ValueError, match="already registered"):
        register_backbone("casia")(torch.nn.Identity)
    with pytest.raises(ValueError, match="lower-case identifiers"):
        register_backbone("My Net")


def test_config_is_a_plain_json_dict():
    bins = OrdinalBins(bins=50, x_range=(-10.0, 10.0), y_range=(-20.0, 5.0), centred=False)
    model = create_model("compact", head="ordinal", face_grid=False, bins=bins, width_mult=0.5)
    assert model.config == {"name": "compact", "head": "ordinal", "face_grid": False,
                            "bins": 50, "x_range": [-10.0, 10.0], "y_range": [-20.0, 5.0],
                            "centred": False, "width_mult": 0.5}
    assert json.loads(json.dumps(model.config)) == model.config
    model.config["name"] = "casia"                     # a copy: the model's own is unchanged
    assert model.config["name"] == "compact"


@pytest.mark.parametrize(("name", "kwargs"), [
    ("compact", {"head": "ordinal", "face_grid": True,
                 "bins": OrdinalBins(bins=40, x_range=(-5.0, 5.0), centred=False)}),
    ("compact", {"head": "l2", "face_grid": False, "expansion": 3}),
    # a "pruned" casia: per-branch widths, as pruning by layer name leaves them
    ("casia", {"head": "ordinal", "face_grid": True,
               "face_channels": [8, 16, 16, 16, 16, 24, 24, 24, 32, 40],
               "eye_channels": (16, 8, 16, 24, 16, 16, 16, 32, 24, 48)}),
])
def test_model_from_config_rebuilds_the_same_architecture(name, kwargs):
    torch.manual_seed(0)
    model = create_model(name, **kwargs).eval()
    config = json.loads(json.dumps(model.config))          # e.g. from checkpoint metadata
    rebuilt = model_from_config(config).eval()
    assert isinstance(rebuilt, GazeModel)
    assert rebuilt.config == model.config and rebuilt.bins == model.bins
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    x = inputs()
    torch.testing.assert_close(rebuilt(*x), model(*x), rtol=0, atol=0)


def test_pruned_widths_reach_each_branch():
    face = [8, 16, 16, 16, 16, 24, 24, 24, 32, 40]
    model = create_model("casia", face_channels=face)
    assert model.face.conv52.out_channels == 40 and model.face.fc.in_features == 40
    assert model.face.channels == tuple(face)
    assert model.eye.channels == CHANNELS                    # the default for the other branch


def test_model_from_config_errors():
    with pytest.raises(ConfigError, match="at least a 'name'"):
        model_from_config({"head": "l2"})
    with pytest.raises(ConfigError, match="x_range must be two numbers"):
        model_from_config({"name": "compact", "x_range": 3})
    with pytest.raises(ConfigError, match="no option 'depth'"):
        model_from_config({"name": "compact", "depth": 3})
