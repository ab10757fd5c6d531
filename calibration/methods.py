"""Calibration maps: from a model's uncalibrated gaze (and its penultimate features) to this
user's gaze, fitted on a few targets the user looked at.

Every method is a correction added to the model's output, linear in its coefficients:

    u = (g - c) / s                                   # g: model gaze (cm), c, s: centring
    phi(g, f) = basis row (below)
    g' = g + phi(g, f) B                              # B: (p, 2) coefficients

    offset  phi = [1]                                  (1+ targets; SeeSo/Eyedid 1-point)
    affine  phi = [1, ux, uy]                          (3+; the classic 9-dot affine fit)
    poly2   phi = [1, ux, uy, ux^2, ux uy, uy^2]       (6+; second-order polynomial, as in
                                                        many video-oculography systems)
    ridge   phi = [1, ux, uy, z / sqrt(d)]             (5+ and features; z = (f - mu) / sd,
                                                        the standardised d-D penultimate
                                                        feature: Google's personalised
                                                        phone tracker's regression on
                                                        penultimate features, iTracker's SVR)

B solves a weighted ridge problem shrunk toward the identity map (B = 0):

    min_B  sum_i w_i |r_i - phi_i B|^2 + sum_j lambda_j |B_j|^2,   r_i = t_i - g_i
    B = (Phi^T W Phi + Lambda)^-1 Phi^T W R                                     # (Eq. R)

with w_i = 1 / (samples of i's target), so every target counts once, lambda_0 = ``offset_prior``
(in targets: the offset is the mean residual times K / (K + lambda_0)) and lambda_j = lambda
for the other terms. With 4 or more targets lambda is chosen by leave-one-target-out over
:data:`LAMBDAS` (x the feature scale for ridge); with fewer it is ``default_lambda``. So with
few points a fit stays near the identity and cannot make things much worse; the profile's
guard (:mod:`gazesdk.calibration.profile`) catches the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gazesdk.errors import ConfigError

LAMBDAS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
SCALE_CM = 5.0                      # u is in units of 5 cm: coefficients of order one
MIN_TARGETS = {"offset": 1, "affine": 3, "poly2": 6, "ridge": 5}
METHODS = tuple(MIN_TARGETS)


@dataclass(frozen=True)
class Samples:
    """Calibration samples: the model's uncalibrated gaze ``gaze_cm`` (n, 2), the target each
    was looking at ``target_cm`` (n, 2) (camera cm), which target ``target_id`` (n,), and the
    model's penultimate ``features`` (n, d) when it emits them."""

    gaze_cm: np.ndarray
    target_cm: np.ndarray
    target_id: np.ndarray
    features: np.ndarray | None = None

    def __post_init__(self) -> None:
        g = np.asarray(self.gaze_cm, float).reshape(-1, 2)
        t = np.asarray(self.target_cm, float).reshape(-1, 2)
        ids = np.asarray(self.target_id).reshape(-1)
        if not (len(g) == len(t) == len(ids)):
            raise ConfigError(f"calibration samples: {len(g)} gaze points, {len(t)} targets "
                              f"and {len(ids)} target ids: they must match")
        if not (np.isfinite(g).all() and np.isfinite(t).all()):
            raise ConfigError("calibration samples must be finite")
        f = self.features
        if f is not None:
            f = np.asarray(f, float)
            if f.ndim != 2 or len(f) != len(g) or not np.isfinite(f).all():
                raise ConfigError(f"features must be finite (n, d) with n = {len(g)}, got "
                                  f"shape {f.shape}")
        object.__setattr__(self, "gaze_cm", g)
        object.__setattr__(self, "target_cm", t)
        object.__setattr__(self, "target_id", ids)
        object.__setattr__(self, "features", f)

    def __len__(self) -> int:
        return len(self.gaze_cm)

    @property
    def targets(self) -> np.ndarray:
        return np.unique(self.target_id)

    def subset(self, mask: np.ndarray) -> Samples:
        return Samples(self.gaze_cm[mask], self.target_cm[mask], self.target_id[mask],
                       None if self.features is None else self.features[mask])

    def weights(self) -> np.ndarray:
        """1 / (samples of the row's target): each target counts once."""
        _, inverse, counts = np.unique(self.target_id, return_inverse=True, return_counts=True)
        return 1.0 / counts[inverse]


