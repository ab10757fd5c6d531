"""BYOL pre-training (Grill et al. 2020) of the three-patch encoder: an online network
(encoder, projector, predictor) regresses a momentum network's projection of the other view
(Eq. 2, :func:`gazesdk.losses.byol.byol_symmetric`); the momentum network is an EMA of the
online one, tau from 0.996 to 1 on a cosine schedule (:mod:`gazesdk.pretrain.ema`). Also
FRA's baseline: FRA without its local branch.
"""

from __future__ import annotations

import torch
from torch import nn

from gazesdk.losses.byol import byol_symmetric
from gazesdk.models.gaze_model import FEATURE_DIM
from gazesdk.pretrain.ema import ema_update, momentum_at, momentum_copy
from gazesdk.pretrain.heads import MLP
from gazesdk.pretrain.task import PretrainTask, freeze, inputs, register_pretraining, stack_views


class MomentumNet(nn.Module):
    """Base of BYOL and FRA: the online parts listed by :meth:`online_parts` have momentum
    copies in ``self.target`` (a ModuleDict with the same keys)."""

    target: nn.ModuleDict

    def online_parts(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def make_target(self) -> None:
        self.target = nn.ModuleDict({k: momentum_copy(m) for k, m in self.online_parts().items()})

    def update_target(self, momentum: float) -> None:
        for k, m in self.online_parts().items():
            ema_update(self.target[k], m, momentum=momentum)


class BYOLNet(MomentumNet):
    def __init__(self, gaze: nn.Module, *, hidden: int = 512, dim: int = 128) -> None:
        super().__init__()
        self.gaze = gaze
        freeze(gaze.head)
        self.projector = MLP(FEATURE_DIM, hidden, dim)
        self.predictor = MLP(dim, hidden, dim)
        self.make_target()

    def online_parts(self) -> dict[str, nn.Module]:
        return {"gaze": self.gaze, "projector": self.projector}

    def forward(self, view1: dict[str, torch.Tensor], view2: dict[str, torch.Tensor]
                ) -> dict[str, torch.Tensor]:
        both = inputs(stack_views(view1, view2))
        q1, q2 = self.predictor(self.projector(self.gaze.features(*both))).chunk(2)
        with torch.no_grad():
            t1, t2 = self.target["projector"](self.target["gaze"].features(*both)).chunk(2)
        return {"q1": q1, "q2": q2, "t1": t1, "t2": t2}


class MomentumTask(PretrainTask):
    """A pre-training task with a momentum network, updated before every step from the
    weights the previous step left (so a resumed run updates exactly as an unbroken one)."""

    def __init__(self, *, momentum: float = 0.996, seed: int = 0, rank: int = 0) -> None:
        super().__init__(seed=seed, rank=rank)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.momentum = momentum

    def begin_step(self, epoch: int, step: int) -> None:
        super().begin_step(epoch, step)
        k = self.global_step
        if k > 0 and self.net is not None:
            self.net.update_target(momentum_at(k - 1, self.total_steps, base=self.momentum))


class BYOLTask(MomentumTask):
    def __init__(self, *, hidden: int = 512, dim: int = 128, momentum: float = 0.996,
                 seed: int = 0, rank: int = 0) -> None:
        super().__init__(momentum=momentum, seed=seed, rank=rank)
        self.hidden, self.dim = hidden, dim

    def build(self, model: nn.Module) -> nn.Module:
        return BYOLNet(model, hidden=self.hidden, dim=self.dim)

    def __call__(self, net: nn.Module, batch: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]:
        out = net(*self.views(batch))
        loss = byol_symmetric(out["q1"], out["t2"], out["q2"], out["t1"])
        return {"loss": loss, "byol": loss.detach()}


register_pretraining("byol", BYOLTask, lambda c: {
    "hidden": c.ssl_hidden_dim, "dim": c.ssl_dim, "momentum": c.ssl_momentum, "seed": c.seed})
