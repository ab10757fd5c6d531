"""The sandbox's own check: a fuzz category whose cases work, raise a foreign exception or
kill their worker with SIGSEGV (as a native decoder can), chosen by each case's generator, so
a test can tell that :func:`~gazesdk.mobile_bench.reliability.sandbox.run_category` counts a
dead worker as a crash and carries on."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.mobile_bench.reliability.sandbox import FuzzTarget

BEHAVIOURS = ("works", "raises", "segfaults")


def behaviour(rng: np.random.Generator) -> str:
    """What a case does: the first draw of its generator."""
    return BEHAVIOURS[int(rng.integers(0, len(BEHAVIOURS)))]


def _case(context: Any, rng: np.random.Generator, scratch: Path
          ) -> tuple[str, Callable[[], Any]]:
    kind = behaviour(rng)

    def call() -> Any:
        if kind == "raises":
            return {}["missing"]
        if kind == "segfaults":
            os.kill(os.getpid(), signal.SIGSEGV)
        return "fine"

    return kind, call


TARGETS = {"selftest": FuzzTarget("selftest", 12, lambda folder: None, _case,
                                  what="the sandbox's own check")}
