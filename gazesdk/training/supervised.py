"""The supervised objective: the ordinal loss of Guo et al. (Eq. 1-2) for ordinal heads, or the
squared Euclidean error for the L2 head (the iTracker-style baseline)."""

from __future__ import annotations

import torch

from gazesdk.errors import ConfigError
from gazesdk.losses.head_pose import head_pose_loss, pose_expectation
from gazesdk.losses.ordinal import OrdinalBins, ordinal_decode, ordinal_encode, ordinal_loss
from gazesdk.training.task import register_scheme


def model_inputs(batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """The model's positional inputs: the patches, the face grid and, when the batch has it,
    the eye geometry (hybrid models; other models ignore it)."""
    inputs = (batch["face"], batch["left_eye"], batch["right_eye"], batch["face_grid"])
    return (*inputs, batch["eye_geometry"]) if "eye_geometry" in batch else inputs


@register_scheme("supervised")
class SupervisedTask:
    """Ordinal or L2 regression of the gaze point (cm)."""

    def __init__(self, *, head: str, bins: OrdinalBins | None = None,
                 pose_weight: float = 0.0, pose_alpha: float = 0.001) -> None:
        if head not in ("ordinal", "l2"):
            raise ConfigError(f"unknown head {head!r}; expected 'ordinal' or 'l2'")
        if head == "ordinal" and bins is None:
            raise ConfigError("the ordinal head needs its bins")
        self.head = head
        self.bins = bins
        self.pose_weight, self.pose_alpha = pose_weight, pose_alpha

    @classmethod
    def config_options(cls, config) -> dict:  # noqa: ANN001 - a TrainConfig
        return {"pose_weight": config.head_pose_weight, "pose_alpha": config.head_pose_alpha}

    def __call__(self, model: torch.nn.Module,
                 batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not self.pose_weight:
            return self.loss_of(model(*model_inputs(batch)), batch["gaze"])
        out, pose = model(*model_inputs(batch), with_pose=True)
        return self.add_pose(self.loss_of(out, batch["gaze"]), pose, batch)

    def add_pose(self, named: dict[str, torch.Tensor], pose_logits: torch.Tensor,
                 batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The head-pose auxiliary loss (HopeNet), weighted, added to ``named``."""
        pose = head_pose_loss(pose_logits, batch["head_pose"], alpha=self.pose_alpha)
        named["loss"] = named["loss"] + self.pose_weight * pose["loss"]
        named.update(pose_ce=pose["pose_ce"], pose_mse=pose["pose_mse"])
        named["metric_head_pose_error_deg"] = (pose_expectation(pose_logits.detach())
                                               - batch["head_pose"]).abs().mean()
        return named

    def loss_of(self, out: torch.Tensor, gaze: torch.Tensor) -> dict[str, torch.Tensor]:
        """The named losses of the model output ``out`` against ``gaze`` (N, 2) cm."""
        if self.head == "ordinal":
            loss = ordinal_loss(out.float(), ordinal_encode(gaze, self.bins))
            pred = ordinal_decode(out.detach().float(), self.bins)
            named = {"loss": loss, "ordinal": loss.detach()}
        else:
            loss = ((out.float() - gaze) ** 2).sum(1).mean()
            pred = out.detach().float()
            named = {"loss": loss, "l2": loss.detach()}
        named["metric_error_cm"] = (pred - gaze).norm(dim=1).mean()
        return named
