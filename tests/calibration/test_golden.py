"""The on-device golden vectors, reproduced by an independent numpy implementation written
from the spec alone (normal equations, explicit loops), not from gazesdk.calibration.methods."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gazesdk.calibration.golden import calibration_spec, golden_vectors


def port_fit(g, t, ids, f, method, lam, prior, scale):
    """A port of the spec: what an app would write."""
    n = len(g)
    counts = {k: int(np.sum(ids == k)) for k in set(ids.tolist())}
    w = np.array([1.0 / counts[k] for k in ids.tolist()])
    centre = t.mean(axis=0)
    u = (g - centre) / scale
    cols = [np.ones(n)]
    mean = std = None
    if method != "offset":
        cols += [u[:, 0], u[:, 1]]
    if method == "poly2":
        cols += [u[:, 0] ** 2, u[:, 0] * u[:, 1], u[:, 1] ** 2]
    if method == "ridge":
        mean = (w[:, None] * f).sum(0) / w.sum()
        std = np.sqrt((w[:, None] * (f - mean) ** 2).sum(0) / w.sum())
        std[std < 1e-6] = 0.0
        d = f.shape[1]
        for k in range(d):
            z = (f[:, k] - mean[k]) / std[k] if std[k] > 0 else np.zeros(n)
            cols.append(z / np.sqrt(d))
    phi = np.stack(cols, 1)
    lam_diag = np.full(phi.shape[1], lam)
    lam_diag[0] = prior
    a = phi.T @ np.diag(w) @ phi + np.diag(lam_diag)
    b = phi.T @ np.diag(w) @ (t - g)
    return np.linalg.solve(a, b), centre, mean, std


def port_apply(g, f, coef, centre, mean, std, method, scale):
    u = (g - centre) / scale
    cols = [np.ones(len(g))]
    if method != "offset":
        cols += [u[:, 0], u[:, 1]]
    if method == "poly2":
        cols += [u[:, 0] ** 2, u[:, 0] * u[:, 1], u[:, 1] ** 2]
    if method == "ridge":
        d = f.shape[1]
        for k in range(d):
            z = (f[:, k] - mean[k]) / std[k] if std[k] > 0 else np.zeros(len(g))
            cols.append(z / np.sqrt(d))
    return g + np.stack(cols, 1) @ coef


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(json.dumps(golden_vectors()))      # as an app reads the file


def test_port_reproduces_every_case(golden: dict) -> None:
    i = golden["inputs"]
    g, t, f = (np.asarray(i[k]) for k in ("gaze_cm", "target_cm", "features"))
    ids = np.asarray(i["target_id"])
    pg, pf = np.asarray(i["probe_gaze_cm"]), np.asarray(i["probe_features"])
    assert {c["method"] for c in golden["cases"]} == {"offset", "affine", "poly2", "ridge"}
    for c in golden["cases"]:
        coef, centre, mean, std = port_fit(g, t, ids, f, c["method"], c["lambda"],
                                           c["offset_prior"], c["scale_cm"])
        np.testing.assert_allclose(coef, c["coefficients"], atol=1e-6)
        np.testing.assert_allclose(centre, c["centre_cm"], atol=1e-9)
        if c["method"] == "ridge":
            np.testing.assert_allclose(mean, c["feature_mean"], atol=1e-8)
            np.testing.assert_allclose(std, c["feature_std"], atol=1e-8)
        out = port_apply(pg, pf, coef, centre, mean, std, c["method"], c["scale_cm"])
        np.testing.assert_allclose(out, c["probe_output_cm"], atol=1e-6)


def test_port_reproduces_leave_one_target_out(golden: dict) -> None:
    i = golden["inputs"]
    g, t, f = (np.asarray(i[k]) for k in ("gaze_cm", "target_cm", "features"))
    ids = np.asarray(i["target_id"])
    for c in golden["cases"]:
        for lam, expected in c.get("loto_cm", {}).items():
            errs = []
            for k in np.unique(ids):
                tr, te = ids != k, ids == k
                coef, centre, mean, std = port_fit(g[tr], t[tr], ids[tr], f[tr], c["method"],
                                                   float(lam), c["offset_prior"], c["scale_cm"])
                out = port_apply(g[te], f[te], coef, centre, mean, std, c["method"],
                                 c["scale_cm"])
                errs.append(np.linalg.norm(out - t[te], axis=1).mean())
            assert np.mean(errs) == pytest.approx(expected, abs=1e-6)


def test_spec_names_the_profile_and_every_method() -> None:
    spec = calibration_spec()
    assert spec["profile"]["format"] == "gazesdk-calibration-profile"
    assert set(spec["basis"]) == set(spec["min_targets"]) == {"offset", "affine", "poly2",
                                                              "ridge"}
    json.dumps(spec)
