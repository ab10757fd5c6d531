"""Per-user calibration (issue 18): patterns to show, a session that collects and cleans the
samples, fitting methods shrunk toward the identity, a profile file bound to the model and
device, implicit calibration from taps, and a drift signal.

    from gazesdk.calibration import CalibrationSession, point_pattern
    pattern = point_pattern(9, "iPhone 6s", orientation=1)
    session = CalibrationSession(pattern, model=estimator.backend.metadata)
    while (target := session.next_target()) is not None:
        ...  # show the target, then for each frame: session.add(estimator.estimate_for_video(...))
    profile = session.finish()
    profile.save("me.calibration.json")
    # later: GazeEstimatorOptions(calibration="me.calibration.json", ...)

Nothing here imports torch or MediaPipe: the math runs wherever numpy does, and
``calibration_spec()`` states it for ports to phones (golden vectors: :mod:`.golden`).
"""

from gazesdk.calibration.drift import DriftMonitor, DriftOptions, HeadReference
from gazesdk.calibration.implicit import ImplicitCalibrator, ImplicitOptions
from gazesdk.calibration.methods import (
    METHODS,
    CalibrationMap,
    FitResult,
    Samples,
    fit_calibration,
    fit_map,
)
from gazesdk.calibration.patterns import (
    PointPattern,
    PursuitPattern,
    create_pattern,
    list_patterns,
    point_pattern,
    pursuit_pattern,
)
from gazesdk.calibration.profile import CalibrationProfile, TargetReport, Validation
from gazesdk.calibration.session import CalibrationSession, CollectionOptions, Target

__all__ = ["METHODS", "CalibrationMap", "CalibrationProfile", "CalibrationSession",
           "CollectionOptions", "DriftMonitor", "DriftOptions", "FitResult", "HeadReference",
           "ImplicitCalibrator", "ImplicitOptions", "PointPattern", "PursuitPattern", "Samples",
           "Target", "TargetReport", "Validation", "create_pattern", "fit_calibration",
           "fit_map", "list_patterns", "point_pattern", "pursuit_pattern"]
