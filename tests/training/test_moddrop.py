"""Modality dropout of the eye patches (``eye_dropout``; ModDrop, Neverova et al. 2015): in a
chosen share of samples both eye patches become their own mean colour, everything else of the
batch is exactly what the same draw gives without it, and only hybrid models may use it."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch

from gazesdk.errors import ConfigError
from gazesdk.training.augment import AUGMENTS, GazeSafeAugment
from gazesdk.training.config import TrainConfig


def _pair(p: float, n: int = 400):
    batch = random_batch(n)
    base = GazeSafeAugment(blur=1.0, color_temperature=0.1)
    plain = base(batch, generator=torch.Generator().manual_seed(3))
    dropped = GazeSafeAugment(blur=1.0, color_temperature=0.1, eye_dropout=p)(
        batch, generator=torch.Generator().manual_seed(3))
    return plain, dropped


def test_dropped_eyes_are_their_mean_colour_and_the_rest_is_untouched():
    plain, dropped = _pair(1.0, n=8)
    for k in ("left_eye", "right_eye"):
        want = plain[k].mean(dim=(2, 3), keepdim=True).expand_as(plain[k])
        torch.testing.assert_close(dropped[k], want)
        assert dropped[k].std(dim=(2, 3)).max() < 1e-6          # flat: no iris left to read
    for k in ("face", "face_grid", "gaze"):
        assert torch.equal(dropped[k], plain[k])


def test_the_share_of_dropped_samples_and_both_eyes_together():
    plain, dropped = _pair(0.3)
    gone = {k: (dropped[k] != plain[k]).flatten(1).any(1) for k in ("left_eye", "right_eye")}
    assert torch.equal(gone["left_eye"], gone["right_eye"])
    share = gone["left_eye"].float().mean().item()
    # binomial(400, 0.3): sd 0.023, so +-0.09 is about 4 sd
    assert abs(share - 0.3) < 0.09
    kept = ~gone["left_eye"]
    assert torch.equal(dropped["left_eye"][kept], plain["left_eye"][kept])


def test_named_preset_and_refusals():
    preset = AUGMENTS["real-camera-mirror-moddrop"]
    assert preset.eye_dropout == 0.3 and preset.mirror_p == 0.5 and preset.blur > 0
    with pytest.raises(ValueError, match="probabilities"):
        GazeSafeAugment(eye_dropout=1.5)
    with pytest.raises(ConfigError, match="needs a hybrid model"):
        TrainConfig(augment="real-camera-mirror-moddrop")
    TrainConfig(augment="real-camera-mirror-moddrop", eye_geometry=True)
    with pytest.raises(ConfigError, match="set eye_geometry too"):
        TrainConfig(eye_geometry_mode="binocular")
    with pytest.raises(ConfigError, match="eye_geometry_mode must be one of"):
        TrainConfig(eye_geometry=True, eye_geometry_mode="mean")


def test_cli_takes_the_mode_and_the_preset(tmp_path):
    from gazesdk.cli import build_parser
    from gazesdk.cli.train import config_from_args

    args = build_parser().parse_args(
        ["train", "--out", str(tmp_path / "run"), "--data", str(tmp_path), "--eye-geometry",
         "--eye-geometry-mode", "binocular", "--augment", "real-camera-mirror-moddrop"])
    config = config_from_args(args)
    assert config.eye_geometry_mode == "binocular"
    assert config.augment == "real-camera-mirror-moddrop"
