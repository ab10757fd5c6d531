"""Fixtures shared by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch


@pytest.fixture
def restore_threads():
    """In-process training sets torch's thread count; put it back for the next test."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def detector_model() -> Path:
    """The real BlazeFace model: the cached copy, fetched once per user (official URL, else the
    mediapipe 0.10.21 wheel through pip's package index) when missing."""
    from gazesdk.runtime.assets import AssetError, detector_model_path

    try:
        return detector_model_path()
    except AssetError as e:
        pytest.skip(f"the face detector model is not available here: {e}")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A real face photo (skimage.data.astronaut(), shipped with scikit-image)."""
    skimage_data = pytest.importorskip("skimage.data")
    return skimage_data.astronaut()


@pytest.fixture(scope="session")
def landmark_models() -> tuple[Path, Path]:
    """The real face mesh and iris models (cached, fetched once per user like the detector)."""
    from gazesdk.runtime.assets import (
        AssetError,
        face_landmark_model_path,
        iris_landmark_model_path,
    )

    try:
        return face_landmark_model_path(), iris_landmark_model_path()
    except AssetError as e:
        pytest.skip(f"the landmark models are not available here: {e}")
