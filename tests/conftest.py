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


@pytest.fixture(scope="session")
def astronaut_shut(astronaut) -> np.ndarray:
    """The astronaut with her eyelids painted shut (each opening filled with the skin below it,
    a lash line drawn): a real face with closed eyes."""
    import cv2

    shut = np.ascontiguousarray(astronaut).copy()
    skin = astronaut[118:122, 205:240].reshape(-1, 3).mean(axis=0)
    for cx, cy in ((203, 102), (246, 104)):
        cv2.ellipse(shut, (cx, cy), (12, 7), 0, 0, 360, tuple(float(c) for c in skin), -1)
        cv2.line(shut, (cx - 11, cy + 1), (cx + 11, cy + 1), (60, 40, 35), 1)
    return shut
