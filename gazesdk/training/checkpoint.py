"""Safe, atomic training checkpoints and shippable weight files.

A checkpoint is one ``torch.save`` file holding only tensors and plain Python data (dicts,
lists, tuples, strings, numbers, booleans, None) under a format marker. It is read back with
``torch.load(weights_only=True)`` only, so opening a checkpoint from elsewhere cannot run code:
a file that contains a pickled function or object is refused with :class:`CheckpointError`.
Files are written atomically (temporary file in the same folder, fsync, ``os.replace``), so a
crash while saving leaves the previous checkpoint intact.

For shipping a trained model, :func:`export_weights` writes a safetensors file (weights only)
whose metadata holds the model configuration as JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import random
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from gazesdk.errors import GazeSDKError

FORMAT_NAME = "gazesdk-checkpoint"
FORMAT_VERSION = 1
WEIGHTS_FORMAT_NAME = "gazesdk-weights"
WEIGHTS_FORMAT_VERSION = 1

_OPTIONAL = ("optimizer_state", "scheduler_state", "progress", "rng_state", "run_config")
_PRIMITIVES = (str, int, float, bool, bytes, type(None), torch.dtype, torch.device)
# Messages of torch's weights-only unpickler when a file asks for a global, a call or an object.
_CODE_REFUSAL = re.compile(
    r"GLOBAL |is blocked|allowlisted via|call reduce|must be imported to load|TorchScript")


class CheckpointError(GazeSDKError):
    """A checkpoint or weights file is missing, corrupt, unsafe or of an unknown format."""


@dataclass(frozen=True)
class Checkpoint:
    """The contents of a checkpoint file (see :func:`save_checkpoint` for the fields)."""

    model_state: dict[str, torch.Tensor]
    model_config: dict
    optimizer_state: dict | None = None
    scheduler_state: dict | None = None
    progress: dict | None = None
    rng_state: dict | None = None
    run_config: dict | None = None


def save_checkpoint(path: str | os.PathLike, *, model_state: Mapping[str, torch.Tensor],
                    model_config: Mapping, optimizer_state: Mapping | None = None,
                    scheduler_state: Mapping | None = None, progress: Mapping | None = None,
                    rng_state: Mapping | None = None,
                    run_config: Mapping | None = None) -> Path:
    """Write a checkpoint atomically to ``path`` (parent folders are created) and return it.

    ``model_state`` is a module's ``state_dict()``; ``optimizer_state`` and ``scheduler_state``
    are torch ``state_dict()``s; ``progress`` is free-form loop state (epoch, step, history);
    ``rng_state`` comes from :func:`capture_rng_state`. Every value must be a tensor or plain
    data; numpy scalars are stored as Python numbers, anything else is a :class:`CheckpointError`.
    """
    payload: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "model_state": _check_state_dict(model_state, "model_state"),
        "model_config": _plain(_check_mapping(model_config, "model_config"), "model_config"),
    }
    given = {"optimizer_state": optimizer_state, "scheduler_state": scheduler_state,
             "progress": progress, "rng_state": rng_state, "run_config": run_config}
    for name, value in given.items():
        payload[name] = None if value is None else _plain(_check_mapping(value, name), name)
    return _atomic_write(Path(path), lambda f: torch.save(payload, f))


def load_checkpoint(path: str | os.PathLike, *, map_location: Any = "cpu") -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`, without ever running pickled code.

    Uses ``torch.load(weights_only=True)``: files holding anything but tensors and plain data
    are refused, as are missing, truncated or corrupt files, files without the gazesdk format
    marker and files of a newer format version.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist" if not path.exists()
                              else f"checkpoint {path} is not a file")
    try:
        data = torch.load(path, weights_only=True, map_location=map_location)
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e.strerror or e}") from None
    except Exception as e:  # any failure to parse an untrusted file is reported
        message = str(e)
        if isinstance(e, pickle.UnpicklingError | RuntimeError) and _CODE_REFUSAL.search(message):
            raise CheckpointError(
                f"{path} contains pickled code or objects; refusing to load it (only tensors "
                f"and plain data are allowed)") from None
        raise CheckpointError(f"cannot read checkpoint {path}: it is truncated, corrupt or not a "
                              f"torch checkpoint ({_short(e)})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        hint = ("; it looks like a weights file, read it with load_weights"
                if path.suffix == ".safetensors" else "")
        raise CheckpointError(f"{path} is not a gazesdk checkpoint (no format marker){hint}")
    version = data.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise CheckpointError(f"{path} has checkpoint format version {version!r}; this gazesdk "
                              f"reads version {FORMAT_VERSION} (upgrade gazesdk to read it)")
    model_state = data.get("model_state")
    if not isinstance(model_state, Mapping) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in model_state.items()):
        raise CheckpointError(f"{path} has no valid model_state (names -> tensors)")
    if not isinstance(data.get("model_config"), Mapping):
        raise CheckpointError(f"{path} has no model_config")
    for name in _OPTIONAL:
        if data.get(name) is not None and not isinstance(data[name], Mapping):
            raise CheckpointError(f"{path}: {name} is a {type(data[name]).__name__}, "
                                  f"expected a dict")
    return Checkpoint(model_state=dict(model_state), model_config=dict(data["model_config"]),
                      **{name: data.get(name) for name in _OPTIONAL})


def capture_rng_state() -> dict:
    """The state of Python's ``random``, numpy's global RNG and torch's CPU (and CUDA) RNGs,
    as tensors, lists and numbers (so a weights-only load accepts it)."""
    version, internal, gauss_next = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # noqa: NPY002
    state: dict[str, Any] = {
        "python": {"version": int(version), "state": [int(x) for x in internal],
                   "gauss_next": gauss_next},
        "numpy": {"bit_generator": str(name), "keys": torch.from_numpy(keys.astype(np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng_state(state: Mapping) -> None:
    """Restore RNG states captured by :func:`capture_rng_state`. CUDA states are restored for
    the devices present (and ignored without CUDA)."""
    try:
        py, npy = state["python"], state["numpy"]
        random.setstate((int(py["version"]), tuple(int(x) for x in py["state"]),
                         py["gauss_next"]))
        keys = torch.as_tensor(npy["keys"]).cpu().numpy().astype(np.uint32)
        np.random.set_state((str(npy["bit_generator"]), keys, int(npy["pos"]),  # noqa: NPY002
                             int(npy["has_gauss"]), float(npy["cached_gaussian"])))
        torch.set_rng_state(torch.as_tensor(state["torch"], dtype=torch.uint8).cpu())
        cuda = state.get("cuda")
        if cuda and torch.cuda.is_available():
            for index, s in enumerate(cuda[:torch.cuda.device_count()]):
                torch.cuda.set_rng_state(torch.as_tensor(s, dtype=torch.uint8).cpu(), index)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"invalid RNG state in checkpoint: {_short(e)}") from None


def export_weights(path: str | os.PathLike, model_state: Mapping[str, torch.Tensor],
                   model_config: Mapping) -> Path:
    """Write a model's weights (no optimiser) as a safetensors file, atomically; its metadata
    holds ``model_config`` as JSON so the file alone rebuilds the model."""
    from safetensors.torch import save

    state = _check_state_dict(model_state, "model_state")
    try:
        config_json = json.dumps(dict(_check_mapping(model_config, "model_config")),
                                 sort_keys=True)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"model_config is not JSON-serialisable: {e}") from None
    # Independent contiguous CPU copies: safetensors refuses tensors that share memory.
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    blob = save(tensors, metadata={"format": WEIGHTS_FORMAT_NAME,
                                   "version": str(WEIGHTS_FORMAT_VERSION),
                                   "model_config": config_json})
    return _atomic_write(Path(path), lambda f: f.write(blob))


def load_weights(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a file written by :func:`export_weights`: ``(model_state, model_config)``, on CPU."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file {path} does not exist" if not path.exists()
                              else f"weights file {path} is not a file")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}
    except OSError as e:
        raise CheckpointError(f"cannot read weights file {path}: {e.strerror or e}") from None
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path} is not a safetensors weights file ({_short(e)})") from None
    if metadata.get("format") != WEIGHTS_FORMAT_NAME:
        raise CheckpointError(f"{path} is a safetensors file but not a gazesdk weights file "
                              f"(no format marker in its metadata)")
    version = metadata.get("version", "")
    if not version.isdigit() or int(version) > WEIGHTS_FORMAT_VERSION:
        raise CheckpointError(f"{path} has weights format version {version!r}; this gazesdk "
                              f"reads version {WEIGHTS_FORMAT_VERSION}")
    try:
        config = json.loads(metadata.get("model_config", ""))
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path} has no valid model_config in its metadata")
    return state, config


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write via a temporary file in the same folder, fsync it, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: never clobber another writer's file; mode 0o666 lets the umask apply as usual.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_mapping(value: object, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise CheckpointError(f"{where} must be a dict, got a {type(value).__name__}")
    return value


def _check_state_dict(state: object, where: str) -> dict[str, torch.Tensor]:
    _check_mapping(state, where)
    out = {}
    for k, v in state.items():  # type: ignore[union-attr]
        if not isinstance(k, str) or not isinstance(v, torch.Tensor):
            raise CheckpointError(f"{where} must map names to tensors; {k!r} is a "
                                  f"{type(v).__name__}")
        out[k] = v.detach()
    return out


def _plain(value: Any, where: str) -> Any:
    """A copy of ``value`` made of tensors and plain containers only, or a CheckpointError."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, torch.Size):
        return value
    if isinstance(value, Mapping):
        out = OrderedDict() if isinstance(value, OrderedDict) else {}
        for k, v in value.items():
            key = k.item() if isinstance(k, np.generic) else k
            if not isinstance(key, str | int | float | bool | tuple | type(None)):
                raise CheckpointError(f"cannot save {where}: key {k!r} is a "
                                      f"{type(k).__name__}, not a string or number")
            out[key] = _plain(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, list | tuple):
        items = [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    raise CheckpointError(f"cannot save {where}: a {type(value).__name__} is not a tensor or "
                          f"plain data (dict, list, tuple, str, number, bool, None)")


def _short(e: BaseException) -> str:
    """The first line of an exception's message, shortened, for one-line errors."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text if len(text) <= 120 else text[:117] + "..."
