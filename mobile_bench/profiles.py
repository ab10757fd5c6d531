"""Named benchmark set-ups: what to run and on which frames."""

from __future__ import annotations

import os
from dataclasses import dataclass

from gazesdk.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    """Backends x precisions x threads to time, and the camera frame the runtime gets."""

    name: str
    backends: tuple[str, ...]
    precisions: tuple[str, ...]
    threads: tuple[int | str, ...]       # "all": every core
    frame_size: tuple[int, int]          # (width, height)
    photo_scale: float
    description: str

    def thread_counts(self) -> list[int]:
        out: list[int] = []
        for t in self.threads:
            n = (os.cpu_count() or 1) if t == "all" else int(t)
            if n not in out:
                out.append(n)
        return out


PROFILES = {
    "default": Profile("default", ("onnxruntime", "litert", "torch"), ("fp32", "int8"),
                       (1, 2, "all"), (480, 640), 1.8,
                       "every installed backend, fp32 and int8, 1/2/all threads, portrait VGA "
                       "frames (480x640), face about 210 px"),
    "phone": Profile("phone", ("litert", "onnxruntime"), ("int8",), (1,), (360, 480), 1.35,
                     "phone class: int8, one thread, a small 360x480 front-camera frame"),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ConfigError(f"unknown profile {name!r}; choose {', '.join(PROFILES)}")
    return PROFILES[name]
