"""ONNX export: torch.onnx (dynamo exporter) to one self-contained file with a dynamic batch;
fp16 by ONNX Runtime's float16 converter; int8 by ONNX Runtime's static (QDQ, calibrated on
real samples) or dynamic quantization. Runs with ONNX Runtime.

QDQ rather than QOperator: QOperator and dynamic int8 ran slower than fp32 on x86 in our
checks, and QDQ is what mobile runtimes (NNAPI, XNNPACK, QNN) consume. See
:mod:`gazesdk.export.quant` for the int8 defaults.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.export._toolchain import quiet
from gazesdk.export.exported import BytesExport, Runner
from gazesdk.export.graph import (
    ExportGraph,
    example_inputs,
    input_names,
    input_shapes,
    output_shapes,
)
from gazesdk.export.metadata import EMBED_KEY, ArtifactError, build_metadata, embedded, tensor_specs
from gazesdk.export.parity import ParityTolerance
from gazesdk.export.quant import QuantConfig, as_quant_config
from gazesdk.export.samples import CalibrationData, ExportSamples, built_in_samples, calibration_for
from gazesdk.models.gaze_model import GazeModel
from gazesdk.runtime.backends.onnxruntime import ort_runner

OPSET = 18
CALIBRATION_BATCH = 20


class OnnxExport(BytesExport):
    """An ONNX model (bytes) with its metadata; runs with ONNX Runtime's CPU provider."""

    format = "onnx"
    suffix = ".onnx"

    def _make_runner(self, threads: int) -> Runner:
        return ort_runner(self.model_bytes, threads=threads, outputs=self.output_names)

    def proto(self) -> Any:
        """The ``onnx.ModelProto``."""
        import onnx

        return onnx.load_from_string(self.model_bytes)


def _to_onnx(model: GazeModel, opset: int, features: bool = False) -> Any:
    import torch

    graph = ExportGraph(model, features=features)
    names = input_names(model)
    ex = example_inputs(model, batch=2)       # batch 1 would make torch.export fix the size
    batch = torch.export.Dim("batch", min=1, max=4096)
    program = torch.onnx.export(
        graph, tuple(ex[n] for n in names), input_names=list(names),
        output_names=list(graph.output_names), dynamic_shapes={n: {0: batch} for n in names},
        opset_version=opset, external_data=False, dynamo=True, verbose=False)
    proto = program.model_proto
    return proto


def compact_names(proto: Any) -> Any:
    """Drop node stack traces and doc strings, and rename every internal value, initializer
    and node to a short name (``v12``, ``n34``); graph inputs and outputs keep theirs. Module
    paths and quantizer suffixes are ~10% of an fp32 file and ~15% of an int8 one."""
    graph = proto.graph
    keep = {v.name for v in graph.input} | {v.name for v in graph.output} | {""}
    names: dict[str, str] = {}

    def short(name: str) -> str:
        if name in keep:
            return name
        return names.setdefault(name, f"v{len(names)}")

    for init in graph.initializer:
        init.name = short(init.name)
    for i, node in enumerate(graph.node):
        del node.metadata_props[:]
        node.doc_string = ""
        node.name = f"n{i}"
        node.input[:] = [short(x) for x in node.input]
        node.output[:] = [short(x) for x in node.output]
    for info in graph.value_info:
        info.name = short(info.name)
    return proto


def _head_node(proto: Any) -> str:
    """The name of the last Gemm/MatMul: the head's linear layer (nodes are in topological
    order)."""
    nodes = [n.name for n in proto.graph.node if n.op_type in ("Gemm", "MatMul")]
    if not nodes:
        raise ArtifactError("the ONNX graph has no Gemm or MatMul node for the head")
    return nodes[-1]


def _sorted(proto: Any) -> Any:
    """Nodes in topological order (the float16 converter appends its input casts at the end,
    which onnx.checker rejects)."""
    graph = proto.graph
    known = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        ready = [n for n in pending if all(i in known for i in n.input)]
        if not ready:
            raise ArtifactError("the float16 ONNX graph has a cycle or a dangling input")
        for n in ready:
            ordered.append(n)
            known.update(n.output)
        pending = [n for n in pending if n not in ready]
    copies = [type(n)() for n in ordered]
    for c, n in zip(copies, ordered, strict=True):
        c.CopyFrom(n)
    del graph.node[:]
    graph.node.extend(copies)
    return proto


