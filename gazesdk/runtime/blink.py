"""Blinks from eye openness (:func:`~gazesdk.runtime.eye_openness.eye_openness`): a frame is a
blink frame when the mean openness of both eyes falls below ``close_ratio`` of the person's open
baseline, which adapts (exponential average) on frames that look open. People's open eyes differ
(openness about 0.3-0.45 on GazeSim and on real faces), so a ratio to the person's own baseline
holds where one absolute threshold would not. The baseline starts at the stream's first
openness (or ``open_reference`` when that looks closed, under half of it) and follows the open
frames, quickly upwards and five times slower downwards (so half-closed frames barely pull it).
A "blink" longer than ``max_blink_ms`` is not a blink but narrow or squinting eyes: the
baseline is reset to it and the frames count as open.

IMAGE mode has no baseline to learn, and one picture of narrow eyes must not read as a blink: a
picture is a blink frame below half of ``open_reference`` (0.20: shut lids read under 0.1,
the narrowest open eyes about 0.25).
"""

from __future__ import annotations

from dataclasses import dataclass

from gazesdk.errors import ConfigError

IMAGE_CLOSE = 0.5           # IMAGE mode: closed below this fraction of ``open_reference``


@dataclass(frozen=True)
class BlinkOptions:
    """``close_ratio``: closed below this fraction of the open baseline (0.75 keeps GazeSim's
    blink recall >= 95% with <= 2% false positives, ``benchmarks/landmarks.py``);
    ``open_reference``: IMAGE mode's baseline, and the stream's when its first frame looks
    closed; ``adapt_rate``: the baseline's averaging weight per open frame above it (a fifth of
    it below); ``max_blink_ms``: longer closures are eyes that
    stay narrow, not blinks (real blinks last 100-400 ms)."""

    close_ratio: float = 0.75
    open_reference: float = 0.40
    adapt_rate: float = 0.1
    max_blink_ms: float = 600.0

    def __post_init__(self) -> None:
        for name in ("close_ratio", "open_reference", "adapt_rate", "max_blink_ms"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"blink {name} must be a number, got {v!r}")
        if not 0.0 < self.close_ratio < 1.0:
            raise ConfigError(f"blink close_ratio must lie in (0, 1), got {self.close_ratio}")
        if not self.open_reference > 0.0:
            raise ConfigError(f"blink open_reference must be > 0, got {self.open_reference}")
        if not 0.0 < self.adapt_rate <= 1.0:
            raise ConfigError(f"blink adapt_rate must lie in (0, 1], got {self.adapt_rate}")
        if not self.max_blink_ms > 0.0:
            raise ConfigError(f"blink max_blink_ms must be > 0, got {self.max_blink_ms}")


@dataclass(frozen=True)
class BlinkState:
    """One frame's blink state: ``closed`` on every blink frame, ``onset`` on its first frame,
    ``offset`` on the first open frame after one; ``start_ms`` the first timestamp of the
    current blink, or of the one that ends on an ``offset`` frame (None otherwise, and in IMAGE
    mode)."""

    closed: bool
    onset: bool = False
    offset: bool = False
    start_ms: int | None = None


class BlinkDetector:
    """Per-frame blink state for one face (call :meth:`reset` when the face changes)."""

    def __init__(self, options: BlinkOptions | None = None) -> None:
        self.options = options or BlinkOptions()
        self.reset()

    def reset(self) -> None:
        self._baseline: float | None = None
        self._closed = False
        self._start: int | None = None

    @property
    def baseline(self) -> float:
        return self.options.open_reference if self._baseline is None else self._baseline

    def image(self, openness: float) -> BlinkState:
        """A single picture: closed or not against half the reference openness."""
        return BlinkState(closed=bool(openness < IMAGE_CLOSE * self.options.open_reference))

    def update(self, openness: float, timestamp_ms: int) -> BlinkState:
        """The state after a video frame with mean openness ``openness`` at ``timestamp_ms``."""
        o = self.options
        if self._baseline is None:
            self._baseline = (openness if openness >= 0.5 * o.open_reference
                              else o.open_reference)
        closed = openness < o.close_ratio * self._baseline
        if closed and self._closed and self._start is not None \
                and timestamp_ms - self._start > o.max_blink_ms:
            self._baseline = openness        # not a blink: these eyes are this narrow
            closed = False
        onset = closed and not self._closed
        offset = self._closed and not closed
        if onset:
            self._start = timestamp_ms
        if not closed:
            rate = o.adapt_rate if openness > self._baseline else o.adapt_rate / 5
            self._baseline += rate * (openness - self._baseline)
        self._closed = closed
        start = self._start if closed or offset else None
        if not closed:
            self._start = None
        return BlinkState(closed=closed, onset=onset, offset=offset, start_ms=start)
