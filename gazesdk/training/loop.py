"""The one training loop, for every objective, single-process or under torchrun (DDP).

Each epoch visits the training rows in an order drawn from (seed, epoch); a global batch of
``batch_size`` rows is split across the N processes (rank r takes rows r, r+N, ...), so a run
on N processes sees the same global batches, and averages the same gradients, as a run on
one. BatchNorm is synchronised across processes on CUDA (SyncBatchNorm); on CPU, where torch
has no SyncBatchNorm, each process normalises its share of the batch, so N-process CPU runs
are close to, not identical with, one-process runs. A checkpoint written every
``checkpoint_every`` steps and at each epoch's end holds the weights, optimiser, schedule,
RNG states and the position in the epoch, so ``resume`` continues a run killed at any point
and ends where the uninterrupted run would.

Files in the run folder (rank 0 writes them): ``config.json``, ``checkpoint.pt`` (latest),
``metrics.jsonl`` (one row per epoch), ``learning_curve.png``, and at the end
``model.safetensors`` (weights and model config only), ``eval_test.json`` and, when the test
split has stare sequences, ``stare_scatter.png``. A pre-training run (no labels) writes
``encoder.safetensors`` instead of the last three: the gaze model whose head is untrained, for
``--init``. A task may wrap the gaze model in a network with its own heads (``wrap``); the
loop then trains and checkpoints the whole network and exports the gaze model alone. A task
with a per-generation log (TAT) also writes ``generations.json``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from gazesdk.data.arrays import GazeArrays
from gazesdk.errors import ConfigError, DataFormatError
from gazesdk.losses.ordinal import OrdinalBins
from gazesdk.training.augment import AUGMENTS, GazeSafeAugment
from gazesdk.training.config import TrainConfig
from gazesdk.training.data import labelled_subset, open_dataset, split_indices, to_batch
from gazesdk.training.task import seeded_generator, task_from_config

CHECKPOINT = "checkpoint.pt"
ENCODER = "encoder.safetensors"
INPUTS = ("face", "left_eye", "right_eye", "face_grid")


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device_kind: str) -> Dist:
    """Join the process group torchrun set up (gloo on CPU, nccl on CUDA), if any."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_kind == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def _barrier(d: Dist) -> None:
    if d.enabled:
        torch.distributed.barrier()


def _all_sum(values: list[float], d: Dist, device: torch.device) -> list[float]:
    """Sums over the processes (on the run's device: NCCL reduces CUDA tensors only)."""
    if not d.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t)
    return t.tolist()


def _all_agree(ok: bool, d: Dist, device: torch.device) -> bool:
    """True when every process is fine, so all of them stop together on a user error
    instead of leaving the others waiting in a collective call."""
    return _all_sum([0.0 if ok else 1.0], d, device)[0] == 0.0


def pick_device(choice: str, d: Dist) -> torch.device:
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ConfigError("device cuda asked for, but torch sees no CUDA device")
        return torch.device("cuda", d.local_rank)
    return torch.device("cpu")


def bins_of(config: TrainConfig) -> OrdinalBins:
    return OrdinalBins(bins=config.bins, x_range=tuple(config.x_range),
                       y_range=tuple(config.y_range))


def build_model(config: TrainConfig) -> torch.nn.Module:
    from gazesdk.models import create_model

    return create_model(config.model, head=config.head, face_grid=config.face_grid,
                        bins=bins_of(config), head_pose=config.head_pose_weight > 0,
                        eye_geometry=config.eye_geometry,
                        eye_geometry_mode=config.eye_geometry_mode, **dict(config.model_options))


@torch.no_grad()
def _per_row(model: torch.nn.Module, data: GazeArrays, index: np.ndarray,
             device: torch.device, method: str, width: int, batch_size: int) -> np.ndarray:
    """``model.<method>(face, left_eye, right_eye, face_grid, eye_geometry)`` on rows
    ``index`` in eval mode, (len(index), width), in the order of ``index``."""
    net = getattr(model, "module", model)
    net = getattr(net, "gaze", net)          # a pre-training / co-training wrapper's model
    was_training = net.training
    net.eval()
    out = np.zeros((len(index), width), np.float32)
    order = np.argsort(index)
    for i in range(0, len(index), batch_size):
        rows = order[i:i + batch_size]
        b = to_batch(data, index[rows], device)
        pred = getattr(net, method)(b["face"], b["left_eye"], b["right_eye"], b["face_grid"],
                                    b.get("eye_geometry"))
        out[rows] = pred.float().cpu().numpy()         # to_batch sorts; rows are sorted here
    net.train(was_training)
    return out


