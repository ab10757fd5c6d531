"""A training objective is a *task*: given the model and a batch, it returns named losses.

The loop backpropagates ``losses["loss"]`` and logs every entry, so an objective that adds
terms (distillation, adversarial samples) reports each of them. Entries whose name starts with
``metric_`` are logged but must not carry gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch

from gazesdk.errors import ConfigError


class Task(Protocol):
    def __call__(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]
                 ) -> dict[str, torch.Tensor]: ...


TaskFactory = Callable[..., Task]
_SCHEMES: dict[str, TaskFactory] = {}


def register_scheme(name: str) -> Callable[[TaskFactory], TaskFactory]:
    def add(factory: TaskFactory) -> TaskFactory:
        _SCHEMES[name] = factory
        return factory
    return add


def create_task(scheme: str, **kwargs: object) -> Task:
    """The task of a training scheme (``supervised``; later ``tat``, ``dwo``, ...)."""
    import gazesdk.training.supervised  # noqa: F401  (registers itself)

    if scheme not in _SCHEMES:
        raise ConfigError(f"unknown training scheme {scheme!r}; known: {sorted(_SCHEMES)}")
    return _SCHEMES[scheme](**kwargs)
