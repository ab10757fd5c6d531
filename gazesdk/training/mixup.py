"""Mixup as TAT uses it (Guo et al., Eq. 8): x_mix = a x_i + (1 - a) x_j with a ~ U(0, 1) per
sample (uniform, not the Beta of the original mixup), labels likewise.

Every input is mixed (the three patches, the face grid and a hybrid model's eye geometry) with
a random partner from the same batch; the gaze is mixed linearly, and for the ordinal loss the
Eq. 1 label vectors are mixed (soft labels: bin b's target is a y_i^b + (1 - a) y_j^b), which
is Loss_mix's target.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gazesdk.losses.ordinal import OrdinalBins, ordinal_encode

INPUTS = ("face", "left_eye", "right_eye", "face_grid", "eye_geometry")


@dataclass(frozen=True)
class Mixed:
    batch: dict[str, torch.Tensor]   # mixed inputs and mixed "gaze"
    weight: torch.Tensor             # (N,) a
    partner: torch.Tensor            # (N,) j for each i

    def ordinal_targets(self, gaze: torch.Tensor, bins: OrdinalBins) -> torch.Tensor:
        """(N, 2, B) soft targets a y_i + (1 - a) y_j from the unmixed gaze."""
        y = ordinal_encode(gaze, bins)
        a = self.weight.to(y.dtype)[:, None, None]
        return a * y + (1 - a) * y[self.partner]


def mixup(batch: dict[str, torch.Tensor], *, generator: torch.Generator | None = None) -> Mixed:
    """Mix each sample with a random partner of the batch (Eq. 8)."""
    n = len(batch["gaze"])
    device = batch["gaze"].device
    partner = torch.randperm(n, generator=generator).to(device)
    a = torch.rand(n, generator=generator).to(device)
    out = {}
    for name, x in batch.items():
        if name in INPUTS or name == "gaze":
            w = a.to(x.dtype).reshape(n, *([1] * (x.ndim - 1)))
            out[name] = w * x + (1 - w) * x[partner]
        else:
            out[name] = x
    return Mixed(out, a, partner)
