"""Starting a run from a pre-trained encoder (``gazesdk train --init``): every weight of the
gaze model except its output head comes from the source, which must have the same
architecture (backbone, its options, face grid)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from gazesdk.errors import ConfigError
from gazesdk.training.checkpoint import CheckpointError, load_checkpoint, load_weights

# Config keys that describe the output head, free to differ between pre-training and now.
HEAD_KEYS = ("head", "bins", "x_range", "y_range", "centred", "head_pose")
SOURCES = ("encoder.safetensors", "model.safetensors", "checkpoint.pt")


def _resolve(source: str | os.PathLike) -> Path:
    path = Path(source)
    if path.is_dir():
        for name in SOURCES:
            if (path / name).is_file():
                return path / name
        raise ConfigError(f"--init {path}: the folder holds none of {', '.join(SOURCES)}")
    if not path.is_file():
        raise ConfigError(f"--init {path}: no such file")
    return path


def load_encoder(model: torch.nn.Module, source: str | os.PathLike) -> Path:
    """Copy the encoder weights of ``source`` into ``model`` (a GazeModel); returns the file
    read. Head weights are left as they are; anything else missing or misshapen is an
    error."""
    path = _resolve(source)
    try:
        if path.suffix == ".safetensors":
            state, config = load_weights(path)
        else:
            ck = load_checkpoint(path)
            state, config = ck.model_state, dict(ck.model_config or {})
    except CheckpointError as e:
        raise ConfigError(f"--init {path}: {e}") from None
    mine = model.config
    differ = sorted(k for k in set(mine) | set(config) if k not in HEAD_KEYS
                    and mine.get(k) != config.get(k))
    if differ:
        shown = ", ".join(f"{k} {config.get(k)!r} there, {mine.get(k)!r} here" for k in differ)
        raise ConfigError(f"--init {path} has another architecture ({shown})")
    if any(k.startswith("gaze.") for k in state):     # a pre-training run's checkpoint
        state = {k[len("gaze."):]: v for k, v in state.items() if k.startswith("gaze.")}
    own = model.state_dict()
    wanted = [k for k in own if not k.startswith(("head.", "pose."))]
    missing = [k for k in wanted if k not in state]
    if missing:
        raise ConfigError(f"--init {path} lacks {len(missing)} encoder tensor(s), e.g. "
                          f"{missing[0]}")
    bad = [k for k in wanted if tuple(state[k].shape) != tuple(own[k].shape)]
    if bad:
        raise ConfigError(f"--init {path}: {bad[0]} has shape {tuple(state[bad[0]].shape)}, "
                          f"the model {tuple(own[bad[0]].shape)}")
    with torch.no_grad():
        for k in wanted:
            own[k].copy_(state[k].to(own[k].dtype))
    return path
