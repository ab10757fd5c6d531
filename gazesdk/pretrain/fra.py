"""FRA: facial region awareness (Gao and Patras, CVPR 2024) on the face branch.

BYOL-style online and momentum networks (:mod:`gazesdk.pretrain.byol`), each with the encoder,
a global projector and FRA's *neck* (:class:`FRANeck`): per-pixel projections u_i of the face
branch's last feature map, N learnable queries that a Transformer decoder (with an MLP) turns
into N facial mask embeddings e_q, heatmaps M_qi = softmax_q cos(e_q, u_i), heatmap-weighted
average pooling of the feature map into N local features, and a local projector. Predictors
(global and local) on the online side only. Loss L = L_c + lambda_r L_r
(:mod:`gazesdk.losses.fra`; lambda_c 0.5, lambda_r 0.1).

As in the authors' code, the mask embeddings are averaged over the batch (one set of N masks
shared by all images; heatmaps differ between images through their pixel features), and an
EMA of that average (momentum 0.9, buffer ``proto``) gives the heatmaps in eval mode. Our
global embedding is the whole encoder's 128-D gaze feature (face, eyes, grid), so the eye
branch is pre-trained too; the heatmaps and local embeddings are the face branch's. The
heatmap softmax has no temperature (the authors' scale 1): the masks are soft, and only the
relation loss sharpens the assignments (0.1 / 0.04). Under torchrun the mask average,
Sinkhorn and ME-MAX use each process's share of the batch (the authors all-reduce them), so
multi-process runs differ slightly from one-process runs.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gazesdk.losses.fra import semantic_consistency_loss, semantic_relation_loss
from gazesdk.models.gaze_model import FEATURE_DIM
from gazesdk.models.taps import channels_at, feature_map_layer
from gazesdk.pretrain.byol import MomentumNet, MomentumTask
from gazesdk.pretrain.heads import MLP, PixelMLP
from gazesdk.pretrain.task import freeze, inputs, register_pretraining, stack_views


def sine_positions(height: int, width: int, dim: int, device: torch.device | None = None
                   ) -> torch.Tensor:
    """(H W, dim) fixed 2-D sine/cosine position code (half the channels for y, half for x),
    as DETR's decoder memory uses."""
    if dim % 4:
        raise ValueError(f"the position code needs dim divisible by 4, got {dim}")
    quarter = dim // 4
    freq = 1.0 / (10000 ** (torch.arange(quarter, device=device) / quarter))
    ys, xs = torch.meshgrid(torch.arange(height, device=device, dtype=torch.float32),
                            torch.arange(width, device=device, dtype=torch.float32),
                            indexing="ij")
    parts = []
    for coord in (ys.reshape(-1), xs.reshape(-1)):
        angle = coord[:, None] * freq[None]
        parts += [angle.sin(), angle.cos()]
    return torch.cat(parts, 1)


