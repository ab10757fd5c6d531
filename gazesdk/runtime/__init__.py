"""The runtime: camera frames -> face detection -> patches -> any backend -> screen points.

See :class:`GazeEstimator` for the entry point and :mod:`gazesdk.runtime.result` for the
coordinate frames of its results.
"""

from gazesdk.runtime.crops import CropGeometry
from gazesdk.runtime.detector import FaceDetection, MediaPipeFaceDetector
from gazesdk.runtime.estimator import GazeEstimator, select_face
from gazesdk.runtime.frames import InvalidReason
from gazesdk.runtime.options import FaceSelection, GazeEstimatorOptions, RunningMode
from gazesdk.runtime.result import GazeResult, Patches, ScreenPoint, StageTimings
from gazesdk.runtime.smoothing import SmoothingOptions, TimestampError

__all__ = ["CropGeometry", "FaceDetection", "FaceSelection", "GazeEstimator",
           "GazeEstimatorOptions", "GazeResult", "InvalidReason", "MediaPipeFaceDetector",
           "Patches", "RunningMode", "ScreenPoint", "SmoothingOptions", "StageTimings",
           "TimestampError", "select_face"]