@dataclass(frozen=True)
class CalibrationMap:
    """A fitted correction ``g' = g + phi(g, f) B`` (see the module for phi). Serialises to
    plain values with :meth:`to_dict` (the profile's ``fit``)."""

    method: str
    coefficients: np.ndarray                  # (p, 2)
    centre_cm: tuple[float, float] = (0.0, 0.0)
    scale_cm: float = SCALE_CM
    regularisation: float = 0.0
    offset_prior: float = 0.0
    feature_mean: np.ndarray | None = None    # (d,) for ridge
    feature_std: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_features(self) -> bool:
        return self.method == "ridge"

    @classmethod
    def identity(cls) -> CalibrationMap:
        return cls("offset", np.zeros((1, 2)))

    def design(self, gaze_cm: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
        return design_matrix(self.method, gaze_cm, features, centre_cm=self.centre_cm,
                             scale_cm=self.scale_cm, feature_mean=self.feature_mean,
                             feature_std=self.feature_std)

    def apply(self, gaze_cm: np.ndarray | tuple[float, float],
              features: np.ndarray | None = None) -> np.ndarray:
        """The calibrated gaze: (2,) for one point, (n, 2) for several (camera cm)."""
        g = np.asarray(gaze_cm, float)
        one = g.shape == (2,)
        g2 = g.reshape(-1, 2)
        f = None if features is None else np.asarray(features, float).reshape(len(g2), -1)
        out = g2 + self.design(g2, f) @ self.coefficients
        return out[0] if one else out

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "method": self.method, "basis": BASIS_TEXT[self.method],
            "centre_cm": [float(v) for v in self.centre_cm], "scale_cm": float(self.scale_cm),
            "coefficients": np.asarray(self.coefficients, float).tolist(),
            "regularisation": float(self.regularisation),
            "offset_prior": float(self.offset_prior)}
        if self.feature_mean is not None and self.feature_std is not None:
            d["feature_mean"] = np.asarray(self.feature_mean, float).tolist()
            d["feature_std"] = np.asarray(self.feature_std, float).tolist()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CalibrationMap:
        method = d["method"]
        if method not in METHODS:
            raise ConfigError(f"unknown calibration method {method!r}")
        coef = np.asarray(d["coefficients"], float)
        mean = np.asarray(d["feature_mean"], float) if "feature_mean" in d else None
        std = np.asarray(d["feature_std"], float) if "feature_std" in d else None
        p = basis_size(method, None if mean is None else len(mean))
        if coef.shape != (p, 2) or not np.isfinite(coef).all():
            raise ConfigError(f"calibration coefficients for {method!r} must be finite "
                              f"({p}, 2), got {coef.shape}")
        if method == "ridge" and (mean is None or std is None or mean.shape != std.shape):
            raise ConfigError("a ridge calibration needs feature_mean and feature_std of one "
                              "length")
        scale = float(d["scale_cm"])
        if not scale > 0:
            raise ConfigError(f"scale_cm must be > 0, got {scale}")
        return cls(method, coef, centre_cm=(float(d["centre_cm"][0]), float(d["centre_cm"][1])),
                   scale_cm=scale, regularisation=float(d.get("regularisation", 0.0)),
                   offset_prior=float(d.get("offset_prior", 0.0)), feature_mean=mean,
                   feature_std=std)


BASIS_TEXT = {
    "offset": "[1]",
    "affine": "[1, ux, uy]",
    "poly2": "[1, ux, uy, ux*ux, ux*uy, uy*uy]",
    "ridge": "[1, ux, uy, z_1/sqrt(d), ..., z_d/sqrt(d)], z_k = (f_k - feature_mean_k) / "
             "feature_std_k (0 where feature_std_k is 0)",
}


