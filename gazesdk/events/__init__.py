"""Eye-movement events (issue 19): fixations, saccades, blinks and dwell from a gaze stream.

- :mod:`~gazesdk.events.ivt` / :mod:`~gazesdk.events.idt`: the velocity- and dispersion-
  threshold classifiers (Salvucci & Goldberg 2000), in degrees of visual angle
  (:mod:`~gazesdk.events.angles`), with noise-adaptive thresholds (Engbert & Kliegl 2003,
  :mod:`~gazesdk.events.noise`);
- :mod:`~gazesdk.events.dwell`: dwell on app-given screen regions with hysteresis;
- :mod:`~gazesdk.events.detector`: all of them per frame, as the runtime runs them
  (``GazeEstimatorOptions.events``; results carry ``eye_events``).
"""

from gazesdk.events.detector import EventDetector, EventOptions, list_classifiers
from gazesdk.events.dwell import DwellOptions, DwellRegion, DwellTracker
from gazesdk.events.idt import IDTClassifier, IDTOptions
from gazesdk.events.ivt import IVTClassifier, IVTOptions
from gazesdk.events.state import EventKind, EyeEvents, EyeState, GazeEvent

__all__ = ["DwellOptions", "DwellRegion", "DwellTracker", "EventDetector", "EventKind",
           "EventOptions", "EyeEvents", "EyeState", "GazeEvent", "IDTClassifier", "IDTOptions",
           "IVTClassifier", "IVTOptions", "list_classifiers"]