class FRANeck(nn.Module):
    """Global projector, pixel projector, mask-embedding decoder and local projector."""

    def __init__(self, channels: int, *, hidden: int = 512, dim: int = 128, queries: int = 8,
                 decoder_layers: int = 2, d_model: int = 128, heads: int = 4) -> None:
        super().__init__()
        if queries < 2:
            raise ValueError(f"FRA needs at least 2 queries (facial masks), got {queries}")
        self.global_projector = MLP(FEATURE_DIM, hidden, dim)
        self.pixel_projector = PixelMLP(channels, hidden, dim)
        self.local_projector = MLP(channels, hidden, dim)
        self.memory = nn.Conv2d(channels, d_model, 1)
        self.queries = nn.Embedding(queries, d_model)
        layer = nn.TransformerDecoderLayer(d_model, heads, dim_feedforward=d_model,
                                           dropout=0.1, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, decoder_layers)
        self.mask_mlp = nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(),
                                      nn.Linear(d_model, d_model), nn.ReLU(),
                                      nn.Linear(d_model, dim))
        self.register_buffer("proto", torch.zeros(queries, dim))
        self.register_buffer("proto_ready", torch.zeros((), dtype=torch.bool))

    def mask_embeddings(self, fmap: torch.Tensor) -> torch.Tensor:
        """(N_queries, dim): the decoder's mask embeddings averaged over the batch (training),
        or their running average (eval)."""
        if not self.training and bool(self.proto_ready):
            return self.proto
        b, _, h, w = fmap.shape
        memory = self.memory(fmap).flatten(2).transpose(1, 2)
        memory = memory + sine_positions(h, w, memory.shape[-1], fmap.device)
        q = self.queries.weight.unsqueeze(0).expand(b, -1, -1)
        e = self.mask_mlp(self.decoder(q, memory)).mean(0)
        if self.training:
            with torch.no_grad():
                new = e.detach().float()
                self.proto.copy_(torch.where(self.proto_ready, 0.9 * self.proto + 0.1 * new,
                                             new))
                self.proto_ready.fill_(True)
        return e

    def forward(self, feature: torch.Tensor, fmap: torch.Tensor) -> dict[str, torch.Tensor]:
        """``global`` (B, dim), ``scores`` (B, HW, N) cosines of pixels vs masks, ``heatmaps``
        (B, HW, N) softmax over the masks, ``local`` (B, N, dim)."""
        pixels = self.pixel_projector(fmap).flatten(2).transpose(1, 2)        # (B, HW, dim)
        masks = self.mask_embeddings(fmap)                                    # (N, dim)
        scores = F.normalize(pixels.float(), dim=-1) @ F.normalize(masks.float(), dim=-1).T
        heat = scores.softmax(-1) + 1e-7
        feats = fmap.flatten(2).transpose(1, 2).float()                        # (B, HW, C)
        pooled = torch.einsum("bin,bic->bnc", heat, feats) / heat.sum(1)[..., None]
        return {"global": self.global_projector(feature), "scores": scores, "heatmaps": heat,
                "local": self.local_projector(pooled.to(fmap.dtype))}


class FRANet(MomentumNet):
    def __init__(self, gaze: nn.Module, *, hidden: int = 512, dim: int = 128, queries: int = 8,
                 decoder_layers: int = 2) -> None:
        super().__init__()
        self.gaze = gaze
        freeze(gaze.head)
        self.layer = feature_map_layer(gaze.face)
        self.neck = FRANeck(channels_at(gaze.face, self.layer), hidden=hidden, dim=dim,
                            queries=queries, decoder_layers=decoder_layers)
        self.global_predictor = MLP(dim, hidden, dim)
        self.local_predictor = MLP(dim, hidden, dim)
        self.make_target()

    def online_parts(self) -> dict[str, nn.Module]:
        return {"gaze": self.gaze, "neck": self.neck}

    def embed(self, gaze: nn.Module, neck: nn.Module, batch: tuple[torch.Tensor, ...]
              ) -> dict[str, torch.Tensor]:
        feature, taps = gaze.features_with_taps(*batch, face_taps=[self.layer])
        fmap = taps[f"face.{self.layer}"]
        out = neck(feature, fmap)
        out["size"] = torch.tensor(fmap.shape[-2:])
        return out

    @torch.no_grad()
    def heatmaps(self, face: torch.Tensor, left_eye: torch.Tensor, right_eye: torch.Tensor,
                 face_grid: torch.Tensor | None = None) -> torch.Tensor:
        """(B, N, h, w) heatmaps of the online network on the face patches (call in eval
        mode for the running mask embeddings)."""
        out = self.embed(self.gaze, self.neck, (face, left_eye, right_eye, face_grid))
        h, w = (int(v) for v in out["size"])
        return out["heatmaps"].transpose(1, 2).reshape(len(face), -1, h, w)

    def forward(self, view1: dict[str, torch.Tensor], view2: dict[str, torch.Tensor]
                ) -> dict[str, object]:
        both = inputs(stack_views(view1, view2))
        on = self.embed(self.gaze, self.neck, both)
        with torch.no_grad():
            tg = self.embed(self.target["gaze"], self.target["neck"], both)
        pg = self.global_predictor(on["global"]).chunk(2)
        pl = self.local_predictor(on["local"]).chunk(2)
        return {"online": tuple({"global": g, "local": loc} for g, loc in zip(pg, pl,
                                                                                strict=True)),
                "target": tuple({"global": g, "local": loc} for g, loc in
                                zip(tg["global"].chunk(2), tg["local"].chunk(2), strict=True)),
                "online_scores": on["scores"].chunk(2), "target_scores": tg["scores"].chunk(2)}


