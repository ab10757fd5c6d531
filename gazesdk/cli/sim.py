"""``gazesdk sim``: generate GazeSim datasets and preview them."""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from gazesdk.errors import ConfigError
from gazesdk.sim.config import SimConfig

DEFAULT_STARE_SEQUENCES = 2


def register(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser("sim", help="GazeSim: simulate phone gaze recordings with exact labels",
                         description="GazeSim: a simulator of GazeCapture-style phone gaze "
                                     "recording, with exact ground truth.")
    verbs = sim.add_subparsers(dest="verb", metavar="VERB", required=True)

    gen = verbs.add_parser("generate", help="write a dataset (array form or GazeCapture format)",
                           description="Write a GazeSim dataset. The array form (memory-mappable "
                                       ".npy files) is what training reads fastest; the "
                                       "gazecapture format writes recording folders exactly as "
                                       "the real dataset has them (full frames as JPEG).")
    gen.add_argument("--out", required=True, type=Path, help="output folder")
    gen.add_argument("--format", choices=("arrays", "gazecapture"), default="arrays",
                     help="output format (default: arrays)")
    gen.add_argument("--config", type=Path,
                     help="YAML or JSON file of GazeSim settings (flags override it)")
    gen.add_argument("--subjects", type=int, help="number of subjects (default 40)")
    gen.add_argument("--frames-per-subject", type=int,
                     help="random-dot frames per subject (default 50)")
    gen.add_argument("--sessions-per-subject", type=int, help="sessions per subject (default 2)")
    gen.add_argument("--calibration-dots", type=int,
                     help="3x3-grid calibration frames per session, 0-9 (default 0)")
    gen.add_argument("--stare", action="store_true",
                     help=f"add stare sequences ({DEFAULT_STARE_SEQUENCES} per subject unless "
                          f"--stare-sequences says otherwise), for jitter (MSD)")
    gen.add_argument("--stare-sequences", type=int, help="stare sequences per subject")
    gen.add_argument("--stare-frames", type=int, help="frames per stare sequence (default 60)")
    gen.add_argument("--stare-blinks", type=int,
                     help="blinks per stare sequence (lids closing over 100-400 ms; default 0)")
    gen.add_argument("--eye-detail", action="store_true", default=None,
                     help="detailed eyes (lashes, lid crease, socket shading, iris texture, "
                          "sclera tint, caruncle): closer to real eyes, same labels")
    gen.add_argument("--crops", choices=("landmarks", "truth"),
                     help="how the array form's patches are cut: 'landmarks' (default) runs "
                          "each full frame through the runtime's detector, face mesh and "
                          "landmark crops, as deployment does; 'truth' uses GazeSim's exact "
                          "head-geometry boxes (faster; for ablations). GazeCapture-format "
                          "recordings keep full frames and their own boxes")
    gen.add_argument("--devices", nargs="+", metavar="NAME",
                     help="restrict to these devices of the GazeCapture table")
    gen.add_argument("--seed", type=int, help="random seed (default 0)")
    gen.add_argument("--overwrite", action="store_true", help="replace the output folder")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=_generate)

    prev = verbs.add_parser("preview", help="write a PNG contact sheet of GazeSim samples",
                            description="A contact sheet: rows are subjects, columns are dots "
                                        "(screen corners and centre); each cell shows the face, "
                                        "left-eye and right-eye patches and the label in cm.")
    prev.add_argument("--out", required=True, type=Path, help="PNG file to write")
    prev.add_argument("--subjects", type=int, default=4, help="rows (default 4)")
    prev.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    prev.set_defaults(func=_preview)


def load_settings(path: Path) -> dict:
    """A YAML or JSON mapping of settings; one-line errors for bad files."""
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a UTF-8 text file") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"{path} is not valid YAML: {' '.join(str(e).split())}") from None
        except RecursionError:
            raise ConfigError(f"{path} is nested too deeply to be a settings file") from None
    else:
        try:
            data = json.loads(text)
        except ValueError as e:
            raise ConfigError(f"{path} is not valid JSON: {e}") from None
        except RecursionError:
            raise ConfigError(f"{path} is nested too deeply to be a settings file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of settings")
    return data


def config_from_args(args: argparse.Namespace) -> SimConfig:
    settings = load_settings(args.config) if args.config else {}
    flags = {"subjects": args.subjects, "frames_per_subject": args.frames_per_subject,
             "sessions_per_subject": args.sessions_per_subject,
             "calibration_dots": args.calibration_dots, "stare_frames": args.stare_frames,
             "stare_blinks": args.stare_blinks, "eye_detail": args.eye_detail,
             "seed": args.seed, "devices": tuple(args.devices) if args.devices else None}
    if args.stare_sequences is not None:
        flags["stare_sequences"] = args.stare_sequences
    elif args.stare:
        flags["stare_sequences"] = DEFAULT_STARE_SEQUENCES
    settings.update({k: v for k, v in flags.items() if v is not None})
    return SimConfig.from_dict(settings)


