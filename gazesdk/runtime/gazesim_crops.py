"""GazeSim datasets cropped the way the runtime crops (issue 16): each full camera frame goes
through the runtime's own detector, face mesh and :func:`~gazesdk.runtime.crops.mesh_crop_boxes`,
and the patches are cut from the frame with :func:`~gazesdk.runtime.crops.model_inputs`, so a
model trained on the dataset sees the crop statistics it will meet in deployment. Stare
sequences are tracked frame to frame (the runtime's VIDEO mode); other frames are detected.

A frame whose face the detector or the mesh misses keeps GazeSim's own (truth) boxes, so no
label is lost; the dataset's ``info`` counts such frames (``crop_failures``), and the
:data:`~gazesdk.runtime.crops.CROP_GEOMETRIES` name under ``crops`` tells training and export
which geometry the model learns. Each row also gets the iris-in-eye geometry of the runtime's
iris model (``eye_geometry``, :mod:`gazesdk.runtime.eye_geometry`), the extra input of hybrid
models; a frame without landmarks gets zeros (the iris centred), counted as ``no_face``.
``mesh_mirror_average``: the mesh averaged with its run on the mirrored ROI, as the runtime's
option of that name does (:mod:`gazesdk.runtime.mesh_mirror`); the dataset's ``info`` says so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from gazesdk.data.arrays import ArraysWriter
from gazesdk.data.facegrid import face_grid
from gazesdk.runtime.crops import CROP_GEOMETRIES, CropBoxes, mesh_crop_boxes, model_inputs
from gazesdk.runtime.eye_geometry import GEOMETRY_NAME, eye_geometry
from gazesdk.sim.generator import CHUNK, GazeSim

CROPS = ("landmarks", "truth")


class LandmarkCropper:
    """Landmark-geometry boxes for GazeSim frames, with the runtime's models (opened once)."""

    def __init__(self, *, geometry: str = "landmarks-v1", threads: int = 1,
                 mesh_mirror_average: bool = False) -> None:
        from gazesdk.runtime.detector import MediaPipeFaceDetector
        from gazesdk.runtime.face_mesh import FaceMesh
        from gazesdk.runtime.iris import IrisLandmarker
        from gazesdk.runtime.tracking import FaceTracker

        self.geometry = CROP_GEOMETRIES[geometry]
        # first: a failure leaves no detector open
        mesh = FaceMesh(threads=threads, mirror_average=mesh_mirror_average)
        self.iris = IrisLandmarker(threads=threads)
        self.detector = MediaPipeFaceDetector()
        self.tracker = FaceTracker(self.detector, mesh)
        self.counts = {"frames": 0, "no_face": 0, "boxes_invalid": 0}
        self._last: tuple[int, int] | None = None    # (row, sequence) of the last frame seen

    def close(self) -> None:
        self.detector.close()

    def boxes(self, rgb: np.ndarray, *, video: bool) -> tuple[CropBoxes, np.ndarray] | None:
        """This frame's boxes and eye geometry, or None (counted) when the runtime would find
        none."""
        self.counts["frames"] += 1
        found = self.tracker.update(rgb, video=video)
        if found is None:
            self.counts["no_face"] += 1
            return None
        h, w = rgb.shape[:2]
        boxes = mesh_crop_boxes(found.mesh.points, w, h, self.geometry)
        if boxes.invalid is not None:
            self.counts["boxes_invalid"] += 1
            self.tracker.reset()
            return None
        return boxes, eye_geometry(found.mesh.points, self.iris.run(rgb, found.mesh.points))

    def chunk(self, sim: GazeSim, start: int, stop: int) -> dict[str, np.ndarray]:
        """Rows ``start:stop`` of ``sim`` in the array form, patches cut as the runtime does."""
        index = np.arange(start, stop)
        frames, scene = sim.render_frames(index)
        out = sim.label_fields(index, scene)
        out[GEOMETRY_NAME] = np.zeros((len(index), 4), np.float32)
        sequence = out["sequence"]
        for k, rgb in enumerate(frames):
            video = bool(sequence[k] >= 0)
            # a new sequence, or a lone frame, starts detected; a sequence goes on across chunks
            if not video or self._last != (start + k - 1, int(sequence[k])):
                self.tracker.reset()
            self._last = (start + k, int(sequence[k]))
            found = self.boxes(rgb, video=video)
            if found is not None:
                boxes, out[GEOMETRY_NAME][k] = found
            else:       # keep GazeSim's own boxes: no label is lost
                boxes = CropBoxes(face=tuple(int(v) for v in out["face_box"][k]),
                                  left_eye=tuple(int(v) for v in out["left_eye_box"][k]),
                                  right_eye=tuple(int(v) for v in out["right_eye_box"][k]))
            _, patches = model_inputs(rgb, boxes)
            for name in ("face", "left_eye", "right_eye"):
                out[name][k] = patches[name]
            out["face_box"][k] = boxes.face
            out["left_eye_box"][k] = boxes.left_eye
            out["right_eye_box"][k] = boxes.right_eye
            out["face_grid"][k] = face_grid(np.asarray(boxes.face, float),
                                            out["frame_wh"][k])[0]
        return out

    def summary(self) -> dict[str, Any]:
        c = self.counts
        n = max(c["frames"], 1)
        return {**c, "failure_rate": (c["no_face"] + c["boxes_invalid"]) / n}


def write_landmark_arrays(sim: GazeSim, out_dir: str | os.PathLike, *, progress: bool = False,
                          geometry: str = "landmarks-v1", mesh_mirror_average: bool = False
                          ) -> tuple[Path, dict[str, Any]]:
    """Write ``sim`` in the array form with landmark crops; returns the folder and the crop
    failure counts (also in the dataset's ``info.crop_failures``)."""
    info = {"source": "GazeSim", "config": sim.config.to_dict(), "crops": geometry}
    if mesh_mirror_average:
        info["mesh_mirror_average"] = True
    writer = ArraysWriter(out_dir, len(sim), sim.device_names, info,
                          optional=(*sim.optional_fields(), GEOMETRY_NAME))
    # after the writer: nothing left open
    cropper = LandmarkCropper(geometry=geometry, mesh_mirror_average=mesh_mirror_average)
    try:
        with tqdm(total=len(sim), unit="frame", disable=not progress,
                  desc="GazeSim + landmark crops") as bar:
            for start in range(0, len(sim), CHUNK):
                chunk = cropper.chunk(sim, start, min(start + CHUNK, len(sim)))
                writer.write(chunk)
                bar.update(len(chunk["gaze_cm"]))
    finally:
        cropper.close()
    writer.info["crop_failures"] = cropper.summary()
    return writer.close(), cropper.summary()