def predict(model: torch.nn.Module, data: GazeArrays, index: np.ndarray, device: torch.device,
            *, batch_size: int = 256) -> np.ndarray:
    """(len(index), 2) predictions in cm, in the order of ``index``."""
    return _per_row(model, data, index, device, "predict", 2, batch_size)


def predict_head_pose(model: torch.nn.Module, data: GazeArrays, index: np.ndarray,
                      device: torch.device, *, batch_size: int = 256) -> np.ndarray:
    """(len(index), 3) head yaw, pitch, roll in degrees, for a model with a head-pose head."""
    return _per_row(model, data, index, device, "predict_head_pose", 3, batch_size)


def _epoch_order(train_idx: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, 1000 + epoch]).permutation(train_idx)


def _optimizer(config: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=0.9,
                               weight_decay=config.weight_decay, nesterov=True)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)


def one_cycle_factor(t: float, *, pct_start: float = 0.15, div: float = 25.0,
                     final_div: float = 1e4) -> float:
    """The one-cycle learning-rate shape (Smith & Topin 2019, as torch's OneCycleLR with cosine
    annealing) at fraction ``t`` in [0, 1] of the cycle, relative to the peak."""
    def cos(a: float, b: float, x: float) -> float:
        return b + (a - b) / 2.0 * (1.0 + math.cos(math.pi * min(max(x, 0.0), 1.0)))

    if t < pct_start:
        return cos(1.0 / div, 1.0, t / pct_start)
    return cos(1.0, 1.0 / (div * final_div), (t - pct_start) / (1.0 - pct_start))


def _scheduler(config: TrainConfig, opt: torch.optim.Optimizer, steps_per_epoch: int):  # noqa: ANN202
    schedule = config.resolved_schedule
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, epochs=config.epochs,
                                                   steps_per_epoch=steps_per_epoch,
                                                   pct_start=0.15)
    if schedule == "generations":          # one cycle per TAT mini-generation
        from gazesdk.training.tat import Generations

        bounds = [(a * steps_per_epoch, b * steps_per_epoch) for a, b in
                  Generations(config.tat_generations, config.tat_generation_epochs).bounds()]

        def factor(step: int) -> float:
            for a, b in bounds:
                if step < b:
                    return one_cycle_factor((step - a) / (b - a))
            return one_cycle_factor(1.0)

        return torch.optim.lr_scheduler.LambdaLR(opt, factor)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)


