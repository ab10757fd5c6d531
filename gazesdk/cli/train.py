"""``gazesdk train``: train a gaze model (single process, or under torchrun for DDP)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gazesdk.cli.sim import load_settings
from gazesdk.training.config import AUGMENTS, EYE_GEOMETRY_MODES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train a gaze model on a dataset folder",
        description="Train a three-patch gaze model. Settings come from --config (YAML or JSON, "
                    "strict) and flags, flags winning. Under `torchrun --nproc_per_node N "
                    "-m gazesdk train ...` the same command runs N processes with "
                    "DistributedDataParallel (gloo on CPU, nccl on CUDA).")
    add_run_arguments(p)
    p.add_argument("--head", choices=("ordinal", "l2"), help="output head (default ordinal)")
    p.add_argument("--scheme", help="training scheme: supervised (default), tat (Guo et al.'s "
                                     "mini-generations), dwo (adversarial training against "
                                     "jitter) or tat_dwo; tat_*/dwo_* settings go in --config")
    p.add_argument("--tat-generations", type=int, help="TAT: mini-generations K (5)")
    p.add_argument("--tat-generation-epochs", type=int,
                   help="TAT: epochs L per mini-generation (7); epochs default to K L + 1")
    p.add_argument("--init", help="start from a pre-trained encoder (`gazesdk pretrain`'s "
                                  "encoder.safetensors or run folder): all weights but the head")
    p.add_argument("--label-fraction", type=float,
                   help="train on the labels of this fraction of the training subjects (1)")
    p.add_argument("--aux", choices=("none", "puzzle", "rotation", "puzzle-rotation"),
                   help="HMTL co-training: self-supervised puzzle/rotation heads trained with "
                        "the gaze heads (aux_* settings in --config)")
    p.add_argument("--head-pose-weight", type=float,
                   help="add a HopeNet-style head-pose head trained with this weight (needs "
                        "head-pose labels: GazeSim has them)")
    p.add_argument("--aux-branch", type=int,
                   help="HMTL: backbone stage the SSL heads branch from (default 3)")
    p.add_argument("--aux-unlabelled", metavar="DIR",
                   help="HMTL: an unlabelled dataset whose frames also feed the SSL heads "
                        "(its labels are never read)")
    p.add_argument("--augment", choices=AUGMENTS,
                   help="domain randomisation of the batches: real-camera (exposure, white "
                        "balance, soft optics, noise), mirror (mirrored samples), both, or both "
                        "with eye patches blanked in 30%% of samples (-moddrop, hybrid models)")
    p.add_argument("--eye-geometry", action="store_true", default=None,
                   help="a hybrid model that also takes the iris model's iris-in-eye geometry "
                        "(needs a dataset with landmark crops)")
    p.add_argument("--eye-geometry-mode", choices=EYE_GEOMETRY_MODES,
                   help="what a hybrid model reads of the geometry: per_eye (default) or "
                        "binocular (the two eyes' mean)")
    p.set_defaults(func=_train)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The flags ``gazesdk train`` and ``gazesdk pretrain`` share."""
    p.add_argument("--out", required=True, type=Path, help="run folder (checkpoints, metrics)")
    p.add_argument("--config", type=Path, help="YAML or JSON file of training settings")
    p.add_argument("--data", help="dataset: a gazesdk array folder or GazeCapture recordings")
    p.add_argument("--model", help="backbone (see `gazesdk models`; default compact)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, help="global batch size (default 64)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 2e-3)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"))
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (200)")
    p.add_argument("--no-face-grid", action="store_true", help="do not feed the face grid")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def config_from_args(args: argparse.Namespace):  # noqa: ANN201 - TrainConfig, imported lazily
    from gazesdk.training.config import TrainConfig

    settings: dict = {}
    if args.config:
        settings = load_settings(args.config)
    elif args.resume and (args.out / "config.json").is_file():
        settings = json.loads((args.out / "config.json").read_text())
    flags = {"data": args.data, "model": args.model, "epochs": args.epochs,
             "batch_size": args.batch_size, "lr": args.lr, "device": args.device,
             "seed": args.seed, "threads": args.threads,
             "checkpoint_every": args.checkpoint_every}
    for name in ("head", "scheme", "tat_generations", "tat_generation_epochs", "init",
                 "label_fraction", "aux", "aux_branch", "aux_unlabelled", "head_pose_weight",
                 "augment", "eye_geometry", "eye_geometry_mode"):
        flags[name] = getattr(args, name, None)
    if getattr(args, "method", None):
        if settings.get("scheme", args.method) != args.method:
            from gazesdk.errors import ConfigError

            raise ConfigError(f"--method {args.method} contradicts scheme "
                              f"{settings['scheme']!r} in {args.config}")
        flags["scheme"] = args.method
    if args.no_face_grid:
        flags["face_grid"] = False
    settings.update({k: v for k, v in flags.items() if v is not None})
    return TrainConfig.from_dict(settings)


def _train(args: argparse.Namespace) -> int:
    from gazesdk.training.loop import train

    config = config_from_args(args)
    result = train(config, args.out, resume=args.resume, progress=not args.quiet)
    if result and config.pretraining:
        print(f"pre-trained encoder ({config.scheme}): {result['encoder']}\n"
              f"fine-tune it with: gazesdk train --init {result['encoder']} --data ...")
    elif result:
        from gazesdk.evaluation.metrics import format_table

        print(format_table(result))
        print(f"run folder: {args.out}")
    return 0
