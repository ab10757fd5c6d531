"""Model size and cost: parameters and multiply-accumulates (MACs) of one sample.

MACs are counted on a real forward pass with hooks on every ``Conv2d`` (output elements x
in_channels / groups x kh x kw) and ``Linear`` (output rows x in_features x out_features); a
module that runs twice (the shared eye branch) is counted twice. BatchNorm, activations,
pooling and additions are not counted (BatchNorm folds into the convolutions on export).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gazesdk.models.gaze_model import GRID_SIZE, PATCH_SIZE, GazeModel


def count_params(model: nn.Module) -> int:
    """Number of parameters (shared ones once)."""
    return sum(p.numel() for p in model.parameters())


def _macs_hook(counter: list[int]):
    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            counter[0] += output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            rows = output.numel() // module.out_features
            counter[0] += rows * module.in_features * module.out_features
    return hook


def gaze_inputs(model: GazeModel, face_grid: bool | None = None) -> tuple[torch.Tensor, ...]:
    """One-sample inputs for ``model``: three [0, 1] patches and, if used, a face grid."""
    use_grid = model.uses_face_grid if face_grid is None else face_grid
    if use_grid and not model.uses_face_grid:
        raise ValueError("face_grid=True, but this model has no face-grid branch")
    if not use_grid and model.uses_face_grid:
        raise ValueError("this model needs a face grid; it cannot be counted without one")
    param = next(model.parameters())
    patch = torch.full((1, 3, PATCH_SIZE, PATCH_SIZE), 0.5, device=param.device,
                       dtype=param.dtype)
    inputs: tuple[torch.Tensor, ...] = (patch, patch.clone(), patch.clone())
    if use_grid:
        inputs += (torch.zeros(1, GRID_SIZE, GRID_SIZE, device=param.device,
                               dtype=param.dtype),)
    if model.uses_eye_geometry:     # hybrid models: the iris-in-eye geometry too
        inputs += (torch.zeros(1, 4, device=param.device, dtype=param.dtype),)
    return inputs


@torch.no_grad()
def count_macs(model: nn.Module, inputs: Sequence[torch.Tensor] | None = None, *,
               face_grid: bool | None = None) -> int:
    """Multiply-adds of one forward pass on ``inputs`` (default, for a :class:`GazeModel`: one
    sample of three patches, plus the face grid when the model uses one; ``face_grid`` must
    agree with the model). Counts every sample in ``inputs``: pass one-sample inputs."""
    if inputs is None:
        if not isinstance(model, GazeModel):
            raise TypeError("count_macs needs inputs for a model that is not a GazeModel")
        inputs = gaze_inputs(model, face_grid)
    counter = [0]
    handles = [m.register_forward_hook(_macs_hook(counter)) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    try:
        model(*inputs)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return counter[0]
