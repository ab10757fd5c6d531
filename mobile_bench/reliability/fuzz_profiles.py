"""Fuzzing calibration profiles (issue 18): the JSON files a user's calibration leaves behind
and an app hands back as ``GazeEstimatorOptions(calibration=path)``.

Valid profiles (offset, affine, poly2 and ridge fits for the bundled int8 model) are damaged as
bytes (cut, bit-flipped, overwritten), as text (not JSON, not UTF-8, nested past the parser)
and as documents (a value of the wrong type anywhere, keys removed or added). Half the damaged
documents are *re-signed* (their checksum recomputed), so that the checks behind the checksum
(schema, fit, device, orientation, model) are reached; some edits are made on purpose to be
schema-valid (coefficients out of shape or huge, feature statistics of the wrong length, another
model, device or orientation). Each file is loaded by :meth:`CalibrationProfile.load` and by an
estimator (bundled model, shared models) that then runs a real-face frame.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.mobile_bench.reliability.base_frames import real_face_frame
from gazesdk.mobile_bench.reliability.corrupt import dumps, mutate_bytes, mutate_doc, mutate_text
from gazesdk.mobile_bench.reliability.sandbox import FuzzTarget


@dataclass
class _Profiles:
    docs: list[dict]                  # good profile documents
    shared: Any                       # an estimator whose models are shared (bundled int8)
    frame: np.ndarray


def good_profiles(metadata: dict[str, Any]) -> list[Any]:
    """Profiles of every fit method bound to the model of ``metadata`` on an iPhone 6s."""
    from gazesdk.calibration.drift import HeadReference
    from gazesdk.calibration.methods import CalibrationMap
    from gazesdk.calibration.profile import (
        CalibrationProfile,
        TargetReport,
        Validation,
        model_identity,
    )
    from gazesdk.geometry.devices import get_device

    sha, name = model_identity(metadata)
    rng = np.random.default_rng(0)
    maps = [CalibrationMap("offset", np.array([[0.4, -0.3]])),
            CalibrationMap("affine", np.array([[0.5, -0.2], [0.1, 0.0], [0.0, -0.1]]),
                           centre_cm=(0.0, -7.0), regularisation=0.3, offset_prior=0.25),
            CalibrationMap("poly2", rng.normal(0, 0.1, (6, 2)), centre_cm=(0.0, -6.0)),
            CalibrationMap("ridge", rng.normal(0, 0.05, (131, 2)), regularisation=1.0,
                           feature_mean=rng.random(128), feature_std=rng.random(128) + 0.1)]
    return [CalibrationProfile(
        map=m, model_sha256=sha, model_name=name, device=get_device("iPhone 6s"),
        orientation=1, pattern="9", validation=Validation("validation points", 0.8, 1.6, 1.5,
                                                          3.0, 4),
        accepted=bool(i % 2 == 0), guard_reason="ok",
        reference=HeadReference(2.0, -3.0, 0.5, (0.5, 4.0, 30.0)) if i != 1 else None,
        targets=tuple(TargetReport(j, 10.0 * j, 20.0, j >= 9, 11, 4, 0, 1, 0, 0.2)
                      for j in range(13))) for i, m in enumerate(maps)]


def _setup(folder: Path) -> _Profiles:
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions

    shared = GazeEstimator(GazeEstimatorOptions())
    docs = [p.to_dict() for p in good_profiles(shared.backend.metadata)]
    return _Profiles(docs, shared, real_face_frame())


def _pick(rng: np.random.Generator, items: list) -> Any:
    return items[int(rng.integers(0, len(items)))]


def resign(doc: Any) -> Any:
    """``doc`` with its checksum recomputed (unchanged when it cannot be: not a mapping, or
    holding values JSON cannot checksum)."""
    from gazesdk.calibration.profile import _checksum

    if not isinstance(doc, dict):
        return doc
    try:
        doc["checksum"] = _checksum({k: v for k, v in doc.items() if k != "checksum"})
    except (ValueError, TypeError, RecursionError):
        pass
    return doc


def _semantic(doc: dict, rng: np.random.Generator) -> str:
    kind = str(_pick(rng, ["coef_shape", "coef_huge", "features_len", "model", "device",
                           "orientation", "scale", "centre", "method", "version", "nan"]))
    fit = doc["fit"]
    if kind == "coef_shape":
        fit["coefficients"] = fit["coefficients"][:-1] or [[0.0]]
    elif kind == "coef_huge":
        fit["coefficients"] = [[1e300, -1e300] for _ in fit["coefficients"]]
    elif kind == "features_len":
        fit["feature_mean"] = [0.0] * int(_pick(rng, [1, 64, 127, 129]))
        fit["feature_std"] = [1.0] * len(fit["feature_mean"])
    elif kind == "model":
        doc["model"]["sha256"] = "0" * 64
    elif kind == "device":
        key = str(_pick(rng, sorted(doc["device"])))
        doc["device"][key] = _pick(rng, [0, -1.0, 1e300, "iPad", None])
    elif kind == "orientation":
        doc["orientation"] = int(_pick(rng, [2, 3, 4, 5, 0]))
    elif kind == "scale":
        fit["scale_cm"] = float(_pick(rng, [0.0, -1.0, 1e-300, 1e300]))
    elif kind == "centre":
        fit["centre_cm"] = _pick(rng, [[1e308, 0.0], [0.0], [0.0, 0.0, 0.0]])
    elif kind == "method":
        fit["method"] = str(_pick(rng, ["ridge", "offset", "poly3", "affine"]))
    elif kind == "version":
        doc["version"] = _pick(rng, [0, 2, "1", None])
    else:
        fit["coefficients"][0][0] = float("nan")
    return f"semantic.{kind}"


def _profile_file(p: _Profiles, rng: np.random.Generator, scratch: Path) -> tuple[str, Path]:
    doc = json.loads(json.dumps(_pick(rng, p.docs)))
    method = doc["fit"]["method"]
    path = scratch / "profile.json"
    kind = str(_pick(rng, ["bytes", "text", "doc", "doc", "resigned", "resigned", "semantic",
                           "semantic", "good"]))
    if kind == "bytes":
        name, data = mutate_bytes(json.dumps(doc, indent=1).encode(), rng)
        path.write_bytes(data)
        return f"bytes.{name}.{method}", path
    if kind == "text":
        name, text = mutate_text(json.dumps(doc, indent=1), rng)
        (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
        return f"text.{name}.{method}", path
    if kind in ("doc", "resigned"):
        name, doc = mutate_doc(doc, rng)
        label = f"{kind}.{name}.{method}"
    elif kind == "semantic":
        label = f"{_semantic(doc, rng)}.{method}"
    else:
        label = f"good.{method}"
    if kind in ("resigned", "semantic"):
        doc = resign(doc)
    path.write_text(dumps(doc))
    return label, path


def _load_and_run(p: _Profiles, path: Path) -> Any:
    from gazesdk.calibration.profile import CalibrationProfile
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions

    CalibrationProfile.load(path)
    s = p.shared
    with GazeEstimator(GazeEstimatorOptions(calibration=str(path), calibration_guard=False),
                       detector=s.detector, backend=s.backend, mesh=s.mesh,
                       iris=s.iris) as estimator:
        return estimator.estimate(p.frame)


def _profiles(p: _Profiles, rng: np.random.Generator, scratch: Path
              ) -> tuple[str, Callable[[], Any]]:
    label, path = _profile_file(p, rng, scratch)
    return label, lambda: _load_and_run(p, path)


TARGETS = {
    "calibration_profiles": FuzzTarget("calibration_profiles", 1500, _setup, _profiles,
                                       "calibration profile JSON: CalibrationProfile.load, "
                                       "GazeEstimator(calibration=...)"),
}
