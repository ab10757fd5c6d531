"""Contrastive pre-training of the whole three-patch encoder: SimCLR (NT-Xent, Chen et al.
2020), Barlow Twins (Zbontar et al. 2021) and semi-supervised contrastive regression (NT-Xent
plus a redundancy-reduction term, arXiv 2308.02784).

The encoder is the gaze model up to its 128-D gaze feature (face, eyes, face grid, joint
layer); a projection MLP, used only here, maps it to the embedding the loss sees. Fine-tuning
(``gazesdk train --init``) keeps the encoder and drops the projector.
"""

from __future__ import annotations

import torch
from torch import nn

from gazesdk.losses.barlow_twins import barlow_twins_loss
from gazesdk.losses.contrastive_regression import contrastive_regression_loss
from gazesdk.losses.nt_xent import nt_xent
from gazesdk.models.gaze_model import FEATURE_DIM
from gazesdk.pretrain.heads import MLP
from gazesdk.pretrain.task import PretrainTask, freeze, inputs, register_pretraining, stack_views

METHODS = ("simclr", "barlow-twins", "contrastive-regression")


class ProjectedEncoder(nn.Module):
    """Gaze encoder + projector: (two views of N samples) -> two (N, D) embeddings."""

    def __init__(self, gaze: nn.Module, *, hidden: int = 512, dim: int = 128) -> None:
        super().__init__()
        self.gaze = gaze
        self.projector = MLP(FEATURE_DIM, hidden, dim)
        freeze(gaze.head)

    def forward(self, view1: dict[str, torch.Tensor], view2: dict[str, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.projector(self.gaze.features(*inputs(stack_views(view1, view2))))
        return z.chunk(2)


class ContrastiveTask(PretrainTask):
    """One of :data:`METHODS` on two gaze-safe views of each unlabelled sample."""

    def __init__(self, *, method: str, temperature: float = 0.5, gamma: float = 0.01,
                 bt_lambda: float = 5e-3, hidden: int = 512, dim: int = 128, seed: int = 0,
                 rank: int = 0) -> None:
        super().__init__(seed=seed, rank=rank)
        if method not in METHODS:
            raise ValueError(f"unknown contrastive method {method!r}; expected one of {METHODS}")
        self.method = method
        self.temperature, self.gamma, self.bt_lambda = temperature, gamma, bt_lambda
        self.hidden, self.dim = hidden, dim

    def build(self, model: nn.Module) -> nn.Module:
        return ProjectedEncoder(model, hidden=self.hidden, dim=self.dim)

    def __call__(self, net: nn.Module, batch: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]:
        z1, z2 = net(*self.views(batch))
        if self.method == "simclr":
            loss = nt_xent(z1, z2, temperature=self.temperature)
            return {"loss": loss, "nt_xent": loss.detach()}
        if self.method == "barlow-twins":
            loss = barlow_twins_loss(z1, z2, lambda_offdiag=self.bt_lambda)
            return {"loss": loss, "barlow_twins": loss.detach()}
        return contrastive_regression_loss(z1, z2, temperature=self.temperature,
                                           gamma=self.gamma)


for _method in METHODS:
    register_pretraining(_method, ContrastiveTask, lambda c: {
        "temperature": c.ssl_temperature, "gamma": c.ssl_gamma, "bt_lambda": c.ssl_bt_lambda,
        "hidden": c.ssl_hidden_dim, "dim": c.ssl_dim, "seed": c.seed}, method=_method)
