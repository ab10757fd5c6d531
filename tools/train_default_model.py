"""Retrain the bundled default model (``gazesdk/models/assets/default.safetensors``) and its
model card, reproducibly: a compact three-patch model with the ordinal head, trained on a fixed
GazeSim dataset through the same loop as ``gazesdk train``. The dataset's patches are cut as the
runtime cuts them (``landmarks-v1``: detector + face mesh on every full frame, with the iris
model's eye geometry, :mod:`gazesdk.runtime.gazesim_crops`).

    python tools/train_default_model.py                       # the bundled recipe, ~20 min
    python tools/train_default_model.py --recipe augment --no-install --work out/real_eyes

``--recipe`` names one of :data:`RECIPES`, the steps of issue 17 (real eyes) measured by
``benchmarks/real_faces.py``; ``--no-install`` trains (or reuses) the run without touching the
bundled model. A finished run (``eval_test.json`` present) is reused, an interrupted one resumed.

The result is trained on simulated people only; real faces are measured by the real-face suite
(lens bias, mirror consistency, iris response, jitter: the model card quotes them). Real-world
accuracy needs training on real data (for example ``gazesdk train`` on a GazeCapture download,
whose licence restricts the result to research).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from gazesdk.data.arrays import is_arrays_dir, load_arrays
from gazesdk.models import count_macs, count_params
from gazesdk.models.loading import default_model_path, load_model
from gazesdk.sim import GazeSim, SimConfig
from gazesdk.training.checkpoint import export_weights
from gazesdk.training.config import TrainConfig
from gazesdk.training.loop import CHECKPOINT, train

SIM = SimConfig(subjects=300, frames_per_subject=40, sessions_per_subject=2,
                stare_sequences=1, stare_frames=30, split_fractions=(0.85, 0.05, 0.10),
                seed=20261122)


@dataclass(frozen=True)
class Recipe:
    """One way to train the bundled model: the data (GazeSim with or without its detailed
    eyes and lens stares), the batch augmentation, whether the model is hybrid (takes the eye
    geometry), and whether the shipped model averages with its mirror image."""

    data: str = "geometry"             # out folder data_<data>
    eye_detail: bool = False
    lens_fraction: float = 0.0
    augment: str = "none"
    eye_geometry: bool = False
    eye_geometry_mode: str = "per_eye"
    mirror_average: bool = False
    mesh_mirror_average: bool = False   # data cut from the mirror-averaged mesh (and run so)
    note: str = ""


RECIPES = {
    "before": Recipe(note="today's-before: DwO on landmark crops, no augmentation"),
    "augment": Recipe(augment="real-camera-mirror",
                      note="+ real-camera augmentation (exposure, white balance, soft optics, "
                           "noise) and mirrored samples"),
    "hybrid": Recipe(augment="real-camera-mirror", eye_geometry=True,
                     note="+ the iris model's eye geometry as a model input"),
    "hybrid_eye_detail": Recipe(data="geometry_detail", eye_detail=True,
                                augment="real-camera-mirror", eye_geometry=True,
                                note="+ GazeSim's detailed eyes (lashes, lid crease, iris "
                                     "texture, sclera tint)"),
    "hybrid_eye_detail_lens": Recipe(data="geometry_detail_lens", eye_detail=True,
                                     lens_fraction=0.1, augment="real-camera-mirror",
                                     eye_geometry=True,
                                     note="+ 10% of GazeSim's frames looking into the lens"),
    "hybrid_mirror": Recipe(augment="real-camera-mirror", eye_geometry=True,
                            mirror_average=True,
                            note="hybrid, shipped with mirror averaging"),
    "hybrid_eye_detail_lens_mirror": Recipe(
        data="geometry_detail_lens", eye_detail=True, lens_fraction=0.1,
        augment="real-camera-mirror", eye_geometry=True, mirror_average=True,
        note="hybrid on detailed eyes with lens stares, real-camera augmentation, shipped "
             "with mirror averaging"),
    "binocular": Recipe(data="geometry_detail_lens", eye_detail=True, lens_fraction=0.1,
                        augment="real-camera-mirror", eye_geometry=True,
                        eye_geometry_mode="binocular",
                        note="+ the model reads the two eyes' mean iris geometry only"),
    "binocular_moddrop": Recipe(data="geometry_detail_lens", eye_detail=True,
                                lens_fraction=0.1, augment="real-camera-mirror-moddrop",
                                eye_geometry=True, eye_geometry_mode="binocular",
                                note="+ eye patches blanked in 30% of training samples "
                                     "(modality dropout)"),
    "binocular_mirror": Recipe(data="geometry_detail_lens", eye_detail=True, lens_fraction=0.1,
                               augment="real-camera-mirror", eye_geometry=True,
                               eye_geometry_mode="binocular", mirror_average=True,
                               note="binocular, shipped with mirror averaging"),
    "binocular_moddrop_mirror": Recipe(data="geometry_detail_lens", eye_detail=True,
                                       lens_fraction=0.1,
                                       augment="real-camera-mirror-moddrop", eye_geometry=True,
                                       eye_geometry_mode="binocular", mirror_average=True,
                                       note="binocular with modality dropout, shipped with "
                                            "mirror averaging"),
    "mesh_averaged": Recipe(data="geometry_detail_lens_mma", eye_detail=True, lens_fraction=0.1,
                          augment="real-camera-mirror", eye_geometry=True,
                          mesh_mirror_average=True,
                          note="+ crops and eye geometry from the mirror-averaged face mesh "
                               "(in training data and at run time)"),
    "mesh_averaged_mirror": Recipe(data="geometry_detail_lens_mma", eye_detail=True,
                                 lens_fraction=0.1, augment="real-camera-mirror",
                                 eye_geometry=True, mesh_mirror_average=True,
                                 mirror_average=True,
                                 note="mirror-averaged mesh, shipped with mirror averaging"),
    "mesh_averaged_binocular": Recipe(data="geometry_detail_lens_mma", eye_detail=True,
                                      lens_fraction=0.1, augment="real-camera-mirror",
                                      eye_geometry=True, eye_geometry_mode="binocular",
                                      mesh_mirror_average=True,
                                      note="mirror-averaged mesh and binocular geometry"),
    "mesh_averaged_binocular_mirror": Recipe(
        data="geometry_detail_lens_mma", eye_detail=True, lens_fraction=0.1,
        augment="real-camera-mirror", eye_geometry=True, eye_geometry_mode="binocular",
        mesh_mirror_average=True, mirror_average=True,
        note="mirror-averaged mesh and binocular geometry, shipped with mirror averaging"),
}
BUNDLED = "hybrid_eye_detail_lens_mirror"


def dataset(work: Path, recipe: Recipe) -> Path:
    """The recipe's GazeSim dataset with landmark crops and eye geometry (written once)."""
    from gazesdk.runtime.gazesim_crops import write_landmark_arrays

    data_dir = work / f"data_{recipe.data}"
    if is_arrays_dir(data_dir) and load_arrays(data_dir).has("eye_geometry"):
        return data_dir
    sim = GazeSim(replace(SIM, eye_detail=recipe.eye_detail,
                          lens_fraction=recipe.lens_fraction))
    _, failures = write_landmark_arrays(sim, data_dir, progress=True,
                                        mesh_mirror_average=recipe.mesh_mirror_average)
    print(f"landmark crops: {failures}")
    return data_dir


