"""The training run's configuration: strict (unknown keys are errors), from YAML/JSON or flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gazesdk.errors import ConfigError
from gazesdk.settings import check_types, from_mapping, to_plain_dict

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("auto", "onecycle", "generations", "constant")
PRUNINGS = ("csp", "repr", "none")
GENERATION_SCHEMES = ("tat", "tat_dwo")      # schemes trained in TAT's mini-generations
DEVICES = ("auto", "cpu", "cuda")
# self-supervised pre-training (no labels; `gazesdk pretrain --method`)
PRETRAIN_SCHEMES = ("simclr", "barlow-twins", "contrastive-regression", "byol", "fra",
                    "hmtl-puzzle", "hmtl-rotation", "hmtl-puzzle-rotation")
AUX_TASKS = ("none", "puzzle", "rotation", "puzzle-rotation")
# gazesdk.training.augment.AUGMENTS by name (named here: the config imports without torch)
AUGMENTS = ("none", "mirror", "real-camera", "real-camera-mirror", "real-camera-mirror-moddrop")
EYE_GEOMETRY_MODES = ("per_eye", "binocular")


@dataclass(frozen=True)
class TrainConfig:
    """One training run. ``batch_size`` is the global batch: under torchrun each of the N
    processes takes batch_size / N, so runs with the same batch size match.

    ``schedule``: ``onecycle`` over the whole run, ``generations`` (one one-cycle per TAT
    mini-generation: the learning rate restarts when filters are re-born), ``constant``, or
    ``auto`` (``generations`` for the ``tat`` scheme, else ``onecycle``).

    ``val_split`` ``none`` skips validation (short runs where it would cost more than the
    training; TAT needs it).

    ``model_options`` are backbone options (``gazesdk models`` lists them), e.g.
    ``{"widths": [16, 32, 64, 96], "dilations": [1]}`` for ``dilated``.

    ``tat_*`` are the TAT scheme's settings (Guo et al., section 3.1; defaults from the paper):
    K mini-generations of L epochs, the first with one more (so ``epochs`` = K L + 1, filled in
    when a YAML/JSON file or the CLI leaves it out), pruning ``csp`` | ``repr`` | ``none``,
    re-initialisation ``aoi`` | ``orthogonal`` | ``uniform``, teacher rule ``random`` |
    ``last`` | ``best`` | ``mean``, and the Eq. 9 loss weights.

    ``dwo_*`` are DwO's settings (``dwo`` and ``tat_dwo`` schemes; Guo et al., section 3.2):
    center bins (2k; 0 means all bins), PGD steps T, the fraction of original samples per
    batch (Org.), and eps and gamma on the 0-255 pixel scale as in the paper.

    ``init``: a pre-trained encoder (``encoder.safetensors`` of ``gazesdk pretrain``, a run
    folder, or any checkpoint of the same architecture) whose weights, all but the output
    head's, start this run. ``label_fraction``: train on the labels of that fraction of the
    training subjects (at least one; which ones is drawn from ``seed``).

    ``aux*``: HMTL co-training (Pourmirzaei et al.): puzzle / rotation heads branching at the
    end of backbone stage ``aux_branch``, grid ``aux_grid``, on ``aux_patches`` (all | face),
    weight ``aux_weight`` (0: puzzled inputs without SSL heads), dropout ``aux_dropout`` on
    the SSL heads and ``aux_head_dropout`` on the gaze head. The ``hmtl-*`` pre-training
    schemes use the branch, grid, patches and SSL dropout too. ``aux_unlabelled``: a dataset
    (array form or GazeCapture; its labels are never read) whose frames also feed the SSL
    heads, ``aux_unlabelled_batch`` of its rows per step (0: ``batch_size``): the unlabelled
    frames train the pretext heads and the layers under them, the labelled ones train both.

    ``head_pose_weight`` > 0 adds a HopeNet-style head-pose head to the model, trained with
    that weight on the dataset's ``head_pose_deg`` (GazeSim writes it), ``head_pose_alpha``
    weighting its expectation regression (HopeNet's 0.001).

    ``augment``: a named domain randomisation of the training batches
    (:data:`gazesdk.training.augment.AUGMENTS`: ``real-camera`` for exposure, white balance,
    soft optics and noise, ``mirror`` for mirrored samples, ``real-camera-mirror`` both,
    ``real-camera-mirror-moddrop`` both and, for hybrid models, the eye patches blanked in 30% of
    the samples so that the eye geometry must carry the gaze alone there).
    ``eye_geometry``: a hybrid model that also takes the iris-in-eye geometry of the runtime's
    iris model (the dataset's ``eye_geometry`` field; :mod:`gazesdk.runtime.eye_geometry`);
    ``eye_geometry_mode`` ``binocular``: the model reads only the two eyes' mean of it.

    ``ssl_*``: pre-training heads (projector/predictor hidden width and output size), NT-Xent
    temperature, the redundancy weight gamma of contrastive regression, Barlow Twins' lambda,
    and the base momentum of BYOL/FRA's target network. ``fra_*``: FRA's queries (facial
    masks), decoder depth, loss weights lambda_c and lambda_r, student/teacher temperatures,
    Sinkhorn iterations, ME-MAX weight and the local decorrelation weight (authors' code).
    """

    data: str = ""
    model: str = "compact"
    model_options: dict[str, object] = field(default_factory=dict)
    head: str = "ordinal"
    scheme: str = "supervised"
    face_grid: bool = True
    bins: int = 133
    x_range: tuple[float, float] = (-26.6, 26.6)
    y_range: tuple[float, float] = (-26.6, 26.6)
    epochs: int = 10
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    schedule: str = "auto"
    grad_clip: float = 5.0
    device: str = "auto"
    amp: bool = True
    seed: int = 0
    checkpoint_every: int = 200
    threads: int = 0
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "test"
    tat_generations: int = 5
    tat_generation_epochs: int = 7
    tat_prune_fraction: float = 0.2
    tat_max_layer_fraction: float = 0.5
    tat_pruning: str = "csp"
    tat_reinit: str = "aoi"
    tat_teacher: str = "random"
    tat_teacher_max_ratio: float = 1.2
    tat_l_hard: float = 0.2
    tat_l_mix: float = 0.4
    tat_l_teacher: float = 0.6
    dwo_center_bins: int = 8
    dwo_steps: int = 1
    dwo_org: float = 0.9
    dwo_eps: float = 3.0
    dwo_gamma: float = 1.0
    init: str = ""
    label_fraction: float = 1.0
    aux: str = "none"
    aux_branch: int = 3
    aux_grid: int = 2
    aux_patches: str = "all"
    aux_weight: float = 50.0
    aux_dropout: float = 0.2
    aux_head_dropout: float = 0.5
    aux_unlabelled: str = ""
    aux_unlabelled_batch: int = 0
    ssl_hidden_dim: int = 512
    ssl_dim: int = 128
    ssl_temperature: float = 0.5
    ssl_gamma: float = 0.01
    ssl_bt_lambda: float = 0.005
    ssl_momentum: float = 0.996
    fra_queries: int = 8
    fra_decoder_layers: int = 2
    fra_lambda_c: float = 0.5
    fra_lambda_r: float = 0.1
    fra_student_temperature: float = 0.1
    fra_teacher_temperature: float = 0.04
    fra_sinkhorn_iterations: int = 3
    fra_me_max_weight: float = 1.0
    fra_decorrelation: float = 0.02
    head_pose_weight: float = 0.0
    head_pose_alpha: float = 0.001
    augment: str = "none"
    eye_geometry: bool = False
    eye_geometry_mode: str = "per_eye"

    @property
    def resolved_schedule(self) -> str:
        if self.schedule != "auto":
            return self.schedule
        return "generations" if self.scheme in GENERATION_SCHEMES else "onecycle"

    @property
    def pretraining(self) -> bool:
        """A self-supervised scheme: labels hidden, no gaze evaluation."""
        return self.scheme in PRETRAIN_SCHEMES

    @property
    def generation_total_epochs(self) -> int:
        """K L + 1: the epochs of ``tat_generations`` mini-generations (Algorithm 1)."""
        return self.tat_generations * self.tat_generation_epochs + 1

    def __post_init__(self) -> None:
        check_types(self)
        checks = [
            (self.epochs >= 1, "epochs must be at least 1"),
            (self.batch_size >= 2, "batch_size must be at least 2"),
            (self.lr > 0, "lr must be > 0"),
            (self.weight_decay >= 0 and self.grad_clip >= 0, "weight_decay and grad_clip >= 0"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}"),
            (self.device in DEVICES, f"device must be one of {DEVICES}"),
            (self.checkpoint_every >= 1, "checkpoint_every must be at least 1 (steps)"),
            (self.threads >= 0 and self.seed >= 0, "threads and seed must be >= 0"),
            (self.tat_generations >= 1 and self.tat_generation_epochs >= 1,
             "tat_generations and tat_generation_epochs must be at least 1"),
            (0.0 <= self.tat_prune_fraction <= 1.0, "tat_prune_fraction must be in [0, 1]"),
            (0.0 < self.tat_max_layer_fraction <= 1.0, "tat_max_layer_fraction must be in (0, 1]"),
            (self.tat_pruning in PRUNINGS, f"tat_pruning must be one of {PRUNINGS}"),
            (self.tat_reinit in ("aoi", "orthogonal", "uniform"),
             "tat_reinit must be one of ('aoi', 'orthogonal', 'uniform')"),
            (self.tat_teacher in ("random", "last", "best", "mean"),
             "tat_teacher must be one of ('random', 'last', 'best', 'mean')"),
            (self.tat_teacher_max_ratio >= 1.0, "tat_teacher_max_ratio must be >= 1"),
            (min(self.tat_l_hard, self.tat_l_mix, self.tat_l_teacher) >= 0
             and self.tat_l_hard + self.tat_l_mix > 0,
             "tat_l_* weights must be >= 0, and tat_l_hard + tat_l_mix > 0"),
            (self.dwo_center_bins >= 0 and self.dwo_center_bins % 2 == 0,
             "dwo_center_bins must be 0 (all bins) or an even number (2k bins around the "
             "prediction)"),
            (self.dwo_steps >= 1, "dwo_steps (PGD steps T) must be at least 1"),
            (0.0 <= self.dwo_org <= 1.0, "dwo_org (fraction of original samples) must be in "
                                         "[0, 1]"),
            (self.dwo_eps >= 0 and self.dwo_gamma > 0, "dwo_eps must be >= 0 and dwo_gamma > 0"),
            (0.0 < self.label_fraction <= 1.0, "label_fraction must be in (0, 1]"),
            (self.head_pose_weight >= 0 and self.head_pose_alpha >= 0,
             "head_pose_weight and head_pose_alpha must be >= 0"),
            (self.aux in AUX_TASKS, f"aux must be one of {AUX_TASKS}"),
            (self.aux_branch >= 1, "aux_branch (a backbone stage) must be at least 1"),
            (self.aux_grid in (2, 3), "aux_grid must be 2 or 3"),
            (self.aux_patches in ("all", "face"), "aux_patches must be 'all' or 'face'"),
            (self.aux_weight >= 0, "aux_weight must be >= 0"),
            (0.0 <= self.aux_dropout < 1.0 and 0.0 <= self.aux_head_dropout < 1.0,
             "aux_dropout and aux_head_dropout must be in [0, 1)"),
            (self.aux_unlabelled_batch >= 0, "aux_unlabelled_batch must be >= 0 (0: batch_size)"),
            (self.ssl_hidden_dim >= 1 and self.ssl_dim >= 1, "ssl_hidden_dim and ssl_dim >= 1"),
            (self.ssl_temperature > 0 and self.ssl_gamma >= 0 and self.ssl_bt_lambda >= 0,
             "ssl_temperature must be > 0, ssl_gamma and ssl_bt_lambda >= 0"),
            (0.0 <= self.ssl_momentum <= 1.0, "ssl_momentum must be in [0, 1]"),
            (self.fra_queries >= 2 and self.fra_decoder_layers >= 1,
             "fra_queries must be >= 2 and fra_decoder_layers >= 1"),
            (0.0 <= self.fra_lambda_c <= 1.0 and self.fra_lambda_r >= 0,
             "fra_lambda_c must be in [0, 1] and fra_lambda_r >= 0"),
            (self.fra_student_temperature > 0 and self.fra_teacher_temperature > 0,
             "fra temperatures must be > 0"),
            (self.augment in AUGMENTS, f"augment must be one of {tuple(AUGMENTS)}"),
            (self.eye_geometry_mode in EYE_GEOMETRY_MODES,
             f"eye_geometry_mode must be one of {EYE_GEOMETRY_MODES}"),
            (self.fra_sinkhorn_iterations >= 1 and self.fra_me_max_weight >= 0
             and self.fra_decorrelation >= 0,
             "fra_sinkhorn_iterations >= 1, fra_me_max_weight and fra_decorrelation >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        uses_generations = (self.scheme in GENERATION_SCHEMES
                            or self.resolved_schedule == "generations")
        if uses_generations and self.epochs != self.generation_total_epochs:
            raise ConfigError(
                f"{self.tat_generations} mini-generations of {self.tat_generation_epochs} epochs "
                f"(the first one more) make {self.generation_total_epochs} epochs, not "
                f"{self.epochs}: set epochs to {self.generation_total_epochs} or change "
                f"tat_generations / tat_generation_epochs")
        if self.aux != "none" and self.scheme != "supervised":
            raise ConfigError(f"HMTL co-training (aux {self.aux}) runs with the supervised "
                              f"scheme, not {self.scheme}")
        if self.aux_unlabelled and self.aux == "none":
            raise ConfigError("aux_unlabelled feeds HMTL's self-supervised heads: set aux "
                              "(puzzle, rotation or puzzle-rotation) too")
        if self.aux_unlabelled and self.aux_weight == 0:
            raise ConfigError("aux_unlabelled with aux_weight 0: the SSL heads are frozen, so "
                              "the unlabelled frames would train nothing")
        if self.eye_geometry_mode != "per_eye" and not self.eye_geometry:
            raise ConfigError(f"eye_geometry_mode {self.eye_geometry_mode!r} is for hybrid "
                              f"models: set eye_geometry too")
        if self.augment.endswith("-moddrop") and not self.eye_geometry:
            raise ConfigError(f"augment {self.augment!r} blanks the eye patches so that the eye "
                              f"geometry carries the gaze: it needs a hybrid model "
                              f"(eye_geometry)")
        if self.aux != "none" and self.eye_geometry:
            raise ConfigError("HMTL co-training (aux) does not feed a hybrid model's eye "
                              "geometry: train the hybrid model without aux")
        if self.head_pose_weight > 0 and self.scheme != "supervised":
            raise ConfigError(f"the head-pose auxiliary task (head_pose_weight) trains with the "
                              f"supervised scheme (optionally with aux), not {self.scheme}")
        if self.pretraining and self.label_fraction != 1.0:
            raise ConfigError(f"{self.scheme} pre-training uses no labels: label_fraction "
                              f"applies to fine-tuning")
        if self.scheme in ("tat", "dwo", "tat_dwo") and self.head != "ordinal":
            raise ConfigError(f"the {self.scheme} scheme works on ordinal (binned) outputs: use "
                              f"head ordinal")

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> TrainConfig:
        """Build from a mapping (a parsed YAML/JSON file); unknown keys are errors. Without
        ``epochs``, a run on mini-generations (TAT) gets its K L + 1."""
        values = dict(values) if isinstance(values, Mapping) else values
        if isinstance(values, dict) and "epochs" not in values and (
                values.get("scheme") in GENERATION_SCHEMES
                or values.get("schedule") == "generations"):
            k = values.get("tat_generations", cls.tat_generations)
            n = values.get("tat_generation_epochs", cls.tat_generation_epochs)
            if isinstance(k, int) and isinstance(n, int):
                values["epochs"] = k * n + 1
        return from_mapping(cls, values, what="training")

    def to_dict(self) -> dict[str, object]:
        return to_plain_dict(self)
