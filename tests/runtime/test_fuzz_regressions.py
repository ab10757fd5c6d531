"""Defects the reliability campaign (issue 19, benchmarks/reliability.py) found in the runtime,
each pinned: the input that used to escape as a foreign exception (or a "valid" NaN) now gives
a documented invalid result or a one-line error of the project's classes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from gazesdk.calibration.methods import CalibrationMap
from gazesdk.errors import ConfigError
from gazesdk.export.metadata import ArtifactError, read_metadata
from gazesdk.mobile_bench.reliability.fuzz_media import png_claiming
from gazesdk.runtime.assets import FACE_DETECTOR, AssetError, model_path
from gazesdk.runtime.backends import create_backend, resolve_model
from gazesdk.runtime.frames import check_frame, read_image

EXPORTED = Path(__file__).resolve().parents[2] / "gazesdk/models/assets/exported"


@pytest.mark.parametrize("size", [(60000, 60000), (30000, 30000), (1, 10**6), (2**31 - 1, 1)])
def test_an_image_claiming_huge_dimensions_reads_as_unreadable(tmp_path: Path, size, capfd
                                                               ) -> None:
    path = tmp_path / "huge.png"
    path.write_bytes(png_claiming(*size))
    assert read_image(path) is None              # OpenCV raised cv2.error for one of these
    assert "libpng" not in capfd.readouterr().err   # and libpng's complaints reached the terminal


def test_read_image_still_reads_a_good_image(tmp_path: Path) -> None:
    import cv2

    img = np.zeros((6, 8, 3), np.uint8)
    img[2, 3] = (10, 20, 30)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), img)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_a_numpy_matrix_frame_is_read_as_its_values() -> None:
    # np.matrix stays 2-D whatever it is indexed with: it used to reach the detector as such
    m = np.matrix(np.full((48, 40), 7, np.uint8))
    check = check_frame(m)
    assert check.rgb is not None and type(check.rgb) is np.ndarray
    assert check.rgb.shape == (48, 40, 3) and int(check.rgb[0, 0, 0]) == 7


@pytest.mark.parametrize("model, backend", [(3.5, "auto"), (["a.onnx"], "auto"),
                                            ("default", ["onnxruntime"]), ("default", None)])
def test_non_string_model_or_backend_is_a_config_error(model, backend) -> None:
    with pytest.raises(ConfigError):
        resolve_model(model, backend, "int8")


def test_a_non_path_asset_override_is_an_asset_error() -> None:
    with pytest.raises(AssetError, match="must be a path"):
        model_path(FACE_DETECTOR, 42)            # type: ignore[arg-type]


def _copy_export(tmp_path: Path, fmt: str) -> tuple[Path, dict]:
    for suffix in ("", ".json"):
        shutil.copy(EXPORTED / f"gaze_compact_fp32.{fmt}{suffix}", tmp_path / f"m.{fmt}{suffix}")
    meta = tmp_path / f"m.{fmt}.json"
    doc = json.loads(meta.read_text())
    doc["artifact"]["file"] = f"m.{fmt}"
    return tmp_path / f"m.{fmt}", doc


@pytest.mark.parametrize("fmt, backend", [("onnx", "onnxruntime"), ("tflite", "litert")])
def test_metadata_with_another_input_shape_is_refused_at_load(tmp_path: Path, fmt, backend
                                                              ) -> None:
    pytest.importorskip("onnxruntime" if fmt == "onnx" else "ai_edge_litert")
    artifact, doc = _copy_export(tmp_path, fmt)
    doc["inputs"][0]["shape"][2] = 32           # the face patch: 64 in the model
    artifact.with_name(artifact.name + ".json").write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="face has shape"):
        create_backend(artifact, backend=backend)


@pytest.mark.parametrize("fmt, backend", [("onnx", "onnxruntime"), ("tflite", "litert")])
def test_metadata_naming_inputs_the_runtime_cannot_make_is_refused(tmp_path: Path, fmt, backend
                                                                   ) -> None:
    pytest.importorskip("onnxruntime" if fmt == "onnx" else "ai_edge_litert")
    artifact, doc = _copy_export(tmp_path, fmt)
    doc["inputs"][0]["name"] = "depth"           # swapped metadata from another model
    artifact.with_name(artifact.name + ".json").write_text(json.dumps(doc))
    with pytest.raises((ConfigError, ArtifactError), match="depth"):
        create_backend(artifact, backend=backend)


def test_tflite_metadata_with_another_batch_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("ai_edge_litert")
    artifact, doc = _copy_export(tmp_path, "tflite")
    doc["artifact"]["batch"] = 8
    artifact.with_name(artifact.name + ".json").write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="batch"):
        create_backend(artifact, backend="litert")


def test_the_unmodified_export_still_loads(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    artifact, doc = _copy_export(tmp_path, "onnx")
    artifact.with_name(artifact.name + ".json").write_text(json.dumps(doc))
    assert create_backend(artifact, backend="onnxruntime").metadata["model"] == doc["model"]


def test_metadata_nested_past_the_parser_is_an_artifact_error(tmp_path: Path) -> None:
    artifact = tmp_path / "m.onnx"
    artifact.write_bytes(b"x")
    (tmp_path / "m.onnx.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ArtifactError, match="not valid JSON"):
        read_metadata(artifact)


def test_a_calibration_fit_that_overflows_keeps_the_model_gaze() -> None:
    from gazesdk.calibration.profile import CalibrationProfile, Validation
    from gazesdk.geometry.devices import get_device
    from gazesdk.runtime.calibrate import CalibrationStage

    def profile(map: CalibrationMap) -> CalibrationProfile:
        return CalibrationProfile(map=map, model_sha256="0" * 64, model_name="compact",
                                  device=get_device("iPhone 6s"), orientation=1, pattern="9",
                                  validation=Validation("validation points", 0.8, 1.6, 1.5, 3.0,
                                                        4),
                                  accepted=True, guard_reason="ok")

    stage = CalibrationStage(metadata={}, device=get_device("iPhone 6s"), orientation=1,
                             has_features=False, drift=None)
    huge = CalibrationMap("affine", np.full((3, 2), 1e308),
                          centre_cm=(0.0, -7.0), regularisation=0.3, offset_prior=0.25)
    stage.profile, stage.applies = profile(map=huge), True
    with np.errstate(over="ignore", invalid="ignore"):
        out = stage((3.0, 4.0), None, None, None)
    assert out.gaze_cm == (3.0, 4.0)             # not (inf, nan) reported as valid
    assert out.calibrated_cm is None and not out.applied
    sane = CalibrationMap("affine", np.array([[0.5, -0.2], [1.0, 0.0], [0.0, 1.0]]),
                          centre_cm=(0.0, -7.0), regularisation=0.3, offset_prior=0.25)
    stage.profile = profile(map=sane)
    out = stage((1.0, -5.0), None, None, None)
    assert out.applied and out.calibrated_cm is not None
