"""The three-branch gaze network of Guo et al. (after iTracker, Krafka et al. 2016).

One backbone per 64x64 RGB patch: the face has its own, the two eyes share one (the same module
runs on both, as in iTracker). Each gives a 128-D vector; the three are concatenated (384-D),
optionally with iTracker's face-grid feature (625 -> 256 -> 128) and, for *hybrid* models
(issue 17), the iris-in-eye geometry of MediaPipe's real-data iris model (``eye_geometry``,
(N, 4): :mod:`gazesdk.runtime.eye_geometry`; 4 -> 64 -> 128, or, ``binocular``, its two-eye
mean 2 -> 64 -> 128), and a fully connected layer with ReLU maps them to the 128-D gaze feature,
on which the head predicts. Build models with :func:`gazesdk.models.create_model`.

Why a binocular mode: both eyes look at one point, so the mean of the two irises' offsets is
the cyclopean gaze direction (vergence cancels). Measured on the real-face suite (issue 17) it
lowers the lens bias but does not lower the mirror error, so the bundled model stays per-eye.
The input stays the per-eye (N, 4), so apps feed every hybrid model alike.
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
GEOMETRY_DIM = 4
# what the geometry branch reads of the (N, 4) input: all four, or the two eyes' mean (u, v)
GEOMETRY_MODES = ("per_eye", "binocular")
GEOMETRY_HIDDEN = 64
# iris offsets are a few hundredths of an eye width: scaled to order one before the first layer
GEOMETRY_SCALE = 10.0
# the eye geometry of the mirrored frame: eyes swap, the offset along the eye line flips
_GEOMETRY_MIRROR_ORDER = [2, 3, 0, 1]
_GEOMETRY_MIRROR_SIGN = (-1.0, 1.0, -1.0, 1.0)


def mirror_inputs(face: torch.Tensor, left_eye: torch.Tensor, right_eye: torch.Tensor,
                  face_grid: torch.Tensor | None = None,
                  eye_geometry: torch.Tensor | None = None) -> tuple[torch.Tensor | None, ...]:
    """The inputs of the mirrored frame: the face patch flipped, the eyes swapped and flipped
    (the subject's left eye of the mirror image is their right eye mirrored), the face grid
    flipped, the eye geometry's eyes swapped with u negated. Its gaze is (-x, y)."""
    geometry = None
    if eye_geometry is not None:
        sign = torch.tensor(_GEOMETRY_MIRROR_SIGN, dtype=eye_geometry.dtype,
                            device=eye_geometry.device)
        geometry = eye_geometry[:, _GEOMETRY_MIRROR_ORDER] * sign
    return (face.flip(-1), right_eye.flip(-1), left_eye.flip(-1),
            None if face_grid is None else face_grid.flip(-1), geometry)


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
                 pose: nn.Module | None = None, eye_geometry: bool = False,
                 eye_geometry_mode: str = "per_eye") -> None:
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
        self.uses_eye_geometry = bool(eye_geometry)
        if eye_geometry_mode not in GEOMETRY_MODES:
            raise ValueError(f"eye_geometry_mode must be one of {', '.join(GEOMETRY_MODES)}, "
                             f"got {eye_geometry_mode!r}")
        self.eye_geometry_mode = eye_geometry_mode
        self.geometry: nn.Module | None = None
        if self.uses_eye_geometry:
            width_in = GEOMETRY_DIM if eye_geometry_mode == "per_eye" else GEOMETRY_DIM // 2
            self.geometry = nn.Sequential(OrderedDict(
                fc1=nn.Linear(width_in, GEOMETRY_HIDDEN), relu1=nn.ReLU(),
                fc2=nn.Linear(GEOMETRY_HIDDEN, FEATURE_DIM), relu2=nn.ReLU()))
            width += FEATURE_DIM
        self.fc = nn.Linear(width, FEATURE_DIM)
        self.relu = nn.ReLU()
        self.head = head
        self.pose = pose
        self.register_buffer("input_mean", torch.full((1, 3, 1, 1), PATCH_MEAN),
                             persistent=False)
        self.register_buffer("input_std", torch.full((1, 3, 1, 1), PATCH_STD), persistent=False)
        self._config = copy.deepcopy(config)

    @property
    def mirror_average(self) -> bool:
        """Whether :meth:`predict` (and every export) averages the gaze with the mirrored
        gaze of the mirrored inputs, which makes the model mirror-consistent by construction
        (a mirrored face gives the mirrored gaze) at twice the backbone work."""
        return bool(self._config.get("mirror_average", False))

    def set_mirror_average(self, on: bool) -> None:
        if not isinstance(on, bool):
            raise ValueError(f"mirror_average must be true or false, got {on!r}")
        if on and self.bins.x_range[0] != -self.bins.x_range[1]:
            raise ValueError("mirror averaging needs an x range symmetric about the camera, "
                             f"got {self.bins.x_range}")
        if on:
            self._config["mirror_average"] = True
        else:
            self._config.pop("mirror_average", None)

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
                 face_grid: torch.Tensor | None = None,
                 eye_geometry: torch.Tensor | None = None) -> torch.Tensor:
        """The (N, 128) gaze feature: the output of the final fully connected layer + ReLU."""
        grid = self._check(face, left_eye, right_eye, face_grid)
        geometry = self._check_geometry(eye_geometry, face)
        # One eye module, run twice: the left and right eye branches share every weight.
        parts = [self.face(self._normalise(face)), self.eye(self._normalise(left_eye)),
                 self.eye(self._normalise(right_eye))]
        return self._join(parts, grid, geometry)

    def _check_geometry(self, eye_geometry: torch.Tensor | None, face: torch.Tensor
                        ) -> torch.Tensor | None:
        """The eye geometry to use (hybrid models), as the patches' dtype."""
        if not self.uses_eye_geometry:
            return None
        if eye_geometry is None:
            raise ValueError(f"this hybrid model takes the iris-in-eye geometry: pass "
                             f"eye_geometry (N, {GEOMETRY_DIM})")
        if torch.jit.is_tracing() or torch.compiler.is_compiling():
            return eye_geometry.to(face.dtype)
        if not isinstance(eye_geometry, torch.Tensor) or tuple(eye_geometry.shape) != (
                face.shape[0], GEOMETRY_DIM):
            shape = tuple(eye_geometry.shape) if isinstance(eye_geometry, torch.Tensor) \
                else type(eye_geometry).__name__
            raise ValueError(f"eye_geometry must have shape (N, {GEOMETRY_DIM}) with the "
                             f"patches' N = {face.shape[0]}, got {shape}")
        return eye_geometry.to(face.dtype)

    def _join(self, parts: list[torch.Tensor], grid: torch.Tensor | None,
              geometry: torch.Tensor | None = None) -> torch.Tensor:
        if self.grid is not None and grid is not None:
            parts.append(self.grid(grid))
        if self.geometry is not None and geometry is not None:
            if self.eye_geometry_mode == "binocular":   # (left + right) / 2 of (u, v)
                geometry = (geometry[:, 0:2] + geometry[:, 2:4]) / 2
            parts.append(self.geometry(geometry * GEOMETRY_SCALE))
        return self.relu(self.fc(torch.cat(parts, 1)))

    def features_with_taps(self, face: torch.Tensor, left_eye: torch.Tensor,
                           right_eye: torch.Tensor, face_grid: torch.Tensor | None = None,
                           eye_geometry: torch.Tensor | None = None, *,
                           face_taps: Collection[str] = (), eye_taps: Collection[str] = ()
                           ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """:meth:`features` and the feature maps of the named backbone layers, keyed
        ``"face.<layer>"``, ``"left_eye.<layer>"`` and ``"right_eye.<layer>"`` (for the
        self-supervised heads of :mod:`gazesdk.pretrain`)."""
        from gazesdk.models.taps import run_tapped

        grid = self._check(face, left_eye, right_eye, face_grid)
        geometry = self._check_geometry(eye_geometry, face)
        taps: dict[str, torch.Tensor] = {}
        parts = []
        for patch, x, module, names in (("face", face, self.face, face_taps),
                                        ("left_eye", left_eye, self.eye, eye_taps),
                                        ("right_eye", right_eye, self.eye, eye_taps)):
            out, maps = run_tapped(module, self._normalise(x), names)
            parts.append(out)
            taps.update({f"{patch}.{k}": v for k, v in maps.items()})
        return self._join(parts, grid, geometry), taps

    def forward(self, face: torch.Tensor, left_eye: torch.Tensor, right_eye: torch.Tensor,
                face_grid: torch.Tensor | None = None,
                eye_geometry: torch.Tensor | None = None, *, with_pose: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """The head's raw output: logits (N, 2, B) for the ordinal head, (N, 2) cm for l2.
        ``with_pose`` (models built with ``head_pose=True``): also the head-pose logits
        (N, 3, 66), from the same features."""
        feature = self.features(face, left_eye, right_eye, face_grid, eye_geometry)
        if not with_pose:
            return self.head(feature)
        if self.pose is None:
            raise ValueError("this model has no head-pose head (build it with head_pose=True)")
        return self.head(feature), self.pose(feature)

    def predict_head_pose(self, face: torch.Tensor, left_eye: torch.Tensor,
                          right_eye: torch.Tensor, face_grid: torch.Tensor | None = None,
                          eye_geometry: torch.Tensor | None = None) -> torch.Tensor:
        """(N, 3) head yaw, pitch, roll in degrees (camera frame, GazeSim's convention: see
        ``head_pose_deg`` in :mod:`gazesdk.data.arrays`)."""
        if self.pose is None:
            raise ValueError("this model has no head-pose head (build it with head_pose=True)")
        return self.pose.decode(self.pose(self.features(face, left_eye, right_eye, face_grid,
                                                        eye_geometry)))

    def decode(self, output: torch.Tensor) -> torch.Tensor:
        """Raw output -> (N, 2) gaze in cm (ordinal: Guo et al. Eq. 1 decoding; l2: identity)."""
        return self.head.decode(output)

    def predict(self, face: torch.Tensor, left_eye: torch.Tensor, right_eye: torch.Tensor,
                face_grid: torch.Tensor | None = None,
                eye_geometry: torch.Tensor | None = None) -> torch.Tensor:
        """(N, 2) gaze in cm: ``decode(forward(...))``; with :attr:`mirror_average`, the mean
        of that and the mirrored gaze of the mirrored inputs."""
        gaze = self.decode(self.forward(face, left_eye, right_eye, face_grid, eye_geometry))
        if not self.mirror_average:
            return gaze
        back = self.decode(self.forward(*mirror_inputs(face, left_eye, right_eye, face_grid,
                                                       eye_geometry)))
        return (gaze + back * back.new_tensor([-1.0, 1.0])) / 2
