"""Model-file fetching: verification, cache location, URL and wheel routes, atomic replacement.

Small fake AssetSpecs stand in for the face detector; the pip step is replaced by one that
writes a wheel built here, so only the test marked slow touches a package index.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from gazesdk.errors import GazeSDKError
from gazesdk.runtime import assets
from gazesdk.runtime.assets import (
    FACE_DETECTOR,
    AssetError,
    AssetSpec,
    asset_path,
    cache_dir,
    detector_model_path,
    fetch_asset,
    fetched_from,
    verify_asset,
)

MEMBER = "fakepkg/modules/model.bin"
OFFLINE_PIP = ("WARNING: Retrying (Retry(total=1, connect=None, read=None, redirect=None, "
               "status=None)) after connection broken by 'NewConnectionError('<...>: Failed to "
               "establish a new connection: [Errno 111] Connection refused')': /simple/fakepkg/\n"
               "ERROR: Could not find a version that satisfies the requirement fakepkg==1.0 "
               "(from versions: none)\nERROR: No matching distribution found for fakepkg==1.0\n")
NO_WHEEL_PIP = ("ERROR: Could not find a version that satisfies the requirement fakepkg==1.0 "
                "(from versions: 2.0)\nERROR: No matching distribution found for fakepkg==1.0\n")


def make_spec(payload: bytes, *, urls: tuple[str, ...] = ()) -> AssetSpec:
    return AssetSpec(name="model.bin", sha256=hashlib.sha256(payload).hexdigest(),
                     size=len(payload), urls=urls, wheel_requirement="fakepkg==1.0",
                     wheel_member=MEMBER, license="Apache-2.0", hint="set FAKE_MODEL",
                     env="GAZESDK_DETECTOR_MODEL")


PAYLOAD = bytes(range(256)) * 40                 # 10 kB, several read chunks of its own


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch, request):
    """A private cache, no override, a fresh verification memo, and (except in slow tests) a
    pip that fails the test if called."""
    monkeypatch.setenv("GAZESDK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GAZESDK_DETECTOR_MODEL", raising=False)
    monkeypatch.setattr(assets, "_VERIFIED", set())
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setattr(assets, "_run_pip",
                            lambda args: pytest.fail(f"pip called: {list(args)}"))


@pytest.fixture
def real_file(detector_model) -> Path:
    """The real detector model (the user cache, fetched once; see tests/conftest.py)."""
    return detector_model


def source_file(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "served" / f"f{len(list(tmp_path.glob('served/*')))}.bin"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path.as_uri()


class FakePip:
    """Stands in for ``pip download``: answers from ``replies`` in turn; a reply of None
    writes a wheel holding ``member_bytes`` into the -d folder and succeeds."""

    def __init__(self, member_bytes: bytes | None = PAYLOAD, replies: tuple = (None,)):
        self.member_bytes, self.replies, self.calls = member_bytes, list(replies), []

    def __call__(self, args):
        args = list(args)
        self.calls.append(args)
        reply = self.replies.pop(0)
        if reply is not None:
            return subprocess.CompletedProcess(args, 1, "", reply)
        dest = Path(args[args.index("-d") + 1])
        self.dest = dest
        with zipfile.ZipFile(dest / "fakepkg-1.0-py3-none-any.whl", "w") as zf:
            zf.writestr("fakepkg/__init__.py", "")
            if self.member_bytes is not None:
                zf.writestr(MEMBER, self.member_bytes)
        return subprocess.CompletedProcess(args, 0, "", "")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_verify_good_and_bad_files(tmp_path):
    spec = make_spec(PAYLOAD)
    good = tmp_path / "good.bin"
    good.write_bytes(PAYLOAD)
    verify_asset(good, spec)
    verify_asset(str(good), spec)
    short = tmp_path / "short.bin"
    short.write_bytes(PAYLOAD[:-1])
    with pytest.raises(AssetError, match=f"{short}.*size {len(PAYLOAD) - 1} bytes, "
                                         f"expected {len(PAYLOAD)}"):
        verify_asset(short, spec)
    flipped = tmp_path / "flipped.bin"
    flipped.write_bytes(b"\xff" + PAYLOAD[1:])                   # same size, other content
    with pytest.raises(AssetError) as err:
        verify_asset(flipped, spec)
    msg = str(err.value)
    assert str(flipped) in msg and hashlib.sha256(flipped.read_bytes()).hexdigest() in msg
    assert f"expected {spec.sha256}" in msg
    with pytest.raises(AssetError, match="no such file"):
        verify_asset(tmp_path / "absent.bin", spec)
    with pytest.raises(AssetError, match="not a file"):
        verify_asset(tmp_path, spec)
    assert issubclass(AssetError, GazeSDKError)


def test_face_detector_spec_matches_the_real_file(real_file):
    assert (FACE_DETECTOR.size, FACE_DETECTOR.license) == (229_714, "Apache-2.0")
    assert FACE_DETECTOR.wheel_requirement == "mediapipe==0.10.21"
    assert FACE_DETECTOR.wheel_member.endswith("/face_detection_short_range.tflite")
    assert all(u.endswith("/face_detection_short_range.tflite") for u in FACE_DETECTOR.urls)
    verify_asset(real_file, FACE_DETECTOR)
    assert detector_model_path(real_file) == real_file


def test_landmark_specs_match_the_real_files(landmark_models):
    from gazesdk.runtime.assets import (
        FACE_LANDMARK,
        IRIS_LANDMARK,
        face_landmark_model_path,
        iris_landmark_model_path,
    )

    mesh, iris = landmark_models
    for spec, path, size in ((FACE_LANDMARK, mesh, 1_242_398), (IRIS_LANDMARK, iris, 2_640_568)):
        assert (spec.size, spec.license, spec.wheel_requirement) == \
            (size, "Apache-2.0", "mediapipe==0.10.21")
        assert spec.wheel_member.endswith("/" + spec.name)
        verify_asset(path, spec)
    assert face_landmark_model_path(mesh) == mesh and iris_landmark_model_path(iris) == iris
    with pytest.raises(AssetError, match="is not the expected iris_landmark.tflite"):
        iris_landmark_model_path(mesh)                  # the wrong model for the role


@pytest.mark.parametrize("platform, env, expected", [
    ("linux", {"GAZESDK_CACHE": "{tmp}/mine", "XDG_CACHE_HOME": "{tmp}/xdg"}, "{tmp}/mine"),
    ("linux", {"XDG_CACHE_HOME": "{tmp}/xdg"}, "{tmp}/xdg/gazesdk"),
    ("linux", {"XDG_CACHE_HOME": "relative/xdg"}, "{home}/.cache/gazesdk"),
    ("linux", {}, "{home}/.cache/gazesdk"),
    ("darwin", {"XDG_CACHE_HOME": "{tmp}/xdg"}, "{home}/Library/Caches/gazesdk"),
    ("win32", {"LOCALAPPDATA": "{tmp}/local"}, "{tmp}/local/gazesdk/Cache"),
    ("win32", {"GAZESDK_CACHE": "~/c"}, "{home}/c"),
])
def test_cache_dir_resolution(tmp_path, monkeypatch, platform, env, expected):
    home = tmp_path / "home"
    for var in ("GAZESDK_CACHE", "XDG_CACHE_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    for var, value in env.items():
        monkeypatch.setenv(var, value.format(tmp=tmp_path))
    monkeypatch.setattr(sys, "platform", platform)
    want = Path(expected.format(tmp=tmp_path, home=home))
    assert cache_dir() == want
    assert asset_path(FACE_DETECTOR) == want / "assets" / "face_detection_short_range.tflite"


def test_fetch_from_url(tmp_path):
    url = source_file(tmp_path, PAYLOAD)
    spec = make_spec(PAYLOAD, urls=(url,))
    path = fetch_asset(spec, sources=("url",))
    assert path == tmp_path / "cache" / "assets" / "model.bin"
    assert path.read_bytes() == PAYLOAD and leftovers(path.parent) == []
    assert fetched_from(spec) == url
    assert json.loads((path.parent / "model.bin.json").read_text())["sha256"] == spec.sha256
    assert fetched_from(make_spec(b"other")) is None        # a record of another file


@pytest.mark.parametrize("served, reason", [
    (b"\xff" + PAYLOAD[1:], "got a different file (sha256"),
    (PAYLOAD[:-10], "got a different file (size"),
    (PAYLOAD + b"more", "more than the expected"),
])
def test_a_wrong_download_never_reaches_the_cache(tmp_path, served, reason):
    spec = make_spec(PAYLOAD, urls=(source_file(tmp_path, served),))
    with pytest.raises(AssetError, match=reason.replace("(", r"\(")):
        fetch_asset(spec, sources=("url",))
    folder = asset_path(spec).parent
    assert not asset_path(spec).exists() and leftovers(folder) == []


def test_unreachable_url_and_index_give_the_offline_message(tmp_path, monkeypatch):
    pip = FakePip(replies=(OFFLINE_PIP,))
    monkeypatch.setattr(assets, "_run_pip", pip)
    spec = make_spec(PAYLOAD, urls=("http://127.0.0.1:9/x",))
    start = time.monotonic()
    with pytest.raises(AssetError) as err:
        fetch_asset(spec, timeout_s=2.0)
    assert time.monotonic() - start < 2.0
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("could not obtain model.bin (official URL: ")
    assert "fakepkg==1.0 wheel from the package index: package index unreachable " \
           "([Errno 111] Connection refused)" in msg
    assert "On a machine with internet run `gazesdk assets --fetch`" in msg
    assert str(asset_path(spec)) in msg and msg.endswith("or download it and set FAKE_MODEL")
    assert len(pip.calls) == 1                         # offline: no retry for another platform
    assert not asset_path(spec).exists()


def test_wheel_route(tmp_path, monkeypatch):
    pip = FakePip()
    monkeypatch.setattr(assets, "_run_pip", pip)
    spec = make_spec(PAYLOAD)
    path = fetch_asset(spec, sources=("wheel",))
    assert path.read_bytes() == PAYLOAD and leftovers(path.parent) == []
    (args,) = pip.calls
    assert args[:2] == ["download", "fakepkg==1.0"]
    assert {"--no-deps", "--only-binary=:all:", "-q"} <= set(args) and "--platform" not in args
    assert not pip.dest.exists()                       # the wheel's folder is gone
    assert fetched_from(spec) == "fakepkg-1.0-py3-none-any.whl"


def test_one_wheel_download_caches_its_sibling_assets(tmp_path, monkeypatch):
    """The detector, mesh and iris models share one wheel: fetching one caches the others
    (verified), so a fresh machine downloads the wheel once, not three times."""
    sibling_bytes = b"a second model"
    pip = FakePip()

    def with_sibling(args):
        result = pip(args)
        wheel = pip.dest / "fakepkg-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "a") as zf:
            zf.writestr("fakepkg/modules/other.bin", sibling_bytes)
            zf.writestr("fakepkg/modules/bad.bin", b"tampered")
        return result

    monkeypatch.setattr(assets, "_run_pip", with_sibling)
    spec = make_spec(PAYLOAD)
    other = AssetSpec(name="other.bin", sha256=hashlib.sha256(sibling_bytes).hexdigest(),
                      size=len(sibling_bytes), urls=(), wheel_requirement="fakepkg==1.0",
                      wheel_member="fakepkg/modules/other.bin", license="Apache-2.0")
    bad = AssetSpec(name="bad.bin", sha256=hashlib.sha256(b"expected!").hexdigest(), size=9,
                    urls=(), wheel_requirement="fakepkg==1.0",
                    wheel_member="fakepkg/modules/bad.bin", license="Apache-2.0")
    monkeypatch.setattr(assets, "ASSETS", (spec, other, bad))
    fetch_asset(spec, sources=("wheel",))
    assert len(pip.calls) == 1
    assert asset_path(other).read_bytes() == sibling_bytes
    assert fetched_from(other) == "fakepkg-1.0-py3-none-any.whl"
    assert not asset_path(bad).exists()                # a wrong sibling is not cached
    assert leftovers(asset_path(spec).parent) == []


def test_wheel_for_another_platform_when_none_fits(monkeypatch):
    pip = FakePip(replies=(NO_WHEEL_PIP, None))
    monkeypatch.setattr(assets, "_run_pip", pip)
    assert fetch_asset(make_spec(PAYLOAD), sources=("wheel",)).read_bytes() == PAYLOAD
    first, second = pip.calls
    assert second == [*first, "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
                      "--implementation", "cp"]


@pytest.mark.parametrize("pip, reason", [
    ({"member_bytes": None}, f"fakepkg-1.0-py3-none-any.whl has no {MEMBER}"),
    ({"member_bytes": b"x" * len(PAYLOAD)}, "got a different file (sha256"),
    ({"replies": (NO_WHEEL_PIP, NO_WHEEL_PIP)}, "No matching distribution found for"),
    ({"replies": ("/usr/bin/python: No module named pip\n",)}, "pip is not installed"),
])
def test_wheel_route_failures(monkeypatch, pip, reason):
    monkeypatch.setattr(assets, "_run_pip", FakePip(**pip))
    spec = make_spec(PAYLOAD)
    with pytest.raises(AssetError) as err:
        fetch_asset(spec, sources=("wheel",))
    assert reason in str(err.value)
    assert not asset_path(spec).exists() and leftovers(asset_path(spec).parent) == []


def test_url_failure_falls_back_to_the_wheel(monkeypatch):
    monkeypatch.setattr(assets, "_run_pip", FakePip())
    spec = make_spec(PAYLOAD, urls=("http://127.0.0.1:9/x",))
    assert fetch_asset(spec).read_bytes() == PAYLOAD
    with pytest.raises(ValueError, match="sources"):
        fetch_asset(spec, sources=("ftp",))


@pytest.fixture
def fake_detector(tmp_path, monkeypatch) -> AssetSpec:
    spec = make_spec(PAYLOAD, urls=(source_file(tmp_path, PAYLOAD),))
    monkeypatch.setattr(assets, "FACE_DETECTOR", spec)
    return spec


def test_corrupt_cached_file_is_replaced_atomically(fake_detector, monkeypatch):
    cached = asset_path(fake_detector)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"garbage")
    renames = []
    real_replace = os.replace

    def spy(src, dst):
        # at the rename: the new file is whole and verified, the old one still in place
        if Path(dst) == cached:
            renames.append((Path(src).parent, Path(src).read_bytes(), cached.read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(assets.os, "replace", spy)
    with pytest.raises(AssetError, match="damaged"):
        detector_model_path(fetch=False)
    assert detector_model_path() == cached
    assert cached.read_bytes() == PAYLOAD and leftovers(cached.parent) == []
    assert renames == [(cached.parent, PAYLOAD, b"garbage")]


def test_missing_cache_without_fetch(fake_detector):
    with pytest.raises(AssetError) as err:
        detector_model_path(fetch=False)
    assert "model.bin is not in the cache" in str(err.value)
    assert "gazesdk assets --fetch" in str(err.value) and "FAKE_MODEL" in str(err.value)
    assert detector_model_path(fetch=True).read_bytes() == PAYLOAD
    assert detector_model_path(fetch=False) == asset_path(fake_detector)


def test_explicit_path_and_env_var(fake_detector, tmp_path, monkeypatch):
    mine = tmp_path / "mine.bin"
    mine.write_bytes(PAYLOAD)
    other = tmp_path / "other.bin"
    other.write_bytes(b"a different detector")
    assert detector_model_path(mine, fetch=False) == mine         # used where it is
    assert detector_model_path(str(mine)) == mine
    monkeypatch.setenv("GAZESDK_DETECTOR_MODEL", str(mine))
    assert detector_model_path(fetch=False) == mine
    monkeypatch.setenv("GAZESDK_DETECTOR_MODEL", str(other))
    with pytest.raises(AssetError) as err:
        detector_model_path()
    msg = str(err.value)
    assert msg.startswith(f"GAZESDK_DETECTOR_MODEL={other} is not the expected model.bin")
    assert "size 20 bytes" in msg and "verify=False" in msg
    assert detector_model_path(verify=False) == other
    assert detector_model_path(mine) == mine                      # the argument wins
    with pytest.raises(AssetError, match=f"detector model {tmp_path / 'nope'}: no such file"):
        detector_model_path(tmp_path / "nope", verify=False)
    monkeypatch.setenv("GAZESDK_DETECTOR_MODEL", "")              # empty: unset
    assert detector_model_path() == asset_path(fake_detector)
    assert not (tmp_path / "cache" / "assets" / "mine.bin").exists()


def test_verification_is_remembered_until_the_file_changes(fake_detector, tmp_path,
                                                            monkeypatch):
    mine = tmp_path / "mine.bin"
    mine.write_bytes(PAYLOAD)
    hashed = []
    real_sha = assets._sha256
    monkeypatch.setattr(assets, "_sha256", lambda p: hashed.append(p) or real_sha(p))
    for _ in range(3):
        detector_model_path(mine)
    assert len(hashed) == 1
    mine.write_bytes(b"\xff" + PAYLOAD[1:])                      # same size, new content
    os.utime(mine, ns=(time.time_ns(), time.time_ns() + 10**9))
    with pytest.raises(AssetError, match="sha256"):
        detector_model_path(mine)
    assert len(hashed) == 2
    verify_asset(tmp_path / "mine.bin", make_spec(b"\xff" + PAYLOAD[1:]))
    assert len(hashed) == 3                                       # verify_asset always reads


@pytest.mark.slow
def test_real_wheel_route(tmp_path):
    """The real thing: pip downloads the mediapipe 0.10.21 wheel and the file comes out of it."""
    start = time.monotonic()
    try:
        path = fetch_asset(FACE_DETECTOR, sources=("wheel",), timeout_s=20.0)
    except AssetError as e:
        if "unreachable" in str(e) or "No matching distribution" in str(e):
            pytest.skip(f"no package index with {FACE_DETECTOR.wheel_requirement}: {e}")
        raise
    took = time.monotonic() - start
    assert path == tmp_path / "cache" / "assets" / FACE_DETECTOR.name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == FACE_DETECTOR.sha256
    assert fetched_from(FACE_DETECTOR).startswith("mediapipe-0.10.21-")
    print(f"real wheel route took {took:.1f} s")
