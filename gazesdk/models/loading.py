"""Loading a trained model: a training checkpoint, exported weights, or the bundled default."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import torch

from gazesdk.models.gaze_model import GazeModel
from gazesdk.models.registry import model_from_config

DEFAULT_MODEL = "default"


def default_model_path() -> Path:
    """Where the bundled GazeSim-trained model lives inside the package."""
    return Path(str(resources.files("gazesdk.models").joinpath("assets/default.safetensors")))


def load_model(source: str | os.PathLike, *, map_location: str | torch.device = "cpu"
               ) -> GazeModel:
    """A model in eval mode from ``checkpoint.pt`` (``gazesdk train``), ``*.safetensors``
    (weights + config), or ``"default"`` (the bundled model). Only tensors and plain data are
    read; checkpoints holding pickled code are refused."""
    from gazesdk.training.checkpoint import CheckpointError, load_checkpoint, load_weights

    if str(source) == DEFAULT_MODEL:
        path = default_model_path()
        if not path.is_file():
            raise CheckpointError(f"the bundled model is missing from this installation "
                                  f"({path}); reinstall gazesdk or pass --checkpoint PATH")
    else:
        path = Path(source)
    if path.suffix == ".safetensors":
        state, config = load_weights(path)
    else:
        ck = load_checkpoint(path, map_location=map_location)
        state, config = ck.model_state, ck.model_config
    try:
        model = model_from_config(config)
        model.load_state_dict(state)
    except (TypeError, RuntimeError, KeyError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path}: its weights do not match its model config ({first})"
                              ) from None
    return model.eval()
