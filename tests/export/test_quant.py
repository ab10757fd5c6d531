"""QuantConfig: format defaults, and every contradiction is a one-line ConfigError."""

import re

import pytest

from gazesdk.errors import ConfigError
from gazesdk.export.quant import QuantConfig, as_quant_config


def test_defaults_per_format():
    q = QuantConfig(precision="int8")
    assert q.resolve("onnx") == {
        "precision": "int8", "mode": "static", "per_channel": False, "calibration_samples": 800,
        "reduce_range": True, "keep_head_float": False, "calibration_method": "minmax",
        "activation_dtype": "uint8"}
    assert q.resolve("tflite") == {"precision": "int8", "mode": "static", "per_channel": False,
                                   "calibration_samples": 800}
    assert q.resolve("coreml") == {"precision": "int8", "mode": "weights", "per_channel": True,
                                   "weight_threshold": 0}
    assert QuantConfig(precision="int8", mode="dynamic").resolve("tflite") == {
        "precision": "int8", "mode": "dynamic", "per_channel": True}
    assert QuantConfig().resolve("coreml") == {"precision": "fp32"}


@pytest.mark.parametrize("kwargs, fmt, needle", [
    ({"precision": "fp16"}, "tflite", "tflite export has no fp16"),
    ({"precision": "int8", "mode": "static"}, "coreml", "coreml int8 has no 'static'"),
    ({"precision": "int8", "mode": "weights"}, "onnx", "onnx int8 has no 'weights'"),
    ({"precision": "int8", "calibration_method": "entropy"}, "tflite", "calibration_method"),
    ({"precision": "int8", "mode": "dynamic", "calibration_samples": 10}, "onnx",
     "calibration_samples does not apply to onnx int8 (dynamic)"),
    ({"precision": "int8", "weight_threshold": 10}, "onnx", "weight_threshold"),
    ({"precision": "int8", "activation_dtype": "int8"}, "coreml", "activation_dtype"),
    ({"precision": "int8"}, "tensorrt", "unknown export format"),
])
def test_contradictions_are_errors(kwargs, fmt, needle):
    with pytest.raises(ConfigError, match=re.escape(needle)):
        QuantConfig(**kwargs).resolve(fmt)


@pytest.mark.parametrize("kwargs, needle", [
    ({"precision": "int4"}, "precision must be one of"),
    ({"precision": "fp32", "per_channel": False}, "apply to int8 only"),
    ({"precision": "fp16", "mode": "static"}, "apply to int8 only"),
    ({"precision": "int8", "calibration_samples": 0}, "at least 1"),
    ({"precision": "int8", "calibration_samples": True}, "must be an integer"),
    ({"precision": "int8", "calibration_method": "kl"}, "must be one of"),
    ({"precision": "int8", "per_channel": "yes"}, "must be bool"),
    ({"precision": "int8", "weight_threshold": -1}, ">= 0"),
])
def test_bad_values(kwargs, needle):
    with pytest.raises(ConfigError, match=needle):
        QuantConfig(**kwargs)


def test_from_mapping_is_strict():
    assert as_quant_config({"precision": "int8", "mode": "dynamic"}).mode == "dynamic"
    assert as_quant_config("fp16") == QuantConfig(precision="fp16")
    with pytest.raises(ConfigError, match="unknown quantization setting"):
        as_quant_config({"precision": "int8", "bits": 4})
    with pytest.raises(ConfigError, match="a QuantConfig, a precision name or a mapping"):
        as_quant_config(8)
