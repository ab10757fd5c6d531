"""Parity: does the exported model give what the torch model gives, on real held-out samples?

Run both on the same samples (by default GazeSim subjects that no bundled model was trained on)
and compare the decoded gaze in cm: max and mean absolute difference over both axes, and what
users care about, the change in test error (mean Euclidean error against the labels) and in
the jitter metric MSD (Guo et al. Eq. 12) over the samples' stare sequences. An export with
the ``features`` output is also compared with ``model.features`` (relative to the features'
size: they have no units). A report whose figures exceed the tolerance raises
:class:`ParityError`; the export is not written.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from gazesdk.evaluation.metrics import mean_error_cm, msd_cm
from gazesdk.export.metadata import ArtifactError
from gazesdk.export.samples import ExportSamples

if TYPE_CHECKING:
    from gazesdk.export.exported import ExportedModel
    from gazesdk.models.gaze_model import GazeModel


class ParityError(ArtifactError):
    """An exported model's outputs differ from the torch model's by more than allowed."""


@dataclass(frozen=True)
class ParityTolerance:
    """Limits in cm; ``None`` = not checked. ``error_increase_cm`` bounds how much worse the
    exported model's test error may be than the torch model's. ``features_max_rel`` and
    ``features_mean_rel`` bound the features output's max |diff| / max |torch feature| and
    mean |diff| / mean |torch feature| (exports with features only)."""

    max_abs_cm: float | None = None
    mean_abs_cm: float | None = None
    error_increase_cm: float | None = None
    features_max_rel: float | None = None
    features_mean_rel: float | None = None

    def __post_init__(self) -> None:
        for k, v in asdict(self).items():
            if v is not None and not (isinstance(v, int | float) and v >= 0 and math.isfinite(v)):
                raise ValueError(f"parity tolerance {k} must be a number >= 0, got {v!r}")


# fp32: the 1e-3 cm. fp16: half-precision rounding of 266 logits summed through
# sigmoids stays well under 0.1 cm. int8: single samples move by up to ~1.5 cm (8-bit
# activations), so the limits are on the mean difference and on the test error.
# Features (relative to their size): fp32 measured ~1e-6, fp16 ~2e-3; int8 on the mean, as for
# gaze: 0.008-0.010 on the bundled model, ~0.07 on the untrained test model (max up to 0.14).
DEFAULT_TOLERANCES = {
    "fp32": ParityTolerance(max_abs_cm=1e-3, features_max_rel=1e-4),
    "fp16": ParityTolerance(max_abs_cm=0.1, features_max_rel=0.02),
    "int8": ParityTolerance(mean_abs_cm=0.6, error_increase_cm=0.25, features_mean_rel=0.15),
}


@dataclass(frozen=True)
class ParityReport:
    """Exported vs torch on ``samples`` held-out samples (cm). ``ran`` is False where the
    format cannot run here (CoreML off macOS); ``note`` says why."""

    samples: int
    ran: bool
    max_abs_cm: float = float("nan")
    mean_abs_cm: float = float("nan")
    error_cm_torch: float = float("nan")
    error_cm_export: float = float("nan")
    msd_cm_torch: float = float("nan")
    msd_cm_export: float = float("nan")
    features_max_abs: float = float("nan")
    features_mean_abs: float = float("nan")
    features_max_rel: float = float("nan")
    features_mean_rel: float = float("nan")
    tolerance: ParityTolerance = field(default_factory=ParityTolerance)
    failures: tuple[str, ...] = ()
    note: str = ""
    source: str = ""

    @property
    def passed(self) -> bool:
        return self.ran and not self.failures

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (nan -> None)."""
        d = asdict(self)
        d["passed"] = self.passed
        d["failures"] = list(self.failures)
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def torch_predict(model: GazeModel, samples: ExportSamples, *, batch_size: int = 64
                  ) -> np.ndarray:
    """The torch model's (N, 2) gaze in cm on the samples (a CPU copy in eval mode; the model
    itself is left as it is)."""
    import copy

    import torch

    from gazesdk.export.graph import input_names

    names = input_names(model)
    model = copy.deepcopy(model).cpu().eval()
    out = []
    with torch.no_grad():
        for b in samples.batches(batch_size):
            x = [torch.from_numpy(b[k]) for k in names]
            out.append(model.predict(*x).float().numpy())
    return np.concatenate(out) if out else np.zeros((0, 2), np.float32)


