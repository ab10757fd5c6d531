"""The training run's configuration: strict (unknown keys are errors), from YAML/JSON or flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gazesdk.errors import ConfigError
from gazesdk.settings import check_types, from_mapping, to_plain_dict

OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("onecycle", "constant")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainConfig:
    """One training run. ``batch_size`` is the global batch: under torchrun each of the N
    processes takes batch_size / N, so runs with the same batch size match."""

    data: str = ""
    model: str = "compact"
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
    schedule: str = "onecycle"
    grad_clip: float = 5.0
    device: str = "auto"
    amp: bool = True
    seed: int = 0
    checkpoint_every: int = 200
    threads: int = 0
    train_split: str = "train"
    val_split: str = "val"
    test_split: str = "test"

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
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> TrainConfig:
        """Build from a mapping (a parsed YAML/JSON file); unknown keys are errors."""
        return from_mapping(cls, values, what="training")

    def to_dict(self) -> dict[str, object]:
        return to_plain_dict(self)
