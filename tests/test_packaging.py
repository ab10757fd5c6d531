"""Packaging: every package folder is in the wheel's package list, and export/ installs as
gazesdk.export (package-dir mapping), with its schema file."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _setuptools_table() -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:                                   # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_folder_is_listed():
    table = _setuptools_table()
    listed = set(table["packages"])
    found = {"gazesdk." + p.parent.relative_to(ROOT / "gazesdk").as_posix().replace("/", ".")
             for p in (ROOT / "gazesdk").rglob("__init__.py") if p.parent != ROOT / "gazesdk"}
    found |= {"gazesdk"}
    tops = ("export", "mobile_bench", "calibration")
    mapped = {f"gazesdk.{name}" for name in tops if (ROOT / name / "__init__.py").exists()}
    # their subpackages too (mobile_bench/reliability -> gazesdk.mobile_bench.reliability)
    nested = {"gazesdk." + p.parent.relative_to(ROOT).as_posix().replace("/", ".")
              for name in tops for p in (ROOT / name).rglob("*/__init__.py")}
    assert found | mapped | nested == listed
    assert all(table["package-dir"][p] == p.split(".")[-1] for p in mapped)


def test_export_is_importable_as_gazesdk_export():
    import gazesdk.export

    assert Path(gazesdk.export.__file__).resolve().parent == ROOT / "export"
    assert resources.files("gazesdk.export").joinpath("model-metadata.schema.json").is_file()
