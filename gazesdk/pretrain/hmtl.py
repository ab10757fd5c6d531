"""HMTL (Pourmirzaei et al., "How Self-Supervised Learning Can be Used for Fine-Grained Head
Pose Estimation?"): self-supervised puzzle / rotation heads, either trained *with* the gaze
heads (co-training: ``gazesdk train --aux KIND --aux-branch N``) or *before* them
(pre-training: ``gazesdk pretrain --method hmtl-KIND``).

Each step cuts the input patches into a g x g grid and shuffles and/or rotates the pieces
(:func:`gazesdk.pretrain.puzzle.make_pretext`); heads branching from the end of backbone stage
N (:mod:`gazesdk.models.taps`; the paper's best branch was the third of four stages) predict
the labels (:class:`gazesdk.pretrain.heads.PretextHeads`). ``patches`` says which inputs are
transformed and get heads: ``all`` (the face and both eyes; the eye heads are shared, as the
eye backbone is) or ``face``.

Co-training: the gaze heads learn from the same transformed patches, as in the paper, with
dropout 0.5 before the gaze head and 0.2 before the self-supervised ones, and loss =
supervised + weight x SSL, SSL being the sum of the per-position cross-entropies averaged over
the transformed patches (weight 50, the paper's: our ordinal loss is a sum over bins, tens of
times a 4-way cross-entropy, as the paper's supervised loss was). ``weight`` 0 is the paper's
ablation "puzzled images without SSL heads". At inference the SSL heads do not exist: the
gaze model is exported alone and sees untransformed patches.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gazesdk.errors import ConfigError
from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.models.taps import channels_at, layers_after, stage_layer
from gazesdk.pretrain.heads import PretextHeads
from gazesdk.pretrain.puzzle import KINDS, make_pretext
from gazesdk.pretrain.task import PretrainTask, freeze, inputs, register_pretraining
from gazesdk.training.supervised import SupervisedTask
from gazesdk.training.task import seeded_generator

PATCH_CHOICES = ("all", "face")


class PretextNet(nn.Module):
    """The gaze model with pretext heads at the end of stage ``stage`` of each transformed
    branch; ``supervised`` adds dropout + the gaze head on the gaze feature."""

    def __init__(self, gaze: nn.Module, *, kind: str, grid: int = 2, stage: int = 3,
                 patches: str = "all", ssl_dropout: float = 0.2, head_dropout: float = 0.5,
                 supervised: bool = True) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ConfigError(f"unknown pretext {kind!r}; expected one of {KINDS}")
        if patches not in PATCH_CHOICES:
            raise ConfigError(f"aux_patches must be one of {PATCH_CHOICES}, got {patches!r}")
        if grid not in (2, 3):
            raise ConfigError(f"the pretext grid must be 2 or 3, got {grid}")
        self.gaze, self.kind, self.grid, self.patches = gaze, kind, grid, patches
        self.supervised = supervised
        self.layers = {"face": stage_layer(gaze.face, stage)}
        branches = {"face": gaze.face}
        if patches == "all":
            self.layers["eye"] = stage_layer(gaze.eye, stage)
            branches["eye"] = gaze.eye
        heads = {}
        for name, backbone in branches.items():
            heads[name] = PretextHeads(channels_at(backbone, self.layers[name]), grid=grid,
                                       puzzle="puzzle" in kind, rotation="rotation" in kind,
                                       dropout=ssl_dropout)
        self.heads = nn.ModuleDict(heads)
        self.head_dropout = nn.Dropout(head_dropout)
        self.frozen: list[nn.Module] = []
        if not supervised:      # pre-training trains only what feeds the pretext heads
            self.frozen = [gaze.head, gaze.fc, *([gaze.grid] if gaze.grid is not None else [])]
            for name, backbone in branches.items():
                self.frozen += layers_after(backbone, self.layers[name])
            if "eye" not in branches:
                self.frozen.append(gaze.eye)
            freeze(*self.frozen)
            self.train(self.training)

    def train(self, mode: bool = True) -> PretextNet:
        """As nn.Module.train, but the layers pre-training does not train stay in eval mode:
        their BatchNorm statistics are not moved by the transformed patches."""
        super().train(mode)
        for m in getattr(self, "frozen", []):
            m.eval()
        return self

    @property
    def transformed(self) -> tuple[str, ...]:
        return ("face", "left_eye", "right_eye") if self.patches == "all" else ("face",)

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, object]:
        face_taps = [self.layers["face"]]
        eye_taps = [self.layers["eye"]] if "eye" in self.layers else []
        feature, taps = self.gaze.features_with_taps(*inputs(batch), face_taps=face_taps,
                                                     eye_taps=eye_taps)
        out: dict[str, object] = {
            patch: self.heads["face" if patch == "face" else "eye"](
                taps[f"{patch}.{self.layers['face' if patch == 'face' else 'eye']}"])
            for patch in self.transformed}
        if self.supervised:
            shown = self.head_dropout(feature)
            out["gaze"] = self.gaze.head(shown)
            if self.gaze.pose is not None:
                out["pose"] = self.gaze.pose(shown)
        return out


def pretext_batch(batch: dict[str, torch.Tensor], *, kind: str, grid: int,
                  patches: tuple[str, ...], generator: torch.Generator
                  ) -> tuple[dict[str, torch.Tensor], dict[str, dict[str, torch.Tensor]]]:
    """The batch with ``patches`` transformed, and each one's labels. When the side is not a
    multiple of the grid (3 x 3 on 64 pixels) the pieces tile the top-left square that is, and
    the last row and column of pixels stay in place."""
    out = dict(batch)
    labels = {}
    for patch in patches:
        x = batch[patch]
        usable = x.shape[-1] - x.shape[-1] % grid     # 3x3 on 64 px: the top-left 63 px
        p = make_pretext(x[..., :usable, :usable], kind=kind, grid=grid, generator=generator)
        if usable == x.shape[-1]:
            out[patch] = p.images
        else:
            out[patch] = x.clone()
            out[patch][..., :usable, :usable] = p.images
        labels[patch] = {"puzzle": p.order.to(p.images.device),
                         "rotation": p.rotation.to(p.images.device)}
    return out, labels


def pretext_loss(out: dict[str, object], labels: dict[str, dict[str, torch.Tensor]]
                 ) -> dict[str, torch.Tensor]:
    """Sum over positions of each head's cross-entropy, averaged over the transformed
    patches; also the accuracy of every head (``metric_*``)."""
    total = None
    named: dict[str, torch.Tensor] = {}
    for patch, want in labels.items():
        logits = out[patch]
        assert isinstance(logits, dict)
        for task, z in logits.items():
            ce = sum(F.cross_entropy(z[:, p].float(), want[task][:, p])
                     for p in range(z.shape[1]))
            total = ce if total is None else total + ce
            key = f"metric_{task}_accuracy"
            acc = (z.argmax(-1) == want[task]).float().mean().detach()
            named[key] = named.get(key, 0) + acc / len(labels)
    assert total is not None
    named["ssl"] = total / len(labels)
    return named


def join_unlabelled(batch: dict[str, torch.Tensor], unlabelled: dict[str, torch.Tensor]
                    ) -> dict[str, torch.Tensor]:
    """The model inputs of ``batch`` followed by those of ``unlabelled`` (labels dropped: the
    rows after the labelled ones have none). In training mode BatchNorm normalises the joint
    batch, so the pool's frames also shape the statistics the gaze head sees and the running
    statistics the exported model keeps: the pool should look like the frames the app sees."""
    keys = ["face", "left_eye", "right_eye", "face_grid"]      # what PretextNet feeds
    missing = [k for k in keys if k not in unlabelled]
    if missing:
        raise ConfigError(f"the unlabelled frames lack {', '.join(missing)}, which the "
                          f"labelled ones have")
    return {k: torch.cat([batch[k], unlabelled[k].to(batch[k].dtype)]) for k in keys}


class HMTLCoTraining:
    """Gaze (ordinal or L2) + HMTL pretext heads, trained together on transformed patches."""

    def __init__(self, *, head: str, bins: OrdinalBins | None, kind: str, grid: int = 2,
                 stage: int = 3, patches: str = "all", weight: float = 50.0,
                 ssl_dropout: float = 0.2, head_dropout: float = 0.5, seed: int = 0,
                 rank: int = 0, pose_weight: float = 0.0, pose_alpha: float = 0.001) -> None:
        if weight < 0:
            raise ConfigError(f"aux_weight must be >= 0, got {weight}")
        self.supervised = SupervisedTask(head=head, bins=bins, pose_weight=pose_weight,
                                         pose_alpha=pose_alpha)
        self.options = {"kind": kind, "grid": grid, "stage": stage, "patches": patches,
                        "ssl_dropout": ssl_dropout, "head_dropout": head_dropout}
        self.weight, self.seed, self.rank = weight, seed, rank
        self.key = (0, 0)

    def wrap(self, model: nn.Module, *, steps_per_epoch: int, epochs: int) -> nn.Module:
        self.net = PretextNet(model, supervised=True, **self.options)  # type: ignore[arg-type]
        if self.weight == 0:        # the ablation: the heads only report their accuracy
            freeze(self.net.heads)
        return self.net

    def begin_step(self, epoch: int, step: int) -> None:
        self.key = (epoch, step)

    def __call__(self, net: nn.Module, batch: dict[str, torch.Tensor],
                 unlabelled: dict[str, torch.Tensor] | None = None
                 ) -> dict[str, torch.Tensor]:
        """Losses of one step. ``unlabelled``: inputs of extra frames without labels (the
        ``aux_unlabelled`` pool); they go through the same forward pass, after the labelled
        rows, and count in the SSL loss only."""
        g = seeded_generator(self.seed, *self.key, self.rank, 7)
        n = batch["face"].shape[0]
        joint = batch if unlabelled is None else join_unlabelled(batch, unlabelled)
        shown, labels = pretext_batch(joint, kind=self.options["kind"],
                                      grid=self.options["grid"],
                                      patches=self.net.transformed, generator=g)
        out = net(shown)
        assert isinstance(out["gaze"], torch.Tensor)
        named = self.supervised.loss_of(out["gaze"][:n], batch["gaze"])
        if self.supervised.pose_weight:
            assert isinstance(out["pose"], torch.Tensor)
            named = self.supervised.add_pose(named, out["pose"][:n], batch)
        ssl = pretext_loss(out, labels)
        named["loss"] = named["loss"] + self.weight * ssl["ssl"]
        named.update({k: v.detach() for k, v in ssl.items()})
        return named


class PretextTask(PretrainTask):
    """HMTL's pretext tasks as pre-training: no labels, only the puzzle/rotation heads."""

    def __init__(self, *, kind: str, grid: int = 2, stage: int = 3, patches: str = "all",
                 ssl_dropout: float = 0.2, seed: int = 0, rank: int = 0) -> None:
        super().__init__(seed=seed, rank=rank)
        self.options = {"kind": kind, "grid": grid, "stage": stage, "patches": patches,
                        "ssl_dropout": ssl_dropout}

    def build(self, model: nn.Module) -> nn.Module:
        return PretextNet(model, supervised=False, **self.options)  # type: ignore[arg-type]

    def __call__(self, net: nn.Module, batch: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]:
        assert isinstance(self.net, PretextNet)
        shown, labels = pretext_batch(batch, kind=self.options["kind"],
                                      grid=self.options["grid"],
                                      patches=self.net.transformed,
                                      generator=self.generator(7))
        ssl = pretext_loss(net(shown), labels)
        return {"loss": ssl["ssl"], **{k: v.detach() for k, v in ssl.items()}}


for _kind in KINDS:
    register_pretraining(f"hmtl-{_kind}", PretextTask, lambda c: {
        "grid": c.aux_grid, "stage": c.aux_branch, "patches": c.aux_patches,
        "ssl_dropout": c.aux_dropout, "seed": c.seed}, kind=_kind)


def cotraining_from_config(config, bins: OrdinalBins, *, rank: int = 0  # noqa: ANN001
                           ) -> HMTLCoTraining:
    """The co-training task of a run with ``aux`` set (``gazesdk train --aux KIND``)."""
    return HMTLCoTraining(head=config.head, bins=bins, kind=config.aux, grid=config.aux_grid,
                          stage=config.aux_branch, patches=config.aux_patches,
                          weight=config.aux_weight, ssl_dropout=config.aux_dropout,
                          head_dropout=config.aux_head_dropout, seed=config.seed, rank=rank,
                          pose_weight=config.head_pose_weight,
                          pose_alpha=config.head_pose_alpha)
