"""Helpers shared by tests in several folders (importable: pytest puts ``tests`` on the path)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import torch


def random_batch(n: int, *, seed: int = 0, gaze_scale: float = 4.0) -> dict[str, torch.Tensor]:
    """A training batch as the loop makes it: three (n, 3, 64, 64) patches in [0, 1], a
    (n, 25, 25) 0/1 face grid and (n, 2) gaze in cm (normal, never exactly 0)."""
    g = torch.Generator().manual_seed(seed)
    return {"face": torch.rand(n, 3, 64, 64, generator=g),
            "left_eye": torch.rand(n, 3, 64, 64, generator=g),
            "right_eye": torch.rand(n, 3, 64, 64, generator=g),
            "face_grid": (torch.rand(n, 25, 25, generator=g) > 0.6).float(),
            "gaze": torch.randn(n, 2, generator=g) * gaze_scale}


def random_model_inputs(n: int = 3, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """A hybrid model's inputs: three (n, 3, 64, 64) patches in [0, 1], an (n, 25, 25) 0/1 face
    grid and (n, 4) eye geometry within +-0.1 eye widths."""
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, 64, 64, generator=g), torch.rand(n, 3, 64, 64, generator=g),
            torch.rand(n, 3, 64, 64, generator=g),
            (torch.rand(n, 25, 25, generator=g) > 0.5).float(),
            0.2 * torch.rand(n, 4, generator=g) - 0.1)


def kill_when(cmd: list[str], checkpoint: Path, ready: Callable[[dict], bool], *,
              timeout: float = 180.0) -> dict | None:
    """Run ``cmd``, SIGKILL it as soon as ``checkpoint``'s progress satisfies ``ready``; return
    that progress (None if the run ended or timed out first)."""
    from gazesdk.training.checkpoint import load_checkpoint

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if checkpoint.exists():
                try:
                    progress = load_checkpoint(checkpoint).progress
                except Exception:  # noqa: BLE001 - being replaced at this instant
                    continue
                if ready(progress):
                    return progress
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return None


def assert_same_weights(a_path: Path, b_path: Path) -> None:
    from gazesdk.training.checkpoint import load_weights

    a, _ = load_weights(a_path)
    b, _ = load_weights(b_path)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def small_sim(folder: Path, **overrides: object) -> Path:
    """A small GazeSim array dataset in ``folder/sim`` (one session per subject; settings
    overridable), for tests that train."""
    from gazesdk.sim import GazeSim, SimConfig

    settings: dict = {"subjects": 8, "frames_per_subject": 24, "sessions_per_subject": 1,
                      "split_fractions": (0.75, 0.125, 0.125), "seed": 0, **overrides}
    path = folder / "sim"
    GazeSim(SimConfig(**settings)).write_arrays(path)
    return path


def one_line_error(capsys, *needles: str, prefix: str = "gazesdk ") -> str:  # noqa: ANN001
    """The CLI's error output: one line, no traceback, starting with ``prefix`` and holding
    every needle; returned."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(prefix), err
    for n in needles:
        assert n in lines[0], (n, err)
    return lines[0]


class CountingDetector:
    """A face detector wrapper that counts ``detect`` calls (for tests of tracking: how often
    BlazeFace ran). It does not close the detector it wraps: that one's owner does."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner, self.calls = inner, 0

    def detect(self, rgb):  # noqa: ANN001, ANN201
        self.calls += 1
        return self.inner.detect(rgb)

    def close(self) -> None:
        pass


def tiny_mirror_model(*, seed: int = 0):  # noqa: ANN201 - a GazeModel (torch imported lazily)
    """A tiny mirror-averaged model for export tests: like the export conftest's ``tiny_model``
    (head scaled up so outputs spread over centimetres), with the mirrored pass in the graph,
    where the features output is the un-mirrored half of the batch."""
    from gazesdk.losses.ordinal import OrdinalBins
    from gazesdk.models import create_model

    torch.manual_seed(seed)
    model = create_model("compact", width_mult=0.25, bins=OrdinalBins(bins=16)).eval()
    model.set_mirror_average(True)
    with torch.no_grad():
        model.head.linear.weight.mul_(40)
    return model


def cached_exports(export, model, export_samples):  # noqa: ANN001, ANN201
    """``get(quant="fp32", features=True)``: ``export(model, ...)`` (export_onnx,
    export_tflite) run once per (quant, features), with a relative int8 tolerance."""
    from gazesdk.export import ParityTolerance
    from gazesdk.export.parity import torch_predict

    calib, held = export_samples
    spread = float(torch_predict(model, held).std(0).mean())
    made: dict = {}

    def get(quant: str = "fp32", features: bool = True):  # noqa: ANN202
        if (quant, features) not in made:
            tol = ParityTolerance(mean_abs_cm=0.5 * spread, features_mean_rel=0.15) \
                if quant == "int8" else None
            made[(quant, features)] = export(model, quant=quant, calibration=calib,
                                             samples=held, tolerance=tol, features=features)
        return made[(quant, features)]

    return get
