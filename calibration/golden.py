"""What a phone app needs to fit and apply calibrations itself: the math as data
(:func:`calibration_spec`, written into every export's metadata) and golden vectors
(:func:`golden_vectors`: inputs -> expected standardisation, coefficients, outputs and
leave-one-target-out errors per method) to test a port against.

The golden inputs are synthetic (a user with a gain, an offset and a curvature, 9 targets x 5
samples, 16-D features); the procedure is the same for the model's 128-D features.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gazesdk.calibration.methods import (
    BASIS_TEXT,
    LAMBDAS,
    METHODS,
    MIN_TARGETS,
    SCALE_CM,
    Samples,
    fit_map,
    loto_error,
)
from gazesdk.calibration.profile import FORMAT, SCHEMA_FILE, VERSION

GOLDEN_FORMAT = "gazesdk-calibration-golden"


def calibration_spec() -> dict[str, Any]:
    """The calibration math, for the metadata's ``calibration`` section."""
    return {
        "profile": {"format": FORMAT, "version": VERSION, "schema": SCHEMA_FILE},
        "inputs": {"gaze": "the model's gaze_cm output (camera cm), uncalibrated",
                   "features": "the model's 'features' output (ridge only)",
                   "targets": "where each sample's target was, camera cm (GazeCapture's "
                              "XCam, YCam of the target's screen point)"},
        "apply": "u = (g - centre_cm) / scale_cm; g' = g + phi(g, f) B",
        "basis": dict(BASIS_TEXT),
        "fit": ("B = (Phi^T W Phi + diag(lambda_0, lambda, ..., lambda))^-1 Phi^T W R with R = "
                "targets - g, W = diag(1 / samples of the row's target), lambda_0 = "
                "offset_prior; centre_cm = mean of the samples' targets (unweighted), "
                "feature_mean / feature_std = W-weighted mean and standard deviation of each "
                "feature over the samples (feature_std below 1e-6 set to 0: the feature is "
                "dropped)"),
        "scale_cm": SCALE_CM,
        "offset_prior": 0.25,
        "min_targets": dict(MIN_TARGETS),
        "lambda_selection": ("with 4 or more targets, for each lambda in the grid, each target "
                             "is predicted by a fit on the others (leave-one-target-out); the "
                             "error is the mean over targets of the mean distance of its "
                             "samples; the lowest wins (ties: the earlier lambda; auto also "
                             "compares methods); otherwise lambda = 1"),
        "lambda_grid": list(LAMBDAS),
        "guard": ("accept when the held-out error (validation points, else "
                  "leave-one-target-out) is at most the uncalibrated one; a rejected profile "
                  "is not applied"),
    }


def _golden_samples(seed: int) -> tuple[Samples, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    tx, ty = np.meshgrid([-2.5, 0.0, 2.5], [-2.0, -6.0, -10.0])
    targets = np.stack([tx.ravel(), ty.ravel()], 1)
    per = 5
    t = np.repeat(targets, per, 0)
    ids = np.repeat(np.arange(9), per)
    g = (0.8 * t + [0.6, 1.1] + 0.03 * (t - [0, -6]) ** 2 * [1, -1]
         + rng.normal(0, 0.15, t.shape))
    f = np.hstack([g @ rng.normal(0, 1, (2, 8)), rng.normal(0, 1, (len(t), 8))])
    probe_g = rng.uniform([-3, -11], [3, -1], (6, 2))
    probe_f = np.hstack([probe_g @ rng.normal(0, 1, (2, 8)), rng.normal(0, 1, (6, 8))])
    return Samples(g, t, ids, f), probe_g, probe_f


def _r(a: Any) -> Any:
    return np.round(np.asarray(a, float), 10).tolist()


def golden_vectors(seed: int = 0) -> dict[str, Any]:
    """Inputs and expected results of every method at two lambdas, and the LOTO errors over
    the lambda grid (float64; compare at 1e-6)."""
    samples, probe_g, probe_f = _golden_samples(seed)
    cases = []
    for method in METHODS:
        loto = {f"{lam:g}": round(loto_error(samples, method, lam=lam), 10)
                for lam in (LAMBDAS if method != "offset" else (1.0,))}
        for lam in (0.1, 3.0):
            m = fit_map(samples, method, lam=lam)
            case = {"method": method, "lambda": lam, "offset_prior": m.offset_prior,
                    "centre_cm": list(m.centre_cm), "scale_cm": m.scale_cm,
                    "coefficients": _r(m.coefficients),
                    "probe_output_cm": _r(m.apply(probe_g, probe_f if m.needs_features
                                                  else None))}
            if m.needs_features:
                case["feature_mean"] = _r(m.feature_mean)
                case["feature_std"] = _r(m.feature_std)
            cases.append(case)
        cases[-1]["loto_cm"] = loto
    return {"format": GOLDEN_FORMAT, "version": 1, "spec": calibration_spec(),
            "inputs": {"gaze_cm": _r(samples.gaze_cm), "target_cm": _r(samples.target_cm),
                       "target_id": samples.target_id.tolist(),
                       "features": _r(samples.features), "probe_gaze_cm": _r(probe_g),
                       "probe_features": _r(probe_f)},
            "cases": cases}
