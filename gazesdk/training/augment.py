"""Augmentations that keep the gaze label true: the views of self-supervised pre-training, and
domain randomisation for supervised training (``TrainConfig.augment``, :data:`AUGMENTS`).

Gaze lives in small details (iris position in the eye patches), so only changes that do not
move it relative to the eye are allowed: photometric changes (brightness, contrast,
saturation, gamma), sensor noise, and small crops (at most a few pixels of shift and 15% of
zoom). No large rotations. A horizontal flip is allowed only as a mirror of the whole sample:
the face patch and both eye patches are flipped, left and right eyes swap places, the face grid
is mirrored, a hybrid model's eye geometry mirrored (the eyes swap, u changes sign) and the gaze
x is negated (the camera-centred frame is mirrored about x = 0).

All three patches of one sample get the same photometric change (one scene, one light); the
crop and the optical blur are drawn per patch (the detector jitters per box; a small eye box
upsampled from few sensor pixels is softer than the face box). Inputs are (N, 3, S, S) in
[0, 1].

Why blur and colour temperature (issue 17): a real phone camera's eye patch is far softer and
lower in contrast than GazeSim's (a 64-px eye patch often holds 20-30 sensor pixels across),
and its white balance drifts with the light; a model that never saw either reads a real eye as
noise.

Modality dropout (``eye_dropout``; ModDrop, Neverova et al. 2015): for hybrid models, both eye
patches of a sample are replaced by their mean colour, so that in those samples the gaze must
come from the eye geometry (MediaPipe's real-data iris model) and the face alone. A hybrid model
trained on simulated eyes otherwise leans on the simulated eye appearance, which transfers to a
real eye worse than the geometry does (issue 17).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gazesdk.models.gaze_model import mirror_inputs

PATCHES = ("face", "left_eye", "right_eye")
INPUTS = (*PATCHES, "face_grid", "eye_geometry")
_LUMA = torch.tensor([0.299, 0.587, 0.114])


def _uniform(n: int, lo: float, hi: float, g: torch.Generator | None) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g)


def mirror(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The mirror image of every sample, with the labels that stay true for it (gaze x and
    head yaw and roll negated)."""
    out = dict(batch)
    inputs = mirror_inputs(batch["face"], batch["left_eye"], batch["right_eye"],
                           batch.get("face_grid"), batch.get("eye_geometry"))
    for name, x in zip(INPUTS, inputs, strict=True):
        if x is not None:
            out[name] = x
    if "gaze" in batch:
        out["gaze"] = batch["gaze"] * torch.tensor([-1.0, 1.0], dtype=batch["gaze"].dtype,
                                                   device=batch["gaze"].device)
    if "head_pose" in batch:       # yaw and roll change sign in the mirror, pitch does not
        out["head_pose"] = batch["head_pose"] * torch.tensor(
            [-1.0, 1.0, -1.0], dtype=batch["head_pose"].dtype, device=batch["head_pose"].device)
    return out


