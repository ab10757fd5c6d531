"""CUDA paths (skipped where torch sees no GPU, as in CI): the same model predicts the same on
CUDA as on CPU, and a short bf16-autocast training run works end to end."""

from __future__ import annotations

import json

import pytest
import torch

from gazesdk.models import create_model
from gazesdk.sim import GazeSim, SimConfig
from gazesdk.training.config import TrainConfig
from gazesdk.training.loop import train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.parametrize("name", ["compact", "casia"])
def test_cuda_predictions_match_cpu(name):
    torch.manual_seed(0)
    model = create_model(name).eval()
    x = [torch.rand(4, 3, 64, 64) for _ in range(3)] + [(torch.rand(4, 25, 25) > 0.7).float()]
    with torch.no_grad():
        cpu = model.predict(*x)
        gpu = model.cuda().predict(*(t.cuda() for t in x)).cpu()
    assert torch.allclose(cpu, gpu, atol=1e-3), (cpu - gpu).abs().max()


def test_cuda_training_run(tmp_path):
    data = tmp_path / "sim"
    GazeSim(SimConfig(subjects=6, frames_per_subject=24, sessions_per_subject=1,
                      split_fractions=(0.67, 0.0, 0.33), seed=1)).write_arrays(data)
    result = train(TrainConfig(data=str(data), epochs=2, batch_size=16, device="cuda"),
                   tmp_path / "run", progress=False)
    assert result["count"] > 0 and result["error_cm"] < 20


def test_cuda_tat_run_rebirths_on_the_gpu(tmp_path):
    """TAT's re-birth writes into CUDA weights (AOI builds them on the CPU first)."""
    data = tmp_path / "sim"
    GazeSim(SimConfig(subjects=6, frames_per_subject=24, sessions_per_subject=1,
                      split_fractions=(0.67, 0.17, 0.16), seed=1)).write_arrays(data)
    cfg = TrainConfig.from_dict({"data": str(data), "scheme": "tat_dwo", "tat_generations": 2,
                                 "tat_generation_epochs": 1, "batch_size": 16,
                                 "device": "cuda"})
    result = train(cfg, tmp_path / "run", progress=False)
    log = json.loads((tmp_path / "run" / "generations.json").read_text())
    assert log[0]["reborn"] > 0 and result["count"] > 0


@pytest.mark.parametrize("settings", [{"scheme": "fra"}, {"scheme": "byol"},
                                      {"aux": "puzzle-rotation"}])
def test_cuda_pretraining_and_cotraining(tmp_path, settings):
    """The momentum copy, the FRA decoder and the pretext heads live on the GPU with the
    model (bf16 autocast)."""
    data = tmp_path / "sim"
    GazeSim(SimConfig(subjects=6, frames_per_subject=24, sessions_per_subject=1,
                      split_fractions=(0.67, 0.0, 0.33), seed=1)).write_arrays(data)
    cfg = TrainConfig.from_dict({"data": str(data), "epochs": 2, "batch_size": 16,
                                 "device": "cuda", **settings})
    result = train(cfg, tmp_path / "run", progress=False)
    assert result.get("encoder") or result["count"] > 0