def config_of(recipe: Recipe, data_dir: Path, epochs: int) -> TrainConfig:
    return TrainConfig(data=str(data_dir), model="compact", head="ordinal", epochs=epochs,
                       batch_size=64, lr=2e-3, seed=0, scheme="dwo", dwo_org=0.5,
                       augment=recipe.augment, eye_geometry=recipe.eye_geometry,
                       eye_geometry_mode=recipe.eye_geometry_mode)


def train_recipe(name: str, *, work: Path, epochs: int = 6) -> Path:
    """The run folder of recipe ``name`` (trained, resumed or reused); its
    ``model.safetensors`` has mirror averaging set when the recipe ships with it."""
    recipe = RECIPES[name]
    base = replace(recipe, mirror_average=False, note="")
    # a mirror-averaged recipe ships the weights of its plain twin: no training of its own
    twin = next((k for k, r in RECIPES.items()
                 if replace(r, note="") == base and k != name), None)
    run = work / (twin or name)
    if not (run / "eval_test.json").exists():
        config = config_of(recipe, dataset(work, recipe), epochs)
        train(config, run, resume=(run / CHECKPOINT).exists())
    if not recipe.mirror_average:
        return run
    out = work / name
    out.mkdir(parents=True, exist_ok=True)
    model = load_model(run / "model.safetensors")
    model.set_mirror_average(True)
    export_weights(out / "model.safetensors", model.state_dict(), model.config)
    for f in ("eval_test.json", "metrics.jsonl", "config.json"):
        if (run / f).exists() and run != out:
            shutil.copyfile(run / f, out / f)
    return out