class FRATask(MomentumTask):
    def __init__(self, *, hidden: int = 512, dim: int = 128, queries: int = 8,
                 decoder_layers: int = 2, lambda_c: float = 0.5, lambda_r: float = 0.1,
                 student_temperature: float = 0.1, teacher_temperature: float = 0.04,
                 sinkhorn_iterations: int = 3, me_max_weight: float = 1.0,
                 decorrelation: float = 0.02, momentum: float = 0.996, seed: int = 0,
                 rank: int = 0) -> None:
        super().__init__(momentum=momentum, seed=seed, rank=rank)
        self.hidden, self.dim, self.queries, self.decoder_layers = (hidden, dim, queries,
                                                                    decoder_layers)
        self.lambda_c, self.lambda_r = lambda_c, lambda_r
        self.relation = {"student_temperature": student_temperature,
                         "teacher_temperature": teacher_temperature,
                         "iterations": sinkhorn_iterations, "me_max_weight": me_max_weight}
        self.decorrelation = decorrelation

    def build(self, model: nn.Module) -> nn.Module:
        return FRANet(model, hidden=self.hidden, dim=self.dim, queries=self.queries,
                      decoder_layers=self.decoder_layers)

    def __call__(self, net: nn.Module, batch: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]:
        out = net(*self.views(batch))
        lc = semantic_consistency_loss(out["online"], out["target"], lambda_c=self.lambda_c,
                                       decorrelation=self.decorrelation)
        per_view = [semantic_relation_loss(o, t, **self.relation)
                    for o, t in zip(out["online_scores"], out["target_scores"], strict=True)]
        lr = (per_view[0]["loss"] + per_view[1]["loss"]) / 2
        return {"loss": lc["loss"] + self.lambda_r * lr, "consistency": lc["loss"].detach(),
                "relation": lr.detach(), "global": lc["global"], "local": lc["local"],
                "me_max": (per_view[0]["me_max"] + per_view[1]["me_max"]) / 2}


    def report(self, out_dir: Path, batch: dict[str, torch.Tensor]) -> Path:
        """``fra_heatmaps.png``: the heatmaps of the online network (eval mode) over the
        face patches of ``batch`` (do they find the eyes?)."""
        from gazesdk.evaluation.plots import heatmaps_png

        assert isinstance(self.net, FRANet)
        was = self.net.training
        self.net.eval()
        maps = self.net.heatmaps(*inputs(batch))
        self.net.train(was)
        faces = batch["face"].permute(0, 2, 3, 1).float().cpu().numpy()
        return heatmaps_png(faces, maps.float().cpu().numpy(), out_dir / "fra_heatmaps.png")


register_pretraining("fra", FRATask, lambda c: {
    "hidden": c.ssl_hidden_dim, "dim": c.ssl_dim, "momentum": c.ssl_momentum, "seed": c.seed,
    "queries": c.fra_queries, "decoder_layers": c.fra_decoder_layers,
    "lambda_c": c.fra_lambda_c, "lambda_r": c.fra_lambda_r,
    "student_temperature": c.fra_student_temperature,
    "teacher_temperature": c.fra_teacher_temperature,
    "sinkhorn_iterations": c.fra_sinkhorn_iterations, "me_max_weight": c.fra_me_max_weight,
    "decorrelation": c.fra_decorrelation})

__all__ = ["FRANeck", "FRANet", "FRATask", "sine_positions"]
