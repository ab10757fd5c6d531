"""--init: every encoder weight is copied, the head is not, other architectures are refused."""

from __future__ import annotations

import pytest
import torch

from gazesdk.errors import ConfigError
from gazesdk.models import create_model
from gazesdk.training.checkpoint import export_weights, save_checkpoint
from gazesdk.training.init import load_encoder


def test_copies_all_but_the_head(tmp_path):
    torch.manual_seed(0)
    source = create_model("compact")
    export_weights(tmp_path / "encoder.safetensors", source.state_dict(), source.config)
    torch.manual_seed(1)
    target = create_model("compact")
    head_before = target.head.linear.weight.clone()
    assert load_encoder(target, tmp_path) == tmp_path / "encoder.safetensors"   # a folder
    for k, v in source.state_dict().items():
        if k.startswith("head."):
            continue
        assert torch.equal(target.state_dict()[k], v), k
    assert torch.equal(target.head.linear.weight, head_before)


def test_reads_a_pretraining_checkpoint_with_wrapper_keys(tmp_path):
    torch.manual_seed(0)
    source = create_model("compact")
    state = {f"gaze.{k}": v for k, v in source.state_dict().items()}
    state["projector.0.weight"] = torch.zeros(3, 3)
    save_checkpoint(tmp_path / "checkpoint.pt", model_state=state, model_config=source.config,
                    optimizer_state={}, scheduler_state={}, progress={}, rng_state={},
                    run_config={})
    target = create_model("compact")
    load_encoder(target, tmp_path / "checkpoint.pt")
    assert torch.equal(target.face.stem.conv.weight, source.face.stem.conv.weight)


def test_other_architectures_and_bad_files_are_refused(tmp_path):
    source = create_model("compact", width_mult=0.5)
    export_weights(tmp_path / "a.safetensors", source.state_dict(), source.config)
    with pytest.raises(ConfigError, match="another architecture.*width_mult"):
        load_encoder(create_model("compact"), tmp_path / "a.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a file")
    with pytest.raises(ConfigError, match="junk"):
        load_encoder(create_model("compact"), tmp_path / "junk.safetensors")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="holds none of"):
        load_encoder(create_model("compact"), tmp_path / "empty")


def test_a_different_head_is_fine(tmp_path):
    source = create_model("compact")
    export_weights(tmp_path / "e.safetensors", source.state_dict(), source.config)
    target = create_model("compact", head="l2")
    load_encoder(target, tmp_path / "e.safetensors")
    assert torch.equal(target.fc.weight, source.fc.weight)
