"""What the estimator returns: frozen dataclasses, one per frame.

Frames of reference:
- *frame pixels*: the upright, unmirrored camera frame, x right and y down from its top-left
  corner (face box, keypoints, crop boxes).
- *camera cm*: GazeCapture's (XCam, YCam) on the screen plane, from the front camera's centre,
  x to the right and y up as the user looks at the screen in its current orientation.
- *screen points / pixels*: from the top-left corner of the screen as the user sees it in that
  orientation, x right and y down (points are iOS points; pixels are physical pixels).
- *head pose*: :mod:`gazesdk.runtime.head_pose` (camera cm, GazeSim's Euler angles).

Every frame: ``valid`` and, when False, ``invalid_reason`` and ``message``. A blink frame is
invalid with reason ``blink`` but keeps the face, landmarks, openness, iris and head pose. With
landmarks on, ``face_source`` says whether the face was DETECTED this frame, TRACKED from the
previous frame's mesh, or HELD (fast configuration, ``refresh_every`` > 1: boxes and landmark
fields from the last refresh); ``face`` (the BlazeFace detection) is None on tracked frames.

Calibration (issue 18): ``raw_gaze_cm`` is always the model's own output (uncalibrated,
unsmoothed); ``calibrated_gaze_cm`` is it after the user's profile and taps (None when no
calibration applies) and ``gaze_cm`` the smoothed gaze of whichever applies
(``calibration_applied``). ``features`` are the model's penultimate features when its export
emits them; ``recalibration_advised`` the drift flag (None without a profile's head pose).

Events (issue 19, VIDEO mode): ``eye_events`` is the frame's eye-movement state (fixation,
saccade, blink, unknown), classified from the unsmoothed gaze (``calibrated_gaze_cm`` when a
calibration applies, else ``raw_gaze_cm``), with the dwell regions (screen points, from the
smoothed ``screen`` point) and the events of the frame; it is set on invalid frames too (a
blink frame is BLINK, a frame without a face UNKNOWN).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gazesdk.events.state import EyeEvents
from gazesdk.runtime.blink import BlinkState
from gazesdk.runtime.detector import FaceDetection
from gazesdk.runtime.frames import InvalidReason
from gazesdk.runtime.head_pose import HeadPose
from gazesdk.runtime.tracking import FaceSource

STAGES = ("detect", "mesh", "iris", "pose", "crop", "infer", "map", "smooth")


@dataclass(frozen=True)
class StageTimings:
    """Milliseconds spent in each stage of one call (0 for stages that did not run)."""

    detect: float = 0.0
    mesh: float = 0.0
    iris: float = 0.0
    pose: float = 0.0
    crop: float = 0.0
    infer: float = 0.0
    map: float = 0.0
    smooth: float = 0.0

    @property
    def total(self) -> float:
        return sum(getattr(self, s) for s in STAGES)


@dataclass(frozen=True)
class Patches:
    """The model's inputs as images: (S, S, 3) uint8 RGB patches and the (25, 25) face grid."""

    face: np.ndarray
    left_eye: np.ndarray
    right_eye: np.ndarray
    face_grid: np.ndarray


@dataclass(frozen=True)
class ScreenPoint:
    """A gaze point on the screen (see the module for the frame). ``on_screen`` is False when
    it lies outside the screen's rectangle; the coordinates are then kept, not clamped."""

    x_pt: float
    y_pt: float
    x_px: float
    y_px: float
    on_screen: bool


@dataclass(frozen=True)
class GazeResult:
    """One frame's estimate. When ``valid`` is False, ``invalid_reason`` and ``message`` say
    why and the gaze fields are None; ``face`` is kept when a face was found."""

    valid: bool
    gaze_cm: tuple[float, float] | None = None          # smoothed when smoothing is on
    raw_gaze_cm: tuple[float, float] | None = None      # the model's output for this frame
    screen: ScreenPoint | None = None
    face: FaceDetection | None = None
    faces_found: int = 0                                # by the detector this frame (0 when it
                                                        # did not run: tracked or held frames)
    face_box: tuple[int, int, int, int] | None = None   # the model's crop boxes, frame pixels
    left_eye_box: tuple[int, int, int, int] | None = None
    right_eye_box: tuple[int, int, int, int] | None = None
    patches: Patches | None = None
    invalid_reason: InvalidReason | None = None
    message: str = ""
    timestamp_ms: int | None = None
    timings: StageTimings = StageTimings()
    face_source: FaceSource | None = None
    landmarks: np.ndarray | None = None                 # (468, 3) face mesh, frame pixels
    right_iris_px: tuple[float, float] | None = None    # iris centres, frame pixels
    left_iris_px: tuple[float, float] | None = None
    right_eye_openness: float | None = None             # lid extent / eye width, ~0.4 open
    left_eye_openness: float | None = None
    blink: BlinkState | None = None
    head_pose: HeadPose | None = None
    calibrated_gaze_cm: tuple[float, float] | None = None
    calibration_applied: bool = False
    recalibration_advised: bool | None = None
    features: np.ndarray | None = None                  # (D,) penultimate features
    eye_events: EyeEvents | None = None                 # VIDEO mode with events on