def torch_features(model: GazeModel, samples: ExportSamples, *, batch_size: int = 64
                   ) -> np.ndarray:
    """The torch model's (N, 128) ``features`` on the samples (un-mirrored frames; a CPU copy
    in eval mode)."""
    import copy

    import torch

    from gazesdk.export.graph import input_names

    names = input_names(model)
    model = copy.deepcopy(model).cpu().eval()
    out = []
    with torch.no_grad():
        for b in samples.batches(batch_size):
            out.append(model.features(**{k: torch.from_numpy(b[k]) for k in names})
                       .float().numpy())
    return np.concatenate(out)


def check_parity(exported: ExportedModel, model: GazeModel, samples: ExportSamples, *,
                 tolerance: ParityTolerance | None = None, threads: int = 1,
                 raise_on_failure: bool = True,
                 reference: np.ndarray | None = None,
                 reference_features: np.ndarray | None = None) -> ParityReport:
    """Compare ``exported`` with ``model`` on ``samples``; raise :class:`ParityError` when the
    tolerance (default: :data:`DEFAULT_TOLERANCES` for the export's precision) is exceeded and
    ``raise_on_failure``. ``reference`` (gaze) and ``reference_features`` pass the torch
    outputs when already computed; features are compared when the export has them."""
    if not len(samples):
        raise ValueError("parity needs at least one sample")
    tol = tolerance or DEFAULT_TOLERANCES[exported.precision]
    ref = torch_predict(model, samples) if reference is None else np.asarray(reference)
    base = {"samples": len(samples), "tolerance": tol, "source": samples.source,
            "error_cm_torch": mean_error_cm(ref, samples.gaze_cm),
            "msd_cm_torch": msd_cm(ref, samples.sequence)}
    if not exported.can_run:
        return ParityReport(ran=False, note=exported.cannot_run_reason, **base)
    outs = exported.run_all(samples.for_model(exported.input_names), threads=threads)
    out = outs[0]
    diff = np.abs(out.astype(np.float64) - ref)
    figures = _features_figures(exported, model, samples, outs, reference_features)
    report = ParityReport(
        ran=True, max_abs_cm=float(diff.max()), mean_abs_cm=float(diff.mean()),
        error_cm_export=mean_error_cm(out, samples.gaze_cm),
        msd_cm_export=msd_cm(out, samples.sequence), **figures, **base)
    failures = []
    if not all(np.isfinite(o).all() for o in outs):
        failures.append("the exported model gives non-finite outputs")
    checks = (("max |diff|", report.max_abs_cm, tol.max_abs_cm, " cm"),
              ("mean |diff|", report.mean_abs_cm, tol.mean_abs_cm, " cm"),
              ("test error increase", report.error_cm_export - report.error_cm_torch,
               tol.error_increase_cm, " cm"),
              ("features max |diff| / max |feature|", report.features_max_rel,
               tol.features_max_rel if figures else None, ""),
              ("features mean |diff| / mean |feature|", report.features_mean_rel,
               tol.features_mean_rel if figures else None, ""))
    for what, value, limit, unit in checks:
        if limit is not None and not value <= limit:
            failures.append(f"{what} {value:.4g}{unit} > {limit:g}{unit}")
    report = ParityReport(**{**asdict(report), "tolerance": tol, "failures": tuple(failures)})
    if failures and raise_on_failure:
        raise ParityError(f"{exported.format} {exported.precision} export fails parity with "
                          f"the torch model on {len(samples)} samples: {'; '.join(failures)}")
    return report


def _features_figures(exported: ExportedModel, model: GazeModel, samples: ExportSamples,
                      outs: list[np.ndarray], reference: np.ndarray | None
                      ) -> dict[str, float]:
    """The features output against ``model.features`` (empty without that output)."""
    from gazesdk.export.graph import FEATURES_NAME

    if FEATURES_NAME not in exported.output_names:
        return {}
    got = outs[exported.output_names.index(FEATURES_NAME)].astype(np.float64)
    ref = torch_features(model, samples) if reference is None else np.asarray(reference)
    if got.shape != ref.shape:
        raise ParityError(f"the exported features have shape {got.shape}, the torch model's "
                          f"{ref.shape}")
    diff = np.abs(got - ref)
    tiny = np.finfo(np.float32).tiny                   # all-zero features: compare absolutely
    return {"features_max_abs": float(diff.max()), "features_mean_abs": float(diff.mean()),
            "features_max_rel": float(diff.max() / max(np.abs(ref).max(), tiny)),
            "features_mean_rel": float(diff.mean() / max(np.abs(ref).mean(), tiny))}
