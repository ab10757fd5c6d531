"""The three-branch gaze network of Guo et al. (after iTracker, Krafka et al. 2016).

One backbone per 64x64 RGB patch: the face has its own, the two eyes share one (the same module
runs on both, as in iTracker). Each gives a 128-D vector; the three are concatenated (384-D),
optionally with iTracker's face-grid feature (625 -> 256 -> 128), and a fully connected layer
with ReLU maps them to the 128-D gaze feature, on which the head predicts. Build models with
:func:`gazesdk.models.create_model`.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Collection
from typing import Any

import torch
from torch import nn

from gazesdk.data.arrays import PATCHES  # noqa: F401 - re-exported: the patch input names
from gazesdk.losses.ordinal import OrdinalBins

PATCH_SIZE = 64
GRID_SIZE = 25
FEATURE_DIM = 128
GRID_HIDDEN = 256
PATCH_MEAN = 0.5
PATCH_STD = 0.5


class GazeModel(nn.Module):
    """Face, left-eye and right-eye patches (and the face grid) -> gaze.

    Patches are float (N, 3, 64, 64) RGB in [0, 1]; the model normalises them itself with fixed
    mean and std (0.5, 0.5), so an exported model takes [0, 1] input. The face grid is (N, 25, 25)
    or (N, 625); it is needed when the model was built with ``face_grid=True`` and ignored
    otherwise. ``forward`` returns the head's raw output (ordinal: logits (N, 2, B); l2: (N, 2)
    cm), :meth:`decode` turns it into (N, 2) cm, and :meth:`predict` does both.
    """

    def __init__(self, face: nn.Module, eye: nn.Module, head: nn.Module, *,
                 face_grid: bool, bins: OrdinalBins, config: dict[str, Any],
                 pose: nn.Module | None = None) -> None:
        super().__init__()
        self.face = face
        self.eye = eye
        self.uses_face_grid = bool(face_grid)
        self.bins = bins
        self.grid: nn.Module | None = None
        width = 3 * FEATURE_DIM
        if self.uses_face_grid:
            self.grid = nn.Sequential(OrderedDict(
                flatten=nn.Flatten(1), fc1=nn.Linear(GRID_SIZE * GRID_SIZE, GRID_HIDDEN),
                relu1=nn.ReLU(), fc2=nn.Linear(GRID_HIDDEN, FEATURE_DIM), relu2=nn.ReLU()))
            width += FEATURE_DIM
        self.fc = nn.Linear(width, FEATURE_DIM)
        self.relu = nn.ReLU()
        self.head = head
        self.pose = pose
        self.register_buffer("input_mean", torch.full((1, 3, 1, 1), PATCH_MEAN),
                             persistent=False)
        self.register_buffer("input_std", torch.full((1, 3, 1, 1), PATCH_STD), persistent=False)
        self._config = copy.deepcopy(config)

    def set_crops(self, name: str) -> None:
        """Record the crop geometry (:data:`gazesdk.runtime.crops.CROP_GEOMETRIES`) the model is
        trained on; exports write it into their metadata so the runtime crops alike."""
        self._config["crops"] = str(name)

    @property
    def config(self) -> dict[str, Any]:
        """A copy of the plain-dict config that :func:`model_from_config` rebuilds this from."""
        return copy.deepcopy(self._config)

    @property
    def head_name(self) -> str:
        return str(self._config["head"])

    def _check(self, face: torch.Tensor, left_eye: torch.Tensor, right_eye: torch.Tensor,
               face_grid: torch.Tensor | None) -> torch.Tensor | None:
        """Validate the inputs (skipped under TorchScript tracing, whose sizes are tensors) and
        return the face grid to use, as the patches' dtype."""
        if torch.jit.is_tracing():
            return face_grid.to(face.dtype) if self.uses_face_grid and face_grid is not None \
                else None
        for name, x in zip(PATCHES, (face, left_eye, right_eye), strict=True):
            if not isinstance(x, torch.Tensor):
                raise ValueError(f"{name} must be a tensor (N, 3, {PATCH_SIZE}, {PATCH_SIZE}), "
                                 f"got {type(x).__name__}")
            if x.dim() != 4 or tuple(x.shape[1:]) != (3, PATCH_SIZE, PATCH_SIZE):
                raise ValueError(f"{name} must have shape (N, 3, {PATCH_SIZE}, {PATCH_SIZE}) "
                                 f"(RGB, channels first), got {tuple(x.shape)}")
            if not x.is_floating_point():
                raise ValueError(f"{name} must be a float tensor in [0, 1], got {x.dtype}")
        # (not while torch.export traces: there the batch sizes are symbols, equal by design)
        sizes = [x.shape[0] for x in (face, left_eye, right_eye)]
        if not torch.compiler.is_compiling() and len(set(sizes)) > 1:
            raise ValueError(f"face, left_eye and right_eye must have the same batch size, got "
                             f"{sizes[0]}, {sizes[1]} and {sizes[2]}")
        if not self.uses_face_grid:
            return None
        if face_grid is None:
            raise ValueError("this model uses the face grid (face_grid=True): pass face_grid, "
                             f"(N, {GRID_SIZE}, {GRID_SIZE}) or (N, {GRID_SIZE * GRID_SIZE})")
        if not isinstance(face_grid, torch.Tensor) or tuple(face_grid.shape[1:]) not in (
                (GRID_SIZE, GRID_SIZE), (GRID_SIZE * GRID_SIZE,)):
            shape = tuple(face_grid.shape) if isinstance(face_grid, torch.Tensor) \
                else type(face_grid).__name__
            raise ValueError(f"face_grid must have shape (N, {GRID_SIZE}, {GRID_SIZE}) or "
                             f"(N, {GRID_SIZE * GRID_SIZE}), got {shape}")
        if not torch.compiler.is_compiling() and face_grid.shape[0] != sizes[0]:
            raise ValueError(f"face_grid has batch size {face_grid.shape[0]}, the patches "
                             f"{sizes[0]}")
        return face_grid.to(face.dtype)

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.input_mean) / self.input_std

    def features(self, face: torch.Tensor, left_eye: torch.Tensor, right_eye: torch.Tensor,
                 face_grid: torch.Tensor | None = None) -> torch.Tensor:
        """The (N, 128) gaze feature: the output of the final fully connected layer + ReLU."""
        grid = self._check(face, left_eye, right_eye, face_grid)
        # One eye module, run twice: the left and right eye branches share every weight.
        parts = [self.face(self._normalise(face)), self.eye(self._normalise(left_eye)),
                 self.eye(self._normalise(right_eye))]
        return self._join(parts, grid)

    def _join(self, parts: list[torch.Tensor], grid: torch.Tensor | None) -> torch.Tensor:
        if self.grid is not None and grid is not None:
            parts.append(self.grid(grid))
        return self.relu(self.fc(torch.cat(parts, 1)))

    def features_with_taps(self, face: torch.Tensor, left_eye: torch.Tensor,
                           right_eye: torch.Tensor, face_grid: torch.Tensor | None = None, *,
                           face_taps: Collection[str] = (), eye_taps: Collection[str] = ()
                           ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """:meth:`features` and the feature maps of the named backbone layers, keyed
        ``"face.<layer>"``, ``"left_eye.<layer>"`` and ``"right_eye.<layer>"`` (for the
        self-supervised heads of :mod:`gazesdk.pretrain`)."""
        from gazesdk.models.taps import run_tapped

        grid = self._check(face, left_eye, right_eye, face_grid)
        taps: dict[str, torch.Tensor] = {}
        parts = []
        for patch, x, module, names in (("face", face, self.face, face_taps),
                                        ("left_eye", left_eye, self.eye, eye_taps),
                                        ("right_eye", right_eye, self.eye, eye_taps)):
            out, maps = run_tapped(module, self._normalise(x), names)
            parts.append(out)
            taps.update({f"{patch}.{k}": v for k, v in maps.items()})
        return self._join(parts, grid), taps

    def forward(self, face: torch.Tensor, left_eye: torch.Tensor, right_eye: torch.Tensor,
                face_grid: torch.Tensor | None = None, *, with_pose: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """The head's raw output: logits (N, 2, B) for the ordinal head, (N, 2) cm for l2.
        ``with_pose`` (models built with ``head_pose=True``): also the head-pose logits
        (N, 3, 66), from the same features."""
        feature = self.features(face, left_eye, right_eye, face_grid)
        if not with_pose:
            return self.head(feature)
        if self.pose is None:
            raise ValueError("this model has no head-pose head (build it with head_pose=True)")
        return self.head(feature), self.pose(feature)

    def predict_head_pose(self, face: torch.Tensor, left_eye: torch.Tensor,
                          right_eye: torch.Tensor, face_grid: torch.Tensor | None = None
                          ) -> torch.Tensor:
        """(N, 3) head yaw, pitch, roll in degrees (camera frame, GazeSim's convention: see
        ``head_pose_deg`` in :mod:`gazesdk.data.arrays`)."""
        if self.pose is None:
            raise ValueError("this model has no head-pose head (build it with head_pose=True)")
        return self.pose.decode(self.pose(self.features(face, left_eye, right_eye, face_grid)))

    def decode(self, output: torch.Tensor) -> torch.Tensor:
        """Raw output -> (N, 2) gaze in cm (ordinal: Guo et al. Eq. 1 decoding; l2: identity)."""
        return self.head.decode(output)

    def predict(self, face: torch.Tensor, left_eye: torch.Tensor, right_eye: torch.Tensor,
                face_grid: torch.Tensor | None = None) -> torch.Tensor:
        """(N, 2) gaze in cm: ``decode(forward(...))``."""
        return self.decode(self.forward(face, left_eye, right_eye, face_grid))
