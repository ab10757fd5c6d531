"""Figures are written as real PNGs; unusable input is a clear ValueError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gazesdk.evaluation.plots import learning_curve_png, stare_comparison_png, stare_scatter_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_png(path: Path) -> None:
    from matplotlib.image import imread

    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
    assert image[..., :3].std() > 0.05            # something was drawn


def test_learning_curve_png(tmp_path: Path) -> None:
    history = [{"epoch": 1, "train_error_cm": 4.0, "val_error_cm": 4.4},
               {"epoch": 2, "train_error_cm": 3.1},                       # no validation
               {"epoch": 3, "train_error_cm": 2.5, "val_error_cm": None},
               {"epoch": 4, "train_error_cm": 2.2, "val_error_cm": 3.0, "lr": 1e-3}]
    path = learning_curve_png(history, tmp_path / "figs" / "curve.png")
    assert path == tmp_path / "figs" / "curve.png"
    _check_png(path)
    # One epoch, only a validation value: still a figure (the loop draws after every epoch).
    _check_png(learning_curve_png([{"epoch": 1, "val_error_cm": 2.0}], tmp_path / "one.png"))


def test_learning_curve_marks_rebirths(tmp_path: Path) -> None:
    from matplotlib.image import imread

    rows = [{"epoch": e, "train_error_cm": 5.0 - 0.3 * e, "val_error_cm": 5.5 - 0.2 * e}
            for e in range(1, 9)]
    plain = imread(learning_curve_png(rows, tmp_path / "plain.png"))[..., :3]
    rows[3]["reborn"] = 120                  # TAT re-born filters after epoch 4
    marked = imread(learning_curve_png(rows, tmp_path / "marked.png"))[..., :3]
    # A vertical dotted line: a column of changed pixels spanning most of the plot's height.
    changed = np.abs(marked - plain).sum(axis=2) > 0.1
    assert changed.sum(axis=0).max() > 0.3 * changed.shape[0]


def test_learning_curve_rejects_unusable_history(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="history is empty"):
        learning_curve_png([], tmp_path / "x.png")
    with pytest.raises(ValueError, match="no row has"):
        learning_curve_png([{"epoch": 1, "train_error_cm": None}], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_stare_scatter_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    targets = rng.uniform(-10, 10, (9, 2))
    sequence = np.repeat(np.arange(9), 20)
    true = targets[sequence]
    pred = true + rng.normal(0, 0.5, true.shape) + 0.3
    sequence = np.concatenate([sequence, [-1, -1, 42]])      # not in a stare / one frame
    true = np.concatenate([true, np.zeros((3, 2))])
    pred = np.concatenate([pred, np.full((3, 2), 30.0)])
    path = stare_scatter_png(pred, true, sequence, tmp_path / "stare.png", max_sequences=4)
    _check_png(path)


def test_stare_scatter_rejects_data_without_sequences(tmp_path: Path) -> None:
    pts = np.zeros((4, 2))
    with pytest.raises(ValueError, match="no sequence of two or more frames"):
        stare_scatter_png(pts, pts, np.array([-1, -1, 3, -1]), tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        stare_scatter_png(pts, pts[:3], np.zeros(4, int), tmp_path / "x.png")
    with pytest.raises(ValueError, match="max_sequences"):
        stare_scatter_png(pts, pts, np.zeros(4, int), tmp_path / "x.png", max_sequences=0)
    assert not (tmp_path / "x.png").exists()


def test_stare_comparison_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    sequence = np.repeat(np.arange(5), 15)
    true = rng.uniform(-8, 8, (5, 2))[sequence]
    preds = {"baseline": true + rng.normal(0, 0.6, true.shape),
             "DwO": true + rng.normal(0, 0.3, true.shape)}
    path = stare_comparison_png(preds, true, sequence, tmp_path / "cmp.png")
    _check_png(path)
    from matplotlib.image import imread

    one = imread(stare_scatter_png(preds["DwO"], true, sequence, tmp_path / "one.png"))
    assert imread(path).shape[1] > 1.4 * one.shape[1]          # two panels side by side
    with pytest.raises(ValueError, match="at least one"):
        stare_comparison_png({}, true, sequence, tmp_path / "x.png")
    with pytest.raises(ValueError, match="no sequence"):
        stare_comparison_png(preds, true, np.full(len(true), -1), tmp_path / "x.png")


def test_label_efficiency_heatmaps_and_loss_curve(tmp_path):
    from gazesdk.evaluation.plots import heatmaps_png, label_efficiency_png, loss_curve_png

    rows = [{"method": m, "label_fraction": f, "error_cm_mean": e, "error_cm_std": 0.1}
            for m, base in (("supervised", 5.0), ("simclr", 4.5))
            for f, e in ((0.01, base + 2), (0.1, base), (1.0, base - 2))]
    assert label_efficiency_png(rows, tmp_path / "le.png").stat().st_size > 1000
    faces = np.random.default_rng(0).integers(0, 255, (2, 64, 64, 3), dtype=np.uint8)
    maps = np.random.default_rng(1).random((2, 3, 4, 4))
    assert heatmaps_png(faces, maps, tmp_path / "h.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="same B"):
        heatmaps_png(faces, maps[:1], tmp_path / "bad.png")
    history = [{"epoch": 1, "train_loss": 2.0, "train_nt_xent": 1.5},
               {"epoch": 2, "train_loss": 1.0, "train_nt_xent": 0.9}]
    assert loss_curve_png(history, tmp_path / "l.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="no row has a train_"):
        loss_curve_png([{"epoch": 1}], tmp_path / "x.png")
    with pytest.raises(ValueError, match="no rows"):
        label_efficiency_png([], tmp_path / "y.png")