def train(config: TrainConfig, out_dir: str | os.PathLike, *, resume: bool = False,
          progress: bool = True) -> dict:
    """Run (or resume) training; returns the final evaluation (rank 0) or {} (other ranks)."""
    from gazesdk.training.checkpoint import (
        capture_rng_state,
        export_weights,
        load_checkpoint,
        restore_rng_state,
        save_checkpoint,
    )

    if not config.data:
        raise ConfigError("no training data: give --data DIR (a gazesdk array dataset or "
                          "GazeCapture recordings; `gazesdk sim generate` makes one)")
    device_kind = "cuda" if config.device == "cuda" or (
        config.device == "auto" and torch.cuda.is_available()) else "cpu"
    d = init_distributed(device_kind)
    device = pick_device(config.device, d)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if config.threads:
        torch.set_num_threads(config.threads)
    if config.batch_size % d.world:
        raise ConfigError(f"batch_size {config.batch_size} must divide among {d.world} processes")
    out = Path(out_dir)
    ckpt_path = out / CHECKPOINT
    if not resume and ckpt_path.exists():             # every rank checks: they only read
        raise ConfigError(f"{out} already holds a run; pass --resume to continue it, or "
                          f"choose another --out")
    if resume and not ckpt_path.exists():
        raise ConfigError(f"nothing to resume: {ckpt_path} does not exist")
    show = progress and d.main

    if d.main:
        out.mkdir(parents=True, exist_ok=True)
    data = _open_on_every_rank(config.data, d, device, show, what="dataset")
    train_idx = split_indices(data, config.train_split, stare=False)
    train_idx = labelled_subset(data, train_idx, config.label_fraction, seed=config.seed)
    val_idx = (split_indices(data, config.val_split, stare=False)
               if config.val_split != "none" else np.zeros(0, np.int64))
    if config.pretraining:       # no labels: nothing to validate against
        val_idx = val_idx[:0]
    if config.head_pose_weight > 0 and not data.has("head_pose_deg"):
        raise DataFormatError("head_pose_weight > 0 needs head-pose labels, and this dataset has "
                              "none (GazeSim writes head_pose_deg; GazeCapture has no head "
                              "pose)")
    steps_per_epoch = len(train_idx) // config.batch_size
    if steps_per_epoch < 1:
        raise DataFormatError(f"the {config.train_split!r} split has {len(train_idx)} rows, "
                              f"fewer than one batch of {config.batch_size}")

    torch.manual_seed(config.seed)
    if config.eye_geometry and not data.has("eye_geometry"):
        raise ConfigError(f"eye_geometry (a hybrid model) needs the dataset's eye_geometry "
                          f"field, which {config.data} lacks: write it with landmark crops "
                          f"(gazesdk sim generate --crops landmarks)")
    model = build_model(config).to(device)
    crops = data.info.get("crops") if isinstance(data.info, Mapping) else None
    if isinstance(crops, str) and crops.startswith("landmarks"):
        model.set_crops(crops)          # exports tell the runtime to crop from the mesh
    if config.init and not resume:       # on resume the checkpoint has every weight
        from gazesdk.training.init import load_encoder

        source = load_encoder(model, config.init)
        if show:
            tqdm.write(f"encoder weights from {source}")
    gaze = model
    bins = bins_of(config)
    task = task_from_config(config, bins, rank=d.rank, world=d.world)
    uses_labels = getattr(task, "uses_labels", True)
    if hasattr(task, "wrap"):    # pre-training / co-training heads around the gaze model
        model = task.wrap(gaze, steps_per_epoch=steps_per_epoch, epochs=config.epochs)
        model.to(device)                      # the task's new heads join the model's device
    if getattr(task, "needs_validation", False) and not len(val_idx):
        raise DataFormatError(f"the {config.scheme} scheme needs validation rows (it picks "
                              f"teachers by validation error), and split "
                              f"{config.val_split!r} has none")
    opt = _optimizer(config, model)
    sched = _scheduler(config, opt, steps_per_epoch)
    start_epoch, start_step, history, sums = 0, 0, [], {}
    if resume:
        ck = load_checkpoint(ckpt_path, map_location=device)
        try:        # through the config class: settings added since then take defaults
            saved = TrainConfig.from_dict(dict(ck.run_config or {})).to_dict()
        except ConfigError:
            saved = dict(ck.run_config or {})
        if {k: v for k, v in saved.items() if k != "threads"} != \
                {k: v for k, v in config.to_dict().items() if k != "threads"}:
            raise ConfigError(f"cannot resume {out} with a different configuration; the run "
                              f"was started with {out / 'config.json'}")
        model.load_state_dict(ck.model_state)
        opt.load_state_dict(ck.optimizer_state)
        sched.load_state_dict(ck.scheduler_state)
        prog = ck.progress
        start_epoch, start_step = int(prog["epoch"]), int(prog["step"])
        history = list(prog["history"])
        sums = dict(prog["sums"]) if d.main else {}   # the saved sums are over all ranks
        if hasattr(task, "load_state_dict") and prog.get("task") is not None:
            task.load_state_dict(prog["task"], model)
        restore_rng_state(ck.rng_state)
    elif d.main:
        (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    net = model
    if d.enabled:
        if device.type == "cuda":
            # Keeps the same parameter objects, so the optimiser still holds them.
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16)
                if device.type == "cuda" and config.amp else nullcontext())
    per_rank = config.batch_size // d.world

    def task_state() -> dict | None:
        return task.state_dict() if hasattr(task, "state_dict") else None

    def checkpoint(epoch: int, step: int) -> None:
        keys = sorted(sums)
        partial = dict(zip(keys, _all_sum([sums[k] for k in keys], d, device), strict=True))
        if d.main:
            save_checkpoint(ckpt_path, model_state=model.state_dict(),
                            model_config=gaze.config, optimizer_state=opt.state_dict(),
                            scheduler_state=sched.state_dict(),
                            progress={"epoch": epoch, "step": step, "history": history,
                                      "sums": partial, "task": task_state()},
                            rng_state=capture_rng_state(), run_config=config.to_dict())
        _barrier(d)

    augment = AUGMENTS[config.augment]
    pool_batch = (config.aux_unlabelled_batch or config.batch_size)
    if config.aux_unlabelled and pool_batch % d.world:
        raise ConfigError(f"aux_unlabelled_batch {pool_batch} must divide among {d.world} "
                          f"processes")
    pool = _unlabelled_pool(config, d, device, show)
    for epoch in range(start_epoch, config.epochs):
        order = _epoch_order(train_idx, config.seed, epoch)
        net.train()
        started = time.perf_counter()
        bar = tqdm(range(start_step, steps_per_epoch), desc=f"epoch {epoch + 1}/{config.epochs}",
                   disable=not show, leave=False, unit="step")
        for step in bar:
            rows = order[step * config.batch_size:(step + 1) * config.batch_size][d.rank::d.world]
            batch = to_batch(data, rows, device)
            if augment is not None:
                batch = augment(batch, generator=seeded_generator(config.seed, 17, epoch, step,
                                                                  d.rank))
            if not uses_labels:              # pre-training sees the inputs only
                batch = {k: batch[k] for k in INPUTS}
            extra = {}
            if pool is not None:     # HMTL's SSL heads also see unlabelled frames
                extra["unlabelled"] = _pool_batch(pool, pool_batch, config.seed, epoch, step,
                                                  d, device, augment)
            if hasattr(task, "begin_step"):
                task.begin_step(epoch, step)
            with autocast:
                losses = task(net, batch, **extra)
            opt.zero_grad(set_to_none=True)
            losses["loss"].backward()
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            opt.step()
            sched.step()
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) * per_rank
            sums["_rows"] = sums.get("_rows", 0.0) + per_rank
            if show:
                shown = {"loss": f"{float(losses['loss'].detach()):.3f}"}
                if "metric_error_cm" in losses:
                    shown["err"] = f"{float(losses['metric_error_cm']):.2f}cm"
                bar.set_postfix(shown)
            if (step + 1) % config.checkpoint_every == 0 and step + 1 < steps_per_epoch:
                checkpoint(epoch, step + 1)
        seconds = time.perf_counter() - started
        keys = sorted(sums)
        totals = dict(zip(keys, _all_sum([sums[k] for k in keys], d, device), strict=True))
        rows_seen = totals.pop("_rows", 0.0) or 1.0
        row = {"epoch": epoch + 1, **{f"train_{k.removeprefix('metric_')}": v / rows_seen
                                      for k, v in totals.items()}}
        if d.enabled:       # validate (and later save) with rank 0's BatchNorm statistics
            for buffer in model.buffers():
                torch.distributed.broadcast(buffer, 0)
        if len(val_idx):
            mine = val_idx[d.rank::d.world]
            err = np.linalg.norm(predict(net, data, mine, device)
                                 - np.asarray(data["gaze_cm"][mine]), axis=1)
            total, count = _all_sum([float(err.sum()), float(len(err))], d, device)
            row["val_error_cm"] = total / max(count, 1.0)
        row["lr"] = sched.get_last_lr()[0]
        row["samples_per_s"] = (steps_per_epoch - start_step) * config.batch_size / seconds
        if hasattr(task, "end_of_epoch"):   # e.g. TAT: teachers, pruning, re-birth
            row.update(task.end_of_epoch(epoch=epoch, model=model, optimizer=opt,
                                         val_error_cm=row.get("val_error_cm", math.nan),
                                         train_error_cm=row["train_error_cm"]))
        history.append(row)
        sums, start_step = {}, 0
        if d.main:
            _write_history(out, history)      # before the checkpoint that marks the epoch done
            if getattr(task, "log", None):
                _write_json(out / "generations.json", task.log)
        checkpoint(epoch + 1, 0)
        if d.main:
            if show:
                val = row.get("val_error_cm")
                trained = (f"train {row['train_error_cm']:.3f} cm" if "train_error_cm" in row
                           else f"loss {row['train_loss']:.4f}")
                tqdm.write(f"epoch {epoch + 1}: {trained}"
                           + (f", val {val:.3f} cm" if val is not None else "")
                           + f", {row['samples_per_s']:.0f} samples/s")

    _barrier(d)
    if d.enabled:            # rank 0 exports and evaluates alone; nobody waits in a barrier
        torch.distributed.destroy_process_group()
    if not d.main:
        return {}
    _write_history(out, history)
    if config.pretraining:
        encoder = out / ENCODER
        export_weights(encoder, gaze.state_dict(), gaze.config)
        if hasattr(task, "report"):       # e.g. FRA's heatmaps over a few faces
            shown = split_indices(data, config.test_split, stare=False)
            if not len(shown):
                shown = train_idx
            batch = to_batch(data, np.sort(shown)[np.linspace(0, len(shown) - 1, 6)
                                                   .round().astype(int)], device)
            task.report(out, batch)
        return {"encoder": str(encoder), "final_loss": history[-1]["train_loss"]}
    export_weights(out / "model.safetensors", gaze.state_dict(), gaze.config)
    return _final_evaluation(gaze, data, config, device, out, train_idx)


