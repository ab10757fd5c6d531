"""Gaze-safe augmentations: the mirror swaps the eyes and negates x; photometric changes keep
the iris where it was; crops stay small; bad settings are refused."""

from __future__ import annotations

import pytest
import torch
from helpers import random_batch

from gazesdk.training.augment import GazeSafeAugment, mirror


def test_mirror_swaps_eyes_negates_x_and_is_an_involution():
    b = random_batch(4)
    m = mirror(b)
    assert torch.equal(m["left_eye"], b["right_eye"].flip(-1))
    assert torch.equal(m["right_eye"], b["left_eye"].flip(-1))
    assert torch.equal(m["face"][..., 0], b["face"][..., -1])
    assert torch.equal(m["face_grid"][:, 3, 0], b["face_grid"][:, 3, -1])
    assert torch.equal(m["gaze"], b["gaze"] * torch.tensor([-1.0, 1.0]))
    back = mirror(m)
    assert all(torch.equal(back[k], b[k]) for k in b)


def iris_column(eye: torch.Tensor) -> torch.Tensor:
    """Column of the dark pixels' centre of mass, per sample (darker than mid-range)."""
    grey = eye.mean(1)
    lo, hi = grey.amin(dim=(1, 2), keepdim=True), grey.amax(dim=(1, 2), keepdim=True)
    dark = (grey < (lo + hi) / 2).float()
    cols = torch.arange(eye.shape[-1], dtype=torch.float32)
    return (dark.sum(1) * cols).sum(-1) / dark.sum((1, 2)).clamp_min(1)


def test_the_iris_stays_put():
    n = 32
    eye = torch.full((n, 3, 64, 64), 0.8)
    centre = torch.randint(20, 44, (n,))
    for i, c in enumerate(centre.tolist()):
        eye[i, :, 26:38, c - 6:c + 6] = 0.05               # a dark iris at column c
    b = {"face": eye.clone(), "left_eye": eye.clone(), "right_eye": eye.clone(),
         "face_grid": torch.zeros(n, 25, 25), "gaze": torch.zeros(n, 2)}
    out = GazeSafeAugment(noise=0.0)(b, generator=torch.Generator().manual_seed(1))
    moved = (iris_column(out["left_eye"]) - (centre.float() - 0.5)).abs()
    # At most the shift (3 px) plus the zoom (15% of at most 12 px from the centre): ~5 px.
    assert moved.max() < 6.0
    assert torch.equal(out["gaze"], b["gaze"]) and torch.equal(out["face_grid"], b["face_grid"])
    assert out["left_eye"].min() >= 0 and out["left_eye"].max() <= 1
    assert not torch.equal(out["left_eye"], b["left_eye"])           # it did change


def test_mirror_probability_and_same_light_for_all_patches():
    b = random_batch(64)
    b["left_eye"] = b["face"].clone()
    b["right_eye"] = b["face"].clone()
    aug = GazeSafeAugment(noise=0.0, max_zoom=0.0, max_shift_px=0.0, mirror_p=0.5)
    out = aug(b, generator=torch.Generator().manual_seed(3))
    flipped = out["gaze"][:, 0] == -b["gaze"][:, 0]
    # One photometric change per sample: identical patches stay identical (both eyes, and the
    # face, which is mirrored exactly when the eyes are).
    assert torch.allclose(out["left_eye"], out["right_eye"])
    assert torch.allclose(out["face"], out["left_eye"])
    unchanged_light = aug.__class__(brightness=0, contrast=0, saturation=0, gamma=0, noise=0,
                                    max_zoom=0, max_shift_px=0, mirror_p=0.5)
    plain = unchanged_light(b, generator=torch.Generator().manual_seed(3))
    mirrored = plain["gaze"][:, 0] == -b["gaze"][:, 0]          # gaze x is never 0 here
    for i in range(64):
        expect = b["face"][i].flip(-1) if mirrored[i] else b["face"][i]
        assert torch.allclose(plain["face"][i], expect, atol=1e-6)
    assert 0.2 < float(flipped.float().mean()) < 0.8


def test_bad_settings():
    with pytest.raises(ValueError, match="out of range"):
        GazeSafeAugment(max_zoom=0.8)
    with pytest.raises(ValueError, match="out of range"):
        GazeSafeAugment(mirror_p=1.5)


@pytest.mark.parametrize("sigma", [0.7, 1.5, 2.5])
def test_blur_matches_opencv(sigma):
    """Our batched separable blur against OpenCV's Gaussian blur (reflect-101 borders)."""
    import cv2
    import numpy as np

    from gazesdk.training.augment import gaussian_blur

    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    got = gaussian_blur(x, torch.tensor([sigma, 0.0]))
    radius = max(int(np.ceil(3 * sigma)), 1)
    img = x[0].permute(1, 2, 0).numpy()
    want = cv2.GaussianBlur(img, (2 * radius + 1, 2 * radius + 1), sigma,
                            borderType=cv2.BORDER_REFLECT_101)
    assert got[0].permute(1, 2, 0).numpy() == pytest.approx(want, abs=2e-5)
    assert torch.allclose(got[1], x[1], atol=1e-6)          # sigma 0: unchanged


def test_colour_temperature_gains_red_against_blue():
    aug = GazeSafeAugment(brightness=0, contrast=0, saturation=0, gamma=0, noise=0,
                          max_zoom=0, max_shift_px=0, color_temperature=0.2)
    grey = torch.full((64, 3, 64, 64), 0.4)
    b = {"face": grey.clone(), "left_eye": grey.clone(), "right_eye": grey.clone()}
    out = aug(b, generator=torch.Generator().manual_seed(0))
    r, g, bl = (out["face"][:, c, 0, 0] for c in range(3))
    assert torch.allclose(g, torch.full_like(g, 0.4))
    # red gain exp(t), blue exp(-t): their product stays 1, t within +-0.2
    assert torch.allclose(r * bl, torch.full_like(r, 0.16), atol=1e-5)
    assert (r / 0.4).log().abs().max() <= 0.2 + 1e-6
    assert (r > 0.4).any() and (r < 0.4).any()
    # one light per sample: all three patches alike
    assert torch.equal(out["face"], out["left_eye"])


def test_mirror_mirrors_the_eye_geometry():
    b = random_batch(3)
    b["eye_geometry"] = torch.tensor([[0.1, 0.2, 0.3, 0.4]] * 3)
    m = mirror(b)
    # the mirrored left eye is the right eye seen in a mirror: (-right u, right v, ...)
    assert torch.allclose(m["eye_geometry"], torch.tensor([[-0.3, 0.4, -0.1, 0.2]] * 3))
    assert torch.equal(mirror(m)["eye_geometry"], b["eye_geometry"])


def test_named_augments_and_config():
    from gazesdk.errors import ConfigError
    from gazesdk.training.augment import AUGMENTS
    from gazesdk.training.config import TrainConfig

    assert AUGMENTS["none"] is None
    assert AUGMENTS["mirror"].mirror_p == 0.5 and AUGMENTS["real-camera"].mirror_p == 0
    assert AUGMENTS["real-camera-mirror"].blur > 0
    with pytest.raises(ConfigError, match="augment must be one of"):
        TrainConfig(augment="strong")
    with pytest.raises(ValueError, match="blur"):
        GazeSafeAugment(blur=7.0)


def test_config_names_the_same_augments():
    from gazesdk.training import config
    from gazesdk.training.augment import AUGMENTS

    assert tuple(AUGMENTS) == config.AUGMENTS
