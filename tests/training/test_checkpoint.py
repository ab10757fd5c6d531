"""Checkpoints: round trips, RNG restore, atomic writes, and refusal of files that hold code."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from gazesdk.errors import GazeSDKError
from gazesdk.training.checkpoint import (
    CheckpointError,
    capture_rng_state,
    export_weights,
    load_checkpoint,
    load_weights,
    restore_rng_state,
    save_checkpoint,
)

CONFIG = {"arch": "tiny", "width": 4, "bins": [133, 0.4], "head": None}

# Set by the "malicious" payloads below if unpickling ever calls them.
EXECUTED: list[str] = []


def _side_effect(tag: str) -> str:
    EXECUTED.append(tag)
    return tag


class _Evil:
    """Unpickling this calls ``_side_effect`` (a stand-in for os.system)."""

    def __reduce__(self):
        return (_side_effect, ("pwned",))


class _PrintEvil:
    def __reduce__(self):
        return (print, ("pwned",))


def _trained() -> tuple[torch.nn.Module, torch.optim.Optimizer, object]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                torch.nn.Linear(4, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        loss = model(torch.randn(8, 3)).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model, opt, sched


def _assert_same(a: object, b: object) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_same(x, y)
    else:
        assert a == b


def test_round_trip_of_model_optimizer_scheduler_progress_and_rng(tmp_path: Path) -> None:
    model, opt, sched = _trained()
    progress = {"epoch": 2, "step": 10, "history": [{"epoch": 1, "train_error_cm": 3.5,
                                                     "val_error_cm": None}],
                "sums": {"loss": np.float32(1.5)}}      # a numpy scalar is stored as a float
    path = save_checkpoint(tmp_path / "run" / "ck.pt", model_state=model.state_dict(),
                           model_config=CONFIG, optimizer_state=opt.state_dict(),
                           scheduler_state=sched.state_dict(), progress=progress,
                           rng_state=capture_rng_state(), run_config={"lr": 0.01, "seed": 3})
    assert path == tmp_path / "run" / "ck.pt" and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["ck.pt"]      # no temp file left

    ck = load_checkpoint(path)
    _assert_same(dict(model.state_dict()), ck.model_state)
    _assert_same(opt.state_dict(), ck.optimizer_state)
    _assert_same(sched.state_dict(), ck.scheduler_state)
    assert ck.model_config == CONFIG and ck.run_config == {"lr": 0.01, "seed": 3}
    assert ck.progress["sums"] == {"loss": 1.5} and type(ck.progress["sums"]["loss"]) is float
    assert ck.progress["history"] == progress["history"]

    # The loaded states drive fresh objects to the same next step.
    model2, opt2, sched2 = _trained()
    model2.load_state_dict(ck.model_state)
    opt2.load_state_dict(ck.optimizer_state)
    sched2.load_state_dict(ck.scheduler_state)
    x = torch.randn(8, 3)
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).square().mean().backward()
        o.step()
    _assert_same(dict(model.state_dict()), dict(model2.state_dict()))
    assert sched2.get_last_lr() == sched.get_last_lr()


def test_optional_parts_default_to_none(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "ck.pt", model_state={"w": torch.ones(2)}, model_config={})
    ck = load_checkpoint(tmp_path / "ck.pt")
    assert ck.optimizer_state is ck.scheduler_state is ck.progress is ck.rng_state is None
    assert torch.equal(ck.model_state["w"], torch.ones(2))


def test_restoring_rng_state_reproduces_random_numbers(tmp_path: Path) -> None:
    random.seed(1)
    np.random.seed(2)     # noqa: NPY002 - the legacy global RNG is what is captured
    torch.manual_seed(3)
    random.random(), np.random.rand(), torch.rand(1)    # noqa: NPY002
    save_checkpoint(tmp_path / "ck.pt", model_state={}, model_config={},
                    rng_state=capture_rng_state())

    def draw() -> tuple:
        return ([random.random() for _ in range(3)], random.gauss(0, 1),
                np.random.rand(3).tolist(), np.random.randn(),   # noqa: NPY002
                torch.rand(3).tolist())

    expected = draw()
    draw()                                     # move every generator on
    restore_rng_state(load_checkpoint(tmp_path / "ck.pt").rng_state)
    assert draw() == expected


def test_crash_during_rename_keeps_previous_checkpoint_and_leaves_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ck.pt"
    save_checkpoint(path, model_state={"w": torch.zeros(3)}, model_config={"v": 1})
    before = path.read_bytes()

    def crash(*args: object) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        save_checkpoint(path, model_state={"w": torch.ones(3)}, model_config={"v": 2})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ck.pt"]
    assert load_checkpoint(path).model_config == {"v": 1}


def test_crash_half_way_through_writing_keeps_previous_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ck.pt"
    save_checkpoint(path, model_state={"w": torch.zeros(3)}, model_config={"v": 1})
    before = path.read_bytes()

    def half_save(obj: object, f) -> None:
        f.write(before[: len(before) // 2])
        raise KeyboardInterrupt                 # even an interrupt cleans up

    monkeypatch.setattr(torch, "save", half_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model_state={"w": torch.ones(3)}, model_config={"v": 2})
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ck.pt"]


@pytest.mark.parametrize("payload", [
    lambda: {"format": "gazesdk-checkpoint", "version": 1, "model_state": {},
             "model_config": {}, "evil": _Evil()},
    lambda: {"format": "gazesdk-checkpoint", "version": 1, "model_state": {},
             "model_config": {}, "evil": _side_effect},
    lambda: {"model_state": {}, "evil": _PrintEvil()},
    lambda: {"model_state": {}, "evil": os.system},
], ids=["reduce-to-function", "function", "reduce-to-print", "os.system"])
def test_file_with_pickled_code_is_refused_without_running_it(
        tmp_path: Path, payload, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "evil.pt"
    torch.save(payload(), path)
    EXECUTED.clear()
    with pytest.raises(CheckpointError, match="contains pickled code or objects; refusing") as e:
        load_checkpoint(path)
    assert EXECUTED == []                              # the callable never ran
    assert "pwned" not in capsys.readouterr().out
    assert isinstance(e.value, GazeSDKError) and "\n" not in str(e.value)


def test_the_payload_is_live_so_the_refusal_test_means_something(tmp_path: Path) -> None:
    # Control: an unsafe load of the same kind of file does run the callable.
    torch.save({"model_state": {}, "evil": _Evil()}, tmp_path / "evil.pt")
    EXECUTED.clear()
    torch.load(tmp_path / "evil.pt", weights_only=False)
    assert EXECUTED == ["pwned"]
    EXECUTED.clear()


def test_save_refuses_objects_that_could_not_be_loaded_safely(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"progress\['bad'\]\[1\].*_Evil"):
        save_checkpoint(tmp_path / "ck.pt", model_state={}, model_config={},
                        progress={"bad": [1, _Evil()]})
    with pytest.raises(CheckpointError, match="names to tensors"):
        save_checkpoint(tmp_path / "ck.pt", model_state={"w": [1.0]}, model_config={})
    assert not any(tmp_path.iterdir())


def test_missing_truncated_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="nope.pt does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    path = tmp_path / "ck.pt"
    save_checkpoint(path, model_state={"w": torch.randn(1000)}, model_config={})
    data = path.read_bytes()
    bad = {"truncated": data[: len(data) // 2], "empty": b"", "text": b"hello world\n",
           "noise": np.random.default_rng(0).bytes(600)}
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError, match="truncated, corrupt") as e:
            load_checkpoint(tmp_path / name)
        assert "\n" not in str(e.value)


def test_missing_marker_and_newer_version_are_refused(tmp_path: Path) -> None:
    torch.save({"model_state": {"w": torch.ones(1)}}, tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="not a gazesdk checkpoint"):
        load_checkpoint(tmp_path / "plain.pt")
    torch.save({"format": "gazesdk-checkpoint", "version": 2, "model_state": {},
                "model_config": {}}, tmp_path / "new.pt")
    with pytest.raises(CheckpointError, match="version 2"):
        load_checkpoint(tmp_path / "new.pt")


def test_weights_round_trip_with_config_metadata(tmp_path: Path) -> None:
    model, _, _ = _trained()
    lin = torch.nn.Linear(2, 2)
    state = {**model.state_dict(), "tied": lin.weight, "tied_too": lin.weight}   # shared memory
    path = export_weights(tmp_path / "model.safetensors", state, CONFIG)
    loaded, config = load_weights(path)
    assert config == CONFIG
    _assert_same({k: v.detach() for k, v in state.items()}, loaded)
    assert os.listdir(tmp_path) == ["model.safetensors"]
    # The weights file is not a checkpoint, and a checkpoint is not a weights file.
    with pytest.raises(CheckpointError, match="load_weights"):
        load_checkpoint(path)
    save_checkpoint(tmp_path / "ck.pt", model_state={}, model_config={})
    with pytest.raises(CheckpointError, match="not a safetensors weights file"):
        load_weights(tmp_path / "ck.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_weights(tmp_path / "missing.safetensors")
    with pytest.raises(CheckpointError, match="JSON"):
        export_weights(tmp_path / "x.safetensors", {}, {"bad": object()})


def test_third_party_safetensors_without_config_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"w": torch.ones(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(CheckpointError, match="not a gazesdk weights file"):
        load_weights(tmp_path / "other.safetensors")
