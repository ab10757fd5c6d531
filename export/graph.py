"""The graph every format exports: three patches (and the face grid) in, gaze in cm out.

:class:`ExportGraph` wraps a trained :class:`~gazesdk.models.GazeModel` so that the exported
program needs no post-processing on the phone: the ordinal decoding (Guo et al. Eq. 1, sum of
sigmoids times the bin size, plus half a bin when centred) is part of the graph and the output
is ``gaze_cm``, (N, 2) cm from the front camera. The two eyes share one backbone, so the graph
stacks them into one batch of 2N and runs that backbone once: every eye weight is stored once
in the file (a converter that folds batch norm per call would otherwise duplicate them) and the
phone runs one eye pass instead of two. Outputs equal ``model.predict`` to float rounding.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gazesdk.models.gaze_model import FEATURE_DIM, GRID_SIZE, PATCH_SIZE, PATCHES, GazeModel

OUTPUT_NAME = "gaze_cm"
GRID_NAME = "face_grid"


def input_names(model: GazeModel) -> tuple[str, ...]:
    """The exported inputs, in order: face, left_eye, right_eye, then face_grid when the model
    uses it."""
    return (*PATCHES, GRID_NAME) if model.uses_face_grid else PATCHES


def input_shapes(model: GazeModel, batch: int = 1) -> dict[str, tuple[int, ...]]:
    """Name -> shape at ``batch``: patches (N, 3, 64, 64) RGB in [0, 1], face grid (N, 25, 25)
    of 0/1."""
    shapes = {name: (batch, 3, PATCH_SIZE, PATCH_SIZE) for name in PATCHES}
    if model.uses_face_grid:
        shapes[GRID_NAME] = (batch, GRID_SIZE, GRID_SIZE)
    return shapes


def example_inputs(model: GazeModel, batch: int = 2, *, seed: int = 0
                   ) -> dict[str, torch.Tensor]:
    """Valid random inputs (patches in [0, 1], a binary face grid) for tracing and exporting."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in input_shapes(model, batch).items():
        x = torch.rand(shape, generator=g)
        out[name] = (x > 0.5).float() if name == GRID_NAME else x
    return out


class ExportGraph(nn.Module):
    """``forward(face, left_eye, right_eye[, face_grid]) -> gaze_cm`` (N, 2) for export.

    Inputs are float32 RGB patches (N, 3, 64, 64) in [0, 1] (the model normalises them) and,
    for face-grid models, the (N, 25, 25) face grid of 0/1. The head-pose head, when a model
    has one, is not exported: the graph returns gaze only.
    """

    def __init__(self, model: GazeModel) -> None:
        super().__init__()
        if not isinstance(model, GazeModel):
            raise TypeError(f"export takes a GazeModel, got {type(model).__name__}")
        # a CPU copy in eval mode: the caller's model (training, on CUDA) is left as it is
        self.model = copy.deepcopy(model).cpu().eval()
        self.names = input_names(model)

    def forward(self, face: torch.Tensor, left_eye: torch.Tensor, right_eye: torch.Tensor,
                face_grid: torch.Tensor | None = None) -> torch.Tensor:
        m = self.model
        eyes = m.eye(m._normalise(torch.cat([left_eye, right_eye], 0)))
        # (2N, F) -> (2, N, F): no Python-side batch size, so the batch stays symbolic under
        # torch.export and traceable under torch.jit.trace
        pair = eyes.reshape(2, -1, FEATURE_DIM)
        left, right = pair[0], pair[1]
        grid = face_grid if m.uses_face_grid else None
        feature = m._join([m.face(m._normalise(face)), left, right], grid)
        return m.decode(m.head(feature))
