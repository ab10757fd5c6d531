"""Is GazeSim learnable, and does per-user calibration matter in it as it does in real life?

Trains a small three-patch CNN (face, both eyes with shared weights, and the 25x25 face grid;
iTracker's inputs) with an L2 loss on GazeSim subjects, and reports, on held-out *subjects*:
- ``mean_predictor_cm``: the error of always predicting the training labels' mean;
- ``model_cm``: the CNN's mean Euclidean error;
- ``model_calibrated_cm``: the CNN's error after a per-subject affine correction fitted by
  least squares on that subject's 9 calibration-grid frames (not used for the error).

Also a pixel ridge regression (numpy only), as a second, simpler learner.
Writes ``benchmarks/results/gazesim_learnability.{json,md}``. Resumable: the data and the
per-epoch checkpoints live in ``--work`` (default ``out/learnability``).

    python benchmarks/gazesim_learnability.py            # about 3 minutes on 2 CPU cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import _results
import numpy as np

from gazesdk.data.arrays import GazeArrays, is_arrays_dir, load_arrays
from gazesdk.sim import GazeSim, SimConfig


def mean_error(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.linalg.norm(pred - true, axis=1).mean())


def fit_affine(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """(3, 2) least-squares affine map: [pred, 1] @ A ~ true."""
    x = np.concatenate([pred, np.ones((len(pred), 1))], 1)
    return np.linalg.lstsq(x, true, rcond=None)[0]


def calibrated(pred: np.ndarray, data: GazeArrays) -> np.ndarray:
    """Per subject: fit on its calibration frames, apply to all its frames."""
    out = pred.copy()
    for s in np.unique(data["subject"]):
        mine = data["subject"] == s
        cal = mine & data["is_calibration"]
        if cal.sum() >= 3:
            a = fit_affine(pred[cal], data["gaze_cm"][cal])
            out[mine] = np.concatenate([pred[mine], np.ones((mine.sum(), 1))], 1) @ a
    return out


def ridge_pixels(train: GazeArrays, test: GazeArrays, alpha: float = 10.0) -> np.ndarray:
    """Ridge regression on downsampled grey patches plus the face grid (a linear baseline)."""
    import cv2

    def features(d: GazeArrays) -> np.ndarray:
        cols = []
        for k in ("face", "left_eye", "right_eye"):
            g = np.asarray(d[k]).mean(-1).astype(np.float32)
            g = np.stack([cv2.resize(im, (16, 16), interpolation=cv2.INTER_AREA) for im in g])
            g = g.reshape(len(g), -1)
            cols.append((g - g.mean(1, keepdims=True)) / (g.std(1, keepdims=True) + 1e-3))
        cols.append(np.asarray(d["face_grid"]).reshape(len(d), -1).astype(np.float32))
        return np.concatenate(cols, 1)

    xtr, xte = features(train), features(test)
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-3
    xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
    ytr = train["gaze_cm"]
    ym = ytr.mean(0)
    w = np.linalg.solve(xtr.T @ xtr + alpha * len(xtr) * np.eye(xtr.shape[1]), xtr.T @ (ytr - ym))
    return xte @ w + ym


def build_cnn():  # noqa: ANN201 - torch is imported lazily
    import torch
    from torch import nn

    def branch(c: int = 3) -> nn.Sequential:
        layers, ch = [], c
        for out in (24, 32, 48, 64):
            layers += [nn.Conv2d(ch, out, 3, stride=2, padding=1), nn.BatchNorm2d(out),
                       nn.ReLU(inplace=True)]
            ch = out
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 4 * 4, 128),
                             nn.ReLU(inplace=True))

    class ThreePatchNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.face = branch()
            self.eye = branch()             # shared by both eyes, as in iTracker
            self.grid = nn.Sequential(nn.Flatten(), nn.Linear(625, 128), nn.ReLU(inplace=True))
            self.head = nn.Sequential(nn.Linear(128 * 4, 128), nn.ReLU(inplace=True),
                                      nn.Linear(128, 2))

        def forward(self, face, left, right, grid):  # noqa: ANN001, ANN201
            f = torch.cat([self.face(face), self.eye(left), self.eye(right), self.grid(grid)], 1)
            return self.head(f)

    return ThreePatchNet()


def to_tensors(d: GazeArrays, index: np.ndarray):  # noqa: ANN201
    import torch

    def img(k: str) -> torch.Tensor:
        a = torch.from_numpy(np.ascontiguousarray(d[k][index]))
        return a.permute(0, 3, 1, 2).float().div_(255).sub_(0.5)

    grid = torch.from_numpy(np.ascontiguousarray(d["face_grid"][index])).float()
    return img("face"), img("left_eye"), img("right_eye"), grid


def train_cnn(train: GazeArrays, val: GazeArrays, test: GazeArrays, work: Path, epochs: int,
              batch: int, seed: int) -> tuple[np.ndarray, list[dict]]:
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    model = build_cnn()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, epochs=epochs,
                                                steps_per_epoch=-(-len(train) // batch))
    ckpt = work / "cnn.pt"
    history: list[dict] = []
    start_epoch = 0
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        start_epoch = int(state["epoch"])
        history = json.loads(state["history"])
        print(f"resuming after epoch {start_epoch}")
    y_mean = torch.from_numpy(train["gaze_cm"].mean(0))
    rng = np.random.default_rng(seed)
    for _ in range(start_epoch):
        rng.permutation(len(train))

    def predict(d: GazeArrays) -> np.ndarray:
        model.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(d), 512):
                out.append((model(*to_tensors(d, np.arange(i, min(i + 512, len(d)))))
                            + y_mean).numpy())
        return np.concatenate(out)

    for epoch in range(start_epoch, epochs):
        model.train()
        order = rng.permutation(len(train))
        total = 0.0
        for i in tqdm(range(0, len(order), batch), desc=f"epoch {epoch + 1}/{epochs}",
                      leave=False):
            idx = np.sort(order[i:i + batch])
            x = to_tensors(train, idx)
            y = torch.from_numpy(train["gaze_cm"][idx]) - y_mean
            loss = ((model(*x) - y) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        val_err = mean_error(predict(val), val["gaze_cm"])
        history.append({"epoch": epoch + 1, "train_mse": total / len(order), "val_cm": val_err})
        print(f"epoch {epoch + 1}: train mse {total / len(order):.3f}, val {val_err:.3f} cm",
              flush=True)
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(),
                    "sched": sched.state_dict(), "epoch": epoch + 1,
                    "history": json.dumps(history)}, tmp)
        os.replace(tmp, ckpt)
    return predict(test), history


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subjects", type=int, default=150)
    ap.add_argument("--frames-per-subject", type=int, default=80)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--work", type=Path, default=Path("out/learnability"))
    ap.add_argument("--out", type=Path, default=_results.RESULTS)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    args.work.mkdir(parents=True, exist_ok=True)
    data_dir = args.work / f"data-s{args.subjects}-f{args.frames_per_subject}-seed{args.seed}"
    config = SimConfig(subjects=args.subjects, frames_per_subject=args.frames_per_subject,
                       sessions_per_subject=1, calibration_dots=9, seed=args.seed,
                       split_fractions=(0.7, 0.1, 0.2))
    if not is_arrays_dir(data_dir):
        GazeSim(config).write_arrays(data_dir, progress=True)
    data = load_arrays(data_dir)
    train, val, test = data.split("train"), data.split("val"), data.split("test")
    train = train.select(~train["is_calibration"])
    val = val.select(~val["is_calibration"])
    evaluated = ~test["is_calibration"]
    truth = test["gaze_cm"][evaluated]

    mean_cm = mean_error(np.broadcast_to(train["gaze_cm"].mean(0), truth.shape), truth)
    ridge = ridge_pixels(train, test)
    ridge_cm = mean_error(ridge[evaluated], truth)
    ridge_cal_cm = mean_error(calibrated(ridge, test)[evaluated], truth)
    print(f"mean predictor {mean_cm:.3f} cm; ridge {ridge_cm:.3f} cm, calibrated "
          f"{ridge_cal_cm:.3f} cm", flush=True)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    pred, history = train_cnn(train, val, test, args.work, args.epochs, args.batch, args.seed)
    model_cm = mean_error(pred[evaluated], truth)
    cal_cm = mean_error(calibrated(pred, test)[evaluated], truth)

    result = {
        "mean_predictor_cm": round(mean_cm, 4),
        "model_cm": round(model_cm, 4),
        "model_calibrated_cm": round(cal_cm, 4),
        "ridge_cm": round(ridge_cm, 4),
        "ridge_calibrated_cm": round(ridge_cal_cm, 4),
        "model": "three-patch CNN + face grid, L2 loss",
        "calibration": "per-subject affine (least squares) on 9 grid dots",
        "train_subjects": int(len(np.unique(train["subject"]))),
        "test_subjects": int(len(np.unique(test["subject"]))),
        "train_frames": len(train), "test_frames": int(evaluated.sum()),
        "epochs": args.epochs, "history": history, "sim_config": config.to_dict(),
        "command": _results.command(),
        "machine": _results.machine(torch=torch.__version__,
                                    torch_threads=torch.get_num_threads()),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    md = ("| predictor | test error (cm), held-out subjects |\n|---|---|\n"
          f"| mean of training labels | {mean_cm:.2f} |\n"
          f"| ridge on pixels + face grid | {ridge_cm:.2f} |\n"
          f"| ridge, per-subject affine (9 dots) | {ridge_cal_cm:.2f} |\n"
          f"| three-patch CNN + face grid | {model_cm:.2f} |\n"
          f"| CNN, per-subject affine (9 dots) | {cal_cm:.2f} |\n\n"
          f"{result['train_subjects']} training and {result['test_subjects']} test subjects, "
          f"{args.epochs} epochs; `{result['command']}` on {platform.machine()} with "
          f"{os.cpu_count()} CPUs.\n")
    _results.write(args.out, "gazesim_learnability", result, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
