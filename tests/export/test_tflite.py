"""TFLite export (litert-torch) run with the LiteRT interpreter: fp32 parity, int8 static with
an int8 input handled at the I/O, dynamic-range int8, embedded metadata."""

import json

import numpy as np
import pytest

from gazesdk.export import load_exported
from gazesdk.export.metadata import embedded

pytest.importorskip("litert_torch")
pytest.importorskip("ai_edge_litert")


def test_fp32_parity_and_signature(exports, tmp_path, export_samples):
    from gazesdk.export.tflite import embedded_metadata

    e = exports("tflite")
    assert e.parity.passed and e.parity.max_abs_cm <= 1e-3
    assert e.batch == 1
    assert json.loads(embedded_metadata(e.model_bytes)) == json.loads(embedded(e.metadata))
    path = e.export(tmp_path / "m.tflite")
    x = export_samples[1].take(slice(0, 3)).for_model(e.input_names)   # 3 rows, batch-1 graph
    np.testing.assert_array_equal(load_exported(path).run(x), e.run(x))
    assert len(e.run(x)) == 3


def test_int8_static_quantizes_io_by_hand(exports, export_samples):
    """The face grid is an int8 input: the runner quantizes it with the tensor's scale and
    zero point; feeding the interpreter ourselves with those gives the same numbers."""
    from ai_edge_litert.interpreter import Interpreter

    e = exports("tflite", "int8")
    grid = next(t for t in e.metadata["inputs"] if t["name"] == "face_grid")
    assert grid["dtype"] == "int8"
    scale, zero = grid["quantization"]["scale"], grid["quantization"]["zero_point"]
    assert zero == -128 and scale == pytest.approx(1 / 255, rel=0.01)
    ops = e.ops()
    assert "QUANTIZE" in ops or "DEQUANTIZE" in ops
    x = export_samples[1].take(slice(0, 1)).for_model(e.input_names)
    runner = Interpreter(model_content=e.model_bytes).get_signature_runner()
    feed = dict(x)
    feed["face_grid"] = np.clip(np.round(x["face_grid"] / scale) + zero, -128, 127) \
        .astype(np.int8)
    np.testing.assert_array_equal(runner(**feed)["gaze_cm"], e.run(x))
    assert e.parity.passed


@pytest.mark.slow
def test_int8_dynamic(exports):
    """Dynamic-range int8: float I/O, outputs within half their spread (conftest); the
    weights were once quantized with default scales, centimetres off."""
    e = exports("tflite", "int8-dynamic")
    assert all(t["dtype"] == "float32" for t in e.metadata["inputs"])
    assert e.parity.passed


def test_rewrite_keeps_the_graph(exports, export_samples):
    from gazesdk.export.tflite import TFLiteExport, rewrite_flatbuffer

    e = exports("tflite")
    twice = rewrite_flatbuffer(e.model_bytes, metadata='{"a": 1}')
    other = TFLiteExport(twice, e.metadata)
    x = export_samples[1].take(slice(0, 2)).for_model(e.input_names)
    np.testing.assert_array_equal(other.run(x), e.run(x))
    from gazesdk.export.tflite import embedded_metadata

    assert embedded_metadata(twice) == '{"a": 1}'    # replaced, not appended twice
