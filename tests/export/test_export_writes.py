"""How an export reaches the disk (issue 19's kill -9 campaign): staged beside the final paths
and renamed into place, metadata last, so a failed or killed export never leaves a
half-written file where a loader looks, and a failed re-export keeps the previous one."""

from __future__ import annotations

import pytest

from gazesdk.export import load_exported
from gazesdk.export.exported import golden_dir
from gazesdk.export.metadata import read_metadata

pytest.importorskip("onnx")


def test_export_writes_artifact_metadata_and_golden_and_no_staging(exports, tmp_path) -> None:
    path = exports("onnx").export(tmp_path / "m.onnx")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["m.onnx", "m.onnx.golden", "m.onnx.json"]
    doc = read_metadata(path, verify=True)
    assert doc["golden"]["folder"] == "m.onnx.golden"
    assert sorted(doc["golden"]["sha256"]) == sorted(p.name for p in golden_dir(path).iterdir())


def test_a_failed_reexport_keeps_the_previous_export(exports, tmp_path, monkeypatch) -> None:
    exported = exports("onnx")
    path = exported.export(tmp_path / "m.onnx")
    before = {p.name: p.read_bytes() for p in (path, path.with_name("m.onnx.json"))}

    def fail(self, folder):  # noqa: ANN001 - stands in for a disk filling up mid-golden
        folder.mkdir(parents=True)
        (folder / "000_face.png").write_bytes(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(exported), "_write_golden", fail)
    with pytest.raises(OSError, match="No space"):
        exported.export(tmp_path / "m.onnx")
    assert {p.name: p.read_bytes() for p in (path, path.with_name("m.onnx.json"))} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.onnx.golden",
                                                          "m.onnx.json"]
    assert load_exported(path).metadata["artifact"]["sha256"] == read_metadata(path)[
        "artifact"]["sha256"]
