"""Training throughput (samples/s) of each backbone with the ordinal head, on this machine's
CPU (all its cores, and one core) and on CUDA when present.

Times full optimiser steps (forward, ordinal loss, backward, AdamW) on random inputs of the
real shapes, after warm-up steps; throughput does not depend on the pixel values. Writes
``benchmarks/results/train_throughput.{json,md}``.

    python benchmarks/train_throughput.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import _results
import torch

from gazesdk.models import create_model, list_models
from gazesdk.models.complexity import count_macs, count_params
from gazesdk.training.task import create_task


def samples_per_s(name: str, device: torch.device, batch: int, steps: int) -> float:
    torch.manual_seed(0)
    model = create_model(name).to(device)
    task = create_task("supervised", head="ordinal", bins=model.bins)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    data = {"face": torch.rand(batch, 3, 64, 64, device=device),
            "left_eye": torch.rand(batch, 3, 64, 64, device=device),
            "right_eye": torch.rand(batch, 3, 64, 64, device=device),
            "face_grid": (torch.rand(batch, 25, 25, device=device) > 0.7).float(),
            "gaze": torch.rand(batch, 2, device=device) * 20 - 10}

    def step() -> None:
        loss = task(model, data)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--out", type=Path, default=_results.RESULTS)
    args = ap.parse_args(argv)
    rows = []
    all_threads = torch.get_num_threads()
    for name in list_models():
        model = create_model(name)
        row = {"model": name, "params": count_params(model), "macs": count_macs(model),
               "batch": args.batch}
        torch.set_num_threads(all_threads)
        row[f"cpu_{all_threads}_threads_samples_per_s"] = round(
            samples_per_s(name, torch.device("cpu"), args.batch, args.steps), 1)
        torch.set_num_threads(1)
        row["cpu_1_thread_samples_per_s"] = round(
            samples_per_s(name, torch.device("cpu"), args.batch, args.steps), 1)
        if torch.cuda.is_available():
            row["cuda_samples_per_s"] = round(
                samples_per_s(name, torch.device("cuda"), args.batch, args.steps * 5), 1)
            row["cuda_device"] = torch.cuda.get_device_name()
        rows.append(row)
        print(row, flush=True)
    torch.set_num_threads(all_threads)
    result = {"rows": rows, "command": _results.command(),
              "machine": _results.machine(torch=torch.__version__, threads=all_threads,
                                          cuda=torch.cuda.is_available())}
    cuda = torch.cuda.is_available()
    md = (f"| model | params | MACs/sample | CPU {all_threads} threads | CPU 1 thread |"
          + (" CUDA |" if cuda else "") + "\n|---|---|---|---|---|" + ("---|" if cuda else "")
          + "\n")
    for r in rows:
        md += (f"| {r['model']} | {r['params'] / 1e6:.2f} M | {r['macs'] / 1e6:.0f} M | "
               f"{r[f'cpu_{all_threads}_threads_samples_per_s']:.0f} | "
               f"{r['cpu_1_thread_samples_per_s']:.0f} |"
               + (f" {r['cuda_samples_per_s']:.0f} |" if cuda else "") + "\n")
    md += (f"\nTraining samples/s (ordinal head, batch {args.batch}); `{result['command']}`.\n")
    _results.write(args.out, "train_throughput", result, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