def _open_on_every_rank(path: str, d: Dist, device: torch.device, show: bool, *,
                        what: str) -> GazeArrays:
    """``open_dataset(path)`` in every process, rank 0 first: decoding GazeCapture fills a
    cache the others then read. A failure on rank 0 stops every rank together."""
    failure: Exception | None = None
    if d.main:
        try:
            data = open_dataset(path, progress=show)
        except Exception as e:  # noqa: BLE001 - re-raised below, after the others know
            failure = e
    if not _all_agree(failure is None, d, device):
        if failure is not None:
            raise failure
        raise DataFormatError(f"the main process could not open the {what}")
    if not d.main:
        data = open_dataset(path, progress=False)
    return data


def _unlabelled_pool(config: TrainConfig, d: Dist, device: torch.device, show: bool
                     ) -> tuple[GazeArrays, np.ndarray] | None:
    """``aux_unlabelled``'s dataset and the rows it feeds (every split; stare sequences and
    calibration grids left out), or None when the run has no pool."""
    if not config.aux_unlabelled:
        return None
    if Path(config.aux_unlabelled).resolve() == Path(config.data).resolve():
        raise ConfigError("aux_unlabelled is the training dataset itself (its test frames "
                          "would train the SSL heads): give a separate unlabelled dataset, or "
                          "drop aux_unlabelled")
    pool = _open_on_every_rank(config.aux_unlabelled, d, device, show,
                               what="unlabelled dataset")
    rows = split_indices(pool, "all", stare=False)
    if not len(rows):
        raise DataFormatError(f"the unlabelled dataset {config.aux_unlabelled} has no "
                              f"single-dot frames to feed the SSL heads")
    if show:
        tqdm.write(f"unlabelled frames for the SSL heads: {len(rows)} from "
                   f"{len(np.unique(np.asarray(pool['subject'])[rows]))} subjects")
    return pool, rows


