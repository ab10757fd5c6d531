"""The graph every format exports: three patches (and the face grid, and a hybrid model's eye
geometry) in, gaze in cm out.

:class:`ExportGraph` wraps a trained :class:`~gazesdk.models.GazeModel` so that the exported
program needs no post-processing on the phone: the ordinal decoding (Guo et al. Eq. 1, sum of
sigmoids times the bin size, plus half a bin when centred) is part of the graph and the output
is ``gaze_cm``, (N, 2) cm from the front camera. The two eyes share one backbone, so the graph
stacks them into one batch of 2N and runs that backbone once: every eye weight is stored once
in the file (a converter that folds batch norm per call would otherwise duplicate them) and the
phone runs one eye pass instead of two. Outputs equal ``model.predict`` to float rounding.

With ``features=True`` the graph has a second output, ``features``: the (N, 128) gaze feature
the head predicts from (``model.features``), so that an app can fit a per-user ridge regression
on it on the phone (issue 18) without a second model.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gazesdk.models.gaze_model import (
    FEATURE_DIM,
    GEOMETRY_DIM,
    GRID_SIZE,
    PATCH_SIZE,
    PATCHES,
    GazeModel,
    mirror_inputs,
)

OUTPUT_NAME = "gaze_cm"
FEATURES_NAME = "features"
GRID_NAME = "face_grid"
GEOMETRY_NAME = "eye_geometry"


def input_names(model: GazeModel) -> tuple[str, ...]:
    """The exported inputs, in order: face, left_eye, right_eye, then face_grid when the model
    uses it, then eye_geometry for a hybrid model."""
    names = (*PATCHES, GRID_NAME) if model.uses_face_grid else PATCHES
    return (*names, GEOMETRY_NAME) if model.uses_eye_geometry else names


def input_shapes(model: GazeModel, batch: int = 1) -> dict[str, tuple[int, ...]]:
    """Name -> shape at ``batch``: patches (N, 3, 64, 64) RGB in [0, 1], face grid (N, 25, 25)
    of 0/1, eye geometry (N, 4)."""
    shapes = {name: (batch, 3, PATCH_SIZE, PATCH_SIZE) for name in PATCHES}
    if model.uses_face_grid:
        shapes[GRID_NAME] = (batch, GRID_SIZE, GRID_SIZE)
    if model.uses_eye_geometry:
        shapes[GEOMETRY_NAME] = (batch, GEOMETRY_DIM)
    return shapes


def output_names(features: bool = False) -> tuple[str, ...]:
    """The exported outputs, in order: gaze_cm, then features when asked for."""
    return (OUTPUT_NAME, FEATURES_NAME) if features else (OUTPUT_NAME,)


def output_shapes(features: bool = False, batch: int = 1) -> dict[str, tuple[int, ...]]:
    """Name -> shape at ``batch``: gaze (N, 2) cm, features (N, 128)."""
    shapes = {OUTPUT_NAME: (batch, 2)}
    if features:
        shapes[FEATURES_NAME] = (batch, FEATURE_DIM)
    return shapes


def example_inputs(model: GazeModel, batch: int = 2, *, seed: int = 0
                   ) -> dict[str, torch.Tensor]:
    """Valid random inputs (patches in [0, 1], a binary face grid) for tracing and exporting."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in input_shapes(model, batch).items():
        x = torch.rand(shape, generator=g)
        if name == GRID_NAME:
            x = (x > 0.5).float()
        elif name == GEOMETRY_NAME:        # iris offsets of a few hundredths of an eye width
            x = 0.2 * x - 0.1
        out[name] = x
    return out


class ExportGraph(nn.Module):
    """``forward(face, left_eye, right_eye[, face_grid][, eye_geometry]) -> gaze_cm`` (N, 2)
    for export; with ``features=True``, ``(gaze_cm, features)`` with features (N, 128).

    Inputs are float32 RGB patches (N, 3, 64, 64) in [0, 1] (the model normalises them) and,
    for face-grid models, the (N, 25, 25) face grid of 0/1, and for hybrid models the (N, 4)
    iris-in-eye geometry (:mod:`gazesdk.runtime.eye_geometry`). The head-pose head, when a model
    has one, is not exported.

    ``features`` is ``model.features`` of the frame as given. With mirror averaging the gaze is
    the mean of the frame's and its mirror's, but the features are the un-mirrored half of the
    2N batch, NOT averaged with the mirror's: the feature space has no mirror symmetry to
    average in (unlike gaze, where x flips), and so the exported features equal what
    ``model.features`` and the torch backend give, on which a calibration may also be fitted.
    """

    def __init__(self, model: GazeModel, *, features: bool = False) -> None:
        super().__init__()
        if not isinstance(model, GazeModel):
            raise TypeError(f"export takes a GazeModel, got {type(model).__name__}")
        # a CPU copy in eval mode: the caller's model (training, on CUDA) is left as it is
        self.model = copy.deepcopy(model).cpu().eval()
        self.names = input_names(model)
        self.with_features = bool(features)
        self.output_names = output_names(self.with_features)

    def forward(self, face: torch.Tensor, left_eye: torch.Tensor, right_eye: torch.Tensor,
                face_grid: torch.Tensor | None = None,
                eye_geometry: torch.Tensor | None = None
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        m = self.model
        grid = face_grid if m.uses_face_grid else None
        geometry = eye_geometry if m.uses_eye_geometry else None
        if m.mirror_average:         # the mirrored inputs ride in the same batch: 2N
            mf, ml, mr, mg, mgeo = mirror_inputs(face, left_eye, right_eye, grid, geometry)
            face, left_eye, right_eye = (torch.cat(p, 0) for p in ((face, mf), (left_eye, ml),
                                                                   (right_eye, mr)))
            grid = None if grid is None else torch.cat([grid, mg], 0)
            geometry = None if geometry is None else torch.cat([geometry, mgeo], 0)
        eyes = m.eye(m._normalise(torch.cat([left_eye, right_eye], 0)))
        # (2N, F) -> (2, N, F): no Python-side batch size, so the batch stays symbolic under
        # torch.export and traceable under torch.jit.trace
        pair = eyes.reshape(2, -1, FEATURE_DIM)
        left, right = pair[0], pair[1]
        feature = m._join([m.face(m._normalise(face)), left, right], grid, geometry)
        gaze = m.decode(m.head(feature))
        if not m.mirror_average:
            return (gaze, feature) if self.with_features else gaze
        both = gaze.reshape(2, -1, 2)
        gaze = (both[0] + both[1] * both.new_tensor([-1.0, 1.0])) / 2
        if not self.with_features:
            return gaze
        return gaze, feature.reshape(2, -1, FEATURE_DIM)[0]     # the un-mirrored frame