def card(name: str, run: Path, seconds: float, command: str) -> str:
    recipe = RECIPES[name]
    model = load_model("default")
    result = json.loads((run / "eval_test.json").read_text())
    config = json.loads((run / "config.json").read_text()) if (run / "config.json").exists() \
        else {}
    suite = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "real_faces.json"
    real = ""
    if suite.exists():
        after = json.loads(suite.read_text()).get("after") or {}
        if after:
            h = after["held_out"]
            real = (f"- **Real faces** (`benchmarks/results/real_faces.md`, two real photos "
                    f"looking into the lens under {len(after['iris_cases'])} iris cases and "
                    f"many framings; decision conditions / held-out conditions): lens bias "
                    f"{after['lens_bias_cm']} / {h['lens_bias_cm']} cm, mirror consistency "
                    f"{after['mirror_cm']} / {h['mirror_cm']} cm, iris response (model / "
                    f"geometric, horizontal, vertical) {after['iris_response_ratio']} / "
                    f"{h['iris_response_ratio']}, raw stare MSD {after['real_face_msd_cm']} "
                    f"/ {h['real_face_msd_cm']} cm.\n")
    hybrid = (", and the iris-in-eye geometry of MediaPipe's iris model (`eye_geometry`, 4 "
              "numbers: `gazesdk.runtime.eye_geometry`)" if model.uses_eye_geometry else "")
    mirror = ("; **mirror-averaged**: the output is the mean of the gaze and the mirrored gaze "
              "of the mirrored inputs (consistent under a mirror by construction, twice the "
              "backbone work)" if model.mirror_average else "")
    return f"""# gazesdk default model

- **Architecture**: `compact` backbone (inverted residual blocks), three branches (face, and
  both eyes with shared weights), 25x25 face grid{", eye-geometry branch (4 -> 64 -> 128)" if
  model.uses_eye_geometry else ""}, ordinal head ({model.bins.bins} bins per axis over
  {list(model.bins.x_range)} cm); {count_params(model):,} parameters,
  {count_macs(model) / 1e6:.1f} M multiply-adds per sample{mirror}.
- **Input**: three 64x64 RGB patches (face, left eye, right eye; "left" is the subject's left
  eye) as float in [0, 1], the face grid{hybrid}. **Output**: the gaze point in cm from the
  front camera (GazeCapture's XCam, YCam: x right, y up, as the user sees the screen).
- **Trained on**: GazeSim only (simulated people; {SIM.subjects} subjects, seed {SIM.seed}
  {"with its detailed eyes" if recipe.eye_detail else ""}), {config.get("epochs", "?")}
  epochs, AdamW, batch {config.get("batch_size", "?")}, DwO (Org
  {config.get("dwo_org", 0):.0%}, {config.get("dwo_center_bins", "?")} center bins),
  augmentation `{recipe.augment}`. No real data, nothing from GazeCapture. Crops:
  {model.config.get("crops", "keypoints-v1")} (the exports' metadata names them). Recipe
  `{name}`: {recipe.note}.
- **GazeSim test subjects** (held out): error {result['error_cm']:.2f} cm over
  {result['count']} frames; MSD {result.get('msd_cm', float('nan')):.3f} cm over
  {result.get('msd_sequences', 0)} stare sequences.
{real}- **Use**: it runs the pipeline end to end; it has never seen a real labelled gaze. For
  real-world accuracy, train on real data: `gazesdk train --data <GazeCapture root> ...`
  (GazeCapture's licence restricts models trained on it to research use).
- **Reproduce**: `{command}` ({seconds:.0f} s on {platform.machine()},
  {platform.platform()}), then `python tools/export_bundled_models.py`.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", choices=tuple(RECIPES), default=BUNDLED)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--work", type=Path, default=Path("out/real_eyes"))
    ap.add_argument("--no-install", action="store_true",
                    help="train (or reuse) the run only; leave the bundled model alone")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    run = train_recipe(args.recipe, work=args.work, epochs=args.epochs)
    print(f"run: {run}")
    if args.no_install:
        return 0
    target = default_model_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run / "model.safetensors", target)
    command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    text = card(args.recipe, run, time.perf_counter() - started, command)
    target.with_name("default.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
