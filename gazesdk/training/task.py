"""A training objective is a *task*: given the model and a batch, it returns named losses.

The loop backpropagates ``losses["loss"]`` and logs every entry, so an objective that adds
terms (distillation, adversarial samples) reports each of them. Entries whose name starts with
``metric_`` are logged but must not carry gradients.

A task may also have ``begin_step(epoch, step)`` (called before each step), ``end_of_epoch(
epoch=, model=, optimizer=, val_error_cm=, train_error_cm=) -> dict`` (after validation; its
entries join the epoch's history row), ``state_dict()`` / ``load_state_dict(state, model)``
(saved in checkpoints), ``needs_validation = True``, ``uses_labels = False`` (pre-training:
the loop removes the labels from every batch and does not evaluate gaze) and ``wrap(model, *,
steps_per_epoch, epochs) -> nn.Module`` (the network the loop trains instead of the gaze
model: the gaze model plus the task's own heads, available as ``.gaze``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Protocol

import torch

from gazesdk.errors import ConfigError


class Task(Protocol):
    def __call__(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]: ...


TaskFactory = Callable[..., Task]
_SCHEMES: dict[str, TaskFactory] = {}


def seeded_generator(*key: int) -> torch.Generator:
    """A CPU generator seeded by a tuple such as (seed, epoch, step): a task's random draws for
    a step are then the same after a resume, and across processes when the key has no rank."""
    seed = 0
    for k in key:
        seed = (seed * 1_000_003 + int(k) + 1) % (2 ** 63 - 1)
    return torch.Generator().manual_seed(seed)


def register_scheme(name: str) -> Callable[[TaskFactory], TaskFactory]:
    def add(factory: TaskFactory) -> TaskFactory:
        _SCHEMES[name] = factory
        return factory
    return add


def _load_schemes() -> None:
    import gazesdk.pretrain.byol  # noqa: F401
    import gazesdk.pretrain.contrastive  # noqa: F401
    import gazesdk.pretrain.fra  # noqa: F401
    import gazesdk.pretrain.hmtl  # noqa: F401
    import gazesdk.training.dwo  # noqa: F401
    import gazesdk.training.supervised  # noqa: F401  (each registers itself)
    import gazesdk.training.tat  # noqa: F401


def list_schemes() -> list[str]:
    _load_schemes()
    return sorted(_SCHEMES)


def create_task(scheme: str, **kwargs: object) -> Task:
    """The task of a training scheme (``supervised``, ``tat``, ``dwo``, ``tat_dwo``)."""
    _load_schemes()
    if scheme not in _SCHEMES:
        raise ConfigError(f"unknown training scheme {scheme!r}; known: {sorted(_SCHEMES)}")
    return _SCHEMES[scheme](**kwargs)


def task_from_config(config, bins, *, rank: int = 0, world: int = 1) -> Task:  # noqa: ANN001
    """The task of ``config.scheme``, with the scheme's own settings taken from the run's
    config (a scheme's factory may define ``config_options(config) -> kwargs``)."""
    _load_schemes()
    if config.scheme not in _SCHEMES:
        raise ConfigError(f"unknown training scheme {config.scheme!r}; known: "
                          f"{sorted(_SCHEMES)}")
    if getattr(config, "aux", "none") != "none":      # HMTL co-training (supervised + pretext)
        from gazesdk.pretrain.hmtl import cotraining_from_config

        return cotraining_from_config(config, bins, rank=rank)
    factory = _SCHEMES[config.scheme]
    extra = dict(factory.config_options(config)) if hasattr(factory, "config_options") else {}
    params = inspect.signature(factory).parameters
    if "rank" in params:
        extra["rank"] = rank
    if "world" in params:
        extra["world"] = world
    return factory(head=config.head, bins=bins, **extra)
