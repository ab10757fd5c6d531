"""`gazesdk train` and `gazesdk eval` from the command line, including misuse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import one_line_error

from gazesdk.cli import main
from gazesdk.data.arrays import load_arrays
from gazesdk.sim import GazeSim, SimConfig

PWNED: list[str] = []


class Payload:
    def __reduce__(self):  # noqa: ANN204
        return (PWNED.append, ("ran",))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "sim"
    GazeSim(SimConfig(subjects=6, frames_per_subject=20, sessions_per_subject=1,
                      stare_sequences=1, stare_frames=5, split_fractions=(0.67, 0.0, 0.33),
                      seed=9)).write_arrays(path)
    return path


@pytest.fixture(scope="module")
def run(dataset, tmp_path_factory) -> Path:
    threads = torch.get_num_threads()
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--data", str(dataset), "--out", str(out), "--epochs", "1",
                 "--batch-size", "8", "--threads", "1", "--quiet"]) == 0
    torch.set_num_threads(threads)
    return out


def test_eval_checkpoint_and_exported_weights_agree(run, dataset, capsys):
    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(run / "checkpoint.pt"), "--data", str(dataset),
                 "--json", "--device", "cpu"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert main(["eval", "--checkpoint", str(run / "model.safetensors"), "--data",
                 str(dataset), "--json", "--device", "cpu"]) == 0
    b = json.loads(capsys.readouterr().out)
    assert a["error_cm"] == pytest.approx(b["error_cm"]) and a["msd_cm"] == b["msd_cm"]
    assert a["error_cm"] == pytest.approx(json.loads((run / "eval_test.json").read_text())
                                          ["error_cm"], rel=1e-5)
    assert a["msd_sequences"] == 2                     # one per test subject


def test_pickled_code_in_a_checkpoint_is_refused(run, dataset, tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    torch.save({"format": "gazesdk-checkpoint", "version": 1, "model_state": {},
                "model_config": Payload()}, evil)
    assert main(["eval", "--checkpoint", str(evil), "--data", str(dataset)]) == 2
    one_line_error(capsys, "pickled")
    assert PWNED == []


@pytest.mark.parametrize(("argv", "needle"), [
    (["--epochs", "0"], "epochs"),
    (["--model", "resnet"], "resnet"),
    (["--scheme", "tat", "--epochs", "10"], "make 36 epochs"),
    (["--scheme", "tat", "--head", "l2"], "use head ordinal"),
    (["--scheme", "dwox"], "unknown training scheme"),
    (["--scheme", "tat", "--tat-generations", "0"], "at least 1"),
    (["--eye-geometry"], "lacks"),             # a truth-crop dataset has no eye geometry
])
def test_train_bad_settings(dataset, tmp_path, capsys, argv, needle):
    assert main(["train", "--data", str(dataset), "--out", str(tmp_path / "r"), *argv]) == 2
    one_line_error(capsys, needle)


def test_train_unknown_config_key_and_missing_resume(dataset, tmp_path, capsys):
    cfg = tmp_path / "train.yaml"
    cfg.write_text("epochs: 1\nlearning_rate: 0.1\n")
    assert main(["train", "--config", str(cfg), "--data", str(dataset),
                 "--out", str(tmp_path / "r")]) == 2
    one_line_error(capsys, "learning_rate")
    assert main(["train", "--data", str(dataset), "--out", str(tmp_path / "none"),
                 "--resume"]) == 2
    one_line_error(capsys, "nothing to resume")


def test_eval_missing_checkpoint(dataset, capsys):
    assert main(["eval", "--checkpoint", "/nonexistent/x.pt", "--data", str(dataset)]) == 2
    one_line_error(capsys, "x.pt")


@pytest.fixture(scope="module")
def landmark_dataset(tmp_path_factory, landmark_models, detector_model) -> Path:
    """The same subjects cut as the runtime cuts them, with the eye geometry the bundled
    (hybrid) model takes."""
    from gazesdk.runtime.gazesim_crops import write_landmark_arrays

    path = tmp_path_factory.mktemp("cli") / "sim_lm"
    write_landmark_arrays(GazeSim(SimConfig(subjects=6, frames_per_subject=20,
                                            sessions_per_subject=1, stare_sequences=1,
                                            stare_frames=5, split_fractions=(0.67, 0.0, 0.33),
                                            seed=9)), path)
    return path


def test_bundled_default_model_beats_the_mean_on_new_subjects(landmark_dataset, capsys):
    dataset = landmark_dataset
    assert main(["eval", "--checkpoint", "default", "--data", str(dataset), "--split", "all",
                 "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    data = load_arrays(dataset)
    regular = (np.asarray(data["sequence"]) < 0) & ~np.asarray(data["is_calibration"])
    truth = np.asarray(data["gaze_cm"])[regular]
    mean_error = np.linalg.norm(truth - truth.mean(0), axis=1).mean()
    # These subjects (seed 9) were never seen in training; even the mean is favoured (it is
    # their own mean). The shipped model must still be clearly better.
    assert result["error_cm"] < 0.8 * mean_error, (result["error_cm"], mean_error)


def test_eval_reads_gazecapture_recordings_into_the_user_cache(run, tmp_path, monkeypatch,
                                                               capsys):
    root = tmp_path / "gc"
    GazeSim(SimConfig(subjects=3, frames_per_subject=4, sessions_per_subject=1,
                      split_fractions=(0.34, 0.33, 0.33), seed=4)).write_gazecapture(root)
    monkeypatch.setenv("GAZESDK_CACHE", str(tmp_path / "cache"))
    before = sorted(p.name for p in root.iterdir())
    # a plain (non-hybrid) model: GazeCapture recordings carry no eye geometry
    assert main(["eval", "--checkpoint", str(run / "model.safetensors"), "--data", str(root),
                 "--split", "all", "--json", "--device", "cpu"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 12
    capsys.readouterr()
    assert main(["eval", "--checkpoint", "default", "--data", str(root), "--json"]) == 2
    one_line_error(capsys, "hybrid")
    assert sorted(p.name for p in root.iterdir()) == before      # the dataset is only read
    assert any((tmp_path / "cache" / "gazecapture").iterdir())


def test_weights_that_do_not_match_their_config_are_one_line_errors(run, dataset, tmp_path,
                                                                     capsys):
    from gazesdk.training.checkpoint import export_weights, load_weights

    state, config = load_weights(run / "model.safetensors")
    export_weights(tmp_path / "wrong.safetensors", state, {**config, "name": "casia"})
    assert main(["eval", "--checkpoint", str(tmp_path / "wrong.safetensors"), "--data",
                 str(dataset)]) == 2
    one_line_error(capsys, "do not match")