@dataclass(frozen=True)
class GazeSafeAugment:
    """Random gaze-preserving view of a batch (see the module docstring)."""

    brightness: float = 0.3        # multiply by U(1 - b, 1 + b)
    contrast: float = 0.3
    saturation: float = 0.3
    gamma: float = 0.2             # x ** U(1 - g, 1 + g)
    noise: float = 0.03            # Gaussian sigma ~ U(0, noise)
    max_zoom: float = 0.15         # crop side in [1 - z, 1] of the patch
    max_shift_px: float = 3.0
    mirror_p: float = 0.0          # probability of a mirrored sample
    blur: float = 0.0              # Gaussian blur sigma ~ U(0, blur) patch pixels, per patch
    color_temperature: float = 0.0  # red / blue gains exp(+-U(-t, t)): white balance
    eye_dropout: float = 0.0       # probability that both eye patches become their mean colour

    def __post_init__(self) -> None:
        if not (0 <= self.max_zoom < 0.5 and 0 <= self.max_shift_px <= 8
                and 0 <= self.mirror_p <= 1 and 0 <= self.blur <= 6
                and 0 <= self.color_temperature <= 1 and 0 <= self.eye_dropout <= 1
                and min(self.brightness, self.contrast, self.saturation, self.gamma,
                        self.noise) >= 0):
            raise ValueError("augmentation strengths out of range: zoom < 0.5, shift <= 8 px, "
                             "blur <= 6 px, colour temperature in [0, 1], probabilities in "
                             "[0, 1], the rest >= 0")

    def __call__(self, batch: dict[str, torch.Tensor], *,
                 generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        g = generator
        n = len(batch["face"])
        out = dict(batch)
        if self.mirror_p > 0:
            flip = torch.rand(n, generator=g) < self.mirror_p
            if flip.any():
                mirrored = mirror(batch)
                for k, v in mirrored.items():
                    sel = flip.to(v.device).reshape(n, *([1] * (v.ndim - 1)))
                    out[k] = torch.where(sel, v, batch[k])
        b = _uniform(n, 1 - self.brightness, 1 + self.brightness, g)
        c = _uniform(n, 1 - self.contrast, 1 + self.contrast, g)
        s = _uniform(n, 1 - self.saturation, 1 + self.saturation, g)
        gam = _uniform(n, 1 - self.gamma, 1 + self.gamma, g)
        t = _uniform(n, -self.color_temperature, self.color_temperature, g)
        gains = torch.stack([t.exp(), torch.ones(n), (-t).exp()], 1).reshape(n, 3, 1, 1)
        for k in PATCHES:
            x = out[k]
            shape = (n, 1, 1, 1)
            dev = x.device
            x = x * b.to(dev).reshape(shape)
            if self.color_temperature > 0:
                x = x * gains.to(dev, x.dtype)
            grey = (x * _LUMA.to(dev).reshape(1, 3, 1, 1)).sum(1, keepdim=True)
            x = grey + (x - grey) * s.to(dev).reshape(shape)
            mean = grey.mean(dim=(2, 3), keepdim=True)
            x = mean + (x - mean) * c.to(dev).reshape(shape)
            x = x.clamp(0, 1) ** gam.to(dev).reshape(shape)
            x = self._crop(x, g)
            if self.blur > 0:
                x = gaussian_blur(x, _uniform(n, 0, self.blur, g).to(dev))
            sigma = _uniform(n, 0, self.noise, g).to(dev).reshape(shape)
            x = x + sigma * torch.randn(x.shape, generator=g).to(dev)
            out[k] = x.clamp(0, 1)
        if self.eye_dropout > 0:
            drop = torch.rand(n, generator=g) < self.eye_dropout
            for k in ("left_eye", "right_eye"):
                x = out[k]
                flat = x.mean(dim=(2, 3), keepdim=True).expand_as(x)
                out[k] = torch.where(drop.to(x.device).reshape(n, 1, 1, 1), flat, x)
        return out

    def _crop(self, x: torch.Tensor, g: torch.Generator | None) -> torch.Tensor:
        if self.max_zoom == 0 and self.max_shift_px == 0:
            return x
        n, _, size, _ = x.shape
        scale = _uniform(n, 1 - self.max_zoom, 1.0, g)
        shift = (torch.rand(n, 2, generator=g) * 2 - 1) * self.max_shift_px * 2 / size
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0] = scale
        theta[:, 1, 1] = scale
        theta[:, :, 2] = shift
        grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border",
                             align_corners=False)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Each image of ``x`` (N, C, H, W) blurred by its own Gaussian ``sigma`` (N,) in pixels
    (separable, reflect-padded; sigma 0 leaves the image as it is)."""
    n, c, h, w = x.shape
    radius = max(int(torch.ceil(3 * sigma.max()).item()), 1)
    r = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    s = sigma.to(x.dtype).clamp_min(1e-3).reshape(n, 1)
    k = torch.exp(-0.5 * (r.reshape(1, -1) / s) ** 2)
    k = k / k.sum(1, keepdim=True)                          # (N, 2R + 1)
    k = k.repeat_interleave(c, 0)                           # one kernel per (image, channel)
    y = x.reshape(1, n * c, h, w)
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode="reflect"),
                 k.reshape(n * c, 1, 1, -1), groups=n * c)
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode="reflect"),
                 k.reshape(n * c, 1, -1, 1), groups=n * c)
    return y.reshape(n, c, h, w)


# Named domain randomisations for supervised training (``TrainConfig.augment``; the names are
# also in gazesdk.training.config.AUGMENTS, which imports without torch: a test keeps them equal).
AUGMENTS: dict[str, GazeSafeAugment | None] = {
    "none": None,
    "mirror": GazeSafeAugment(brightness=0, contrast=0, saturation=0, gamma=0, noise=0,
                              max_zoom=0, max_shift_px=0, mirror_p=0.5),
    # a real front camera: exposure and white balance drift, soft optics, sensor noise
    "real-camera": GazeSafeAugment(brightness=0.35, contrast=0.45, saturation=0.4, gamma=0.3,
                                   noise=0.04, max_zoom=0.08, max_shift_px=2.0, blur=2.5,
                                   color_temperature=0.15),
    "real-camera-mirror": GazeSafeAugment(brightness=0.35, contrast=0.45, saturation=0.4,
                                          gamma=0.3, noise=0.04, max_zoom=0.08,
                                          max_shift_px=2.0, blur=2.5, color_temperature=0.15,
                                          mirror_p=0.5),
    # the same, and both eye patches blanked in 30% of the samples (hybrid models only)
    "real-camera-mirror-moddrop": GazeSafeAugment(brightness=0.35, contrast=0.45,
                                                  saturation=0.4, gamma=0.3, noise=0.04,
                                                  max_zoom=0.08, max_shift_px=2.0, blur=2.5,
                                                  color_temperature=0.15, mirror_p=0.5,
                                                  eye_dropout=0.3),
}
