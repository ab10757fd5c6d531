"""The estimator's calibration stage: profile applied before smoothing, guard, refusals,
implicit taps, drift flag; and one run of the real estimator with a profile."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from gazesdk.calibration.drift import HeadReference
from gazesdk.calibration.methods import CalibrationMap
from gazesdk.calibration.profile import CalibrationProfile, Validation
from gazesdk.errors import CalibrationError, ConfigError
from gazesdk.geometry.devices import get_device
from gazesdk.geometry.screen import screen_to_cam_cm
from gazesdk.runtime.calibrate import CalibrationStage

SHA = "ab" * 32
META = {"artifact": {"sha256": SHA}, "model": {"name": "compact"}}


def profile(*, accepted: bool = True, method: str = "affine", sha: str = SHA,
            reference: HeadReference | None = None) -> CalibrationProfile:
    if method == "ridge":
        m = CalibrationMap("ridge", np.zeros((3 + 4, 2)), feature_mean=np.zeros(4),
                           feature_std=np.ones(4))
    else:
        m = CalibrationMap("affine", np.array([[1.0, -0.5], [0.0, 0.0], [0.0, 0.0]]))
    return CalibrationProfile(map=m, model_sha256=sha, model_name="compact",
                              device=get_device("iPhone 6s"), orientation=1, pattern="9",
                              validation=Validation("validation points", 1.0, 2.0, 1.9, 3.8, 4),
                              accepted=accepted, guard_reason="test", reference=reference)


def stage(p, **kw) -> CalibrationStage:
    args = dict(metadata=META, device=get_device("iPhone 6s"), orientation=1,
                has_features=False, calibration=p)
    args.update(kw)
    return CalibrationStage(**args)


def test_profile_is_applied_and_the_raw_gaze_kept() -> None:
    out = stage(profile())((2.0, -6.0), None, None, 0)
    assert out.applied and out.gaze_cm == pytest.approx((3.0, -6.5))
    assert out.calibrated_cm == out.gaze_cm


def test_guard_keeps_the_uncalibrated_gaze_unless_told() -> None:
    out = stage(profile(accepted=False))((2.0, -6.0), None, None, 0)
    assert not out.applied and out.gaze_cm == (2.0, -6.0) and out.calibrated_cm is None
    forced = stage(profile(accepted=False), guard=False)((2.0, -6.0), None, None, 0)
    assert forced.applied and forced.gaze_cm == pytest.approx((3.0, -6.5))


def test_refusals(tmp_path) -> None:
    with pytest.raises(CalibrationError, match="another model"):
        stage(profile(sha="cd" * 32))
    with pytest.raises(CalibrationError, match="orientation"):
        stage(profile(), orientation=3)
    with pytest.raises(ConfigError, match="features"):
        stage(profile(method="ridge"))
    assert stage(profile(method="ridge"), has_features=True).applies
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(CalibrationError, match="not JSON"):
        stage(str(tmp_path / "bad.json"))
    with pytest.raises(ConfigError, match="CalibrationProfile"):
        stage(42)


def test_implicit_taps_through_the_stage() -> None:
    s = stage(None)
    assert not s.active
    dev = get_device("iPhone 6s")
    w, h = dev.screen_size_points(1)
    tx, ty = screen_to_cam_cm(w / 2, h / 2, dev, 1, (w, h))
    for ts in range(0, 300, 33):
        s((float(tx) - 2.0, float(ty)), None, None, ts)
    assert s.add_implicit_sample((w / 2, h / 2), 300)
    out = s((float(tx) - 2.0, float(ty)), None, None, 333)
    assert out.applied and out.gaze_cm[0] > float(tx) - 2.0        # moved toward the tap
    with pytest.raises(ConfigError, match="off the"):
        s.add_implicit_sample((5 * w, 0.0), 400)


def test_drift_flag() -> None:
    ref = HeadReference(0.0, 0.0, 0.0, (0.0, 0.0, 30.0))
    s = stage(profile(reference=ref))
    near = SimpleNamespace(yaw_deg=2.0, pitch_deg=0.0, roll_deg=0.0,
                           translation_cm=(0.0, 0.0, 30.0))
    far = SimpleNamespace(yaw_deg=25.0, pitch_deg=0.0, roll_deg=0.0,
                          translation_cm=(0.0, 0.0, 30.0))
    assert s((0.0, -5.0), None, near, None).recalibration_advised is False
    assert s((0.0, -5.0), None, far, None).recalibration_advised is True
    assert s((0.0, -5.0), None, None, None).recalibration_advised is None
    assert stage(None)((0.0, -5.0), None, near, None).recalibration_advised is None


def test_estimator_applies_a_profile_on_a_real_face(tmp_path) -> None:
    skimage = pytest.importorskip("skimage.data")
    from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions

    image = skimage.astronaut()
    with GazeEstimator.create_from_options(GazeEstimatorOptions()) as plain:
        base = plain.estimate(image)
        meta = plain.backend.metadata
    assert base.valid and not base.calibration_applied and base.calibrated_gaze_cm is None
    p = profile(sha=meta["artifact"]["sha256"])
    path = p.save(tmp_path / "me.json")
    with GazeEstimator.create_from_options(GazeEstimatorOptions(calibration=str(path))) as est:
        r = est.estimate(image)
    assert r.raw_gaze_cm == pytest.approx(base.raw_gaze_cm, abs=1e-5)
    assert r.calibration_applied
    assert r.gaze_cm == pytest.approx((base.raw_gaze_cm[0] + 1.0, base.raw_gaze_cm[1] - 0.5),
                                      abs=1e-5)
    assert r.screen.x_pt != pytest.approx(base.screen.x_pt)
    other = profile(sha="ee" * 32).save(tmp_path / "other.json")
    with pytest.raises(CalibrationError, match="another model"):
        GazeEstimator.create_from_options(GazeEstimatorOptions(calibration=str(other)))


def test_options_from_dict_take_calibration_settings() -> None:
    from gazesdk.calibration.drift import DriftOptions
    from gazesdk.runtime import GazeEstimatorOptions

    o = GazeEstimatorOptions.from_dict({"drift": {"max_angle_deg": 5.0},
                                        "implicit": {"lookback_ms": 300},
                                        "calibration": "me.json", "calibration_guard": False})
    assert o.drift == DriftOptions(max_angle_deg=5.0) and o.implicit.lookback_ms == 300
    assert o.calibration == "me.json" and o.calibration_guard is False
    with pytest.raises(ConfigError, match="unknown drift option"):
        GazeEstimatorOptions.from_dict({"drift": {"max_angle": 5.0}})
    with pytest.raises(ConfigError, match="calibration must be"):
        GazeEstimatorOptions(calibration=3)                    # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="calibration_guard must be true or false"):
        GazeEstimatorOptions(calibration_guard="yes")          # type: ignore[arg-type]
    assert GazeEstimatorOptions(drift=None).drift is None