def basis_size(method: str, feature_dim: int | None = None) -> int:
    if method == "ridge":
        if not feature_dim:
            raise ConfigError("the ridge method needs the model's features")
        return 3 + feature_dim
    return {"offset": 1, "affine": 3, "poly2": 6}[method]


def design_matrix(method: str, gaze_cm: np.ndarray, features: np.ndarray | None = None, *,
                  centre_cm: tuple[float, float] = (0.0, 0.0), scale_cm: float = SCALE_CM,
                  feature_mean: np.ndarray | None = None,
                  feature_std: np.ndarray | None = None) -> np.ndarray:
    """phi (n, p) of the module's table for gaze (n, 2) cm (and features (n, d) for ridge)."""
    if method not in METHODS:
        raise ConfigError(f"unknown calibration method {method!r}; known: {', '.join(METHODS)}")
    g = np.asarray(gaze_cm, float).reshape(-1, 2)
    u = (g - np.asarray(centre_cm, float)) / scale_cm
    one = np.ones((len(g), 1))
    if method == "offset":
        return one
    lin = np.hstack([one, u])
    if method == "affine":
        return lin
    if method == "poly2":
        ux, uy = u[:, :1], u[:, 1:]
        return np.hstack([lin, ux * ux, ux * uy, uy * uy])
    if features is None or feature_mean is None or feature_std is None:
        raise ConfigError("the ridge method needs the model's features (an export with the "
                          "'features' output)")
    f = np.asarray(features, float).reshape(len(g), -1)
    if f.shape[1] != len(feature_mean):
        raise ConfigError(f"features have {f.shape[1]} values, the calibration was fitted on "
                          f"{len(feature_mean)}")
    std = np.asarray(feature_std, float)
    z = np.where(std > 0, (f - feature_mean) / np.where(std > 0, std, 1.0), 0.0)
    return np.hstack([lin, z / np.sqrt(f.shape[1])])


def solve_ridge(phi: np.ndarray, residual: np.ndarray, weights: np.ndarray,
                penalties: np.ndarray) -> np.ndarray:
    """B of Eq. R: (Phi^T W Phi + diag(penalties))^-1 Phi^T W R, by a least-squares solve of
    the stacked system [sqrt(W) Phi; sqrt(Lambda)] B = [sqrt(W) R; 0] (stable when Phi^T W Phi
    is singular, e.g. fewer targets than terms)."""
    sw = np.sqrt(weights)[:, None]
    a = np.vstack([sw * phi, np.diag(np.sqrt(penalties))])
    b = np.vstack([sw * residual, np.zeros((phi.shape[1], 2))])
    return np.linalg.lstsq(a, b, rcond=None)[0]


def fit_map(samples: Samples, method: str, *, lam: float, offset_prior: float = 0.25,
            centre_cm: tuple[float, float] | None = None,
            weights: np.ndarray | None = None) -> CalibrationMap:
    """One fit of ``method`` at regularisation ``lam`` (Eq. R); ``weights`` replace the
    per-target weights (1 / samples of the target) when given."""
    if method not in METHODS:
        raise ConfigError(f"unknown calibration method {method!r}; known: {', '.join(METHODS)}")
    need = MIN_TARGETS[method]
    if len(samples.targets) < need:
        raise ConfigError(f"the {method} method needs at least {need} targets, got "
                          f"{len(samples.targets)}")
    if method == "ridge" and samples.features is None:
        raise ConfigError("the ridge method needs the model's features (an export with the "
                          "'features' output)")
    centre = (tuple(float(v) for v in samples.target_cm.mean(axis=0))
              if centre_cm is None else centre_cm)
    w = samples.weights() if weights is None else np.asarray(weights, float)
    mean = std = None
    if method == "ridge":
        assert samples.features is not None
        mean = np.average(samples.features, axis=0, weights=w)
        std = np.sqrt(np.average((samples.features - mean) ** 2, axis=0, weights=w))
        std = np.where(std > 1e-6, std, 0.0)
    phi = design_matrix(method, samples.gaze_cm, samples.features, centre_cm=centre,
                        feature_mean=mean, feature_std=std)
    pen = np.full(phi.shape[1], float(lam))
    pen[0] = offset_prior
    coef = solve_ridge(phi, samples.target_cm - samples.gaze_cm, w, pen)
    return CalibrationMap(method, coef, centre_cm=centre, regularisation=float(lam),  # type: ignore[arg-type]
                          offset_prior=offset_prior, feature_mean=mean, feature_std=std)


