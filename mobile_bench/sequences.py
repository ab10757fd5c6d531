"""Real-face frame sequences for end-to-end jitter: a still person filmed by a hand-held phone.

The face is a real photo (``skimage.data.astronaut()``, public domain, shipped with
scikit-image), so detection and cropping meet real skin, eyes and hair. Each sequence is one
stare: the person and their gaze do not move, so every change in the estimate is jitter. Per
frame the camera shakes (a small random-walk translation and rotation, hand tremor), the
exposure drifts, and the sensor adds noise; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from gazesdk.errors import ConfigError


@dataclass(frozen=True)
class ShakeSettings:
    """Per-frame disturbances, at 30 fps. Defaults: a phone held in the hand (tremor of a
    pixel or two at 512 px), auto-exposure hunting by a few percent, and the read noise of a
    small front camera sensor."""

    shake_px: float = 0.6            # random-walk step of the translation, pixels per frame
    shake_limit_px: float = 4.0      # the walk is pulled back inside this radius
    rotation_deg: float = 0.15       # random-walk step of the roll, degrees per frame
    rotation_limit_deg: float = 1.5
    exposure_std: float = 0.03       # frame gain: 1 + N(0, std), clipped to +-3 std
    noise_std: float = 2.5           # Gaussian sensor noise, 0-255 units
    size: tuple[int, int] = (480, 640)   # output (width, height): a portrait VGA front camera
    # photo pixels -> frame pixels: 1.8 makes the face box about 210 px, a phone held at about
    # 35 cm, as in GazeSim's sessions (at 1.0 the face is half that, far outside them)
    scale: float = 1.8
    anchor_photo: tuple[float, float] = (225.0, 125.0)   # the face centre in the photo ...
    anchor_frame: tuple[float, float] = (0.5, 0.4)      # ... lands here (fractions of w, h)

    def __post_init__(self) -> None:
        for name in ("shake_px", "shake_limit_px", "rotation_deg", "rotation_limit_deg",
                     "exposure_std", "noise_std"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"ShakeSettings.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.1 <= self.scale <= 4.0:
            raise ConfigError(f"ShakeSettings.scale must lie in [0.1, 4], got {self.scale}")
        if min(self.size) < 64:
            raise ConfigError(f"ShakeSettings.size must be at least 64x64, got {self.size}")


def face_photo() -> np.ndarray:
    """The real face photo: (512, 512, 3) uint8 RGB."""
    try:
        from skimage.data import astronaut
    except ImportError:
        raise ConfigError("the built-in real-face frames need scikit-image: pip install "
                          "scikit-image") from None
    return astronaut()


def shaky_sequences(sequences: int, frames: int, *, seed: int = 0,
                    settings: ShakeSettings = ShakeSettings(),
                    photo: np.ndarray | None = None) -> np.ndarray:
    """(sequences, frames, H, W, 3) uint8 RGB: ``sequences`` stares of ``frames`` frames."""
    if sequences < 1 or frames < 2:
        raise ConfigError(f"need at least 1 sequence of 2 frames, got {sequences} x {frames}")
    img = face_photo() if photo is None else photo
    rng = np.random.default_rng(seed)
    w, h = settings.size
    out = np.zeros((sequences, frames, h, w, 3), np.uint8)
    centre = settings.anchor_photo
    target = (settings.anchor_frame[0] * w, settings.anchor_frame[1] * h)
    for s in range(sequences):
        t, r = np.zeros(2), 0.0
        for f in range(frames):
            t = 0.9 * t + rng.normal(0, settings.shake_px, 2)
            norm = float(np.hypot(*t))
            if norm > settings.shake_limit_px:
                t *= settings.shake_limit_px / norm
            r = float(np.clip(0.9 * r + rng.normal(0, settings.rotation_deg),
                              -settings.rotation_limit_deg, settings.rotation_limit_deg))
            m = cv2.getRotationMatrix2D(centre, r, settings.scale)
            m[:, 2] += t + np.array([target[0] - centre[0], target[1] - centre[1]])
            frame = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
            gain = 1.0 + float(np.clip(rng.normal(0, settings.exposure_std),
                                       -3 * settings.exposure_std, 3 * settings.exposure_std))
            frame = frame * gain + rng.normal(0, settings.noise_std, frame.shape)
            out[s, f] = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
    return out


def encode_jpeg(frames: np.ndarray, quality: int = 90) -> list[bytes]:
    """JPEG bytes of RGB frames (N, H, W, 3), as a camera pipeline or video file delivers
    them; the benchmark's decode stage turns them back into arrays."""
    out = []
    for f in frames:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise ConfigError("OpenCV could not encode a JPEG frame")
        out.append(buf.tobytes())
    return out


def decode_jpeg(data: bytes) -> np.ndarray:
    """(H, W, 3) uint8 RGB from JPEG bytes."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ConfigError("could not decode a JPEG frame")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
