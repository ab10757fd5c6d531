"""Real-face stare frames: deterministic, disturbed as configured, JPEG round trip."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.errors import ConfigError
from gazesdk.mobile_bench.sequences import (
    ShakeSettings,
    decode_jpeg,
    encode_jpeg,
    shaky_sequences,
)

STILL = ShakeSettings(shake_px=0, rotation_deg=0, exposure_std=0, noise_std=0,
                      size=(512, 512), scale=1.0, anchor_photo=(256.0, 256.0),
                      anchor_frame=(0.5, 0.5))


def test_without_disturbances_every_frame_is_the_photo(astronaut):
    seq = shaky_sequences(2, 3, settings=STILL)
    assert seq.shape == (2, 3, 512, 512, 3)
    assert np.abs(seq.astype(int) - astronaut).max() <= 1      # bilinear identity warp


def test_the_face_is_placed_at_the_anchor(astronaut):
    s = ShakeSettings(shake_px=0, rotation_deg=0, exposure_std=0, noise_std=0,
                      size=(480, 640), scale=1.0)
    f = shaky_sequences(1, 2, settings=s)[0, 0]
    # photo (225, 125) -> frame (240, 256): photo rows 0..383 and columns 0..464 shift by
    # (+15, +131)
    assert np.abs(f[131:515, 15:480].astype(int) - astronaut[:384, :465]).max() <= 1


def test_seeded_and_disturbed(astronaut):
    a = shaky_sequences(1, 5, seed=3)
    b = shaky_sequences(1, 5, seed=3)
    c = shaky_sequences(1, 5, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    diffs = [np.abs(a[0, i].astype(int) - a[0, i + 1]).mean() for i in range(4)]
    assert all(1.0 < d < 20.0 for d in diffs)                  # small but real changes


def test_noise_level_matches_the_setting():
    s = ShakeSettings(shake_px=0, rotation_deg=0, exposure_std=0, noise_std=4.0,
                      size=(512, 512), scale=1.0, anchor_photo=(256.0, 256.0),
                      anchor_frame=(0.5, 0.5))
    photo = np.full((512, 512, 3), 128, np.uint8)
    f = shaky_sequences(1, 2, settings=s, photo=photo)[0, 0].astype(float)
    assert f.std() == pytest.approx(4.0, rel=0.05)


def test_jpeg_round_trip_and_errors(astronaut):
    back = decode_jpeg(encode_jpeg(astronaut[None])[0])
    assert back.shape == astronaut.shape and np.abs(back.astype(int) - astronaut).mean() < 3
    with pytest.raises(ConfigError, match="decode"):
        decode_jpeg(b"not a jpeg")
    with pytest.raises(ConfigError, match="at least"):
        shaky_sequences(0, 5)
    with pytest.raises(ConfigError, match="noise_std"):
        ShakeSettings(noise_std=-1)
