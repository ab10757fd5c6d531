"""``gazesdk demo --calibrate N``: a point calibration run at the start of the demo's stream.

The targets of the N-point pattern (then its validation points) are drawn on the demo's
phone screen one after another, each for ``dwell_ms`` of stream time; on a video or an image
folder the times each target appeared come from ``--targets FILE`` instead (JSON: a list of
onset times in ms on the stream's clock, one per target in the pattern's order, validation
points included; or ``{"onsets_ms": [...]}``). Every frame's result feeds a
:class:`~gazesdk.calibration.CalibrationSession`; after the last target the profile is fitted,
applied to the rest of the stream (unless its guard rejected it) and, with
``--calibration-out``, saved. A calibration that cannot finish (too few good samples) says so
in one line and the demo goes on uncalibrated.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from gazesdk.errors import CalibrationError, ConfigError, DataFormatError


def read_onsets(path: Path, count: int) -> list[int]:
    """Target onset times (ms) from a ``--targets`` file; one line of error when malformed."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no targets file at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataFormatError(f"{path} is not a JSON targets file: {e}") from None
    onsets = doc.get("onsets_ms") if isinstance(doc, dict) else doc
    if (not isinstance(onsets, list) or not all(isinstance(v, (int, float))
                                                and not isinstance(v, bool) for v in onsets)):
        raise DataFormatError(f"{path}: expected a list of onset times in ms (or "
                              f"{{\"onsets_ms\": [...]}})")
    if len(onsets) != count:
        raise DataFormatError(f"{path}: {len(onsets)} onset times for a pattern of {count} "
                              f"targets (validation points included)")
    values = [int(round(v)) for v in onsets]
    if any(b <= a for a, b in zip(values, values[1:], strict=False)) or values[0] < 0:
        raise DataFormatError(f"{path}: onset times must be >= 0 and increase")
    return values


class DemoCalibration:
    """Schedules the targets over the stream and fits the profile at the end."""

    def __init__(self, points: int, estimator: Any, *, onsets_ms: list[int] | None = None,
                 dwell_ms: int = 1500, out: Path | None = None) -> None:
        from gazesdk.calibration import CalibrationSession, point_pattern

        o = estimator.options
        self.pattern = point_pattern(points, o.device_geometry(), o.orientation)
        self.session = CalibrationSession(self.pattern, model=estimator.backend.metadata)
        self.targets = [t for t, _ in self.pattern.all_targets()]
        self.onsets = onsets_ms
        self.dwell_ms = dwell_ms
        self.out = out
        self.estimator = estimator
        self.index = -1
        self.done = False
        self.message = ""
        self.profile = None

    def _schedule(self, ts: int) -> None:
        if self.onsets is None:             # live: the first frame starts the first target
            self.onsets = [ts + k * self.dwell_ms for k in range(len(self.targets))]

    def step(self, ts: int, result: Any) -> tuple[tuple[float, float] | None, str]:
        """Feed one frame; returns the target to draw (screen points) and a status line."""
        if self.done:
            return None, self.message
        self._schedule(ts)
        assert self.onsets is not None
        end = self.onsets[-1] + self.dwell_ms
        if ts >= end:
            self._finish()
            return None, self.message
        k = int(np.searchsorted(self.onsets, ts, side="right")) - 1
        if k < 0:
            return None, "calibration: waiting for the first target"
        while self.index < k:
            self.index += 1
            self.session.next_target(self.onsets[self.index])
        self.session.add(result, ts)
        x, y = self.targets[k]
        n_fit = len(self.pattern.targets)
        what = (f"target {k + 1}/{n_fit}" if k < n_fit
                else f"validation {k - n_fit + 1}/{len(self.pattern.validation)}")
        return (float(x), float(y)), f"calibrating: look at the dot ({what})"

    def end_of_stream(self) -> None:
        """The stream ended: fit with what was seen, if the calibration is still running."""
        if not self.done and self.index >= 0:
            self._finish()

    def _finish(self) -> None:
        self.done = True
        while self.session.next_target() is not None:    # targets the stream never reached
            pass
        try:
            profile = self.session.finish()
        except CalibrationError as e:
            self.message = f"calibration failed: {e}"
            print(f"gazesdk demo: {self.message}; going on uncalibrated", file=sys.stderr)
            return
        self.profile = profile
        v = profile.validation
        val = (f"validation {v.error_cm:.2f} cm (uncalibrated {v.uncalibrated_cm:.2f})"
               if v.error_cm is not None and v.uncalibrated_cm is not None else "unvalidated")
        if self.out is not None:
            profile.save(self.out)
        self.estimator.set_calibration(profile)
        state = "applied" if profile.accepted else "rejected by the guard (not applied)"
        self.message = f"calibrated ({profile.map.method}): {val}, {state}"
        print(f"gazesdk demo: {self.message}" + (f"; saved {self.out}" if self.out else ""),
              file=sys.stderr)