class _Reader:
    """ONNX Runtime's CalibrationDataReader over a CalibrationData (one pass)."""

    def __init__(self, calibration: CalibrationData, names: tuple[str, ...], limit: int) -> None:
        batches = [{k: np.asarray(b[k], np.float32) for k in names}
                   for b in calibration.batches(CALIBRATION_BATCH, limit=limit)]
        # the histogram calibrators (percentile, entropy) need equal batches: drop a short tail
        if len(batches) > 1 and len(batches[-1][names[0]]) < CALIBRATION_BATCH:
            batches.pop()
        if not batches:
            raise ArtifactError("static int8 needs calibration samples; the data gave none")
        self._it = iter(batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def _quantize(proto: Any, settings: dict[str, Any], calibration: CalibrationData | None,
              names: tuple[str, ...]) -> Any:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="gazesdk-onnx-") as tmp:
        src, pre, out = (Path(tmp) / f for f in ("model.onnx", "pre.onnx", "int8.onnx"))
        onnx.save_model(proto, src)
        quant_pre_process(str(src), str(pre))       # folds batch norm, infers shapes
        pre_proto = onnx.load(pre)
        exclude = [_head_node(pre_proto)] if settings["keep_head_float"] else []
        if settings["mode"] == "dynamic":
            quantize_dynamic(str(pre), str(out), per_channel=settings["per_channel"],
                             reduce_range=settings["reduce_range"],
                             weight_type=QuantType.QInt8, nodes_to_exclude=exclude)
        else:
            assert calibration is not None
            reader = type("Reader", (_Reader, CalibrationDataReader), {})(
                calibration, names, settings["calibration_samples"])
            method = {"minmax": CalibrationMethod.MinMax,
                      "percentile": CalibrationMethod.Percentile,
                      "entropy": CalibrationMethod.Entropy}[settings["calibration_method"]]
            act = QuantType.QUInt8 if settings["activation_dtype"] == "uint8" else QuantType.QInt8
            quantize_static(str(pre), str(out), reader, quant_format=QuantFormat.QDQ,
                            per_channel=settings["per_channel"],
                            reduce_range=settings["reduce_range"], activation_type=act,
                            weight_type=QuantType.QInt8, calibrate_method=method,
                            nodes_to_exclude=exclude)
        return onnx.load(out)


def export_onnx(model: GazeModel, *, quant: QuantConfig | str | Mapping[str, object] = "fp32",
                calibration: CalibrationData | None = None,
                samples: ExportSamples | None = None,
                tolerance: ParityTolerance | None = None, source: str = "",
                training_data: str = "unknown", opset: int = OPSET,
                features: bool = False) -> OnnxExport:
    """``model`` as ONNX (input names ``face, left_eye, right_eye[, face_grid]``, output
    ``gaze_cm`` in cm, any batch size), checked by ``onnx.checker`` and by parity with the
    torch model on ``samples`` (default: built-in held-out GazeSim samples).

    ``quant``: ``"fp32"``, ``"fp16"`` (float16 weights and compute, float32 inputs and
    outputs), ``"int8"`` (static QDQ, calibrated on ``calibration``, default built-in GazeSim
    training samples) or a :class:`QuantConfig` (e.g. ``mode="dynamic"``).

    ``features``: a second output ``features`` (N, 128), ``model.features`` of the frame
    (:class:`~gazesdk.export.graph.ExportGraph`); the gaze output stays as without it.
    """
    settings = as_quant_config(quant).resolve("onnx")
    calibration = calibration_for(settings, calibration, model)
    names = input_names(model)
    import onnx

    with quiet():
        proto = _to_onnx(model, opset, features)
        if settings["precision"] == "fp16":
            from onnxruntime.transformers.float16 import convert_float_to_float16

            proto = _sorted(convert_float_to_float16(proto, keep_io_types=True))
        elif settings["precision"] == "int8":
            proto = _quantize(proto, settings, calibration, names)
        proto = compact_names(proto)
        onnx.checker.check_model(proto, full_check=True)
    inputs, outputs = tensor_specs(input_shapes(model), "batch",
                                   outputs=output_shapes(features))
    doc = build_metadata(model, fmt="onnx", precision=settings["precision"],
                         quantization=settings, batch="dynamic",
                         runtime=f"ONNX Runtime (opset {opset}; CPU, NNAPI, CoreML, XNNPACK "
                                 f"execution providers)",
                         inputs=inputs, outputs=outputs, source=source,
                         training_data=training_data)
    entry = proto.metadata_props.add()
    entry.key, entry.value = EMBED_KEY, embedded(doc)
    exported = OnnxExport(proto.SerializeToString(), doc)
    exported.verify(model, built_in_samples(model)[1] if samples is None else samples,
                    tolerance=tolerance)
    return exported


EXPORTED = OnnxExport
