"""Shared fixtures for the export tests: a tiny model, GazeSim samples, and one export per
format and precision, made once per session (each conversion takes 5-25 s)."""

from __future__ import annotations

import pytest

from gazesdk.losses.ordinal import OrdinalBins

pytest.importorskip("onnx")


# Tests that share session-scoped exports run on one pytest-xdist worker (--dist loadgroup);
# the three groups spread over the workers.
GROUPS = {"test_onnx.py": "export-onnx", "test_metadata.py": "export-onnx",
          "test_tflite.py": "export-tflite", "test_coreml.py": "export-coreml"}


def pytest_collection_modifyitems(items):
    here = str(__file__).rsplit("/", 1)[0]
    for item in items:
        path = str(item.path)
        if path.startswith(here) and path.rsplit("/", 1)[1] in GROUPS:
            item.add_marker(pytest.mark.xdist_group(GROUPS[path.rsplit("/", 1)[1]]))


@pytest.fixture(scope="session")
def tiny_model():
    """An untrained model decodes every input to about the middle of the range, where a
    broken export hides; a head scaled up spreads its outputs over centimetres."""
    import torch

    from gazesdk.models import create_model

    torch.manual_seed(0)
    model = create_model("compact", width_mult=0.25, bins=OrdinalBins(bins=16)).eval()
    with torch.no_grad():
        model.head.linear.weight.mul_(40)
    return model


@pytest.fixture(scope="session")
def output_spread(tiny_model, export_samples):
    """Mean per-axis standard deviation (cm) of the tiny model's outputs on the held-out
    samples: int8 exports must follow torch to a small fraction of it."""
    from gazesdk.export.parity import torch_predict

    spread = float(torch_predict(tiny_model, export_samples[1]).std(0).mean())
    assert spread > 1.0
    return spread


@pytest.fixture(scope="session")
def export_samples():
    """(calibration, held-out): 2 + 2 subjects, 10 frames each and a 5-frame stare."""
    from gazesdk.export.samples import gazesim_samples

    return gazesim_samples(subjects=4, frames_per_subject=10, stare_sequences=1, stare_frames=5)


@pytest.fixture(scope="session")
def exports(tiny_model, export_samples, output_spread):
    """``exports(fmt, quant)``: the tiny model exported once per (format, quant) per session;
    int8 parity must hold to a mean |diff| of half the outputs' spread (an export that
    has lost the input gives about 0.8 of it)."""
    from gazesdk.export import ParityTolerance
    from gazesdk.export.registry import exporter

    calib, held = export_samples
    made: dict = {}

    def get(fmt: str, quant: str = "fp32"):
        if (fmt, quant) not in made:
            kwargs = {} if fmt == "coreml" else {"calibration": calib}
            q = {"precision": "int8", "mode": "dynamic"} if quant == "int8-dynamic" else quant
            if quant.startswith("int8"):
                kwargs["tolerance"] = ParityTolerance(mean_abs_cm=0.5 * output_spread)
            made[(fmt, quant)] = exporter(fmt)(tiny_model, quant=q, samples=held, **kwargs)
        return made[(fmt, quant)]

    return get
