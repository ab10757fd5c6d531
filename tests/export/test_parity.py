"""Parity figures against hand computations, with a test double whose outputs are the torch
model's plus a known offset."""

import numpy as np
import pytest

from gazesdk.export.exported import ExportedModel
from gazesdk.export.parity import ParityError, ParityTolerance, check_parity, torch_predict


class Shifted(ExportedModel):
    """Test double: the torch model's outputs + ``offset`` cm on x for rows where
    ``mask`` is True (by row order of the call)."""

    format = "test"
    suffix = ".test"

    def __init__(self, model, metadata, offset):
        super().__init__(metadata)
        self.model, self.offset = model, offset

    def _make_runner(self, threads):
        import torch

        def run(x):
            with torch.no_grad():
                out = self.model.predict(*(torch.from_numpy(x[k]) for k in self.input_names))
            return out.numpy() + self.offset[: len(out)]

        return run

    def _write(self, path):
        path.write_bytes(b"")


def _meta(precision="fp32"):
    names = ("face", "left_eye", "right_eye", "face_grid")
    shapes = {"face_grid": ["batch", 25, 25]}
    return {"artifact": {"precision": precision, "batch": "dynamic"},
            "inputs": [{"name": n, "shape": shapes.get(n, ["batch", 3, 64, 64])} for n in names]}


def test_figures_match_hand_computation(tiny_model, export_samples):
    held = export_samples[1]
    n = len(held)
    offset = np.zeros((n, 2), np.float32)
    offset[::2, 0] = 0.5                                   # every other row moves 0.5 cm in x
    report = check_parity(Shifted(tiny_model, _meta(), offset), tiny_model, held,
                          tolerance=ParityTolerance(max_abs_cm=1.0))
    ref = torch_predict(tiny_model, held)
    assert report.max_abs_cm == pytest.approx(0.5, abs=1e-5)
    assert report.mean_abs_cm == pytest.approx(0.5 * len(offset[::2]) / (2 * n), abs=1e-5)
    moved = ref + offset
    err = np.linalg.norm(moved - held.gaze_cm, axis=1).mean()
    assert report.error_cm_export == pytest.approx(err, abs=1e-5)
    assert report.error_cm_torch == pytest.approx(
        np.linalg.norm(ref - held.gaze_cm, axis=1).mean(), abs=1e-5)
    stare = held.sequence >= 0
    ids = np.unique(held.sequence[stare])
    spreads = [np.sqrt(((moved[held.sequence == i] - moved[held.sequence == i].mean(0)) ** 2)
                       .sum(1).mean()) for i in ids]
    assert report.msd_cm_export == pytest.approx(np.mean(spreads), abs=1e-5)   # Eq. 10-12
    assert report.passed and report.to_dict()["passed"] is True


def test_exceeding_the_tolerance_fails_loudly(tiny_model, export_samples):
    held = export_samples[1]
    offset = np.full((len(held), 2), 0.002, np.float32)
    double = Shifted(tiny_model, _meta(), offset)
    with pytest.raises(ParityError, match=r"max \|diff\| 0.002\d* cm > 0.001 cm"):
        check_parity(double, tiny_model, held)           # fp32 default: 1e-3 cm
    report = check_parity(double, tiny_model, held, raise_on_failure=False)
    assert not report.passed and len(report.failures) == 1
    nan = np.full((len(held), 2), np.nan, np.float32)
    with pytest.raises(ParityError, match="non-finite"):
        check_parity(Shifted(tiny_model, _meta(), nan), tiny_model, held)


def test_export_refuses_unchecked_and_bad_tolerances(tiny_model, tmp_path):
    from gazesdk.export.metadata import ArtifactError

    double = Shifted(tiny_model, _meta(), np.zeros((1, 2), np.float32))
    with pytest.raises(ArtifactError, match="check the export first"):
        double.export(tmp_path / "x.test")
    with pytest.raises(ArtifactError, match=r"written to a \.test path"):
        double.export(tmp_path / "x.onnx")
    with pytest.raises(ValueError, match=">= 0"):
        ParityTolerance(max_abs_cm=-1)