def _is_gazesdk_output(folder: Path) -> bool:
    """An array dataset, or a folder of GazeCapture-format recordings only (what generate
    writes, including the ``NNNNN.partial`` recording a killed run was writing): the only
    folders --overwrite may delete."""
    from gazesdk.data.arrays import is_arrays_dir

    if is_arrays_dir(folder):
        return True
    entries = list(folder.iterdir())
    recordings = [e for e in entries if e.is_dir() and e.name.isdigit()
                  and (e / "info.json").is_file()]
    interrupted = [e for e in entries if e.is_dir() and e.name.endswith(".partial")
                   and e.name.removesuffix(".partial").isdigit()]
    return bool(entries) and len(recordings) + len(interrupted) == len(entries)


def _prepare_out(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder")
    if not any(out.iterdir()):
        return
    if not overwrite:
        raise ConfigError(f"{out} exists and is not empty; pass --overwrite to replace it")
    resolved = out.resolve()
    if resolved in (Path.cwd().resolve(), *Path.cwd().resolve().parents, Path.home().resolve()):
        raise ConfigError(f"refusing to overwrite {out}: it is the working folder, a parent "
                          f"of it or the home folder")
    if not _is_gazesdk_output(out):
        raise ConfigError(f"refusing to overwrite {out}: it is not a GazeSim dataset "
                          f"(no gazesdk manifest, or files other than recordings)")
    shutil.rmtree(out)


def _generate(args: argparse.Namespace) -> int:
    from gazesdk.data.arrays import SPLITS
    from gazesdk.sim import GazeSim

    config = config_from_args(args)
    crops = args.crops or ("landmarks" if args.format == "arrays" else "truth")
    if crops == "landmarks" and args.format != "arrays":
        raise ConfigError("--crops landmarks applies to the array form; GazeCapture-format "
                          "recordings keep full frames (their loader crops them)")
    _prepare_out(args.out, args.overwrite)
    sim = GazeSim(config)
    start = time.perf_counter()
    failures = None
    if args.format == "arrays" and crops == "landmarks":
        from gazesdk.runtime.gazesim_crops import write_landmark_arrays

        _, failures = write_landmark_arrays(sim, args.out, progress=not args.quiet)
    elif args.format == "arrays":
        sim.write_arrays(args.out, progress=not args.quiet)
    else:
        sim.write_gazecapture(args.out, progress=not args.quiet)
    seconds = time.perf_counter() - start

    p = sim.plan
    subject_split = p.subject_split
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    kinds = np.bincount(p.kind, minlength=3)
    orient = np.bincount(p.sessions.orientation, minlength=5)[1:]
    device_kind = [sim.devices[d].kind for d in p.sessions.device]
    print(f"GazeSim wrote {len(sim)} frames to {args.out} ({args.format}, "
          f"{size / 1e6:.1f} MB) in {seconds:.1f} s ({len(sim) / seconds:.0f} frames/s)")
    print(f"  subjects  {config.subjects}: " + ", ".join(
        f"{name} {int((subject_split == i).sum())}" for i, name in enumerate(SPLITS)))
    print(f"  sessions  {len(p.sessions)}: phone {device_kind.count('phone')}, "
          f"tablet {device_kind.count('tablet')}; orientations 1-4: {orient.tolist()}")
    print(f"  frames    random dots {kinds[0]}, calibration grid {kinds[1]}, stare {kinds[2]} "
          f"({config.stare_sequences * config.subjects} sequences)")
    if failures is not None:
        print(f"  crops     landmarks-v1 (detector + face mesh, as the runtime): "
              f"{failures['no_face']} frames without a face, {failures['boxes_invalid']} with "
              f"boxes outside the frame ({100 * failures['failure_rate']:.2f}%; those keep "
              f"GazeSim's boxes)")
    else:
        print(f"  crops     {'GazeSim truth boxes' if args.format == 'arrays' else 'full frames'}")
    print(f"  labels    XCam {p.target[:, 0].min():.1f}..{p.target[:, 0].max():.1f} cm, "
          f"YCam {p.target[:, 1].min():.1f}..{p.target[:, 1].max():.1f} cm; "
          f"distance {p.head_pos[:, 2].min():.0f}-{p.head_pos[:, 2].max():.0f} cm")
    return 0


def _preview(args: argparse.Namespace) -> int:
    from gazesdk.sim.preview import contact_sheet

    if args.subjects < 1 or args.subjects > 32:
        raise ConfigError("--subjects for a preview must be 1-32")
    if args.out.suffix.lower() != ".png":
        raise ConfigError(f"--out must be a .png file, got {args.out}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(args.out, subjects=args.subjects, seed=args.seed)
    print(f"wrote {args.out}")
    return 0
