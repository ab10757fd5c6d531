"""Shared fixtures for the export tests: a tiny model, GazeSim samples, and one export per
format and precision, made once per session (each conversion takes 5-25 s)."""

from __future__ import annotations

import pytest

from gazesdk.losses.ordinal import OrdinalBins

pytest.importorskip("onnx")


@pytest.fixture(scope="session")
def tiny_model():
    import torch

    from gazesdk.models import create_model

    torch.manual_seed(0)
    return create_model("compact", width_mult=0.25, bins=OrdinalBins(bins=16)).eval()


@pytest.fixture(scope="session")
def export_samples():
    """(calibration, held-out): 2 + 2 subjects, 10 frames each and a 5-frame stare."""
    from gazesdk.export.samples import gazesim_samples

    return gazesim_samples(subjects=4, frames_per_subject=10, stare_sequences=1, stare_frames=5)


@pytest.fixture(scope="session")
def exports(tiny_model, export_samples):
    """``exports(fmt, quant)``: the tiny model exported once per (format, quant) per session."""
    from gazesdk.export.registry import exporter

    calib, held = export_samples
    made: dict = {}

    def get(fmt: str, quant: str = "fp32"):
        if (fmt, quant) not in made:
            kwargs = {} if fmt == "coreml" else {"calibration": calib}
            q = {"precision": "int8", "mode": "dynamic"} if quant == "int8-dynamic" else quant
            made[(fmt, quant)] = exporter(fmt)(tiny_model, quant=q, samples=held, **kwargs)
        return made[(fmt, quant)]

    return get
