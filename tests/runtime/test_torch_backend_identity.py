"""The torch backend names the weights file it runs by sha256, so calibration profiles can be
bound to a ``.safetensors`` model (``gazesdk calibrate`` on a training run's weights)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from helpers import small_sim

pytest.importorskip("torch")

from gazesdk.calibration.dataset import fit_sessions  # noqa: E402
from gazesdk.data.arrays import load_arrays  # noqa: E402
from gazesdk.models import create_model  # noqa: E402
from gazesdk.runtime.backends.torch import TorchBackend  # noqa: E402
from gazesdk.training.checkpoint import export_weights  # noqa: E402


@pytest.fixture
def weights(tmp_path):
    model = create_model("compact")
    path = tmp_path / "model.safetensors"
    export_weights(path, model.state_dict(), model.config)
    return path


def test_sha256_is_that_of_the_file(weights):
    backend = TorchBackend(weights)
    assert backend.metadata["artifact"]["sha256"] == hashlib.sha256(
        weights.read_bytes()).hexdigest()
    from gazesdk.models.loading import default_model_path

    bundled = TorchBackend("default").metadata["artifact"]["sha256"]
    assert bundled == hashlib.sha256(default_model_path().read_bytes()).hexdigest()


def test_calibration_fits_sessions_through_the_torch_backend(weights, tmp_path):
    data_dir = small_sim(tmp_path, subjects=2, frames_per_subject=12, calibration_dots=9,
                         split_fractions=(0.0, 0.0, 1.0), seed=3)
    data = load_arrays(data_dir)
    backend = TorchBackend(weights)
    fits, skipped = fit_sessions(data, backend, method="offset", split="test", progress=False)
    assert len(fits) == 2 and not skipped
    for f in fits:
        assert f.profile.model_sha256 == backend.metadata["artifact"]["sha256"]
        assert np.isfinite(f.calibrated_cm) and f.frames == 12
