"""GazeSim: a ground-truth simulator of phone gaze recording (GazeCapture's setup).

A person holds a phone or tablet and looks at a dot on its screen while the front camera films
them. GazeSim draws subjects (anatomy, angle kappa, colours), sessions (device, orientation,
light, camera) and frames (head pose, dot), and renders the three 64x64 patches and the full
frame from one 3-D model, so labels are exact. See ``docs``: README, section GazeSim.
"""

from gazesdk.sim.camera import Camera
from gazesdk.sim.config import SimConfig
from gazesdk.sim.generator import GazeSim
from gazesdk.sim.recording import (
    EyeMotion,
    FrameTruth,
    HeadMotion,
    Recording,
    RecordingTruth,
    iter_record,
    plan_recording,
    record,
)

__all__ = ["Camera", "EyeMotion", "FrameTruth", "GazeSim", "HeadMotion", "Recording",
           "RecordingTruth", "SimConfig", "iter_record", "plan_recording", "record"]
