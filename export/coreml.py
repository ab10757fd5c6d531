"""Core ML export (coremltools, ML Program ``.mlpackage``, iOS 16+): fp32, fp16, and int8
weights (linear symmetric, per channel; compute stays float16).

Inputs are named tensors ``face``, ``left_eye``, ``right_eye`` (1, 3, 64, 64) float32 RGB in
[0, 1] and ``face_grid`` (1, 25, 25); output ``gaze_cm`` (1, 2), and ``features`` (1, 128)
when exported with them. On iOS, build the patches
from the camera's ``CVPixelBuffer`` as the metadata's preprocessing says (crop, area resize to
64x64, RGB / 255, channels first) into an ``MLMultiArray``; tensor inputs rather than
``ImageType`` keep the exact preprocessing in one place for every platform.

Core ML runs only on macOS and iOS: coremltools' ``predict`` raises elsewhere. Off macOS the
export is checked through its program instead (:func:`program_summary`: op types, input and
output names and shapes, that int8 weights really are int8) and parity is reported as not run;
``tests/export/test_coreml.py`` has a parity test that runs on macOS.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.export._toolchain import quiet
from gazesdk.export.exported import ExportedModel, Runner
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
from gazesdk.export.samples import ExportSamples, built_in_samples
from gazesdk.models.gaze_model import GazeModel

DEPLOYMENT_TARGET = "iOS16"
QUANTIZED_OPS = ("constexpr_affine_dequantize", "constexpr_blockwise_shift_scale")
WEIGHT_OPS = ("conv", "linear")


class CoreMLExport(ExportedModel):
    """An ML Program (``coremltools.models.MLModel``) with its metadata."""

    format = "coreml"
    suffix = ".mlpackage"

    def __init__(self, mlmodel: Any, metadata: dict[str, Any]) -> None:
        super().__init__(metadata)
        self.mlmodel = mlmodel

    @property
    def can_run(self) -> bool:
        return sys.platform == "darwin"

    @property
    def cannot_run_reason(self) -> str:
        return "" if self.can_run else "Core ML prediction runs only on macOS (coremltools)"

    def _make_runner(self, threads: int) -> Runner:
        # Core ML picks its own threads and compute units; `threads` does not apply.
        import coremltools as ct

        model = self.mlmodel
        if getattr(model, "__proxy__", None) is None:          # loaded with skip_model_load
            model = ct.models.MLModel(model.get_spec(), weights_dir=model.weights_dir)
        names = self.output_names

        def run(inputs: Mapping[str, np.ndarray]) -> list[np.ndarray]:
            got = model.predict(dict(inputs))
            return [np.asarray(got[name], np.float32) for name in names]

        return run

    def _write(self, path: Path) -> None:
        with quiet():
            self.mlmodel.save(str(path))

    @classmethod
    def load(cls, path: Path, metadata: dict[str, Any]) -> CoreMLExport:
        with quiet():
            import coremltools as ct

            try:
                m = ct.models.MLModel(str(path), skip_model_load=sys.platform != "darwin")
            except Exception as e:   # coremltools raises bare Exceptions for bad packages
                raise ArtifactError(f"coremltools cannot read {path.name}: "
                                    f"{str(e).splitlines()[0] if str(e) else type(e).__name__}"
                                    ) from None
        return cls(m, metadata)

    def program_summary(self) -> dict[str, Any]:
        """What can be checked without running: see :func:`program_summary`."""
        return program_summary(self.mlmodel)


def program_summary(mlmodel: Any) -> dict[str, Any]:
    """The converted program: input and output names and shapes, counts of each op type, the
    spec version, the number of conv/linear weights stored as int8 and as float."""
    spec = mlmodel.get_spec()
    block = next(iter(spec.mlProgram.functions["main"].block_specializations.values()))
    ops = Counter(op.type for op in block.operations)
    from coremltools.converters.mil.frontend.milproto.load import load as milproto_to_pymil

    with quiet():
        prog = milproto_to_pymil(model_spec=spec,
                                 specification_version=spec.specificationVersion,
                                 file_weights_dir=mlmodel.weights_dir)
    int8, floating = 0, 0
    for op in prog.functions["main"].operations:
        if op.op_type not in WEIGHT_OPS:
            continue
        weight = op.weight
        producer = weight.op.op_type if weight.op is not None else ""
        if producer in QUANTIZED_OPS:
            data = getattr(weight.op, "quantized_data", None) or getattr(weight.op, "data", None)
            int8 += int(data is not None and data.val.dtype == np.int8)
        elif weight.val is not None and np.issubdtype(weight.val.dtype, np.floating):
            floating += 1
    return {
        "inputs": {i.name: list(i.type.multiArrayType.shape) for i in spec.description.input},
        "outputs": [o.name for o in spec.description.output],
        "spec_version": int(spec.specificationVersion),
        "ops": dict(sorted(ops.items())),
        "weights_int8": int8, "weights_float": floating,
        "user_metadata_keys": sorted(spec.description.metadata.userDefined.keys()),
    }


def export_coreml(model: GazeModel, *, quant: QuantConfig | str | Mapping[str, object] = "fp32",
                  samples: ExportSamples | None = None,
                  tolerance: ParityTolerance | None = None, source: str = "",
                  training_data: str = "unknown", features: bool = False) -> CoreMLExport:
    """``model`` as a Core ML ML Program, batch 1 (inputs ``face, left_eye, right_eye[,
    face_grid]``, output ``gaze_cm``; with ``features``, also ``features`` (1, 128),
    ``model.features`` of the frame). ``quant``: ``"fp32"``, ``"fp16"`` or ``"int8"``
    (weights only, from the fp16 program). Parity with torch runs on macOS; elsewhere it is
    reported as not run and the program is checked instead (int8 must hold int8 weights)."""
    settings = as_quant_config(quant).resolve("coreml")
    names = input_names(model)
    with quiet():
        import coremltools as ct
        import torch

        graph = ExportGraph(model, features=features)
        ex = example_inputs(model, batch=1)
        traced = torch.jit.trace(graph, tuple(ex[n] for n in names))
        precision = ct.precision.FLOAT32 if settings["precision"] == "fp32" \
            else ct.precision.FLOAT16
        ml = ct.convert(
            traced, inputs=[ct.TensorType(name=n, shape=tuple(ex[n].shape), dtype=np.float32)
                            for n in names],
            outputs=[ct.TensorType(name=n, dtype=np.float32) for n in graph.output_names],
            convert_to="mlprogram", compute_precision=precision,
            minimum_deployment_target=getattr(ct.target, DEPLOYMENT_TARGET),
            skip_model_load=sys.platform != "darwin")
        if settings["precision"] == "int8":
            import coremltools.optimize.coreml as cto

            config = cto.OptimizationConfig(global_config=cto.OpLinearQuantizerConfig(
                mode="linear_symmetric", dtype="int8",
                granularity="per_channel" if settings["per_channel"] else "per_tensor",
                weight_threshold=settings["weight_threshold"]))
            ml = cto.linear_quantize_weights(ml, config=config)
    inputs, outputs = tensor_specs(input_shapes(model), 1, outputs=output_shapes(features))
    doc = build_metadata(model, fmt="coreml", precision=settings["precision"],
                         quantization=settings, batch=1,
                         runtime=f"Core ML, ML Program ({DEPLOYMENT_TARGET}+ / macOS 13+)",
                         inputs=inputs, outputs=outputs, source=source,
                         training_data=training_data)
    ml.user_defined_metadata[EMBED_KEY] = embedded(doc)
    ml.short_description = ("gazesdk gaze model: face and eye patches -> gaze point in cm "
                            "from the front camera")
    ml.author = "gazesdk"
    ml.version = doc["model"]["gazesdk_version"]
    for spec in inputs + outputs:
        (ml.input_description if spec in inputs else ml.output_description)[spec["name"]] = \
            spec["description"]
    exported = CoreMLExport(ml, doc)
    summary = exported.program_summary()
    # weight_threshold 0 (the default) quantizes every conv and linear weight
    if settings["precision"] == "int8" and (summary["weights_int8"] == 0 or (
            settings["weight_threshold"] == 0 and summary["weights_float"] > 0)):
        raise ArtifactError(f"Core ML int8: {summary['weights_float']} conv/linear weights "
                            f"stayed float, {summary['weights_int8']} are int8")
    exported.verify(model, built_in_samples(model)[1] if samples is None else samples,
                    tolerance=tolerance)
    return exported


EXPORTED = CoreMLExport
