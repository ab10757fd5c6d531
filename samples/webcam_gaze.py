"""Where on the phone screen is the person in front of the camera looking?

Runs gazesdk's estimator on a camera or a video file and prints the gaze point per frame, in
iOS points from the screen's top-left corner (device: iPhone 6s, portrait). With ``--show``
it also draws each frame in a window (q or Esc quits); that needs a display and an OpenCV
with GUI support (opencv-python, not opencv-python-headless).

    python samples/webcam_gaze.py 0                 # the first camera
    python samples/webcam_gaze.py clip.mp4 --show   # a video file, drawn in a window

The first run fetches the face detector model (once); see ``gazesdk assets``.
"""

from __future__ import annotations

import sys

import cv2

from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, RunningMode, SmoothingOptions
from gazesdk.runtime.draw import annotate


def main(source: str, show: bool = False) -> int:
    cap = cv2.VideoCapture(int(source) if source.isdigit() else source)
    if not cap.isOpened():
        print(f"cannot open {source}", file=sys.stderr)
        return 1
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    options = GazeEstimatorOptions(
        running_mode=RunningMode.VIDEO,                     # a stream: smoothing over time
        smoothing=SmoothingOptions(method="one_euro"),
        color_order="BGR",                                  # OpenCV's frames are BGR
        return_patches=show)
    with GazeEstimator.create_from_options(options) as estimator:
        index = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            timestamp_ms = round(index * 1000 / fps)        # must increase frame to frame
            result = estimator.estimate_for_video(frame, timestamp_ms)
            if result.valid:
                s = result.screen
                where = "on screen" if s.on_screen else "off screen"
                print(f"{timestamp_ms:6d} ms  x {s.x_pt:7.1f} pt  y {s.y_pt:7.1f} pt  ({where})")
            else:
                print(f"{timestamp_ms:6d} ms  no gaze: {result.message}")
            if show:
                canvas = annotate(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), result,
                                  estimator.mapper)
                cv2.imshow("gaze", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
                if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                    break
            index += 1
    cap.release()
    return 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--show"]
    sys.exit(main(args[0] if args else "0", show="--show" in sys.argv[1:]))
