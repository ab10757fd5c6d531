"""The ordinal loss restricted to the "center bins" (Guo et al., section 3.2): the 2k bins
around the current prediction, whose sigmoids are the ones changing.

With the ordinal encoding (Eq. 1) a prediction is a run of ones followed by zeros; its decoded
position counts the ones (sum of sigmoids, Eq. 2's decoding). Bins far below it are
confidently 1 and bins far above confidently 0: their gradients mostly push saturated outputs
further. DwO's adversarial step uses only the bins where the transition happens, so the
perturbation moves the prediction rather than the confidence of far bins.

The window for each sample and axis is the 2k bins [m - k, m + k), m = round(sum of sigmoids),
shifted to stay inside [0, B) (so it always holds min(2k, B) bins). ``half_width`` 0 or None
means all bins (the ordinary Eq. 2 loss).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def center_bin_mask(logits: torch.Tensor, *, half_width: int | None) -> torch.Tensor:
    """(N, 2, B) bool: True for the 2 ``half_width`` bins around each prediction (all bins
    when ``half_width`` is 0 or None). The mask carries no gradient."""
    if logits.ndim != 3:
        raise ValueError(f"logits must be (N, 2, B), got shape {tuple(logits.shape)}")
    n_bins = logits.shape[-1]
    if not half_width or 2 * half_width >= n_bins:
        return torch.ones_like(logits, dtype=torch.bool)
    if half_width < 0:
        raise ValueError(f"half_width must be >= 0, got {half_width}")
    with torch.no_grad():
        m = torch.sigmoid(logits.float()).sum(-1).round().long()            # (N, 2)
        start = (m - half_width).clamp(0, n_bins - 2 * half_width)
        b = torch.arange(n_bins, device=logits.device)
        return (b >= start[..., None]) & (b < start[..., None] + 2 * half_width)


def center_bin_loss(logits: torch.Tensor, target: torch.Tensor, *,
                    half_width: int | None) -> torch.Tensor:
    """Eq. 2's binary cross-entropy summed over the center bins only, averaged over the batch
    (bins outside the window contribute 0, and so does their gradient)."""
    if logits.shape != target.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(target.shape)} differ")
    mask = center_bin_mask(logits, half_width=half_width)
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (bce * mask).sum(dim=(1, 2)).mean()
