"""Calibration fits against closed forms and numpy least squares."""

from __future__ import annotations

import numpy as np
import pytest

from gazesdk.calibration.methods import (
    CalibrationMap,
    Samples,
    design_matrix,
    fit_calibration,
    fit_map,
    loto_error,
)
from gazesdk.errors import ConfigError


def grid_samples(true_map, *, per_target: int = 4, noise: float = 0.0, seed: int = 0,
                 features: bool = False) -> Samples:
    rng = np.random.default_rng(seed)
    tx, ty = np.meshgrid([-3.0, 0.0, 3.0], [-2.0, -6.0, -10.0])
    t = np.repeat(np.stack([tx.ravel(), ty.ravel()], 1), per_target, 0)
    ids = np.repeat(np.arange(9), per_target)
    g = true_map(t) + rng.normal(0, noise, t.shape)
    f = rng.normal(0, 1, (len(t), 8)) if features else None
    return Samples(g, t, ids, f)


def test_offset_is_the_shrunk_mean_residual() -> None:
    s = grid_samples(lambda t: t + [0.7, -1.2], noise=0.1, seed=1)
    m = fit_map(s, "offset", lam=0.0, offset_prior=0.5)
    per_target = np.stack([(s.target_cm - s.gaze_cm)[s.target_id == k].mean(0)
                           for k in range(9)])
    np.testing.assert_allclose(m.coefficients[0], per_target.sum(0) / (9 + 0.5), atol=1e-12)


def test_affine_without_penalty_equals_numpy_lstsq() -> None:
    a = np.array([[1.1, 0.08], [-0.05, 0.92]])
    s = grid_samples(lambda t: t @ a.T + [0.4, 1.0], noise=0.05, seed=2)
    m = fit_map(s, "affine", lam=0.0, offset_prior=0.0)
    # independent: regress the target on [1, gx, gy] directly (equal samples per target)
    x = np.hstack([np.ones((len(s), 1)), s.gaze_cm])
    coef = np.linalg.lstsq(x, s.target_cm, rcond=None)[0]
    np.testing.assert_allclose(m.apply(s.gaze_cm), x @ coef, atol=1e-9)
    # noise-free: the inverse map is recovered exactly
    clean = grid_samples(lambda t: t @ a.T + [0.4, 1.0])
    m0 = fit_map(clean, "affine", lam=0.0, offset_prior=0.0)
    np.testing.assert_allclose(m0.apply(clean.gaze_cm), clean.target_cm, atol=1e-9)


def test_ridge_penalty_equals_the_normal_equations() -> None:
    s = grid_samples(lambda t: 1.05 * t + 0.3 * np.sin(t), noise=0.1, seed=3, features=True)
    for method in ("affine", "poly2", "ridge"):
        lam, prior = 0.7, 0.2
        m = fit_map(s, method, lam=lam, offset_prior=prior)
        phi = m.design(s.gaze_cm, s.features)
        w = s.weights()
        pen = np.full(phi.shape[1], lam)
        pen[0] = prior
        # Eq. R by hand: (Phi^T W Phi + Lambda)^-1 Phi^T W R
        b = np.linalg.solve(phi.T @ (w[:, None] * phi) + np.diag(pen),
                            phi.T @ (w[:, None] * (s.target_cm - s.gaze_cm)))
        np.testing.assert_allclose(m.coefficients, b, atol=1e-8)


def test_poly2_recovers_a_quadratic_distortion() -> None:
    def distort(t: np.ndarray) -> np.ndarray:
        return t + 0.02 * t ** 2 * [1, -1]

    s = grid_samples(distort)
    m = fit_map(s, "poly2", lam=0.0, offset_prior=0.0)
    affine = fit_map(s, "affine", lam=0.0, offset_prior=0.0)
    e_poly = np.abs(m.apply(s.gaze_cm) - s.target_cm).max()
    e_aff = np.abs(affine.apply(s.gaze_cm) - s.target_cm).max()
    assert e_poly < 0.02 < e_aff


