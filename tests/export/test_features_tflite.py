"""TFLite exports with the features output (issue 18), run with the LiteRT interpreter: the
second signature output equals model.features, and static int8 keeps the gaze bit for bit."""

import numpy as np
import pytest
from helpers import cached_exports, tiny_mirror_model

from gazesdk.export import load_exported
from gazesdk.export.parity import torch_features, torch_predict

pytest.importorskip("litert_torch")
pytest.importorskip("ai_edge_litert")
pytestmark = pytest.mark.xdist_group("export-tflite")


@pytest.fixture(scope="module")
def mirror_model():
    """Mirror-averaged: the features are sliced from the 2N batch, the case where a float
    features output once broke the converter's FC + ReLU fusion and moved int8 gaze."""
    return tiny_mirror_model()


@pytest.fixture(scope="module")
def mirror_exports(mirror_model, export_samples):
    """``get(quant, features)``: the mirror-averaged tiny model exported once per module."""
    from gazesdk.export.tflite import export_tflite

    return cached_exports(export_tflite, mirror_model, export_samples)


def test_fp32_features_equal_model_features(mirror_exports, mirror_model, export_samples,
                                            tmp_path):
    e = mirror_exports("fp32")
    held = export_samples[1].take(slice(0, 3))                 # 3 rows through a batch-1 graph
    gaze, features = e.run_all(held.for_model(e.input_names))
    np.testing.assert_allclose(features, torch_features(mirror_model, held), atol=1e-4)
    np.testing.assert_allclose(gaze, torch_predict(mirror_model, held), atol=1e-4)
    assert [t["name"] for t in e.metadata["outputs"]] == ["gaze_cm", "features"]
    assert e.metadata["outputs"][1]["shape"] == [1, 128]
    path = e.export(tmp_path / "f.tflite")
    again = load_exported(path)
    for a, b in zip(again.run_all(held.for_model(e.input_names)), (gaze, features),
                    strict=True):
        np.testing.assert_array_equal(a, b)


def test_signature_has_both_outputs(mirror_exports, export_samples):
    from ai_edge_litert.interpreter import Interpreter

    e = mirror_exports("fp32")
    runner = Interpreter(model_content=e.model_bytes).get_signature_runner()
    assert set(runner.get_output_details()) == {"gaze_cm", "features"}
    x = export_samples[1].take(slice(0, 1)).for_model(e.input_names)
    got = runner(**x)
    gaze, features = e.run_all(x)
    np.testing.assert_array_equal(got["gaze_cm"], gaze)
    np.testing.assert_array_equal(got["features"], features)


def test_int8_gaze_equals_the_plain_export(mirror_exports, export_samples):
    """A float features output read from the ReLU once stopped the converter fusing the final
    FC with its ReLU, so the gaze path rounded twice (0.2 cm here, on the bundled model too);
    the features now read the head's quantized input and the gaze graph is the plain one."""
    plain, with_f = mirror_exports("int8", features=False), mirror_exports("int8")
    x = export_samples[1].for_model(plain.input_names)
    np.testing.assert_allclose(with_f.run(x), plain.run(x), atol=1e-6, rtol=0)
    assert with_f.ops()[:len(plain.ops())] == plain.ops()       # the gaze graph, then the slice


def test_int8_features_are_the_head_input_dequantized(mirror_exports, mirror_model,
                                                      export_samples):
    """Static int8: the features output is an int8 tensor (the head's quantized input), its
    scale and zero point in the metadata; run_all dequantizes it."""
    e = mirror_exports("int8")
    spec = e.metadata["outputs"][1]
    assert spec["name"] == "features" and spec["dtype"] == "int8"
    q = spec["quantization"]
    held = export_samples[1]
    features = e.run_all(held.for_model(e.input_names))[1]
    steps = features / q["scale"] + q["zero_point"]
    np.testing.assert_allclose(steps, np.rint(steps), atol=1e-3)   # on the int8 grid
    assert features.min() >= 0                                      # after the ReLU
    ref = torch_features(mirror_model, held)
    assert np.abs(features - ref).mean() / np.abs(ref).mean() < 0.15
    assert e.parity.passed