def target_errors(m: CalibrationMap | None, samples: Samples) -> np.ndarray:
    """Per target, the mean distance (cm) of the (calibrated) gaze from the target."""
    g = samples.gaze_cm if m is None else m.apply(samples.gaze_cm, samples.features)
    d = np.linalg.norm(g - samples.target_cm, axis=1)
    return np.asarray([d[samples.target_id == k].mean() for k in samples.targets])


def loto_error(samples: Samples, method: str, *, lam: float, offset_prior: float = 0.25) -> float:
    """Leave-one-target-out error (cm): each target predicted by a fit on the others, the
    mean over targets of their mean distance."""
    errs = []
    for k in samples.targets:
        out = samples.target_id == k
        m = fit_map(samples.subset(~out), method, lam=lam, offset_prior=offset_prior)
        errs.append(target_errors(m, samples.subset(out))[0])
    return float(np.mean(errs))


@dataclass(frozen=True)
class FitResult:
    """The chosen map and how it was chosen: the leave-one-target-out error (cm) of the
    chosen fit and of the uncalibrated model (None with fewer than ``min_loto`` targets)."""

    map: CalibrationMap
    loto_cm: float | None
    loto_uncalibrated_cm: float | None
    tried: dict[str, float]


def fit_calibration(samples: Samples, method: str = "auto", *, offset_prior: float = 0.25,
                    default_lambda: float = 1.0, lambdas: tuple[float, ...] = LAMBDAS,
                    min_loto: int = 4, prefer_simpler: float = 1.0) -> FitResult:
    """Fit ``method`` (or, for "auto", every method the samples allow, in the order of
    :data:`METHODS`, simplest first), choosing lambda by leave-one-target-out when there are
    ``min_loto`` or more targets. "auto" moves to a richer method only when its
    leave-one-target-out error is below ``prefer_simpler`` x that of the simpler one kept so
    far (1: the lowest wins); with too few targets to check, "auto" is the offset."""
    k = len(samples.targets)
    if k == 0:
        raise ConfigError("no calibration samples to fit")
    if method == "auto":
        methods = [m for m in METHODS if k >= MIN_TARGETS[m]
                   and (m != "ridge" or samples.features is not None)]
    elif method in METHODS:
        methods = [method]
    else:
        raise ConfigError(f"unknown calibration method {method!r}; known: auto, "
                          f"{', '.join(METHODS)}")
    checkable = [m for m in methods if k - 1 >= MIN_TARGETS[m]] if k >= min_loto else []
    if not checkable:
        name = methods[0] if method != "auto" else "offset"
        m = fit_map(samples, name, lam=default_lambda, offset_prior=offset_prior)
        return FitResult(m, None, None, {})
    methods = checkable
    tried: dict[str, float] = {}
    best: tuple[float, str, float] | None = None
    for name in methods:
        grid = lambdas if name != "offset" else (default_lambda,)
        mine: tuple[float, str, float] | None = None
        for lam in grid:
            e = loto_error(samples, name, lam=lam, offset_prior=offset_prior)
            tried[f"{name}@{lam:g}"] = e
            if mine is None or e < mine[0] - 1e-12:
                mine = (e, name, lam)
        assert mine is not None
        if best is None or mine[0] < prefer_simpler * best[0] - 1e-12:
            best = mine
    assert best is not None
    e, name, lam = best
    base = float(np.mean(target_errors(None, samples)))
    return FitResult(fit_map(samples, name, lam=lam, offset_prior=offset_prior), e, base, tried)
