"""Export trained gaze models for phones: ONNX, CoreML and TFLite at fp32, fp16 and int8.

One function per format returns an :class:`ExportedModel` that runs on numpy inputs (where the
platform allows) and writes itself with ``.export(path)``, together with validated metadata and
golden vectors. Every export is checked for parity with the torch model on held-out samples.

    from gazesdk.models.loading import load_model
    from gazesdk.export import export_onnx
    exported = export_onnx(load_model("default"), quant="int8")
    exported.export("out/gaze_int8.onnx")

The format modules import their toolchains (onnx, coremltools, litert-torch) only when used.
"""

import importlib

# Names -> defining module, imported on first use: the runtime reads metadata through this
# package and must not pull torch or the converters in with it.
_LAZY = {
    "ExportedModel": "exported", "load_exported": "exported", "read_golden": "exported",
    "ArtifactError": "metadata", "read_metadata": "metadata", "validate_metadata": "metadata",
    "ParityError": "parity", "ParityReport": "parity", "ParityTolerance": "parity",
    "check_parity": "parity", "QuantConfig": "quant", "exporter": "registry",
    "list_formats": "registry", "CalibrationData": "samples", "ExportSamples": "samples",
    "gazesim_samples": "samples",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(f"gazesdk.export.{_LAZY[name]}"), name)
    # export_onnx, export_coreml, export_tflite: imported with their toolchain on first use
    if name.startswith("export_"):
        from gazesdk.export.registry import exporter, list_formats
        if name[len("export_"):] in list_formats():
            return exporter(name[len("export_"):])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ArtifactError", "CalibrationData", "ExportSamples", "ExportedModel", "ParityError",
           "ParityReport", "ParityTolerance", "QuantConfig", "check_parity", "export_coreml",
           "export_onnx", "export_tflite", "exporter", "gazesim_samples", "list_formats",
           "load_exported", "read_golden", "read_metadata", "validate_metadata"]
