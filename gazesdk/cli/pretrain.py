"""``gazesdk pretrain``: self-supervised pre-training of the three-patch encoder on unlabelled
patches (labels, if the dataset has them, are hidden from the method)."""

from __future__ import annotations

import argparse

from gazesdk.cli.train import _train, add_run_arguments
from gazesdk.training.config import PRETRAIN_SCHEMES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pretrain", help="self-supervised pre-training of an encoder (no labels used)",
        description="Pre-train the encoder of a three-patch gaze model without labels, then "
                    "fine-tune it with `gazesdk train --init RUN/encoder.safetensors`. "
                    "Methods: contrastive-regression (NT-Xent + redundancy term), simclr, "
                    "barlow-twins, byol, fra (facial region awareness), and HMTL's pretext "
                    "tasks hmtl-puzzle, hmtl-rotation, hmtl-puzzle-rotation. Method settings "
                    "(ssl_*, fra_*, aux_*) go in --config. Works under torchrun like train.")
    p.add_argument("--method", required=True, choices=PRETRAIN_SCHEMES)
    add_run_arguments(p)
    p.set_defaults(func=_train)