def _pool_batch(pool: tuple[GazeArrays, np.ndarray], size: int, seed: int, epoch: int,
                step: int, d: Dist, device: torch.device, augment: GazeSafeAugment | None
                ) -> dict[str, torch.Tensor]:
    """This step's unlabelled rows (drawn from (seed, epoch, step): the same after a resume;
    each process takes its share), model inputs only."""
    data, rows = pool
    pick = np.random.default_rng([seed, 23, epoch, step]).choice(
        len(rows), size, replace=len(rows) < size)
    batch = to_batch(data, rows[pick][d.rank::d.world], device)
    batch = {k: v for k, v in batch.items() if k in INPUTS}
    if augment is not None:
        batch = augment(batch, generator=seeded_generator(seed, 19, epoch, step, d.rank))
    return batch


def _write_json(path: Path, value: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=2) + "\n")
    os.replace(tmp, path)


def _write_history(out: Path, history: list[dict]) -> None:
    from gazesdk.evaluation.plots import learning_curve_png, loss_curve_png

    text = "".join(json.dumps(r) + "\n" for r in history)
    tmp = out / "metrics.jsonl.tmp"
    tmp.write_text(text)
    os.replace(tmp, out / "metrics.jsonl")
    if any("train_error_cm" in r or "val_error_cm" in r for r in history):
        learning_curve_png(history, out / "learning_curve.png")
    else:                                  # pre-training: no gaze labels, only losses
        loss_curve_png(history, out / "loss_curve.png")


def _final_evaluation(model: torch.nn.Module, data: GazeArrays, config: TrainConfig,
                      device: torch.device, out: Path, train_idx: np.ndarray) -> dict:
    from gazesdk.evaluation.metrics import evaluate_predictions
    from gazesdk.evaluation.plots import stare_scatter_png

    index = split_indices(data, config.test_split)
    if not len(index):
        return {}
    pred = predict(model, data, index, device)
    subset = data.select(index)
    result = evaluate_predictions(pred, subset, device_names=data.devices)
    result["split"] = config.test_split
    # The over-fitting gap: the same error on (up to 2000 of) the rows it trained on (the
    # labelled subset), in eval mode.
    if len(train_idx):
        some = np.random.default_rng(0).permutation(train_idx)[:2000]
        err = np.linalg.norm(predict(model, data, some, device)
                             - np.asarray(data["gaze_cm"][some]), axis=1)
        result["train_error_cm"] = float(err.mean())
    if getattr(model, "pose", None) is not None and data.has("head_pose_deg"):
        pose = predict_head_pose(model, data, index, device)
        err = np.abs(pose - np.asarray(data["head_pose_deg"][index]))
        result["head_pose_error_deg"] = dict(zip(("yaw", "pitch", "roll"),
                                                 err.mean(0).tolist(), strict=True))
    (out / "eval_test.json").write_text(json.dumps(result, indent=2) + "\n")
    if result.get("msd_sequences"):
        stare_scatter_png(pred, subset["gaze_cm"], subset["sequence"], out / "stare_scatter.png")
    return result
