"""Metadata: schema on write and read, hashes, and refusing corrupt or mismatched artifacts."""

import hashlib
import json

import numpy as np
import pytest

from gazesdk.export import load_exported, read_golden
from gazesdk.export.metadata import ArtifactError, artifact_sha256, read_metadata, validate_metadata


@pytest.fixture(scope="module")
def written(exports, tmp_path_factory):
    folder = tmp_path_factory.mktemp("written")
    return exports("onnx").export(folder / "m.onnx")


def test_metadata_follows_the_schema(written):
    doc = read_metadata(written)
    assert doc["artifact"]["sha256"] == hashlib.sha256(written.read_bytes()).hexdigest()
    assert doc["artifact"]["size_bytes"] == written.stat().st_size
    assert doc["decoding"]["in_graph"] is True and doc["decoding"]["bins"] == 16
    assert doc["decoding"]["bin_size_cm"] == pytest.approx([53.2 / 16, 53.2 / 16])
    assert doc["outputs"][0] == {"name": "gaze_cm", "shape": ["batch", 2], "dtype": "float32",
                                 "units": "cm", "description": doc["outputs"][0]["description"]}
    assert doc["preprocessing"]["colour_order"] == "RGB"
    assert doc["parity"]["passed"] is True


@pytest.mark.parametrize("edit, needle", [
    (lambda d: d.pop("decoding"), "'decoding' is a required property"),
    (lambda d: d["artifact"].update(precision="int4"), "artifact/precision"),
    (lambda d: d["inputs"][0].update(dtype="float64"), "inputs/0/dtype"),
    (lambda d: d.update(extra=1), "Additional properties"),
    (lambda d: d["artifact"].update(sha256="abc"), "artifact/sha256"),
])
def test_schema_rejects(written, edit, needle):
    doc = read_metadata(written)
    edit(doc)
    with pytest.raises(ArtifactError, match=needle):
        validate_metadata(doc)


def test_truncated_artifact_is_rejected(written, tmp_path):
    bad = tmp_path / "m.onnx"
    bad.write_bytes(written.read_bytes()[:1000])
    (tmp_path / "m.onnx.json").write_text((written.parent / "m.onnx.json").read_text())
    with pytest.raises(ArtifactError, match="does not match its metadata.*corrupt, truncated"):
        load_exported(bad)
    with pytest.raises(ArtifactError, match="ONNX Runtime cannot load"):
        load_exported(bad, verify=False).run(_inputs())


def test_metadata_of_another_model_is_rejected(written, exports, tmp_path):
    other = exports("onnx", "int8").export(tmp_path / "other.onnx")
    (tmp_path / "other.onnx.json").write_text((written.parent / "m.onnx.json").read_text())
    with pytest.raises(ArtifactError, match="other.onnx does not match its metadata"):
        read_metadata(other)


def test_missing_or_broken_metadata(written, tmp_path):
    lone = tmp_path / "lone.onnx"
    lone.write_bytes(written.read_bytes())
    with pytest.raises(ArtifactError, match="no metadata file lone.onnx.json"):
        read_metadata(lone)
    (tmp_path / "lone.onnx.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        read_metadata(lone)


def test_folder_hash_by_hand(tmp_path):
    pkg = tmp_path / "x.mlpackage"
    (pkg / "Data").mkdir(parents=True)
    (pkg / "Data" / "w.bin").write_bytes(b"\x00\x01")
    (pkg / "Manifest.json").write_text("{}")
    lines = "".join(f"{rel}\0{hashlib.sha256(data).hexdigest()}\n" for rel, data in
                    (("Data/w.bin", b"\x00\x01"), ("Manifest.json", b"{}")))
    assert artifact_sha256(pkg) == hashlib.sha256(lines.encode()).hexdigest()
    with pytest.raises(ArtifactError, match="no exported model"):
        artifact_sha256(tmp_path / "nothing")


def test_golden_vectors_reproduce_from_png(written):
    inputs, expected, tol = read_golden(written)
    exported = load_exported(written)
    npz = np.load(written.parent / "m.onnx.golden" / "inputs.npz")
    for k, v in inputs.items():                      # the PNGs hold exactly the fed inputs
        np.testing.assert_array_equal(v, npz[k])
    np.testing.assert_allclose(exported.run(inputs), expected, atol=tol)
    spec = json.loads((written.parent / "m.onnx.golden" / "expected.json").read_text())
    assert spec["expected_from"] == "artifact" and len(spec["samples"]) == len(expected)
    import cv2

    # the PNG holds RGB pixels: OpenCV reads B, G, R; reversing the channels by hand gives
    # the input's channels-first RGB planes x 255
    bgr = cv2.imread(str(written.parent / "m.onnx.golden" / "000_face.png"))
    np.testing.assert_array_equal(bgr[..., ::-1].transpose(2, 0, 1),
                                  np.rint(npz["face"][0] * 255).astype(np.uint8))


def test_edited_golden_vectors_are_refused(written, tmp_path):
    import shutil

    copy = tmp_path / "m.onnx"
    for p in written.parent.glob("m.onnx*"):
        (shutil.copytree if p.is_dir() else shutil.copy)(p, tmp_path / p.name)
    expected = tmp_path / "m.onnx.golden" / "expected.json"
    expected.write_text(expected.read_text().replace('"gaze_cm": [', '"gaze_cm": [1'))
    with pytest.raises(ArtifactError, match="expected.json is missing or does not match"):
        read_golden(copy)


def _inputs():
    return {"face": np.zeros((1, 3, 64, 64), np.float32),
            "left_eye": np.zeros((1, 3, 64, 64), np.float32),
            "right_eye": np.zeros((1, 3, 64, 64), np.float32),
            "face_grid": np.zeros((1, 25, 25), np.float32)}


def test_the_crop_geometry_is_recorded_and_read_back(written):
    from gazesdk.export.metadata import preprocessing
    from gazesdk.models import create_model
    from gazesdk.runtime.backends import ModelSpec
    from gazesdk.runtime.crops import CROP_GEOMETRIES

    doc = read_metadata(written)
    assert doc["preprocessing"]["crops"]["geometry"] == CROP_GEOMETRIES["keypoints-v1"].to_dict()
    assert ModelSpec.from_metadata(doc).crops.name == "keypoints-v1"
    model = create_model("compact")
    model.set_crops("landmarks-v1")
    pre = preprocessing(model)
    assert pre["crops"]["geometry"]["name"] == "landmarks-v1"
    assert "33 and 133" in pre["crops"]["right_eye"]
    landmark_doc = {**doc, "preprocessing": pre}
    validate_metadata(landmark_doc)
    assert ModelSpec.from_metadata(landmark_doc).crops == CROP_GEOMETRIES["landmarks-v1"]
    # a metadata file from before crop geometries existed reads as keypoints-v1
    old = json.loads(json.dumps(doc))
    del old["preprocessing"]["crops"]["geometry"]
    validate_metadata(old)
    assert ModelSpec.from_metadata(old).crops.name == "keypoints-v1"
    bad = json.loads(json.dumps(landmark_doc))
    bad["preprocessing"]["crops"]["geometry"]["source"] = "nose"
    with pytest.raises(ArtifactError, match="geometry"):
        validate_metadata(bad)


def test_the_bundled_model_names_landmark_crops():
    from gazesdk.runtime.backends import ModelSpec
    from gazesdk.runtime.backends.base import bundled_artifact

    for suffix in (".onnx", ".tflite"):
        for precision in ("fp32", "int8"):
            doc = read_metadata(bundled_artifact(suffix, precision))
            assert ModelSpec.from_metadata(doc).crops.name == "landmarks-v1"
