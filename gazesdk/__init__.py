"""gazesdk: on-device gaze estimation for phones.

Models take three 64x64 RGB patches (face, left eye, right eye) and predict the gaze point in cm
relative to the front camera (GazeCapture's convention: x to the right, y upwards, in the frame
of the screen as the user sees it). Ground truth comes from GazeSim (`gazesdk.sim`).
"""

from gazesdk.errors import GazeSDKError

__version__ = "0.1.0"

__all__ = ["GazeSDKError", "__version__"]