def test_design_matrix_by_hand() -> None:
    g = np.array([[5.0, -5.0]])
    phi = design_matrix("poly2", g, centre_cm=(0.0, -10.0), scale_cm=5.0)
    np.testing.assert_allclose(phi, [[1, 1, 1, 1, 1, 1]])
    f = np.array([[2.0, 0.0, 7.0]])
    phi = design_matrix("ridge", g, f, centre_cm=(0.0, 0.0), scale_cm=5.0,
                        feature_mean=np.array([1.0, 0.0, 7.0]),
                        feature_std=np.array([0.5, 0.0, 1.0]))
    np.testing.assert_allclose(phi, [[1, 1, -1, 2 / np.sqrt(3), 0, 0]])


def test_shrinkage_toward_identity_with_few_points() -> None:
    s = grid_samples(lambda t: t + [2.0, 0.0])
    one = s.subset(s.target_id == 4)
    r = fit_calibration(one)
    assert r.map.method == "offset"
    np.testing.assert_allclose(r.map.coefficients[0], [-2.0 / 1.25, 0.0], atol=1e-12)
    # heavy regularisation leaves the identity
    m = fit_map(s, "affine", lam=1e9, offset_prior=1e9)
    np.testing.assert_allclose(m.apply(s.gaze_cm), s.gaze_cm, atol=1e-6)


def test_loto_error_by_hand_for_the_offset() -> None:
    s = grid_samples(lambda t: t + [1.0, 0.5], noise=0.2, seed=4, per_target=1)
    r = s.target_cm - s.gaze_cm
    expected = []
    for k in range(9):
        off = np.delete(r, k, 0).sum(0) / (8 + 0.25)
        expected.append(np.linalg.norm(s.gaze_cm[k] + off - s.target_cm[k]))
    assert loto_error(s, "offset", lam=0.0) == pytest.approx(np.mean(expected), abs=1e-12)


def test_auto_picks_by_leave_one_target_out_and_beats_uncalibrated() -> None:
    a = np.array([[0.8, 0.0], [0.0, 0.7]])
    s = grid_samples(lambda t: t @ a.T + [0.5, -1.5], noise=0.1, seed=5, per_target=6)
    r = fit_calibration(s, "auto")
    assert r.map.method in ("affine", "poly2")
    assert r.loto_cm is not None and r.loto_uncalibrated_cm is not None
    assert r.loto_cm < 0.3 * r.loto_uncalibrated_cm
    assert r.tried and min(r.tried.values()) == pytest.approx(r.loto_cm)


def test_map_round_trips_through_a_dict() -> None:
    s = grid_samples(lambda t: 1.1 * t, features=True, seed=6)
    m = fit_map(s, "ridge", lam=3.0)
    back = CalibrationMap.from_dict(m.to_dict())
    np.testing.assert_allclose(back.apply(s.gaze_cm, s.features), m.apply(s.gaze_cm, s.features))


def test_misuse() -> None:
    s = grid_samples(lambda t: t)
    with pytest.raises(ConfigError, match="at least 6 targets"):
        fit_map(s.subset(s.target_id < 4), "poly2", lam=1.0)
    with pytest.raises(ConfigError, match="features"):
        fit_map(s, "ridge", lam=1.0)
    with pytest.raises(ConfigError, match="unknown calibration method"):
        fit_calibration(s, "svr")
    with pytest.raises(ConfigError, match="must match"):
        Samples(np.zeros((3, 2)), np.zeros((2, 2)), np.zeros(3))
    with pytest.raises(ConfigError, match="finite"):
        Samples(np.full((1, 2), np.nan), np.zeros((1, 2)), np.zeros(1))
    bad = CalibrationMap.identity().to_dict()
    bad["coefficients"] = [[0.0, 0.0], [1.0, 1.0]]
    with pytest.raises(ConfigError, match="coefficients"):
        CalibrationMap.from_dict(bad)
