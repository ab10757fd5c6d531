"""TFLite (LiteRT) export through litert-torch (the renamed ai-edge-torch): fp32, and int8 by
its PT2E quantizer, static (weights and activations, calibrated on real samples) or dynamic
(int8 weights, float activations). Runs with the ai-edge-litert interpreter, the same runtime
as Android's LiteRT.

The graph has batch 1 (what a phone runs per frame). Inputs and outputs are named in the
``serving_default`` signature: ``face``, ``left_eye``, ``right_eye``[, ``face_grid``] and
``gaze_cm`` (and ``features`` when exported with them: read outputs by name, not position). In
the static int8 model the patches stay float32 (the graph's first op, the normalisation, runs in
float before the first quantize) and the gaze output is float32 (the ordinal decoding sums
sigmoids in float); the face grid, which feeds a quantized fully connected layer directly, is an
**int8 input**: quantize it with the scale and zero point in the metadata,
``q = clip(round(x / scale) + zero_point, -128, 127)``, i.e. 0 -> -128, 1 -> 127 with the
calibrated (1/255, -128). The ``features`` output of a static int8 model is int8 too: read it
as ``(q - zero_point) * scale`` with the metadata's values. :meth:`TFLiteExport.run` does this
for every int8 tensor.

Metadata is embedded as a flatbuffer metadata entry named ``gazesdk`` (JSON); no tflite-support
needed. Internal tensor names (module paths from torch.export, ~15% of a small int8 file) are
shortened to ``t<index>``; signature names are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from gazesdk.runtime.backends.litert import SIGNATURE, litert_runner

FILE_IDENTIFIER = b"TFL3"


class TFLiteExport(BytesExport):
    """A .tflite flatbuffer (bytes) with its metadata; runs with the LiteRT interpreter."""

    format = "tflite"
    suffix = ".tflite"

    def _make_runner(self, threads: int) -> Runner:
        with quiet():
            return litert_runner(self.model_bytes, threads=threads, outputs=self.output_names)

    def ops(self) -> list[str]:
        """The operator of every node of the graph, in order (for checks)."""
        from ai_edge_litert.interpreter import Interpreter

        with quiet():
            interp = Interpreter(model_content=self.model_bytes)
        return [o["op_name"] for o in interp._get_ops_details()]


def _named(graph: ExportGraph) -> Any:
    """The graph with its outputs named (``gaze_cm``[, ``features``]) in the signature (a dict
    output)."""
    import torch

    class Named(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = graph           # not "graph": fx modules have their own

        def forward(self, **inputs: torch.Tensor) -> dict[str, torch.Tensor]:
            out = self.body(**inputs)
            outs = out if isinstance(out, tuple) else (out,)
            return dict(zip(graph.output_names, outs, strict=True))

    return Named().eval()


def _convert(model: GazeModel, settings: dict[str, Any], calibration: CalibrationData | None,
             features: bool = False) -> bytes:
    import litert_torch
    import torch

    net = _named(ExportGraph(model, features=features))
    names = input_names(model)
    sample = example_inputs(model, batch=1)
    if settings["precision"] == "fp32":
        return litert_torch.convert(net, sample_kwargs=sample).model_content()
    from litert_torch.quantize import pt2e_quantizer
    from litert_torch.quantize.quant_config import QuantConfig as LiteQuantConfig
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    dynamic = settings["mode"] == "dynamic"
    quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
        pt2e_quantizer.get_symmetric_quantization_config(
            is_per_channel=settings["per_channel"], is_dynamic=dynamic))
    captured = torch.export.export(net, (), sample).module()
    prepared = prepare_pt2e(captured, quantizer)
    with torch.no_grad():
        if dynamic:
            # The weight observers only record during a forward pass; without one, every
            # weight is quantized with a default scale (outputs off by centimetres).
            prepared(**sample)
        else:
            assert calibration is not None
            for batch in calibration.batches(1, limit=settings["calibration_samples"]):
                prepared(**{k: torch.from_numpy(np.asarray(batch[k], np.float32))
                            for k in names})
    # fold_quantize=False: folded weights break the stablehlo lowering (litert-torch #588)
    converted = convert_pt2e(prepared, fold_quantize=False)
    if features and not dynamic:
        _features_from_head_input(converted)
    return litert_torch.convert(converted, sample_kwargs=sample,
                                quant_config=LiteQuantConfig(pt2e_quantizer=quantizer)
                                ).model_content()


def _features_from_head_input(gm: Any) -> None:
    """Make the features output read the quantized tensor the head reads, in place.

    PT2E quantizes the final FC's output before its ReLU and the head's input after it; the
    converter folds that ``dequantize -> ReLU -> quantize`` into one FC with a fused ReLU, but
    only while the ReLU has no other consumer. A float features output would be one: the gaze
    path would then round twice (the pre-ReLU grid, then the head's) and move by tenths of a cm
    on the bundled model. Reading the head's dequantized input instead keeps the gaze graph
    exactly as without features, and gives the app exactly the features the head saw.
    """
    import torch

    def is_call(node: Any, name: str) -> bool:
        return getattr(node, "op", "") == "call_function" and \
            str(node.target).split(".")[-2:-1] == [name]

    linears = [n for n in gm.graph.nodes if n.op == "call_function"
               and n.target == torch.ops.aten.linear.default]
    dq = linears[-1].args[0] if linears else None            # the head is the last linear
    q = dq.args[0] if is_call(dq, "dequantize_per_tensor") else None
    if not is_call(q, "quantize_per_tensor"):
        raise ArtifactError("TFLite int8 with features: the head's input is not a quantized "
                            "tensor (unexpected PT2E graph)")
    source = q.args[0]
    for user in [u for u in source.users if u is not q]:
        user.replace_input_with(source, dq)
    gm.graph.lint()
    gm.recompile()


def _io_details(model_bytes: bytes) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """dtype name and, for quantized ones, (scale, zero point) of every signature tensor."""
    from ai_edge_litert.interpreter import Interpreter

    with quiet():
        runner = Interpreter(model_content=model_bytes).get_signature_runner(SIGNATURE)
    dtypes, quant = {}, {}
    for details in (runner.get_input_details(), runner.get_output_details()):
        for name, d in details.items():
            dtypes[name] = np.dtype(d["dtype"]).name
            if dtypes[name] != "float32":
                scale, zero = d["quantization"]
                quant[name] = {"scale": float(scale), "zero_point": int(zero)}
    return dtypes, quant


def rewrite_flatbuffer(model_bytes: bytes, *, metadata: str | None = None,
                       shorten_names: bool = False) -> bytes:
    """The model with a ``gazesdk`` metadata entry (replacing any old one) and, with
    ``shorten_names``, internal tensors renamed ``t<index>`` (signature tensors keep theirs)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    if shorten_names:
        for sub_index, sub in enumerate(m.subgraphs):
            keep = {int(i) for i in _items(sub.inputs)} | {int(i) for i in _items(sub.outputs)}
            for sig in _items(m.signatureDefs):
                if sig.subgraphIndex == sub_index:
                    keep |= {t.tensorIndex for t in [*_items(sig.inputs), *_items(sig.outputs)]}
            for i, tensor in enumerate(sub.tensors):
                if i not in keep:
                    tensor.name = f"t{i}".encode()
    if metadata is not None:
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(metadata.encode(), np.uint8)
        m.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name = EMBED_KEY.encode()
        entry.buffer = len(m.buffers) - 1
        m.metadata = [e for e in (m.metadata or []) if _name(e.name) != EMBED_KEY] + [entry]
    builder = flatbuffers.Builder(len(model_bytes) + 1024)
    builder.Finish(m.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def _items(seq: Any) -> list[Any]:
    """A flatbuffer object-API vector (None, list or numpy array) as a list."""
    return [] if seq is None else list(seq)


def _name(raw: bytes | str | None) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def embedded_metadata(model_bytes: bytes) -> str | None:
    """The ``gazesdk`` metadata JSON embedded in a .tflite, or None."""
    from ai_edge_litert import schema_py_generated as schema

    try:
        m = schema.Model.GetRootAsModel(bytearray(model_bytes), 0)
        for i in range(m.MetadataLength()):
            entry = m.Metadata(i)
            if _name(entry.Name()) == EMBED_KEY:
                return m.Buffers(entry.Buffer()).DataAsNumpy().tobytes().decode()
    except Exception as e:  # a damaged flatbuffer raises anything from struct to IndexError
        raise ArtifactError(f"not a readable .tflite flatbuffer ({type(e).__name__})") from None
    return None


def export_tflite(model: GazeModel, *, quant: QuantConfig | str | Mapping[str, object] = "fp32",
                  calibration: CalibrationData | None = None,
                  samples: ExportSamples | None = None,
                  tolerance: ParityTolerance | None = None, source: str = "",
                  training_data: str = "unknown", features: bool = False) -> TFLiteExport:
    """``model`` as a batch-1 .tflite (signature ``serving_default``: inputs ``face,
    left_eye, right_eye[, face_grid]``, output ``gaze_cm`` in cm), checked by parity with the
    torch model on ``samples`` (default: built-in held-out GazeSim samples).

    ``quant``: ``"fp32"``, ``"int8"`` (static, calibrated on ``calibration``, default built-in
    GazeSim training samples) or ``QuantConfig(precision="int8", mode="dynamic")``.

    ``features``: a second signature output ``features`` (1, 128), ``model.features`` of the
    frame (:class:`~gazesdk.export.graph.ExportGraph`); the gaze output stays as without it.
    """
    settings = as_quant_config(quant).resolve("tflite")
    calibration = calibration_for(settings, calibration, model)
    with quiet():
        raw = _convert(model, settings, calibration, features)
    raw = rewrite_flatbuffer(raw, shorten_names=True)
    dtypes, io_quant = _io_details(raw)
    inputs, outputs = tensor_specs(input_shapes(model), 1, dtypes=dtypes, quantization=io_quant,
                                   outputs=output_shapes(features))
    doc = build_metadata(model, fmt="tflite", precision=settings["precision"],
                         quantization=settings, batch=1,
                         runtime="LiteRT / TensorFlow Lite interpreter (XNNPACK on CPU)",
                         inputs=inputs, outputs=outputs, source=source,
                         training_data=training_data)
    exported = TFLiteExport(rewrite_flatbuffer(raw, metadata=embedded(doc)), doc)
    exported.verify(model, built_in_samples(model)[1] if samples is None else samples,
                    tolerance=tolerance)
    return exported


EXPORTED = TFLiteExport
