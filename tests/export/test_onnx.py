"""ONNX export: single file, dynamic batch, checker, parity, embedded metadata, int8 QDQ."""

import json

import numpy as np
import pytest

from gazesdk.export import load_exported
from gazesdk.export.metadata import embedded

onnx = pytest.importorskip("onnx")


def test_fp32_parity_and_dynamic_batch(exports, tiny_model, export_samples, tmp_path):
    e = exports("onnx")
    assert e.parity.passed and e.parity.max_abs_cm <= 1e-3
    assert e.batch is None
    held = export_samples[1]
    for n in (1, 3):
        x = held.take(slice(0, n)).for_model(e.input_names)
        from gazesdk.export.parity import torch_predict

        np.testing.assert_allclose(e.run(x), torch_predict(tiny_model, held.take(slice(0, n))),
                                   atol=1e-4)
    path = e.export(tmp_path / "m.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.onnx.golden",
                                                          "m.onnx.json"]   # no .data file
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    assert [i.name for i in proto.graph.input] == ["face", "left_eye", "right_eye", "face_grid"]
    assert [o.name for o in proto.graph.output] == ["gaze_cm"]
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["gazesdk"]) == json.loads(embedded(e.metadata))
    again = load_exported(path)
    np.testing.assert_array_equal(again.run(x), e.run(x))


def test_int8_is_qdq_with_int8_weights(exports):
    e32, e8 = exports("onnx"), exports("onnx", "int8")
    proto = e8.proto()
    ops = {n.op_type for n in proto.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    from onnx import numpy_helper

    int8 = {i.name for i in proto.graph.initializer
            if numpy_helper.to_array(i).dtype == np.int8 and numpy_helper.to_array(i).ndim >= 2}
    dequantized = {n.input[0] for n in proto.graph.node if n.op_type == "DequantizeLinear"}
    assert len(int8 & dequantized) >= 10          # conv and gemm weights stored as int8
    assert len(e8.model_bytes) < 0.5 * len(e32.model_bytes)
    assert e8.parity.passed and e8.metadata["artifact"]["quantization"]["mode"] == "static"


@pytest.mark.slow
def test_fp16_and_dynamic_int8(exports):
    e16 = exports("onnx", "fp16")
    from onnx import TensorProto

    inits = e16.proto().graph.initializer
    assert sum(i.data_type == TensorProto.FLOAT16 for i in inits) > 10
    assert e16.parity.passed and e16.parity.max_abs_cm <= 0.1
    assert e16.proto().graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT
    dyn = exports("onnx", "int8-dynamic")
    assert dyn.parity.passed
    assert "DynamicQuantizeLinear" in {n.op_type for n in dyn.proto().graph.node}


def test_run_rejects_bad_inputs(exports, export_samples):
    e = exports("onnx")
    x = export_samples[1].take(slice(0, 2)).for_model(e.input_names)
    with pytest.raises(ValueError, match="missing"):
        e.run({k: v for k, v in x.items() if k != "face_grid"})
    with pytest.raises(ValueError, match=r"face must have shape \(N, 3, 64, 64\)"):
        e.run({**x, "face": x["face"].transpose(0, 2, 3, 1)})
    with pytest.raises(ValueError, match="must be float"):
        e.run({**x, "face": (x["face"] * 255).astype(np.uint8)})
    with pytest.raises(ValueError, match="one batch size"):
        e.run({**x, "face": x["face"][:1]})
