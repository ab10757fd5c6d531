"""Seeded corruptions of bytes, JSON documents and JSON/YAML text: the fuzzers' raw material.

Every case gets its own generator from (seed, category, index) (:func:`case_rng`), so a rerun
tries exactly the same inputs, and a crash can be replayed alone from its index. Mutations are
structured (a truncation at a random length, a bit flip, a value of the wrong type at a random
place in a document, nesting deeper than any parser's recursion) rather than blind, so that
they get past the first check of a format and reach the code behind it.
"""

from __future__ import annotations

import copy
import json
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np


def case_rng(seed: int, category: str, index: int) -> np.random.Generator:
    """The generator of case ``index`` of ``category``: independent of every other case."""
    return np.random.default_rng([int(seed), zlib.crc32(category.encode()), int(index)])


# -- bytes -------------------------------------------------------------------------------------
def _truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[:int(rng.integers(0, max(len(data), 1)))]


def _flip_bits(data: bytes, rng: np.random.Generator) -> bytes:
    if not data:
        return b"\x00"
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 17))):
        i = int(rng.integers(0, len(b)))
        b[i] ^= 1 << int(rng.integers(0, 8))
    return bytes(b)


def _overwrite(data: bytes, rng: np.random.Generator) -> bytes:
    if not data:
        return rng.bytes(16)
    b = bytearray(data)
    n = int(rng.integers(1, min(4096, len(b)) + 1))
    i = int(rng.integers(0, len(b) - n + 1))
    b[i:i + n] = rng.bytes(n)
    return bytes(b)


def _zero_block(data: bytes, rng: np.random.Generator) -> bytes:
    if not data:
        return data
    n = int(rng.integers(1, min(65536, len(data)) + 1))
    i = int(rng.integers(0, len(data) - n + 1))
    return data[:i] + bytes(n) + data[i + n:]


def _cut(data: bytes, rng: np.random.Generator) -> bytes:
    if len(data) < 2:
        return data + data
    i, j = sorted(int(v) for v in rng.integers(0, len(data), 2))
    return data[:i] + data[j:]


def _duplicate(data: bytes, rng: np.random.Generator) -> bytes:
    if not data:
        return data
    i, j = sorted(int(v) for v in rng.integers(0, len(data), 2))
    return data[:j] + data[i:j] + data[j:]


def _garbage(data: bytes, rng: np.random.Generator) -> bytes:
    return rng.bytes(int(rng.integers(1, max(2, min(len(data), 1 << 16)))))


def _head_only(data: bytes, rng: np.random.Generator) -> bytes:
    return data[:int(rng.integers(1, 65))]


def _empty(data: bytes, rng: np.random.Generator) -> bytes:
    return b""


BYTE_MUTATIONS: dict[str, Callable[[bytes, np.random.Generator], bytes]] = {
    "truncate": _truncate, "flip_bits": _flip_bits, "overwrite": _overwrite,
    "zero_block": _zero_block, "cut": _cut, "duplicate": _duplicate, "garbage": _garbage,
    "head_only": _head_only, "empty": _empty,
}


def mutate_bytes(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """(mutation name, corrupted copy of ``data``)."""
    name = str(rng.choice(list(BYTE_MUTATIONS)))
    return name, BYTE_MUTATIONS[name](data, rng)


# -- JSON documents ----------------------------------------------------------------------------
def odd_values() -> list[Any]:
    """Values of every JSON type (and a few Python ones YAML can produce) that a field should
    refuse, or survive."""
    return [None, True, False, 0, -1, 1, 2, 7, 10**30, -(10**30), 0.5, -0.0, 1e308, -1e308,
            float("nan"), float("inf"), float("-inf"), "", "x", "1", "nan", "../../etc/passwd",
            "\u00e9\u4e2d\U0001F600", "a" * 5000, [], [1], [1, 2], [1, 2, 3, 4, 5],
            ["a", "b"], [None], [[1, 2], [3, 4]], {}, {"a": 1}, {"": None}, [float("nan")] * 4]


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) to a value inside ``doc``, the root included."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:64]):            # long arrays: their head is enough
            out += paths(v, (*prefix, i))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _set(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def deep_nesting(depth: int) -> Any:
    """A list nested ``depth`` deep (built without recursion)."""
    out: list = []
    for _ in range(depth):
        out = [out]
    return out


FILE_DEPTHS = (50, 2000, 100_000)    # in a file: past every parser's recursion limit
PARSED_DEPTHS = (50, 400)             # handed over parsed: what a parser could have produced


def mutate_doc(doc: Any, rng: np.random.Generator, *,
               depths: tuple[int, ...] = FILE_DEPTHS) -> tuple[str, Any]:
    """(mutation name, a corrupted deep copy of a parsed JSON ``doc``): a value replaced by
    one of another type, a key removed or added, a list emptied, grown or shortened, or a
    value nested ``depths`` deep (for a file; :data:`PARSED_DEPTHS` for a mapping given to an
    API directly, which no parser would have returned any deeper)."""
    try:
        d = copy.deepcopy(doc)
        where = paths(d)
    except RecursionError:           # already nested past Python's stack by a mutation
        return "unchanged_deep", doc
    path = where[int(rng.integers(0, len(where)))]
    target = _get(d, path)
    kinds = ["replace", "replace", "replace", "unknown_key", "nest"]
    if path:
        kinds.append("remove")
    if isinstance(target, list):
        kinds += ["empty_list", "shorten", "grow"]
    kind = str(rng.choice(kinds))
    label = f"{kind}:{'/'.join(map(str, path)) or '.'}"
    if kind == "replace":
        values = odd_values()
        return label, _set(d, path, copy.deepcopy(values[int(rng.integers(0, len(values)))]))
    if kind == "remove":
        parent = _get(d, path[:-1])
        del parent[path[-1]]
        return label, d
    if kind == "unknown_key":
        parent = target if isinstance(target, dict) else (
            _get(d, path[:-1]) if path and isinstance(_get(d, path[:-1]), dict) else None)
        if parent is None:
            return label, _set(d, path, {"unexpected": target})
        parent[f"unexpected_{int(rng.integers(0, 1000))}"] = 1
        return label, d
    if kind == "nest":
        depth = int(rng.choice(depths))
        return f"{label}@{depth}", _set(d, path, deep_nesting(depth))
    if kind == "empty_list":
        return label, _set(d, path, [])
    if kind == "shorten":
        return label, _set(d, path, target[:max(len(target) - 1, 0)])
    return label, _set(d, path, target + target[-1:] if target else [0])


def dumps(doc: Any) -> str:
    """JSON text of a (possibly deeply nested) document; NaN and infinities as JSON's
    non-standard literals, as Python writes them."""
    try:
        return json.dumps(doc)
    except RecursionError:
        return _dumps_iter(doc)


def _dumps_iter(doc: Any) -> str:
    """json.dumps without recursion, for the nesting mutations (lists, dicts, scalars)."""
    out: list[str] = []
    stack: list[Any] = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, _Token):
            out.append(item.text)
        elif isinstance(item, list):
            stack.append(_Token("]"))
            for i, v in enumerate(reversed(item)):
                stack.append(v)
                if i < len(item) - 1:
                    stack.append(_Token(","))
            out.append("[")
        elif isinstance(item, dict):
            stack.append(_Token("}"))
            items = list(item.items())
            for i, (k, v) in enumerate(reversed(items)):
                stack.append(v)
                stack.append(_Token(json.dumps(str(k)) + ":"))
                if i < len(items) - 1:
                    stack.append(_Token(","))
            out.append("{")
        else:
            out.append(json.dumps(item))
    return "".join(out)


class _Token:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def mutate_text(text: str, rng: np.random.Generator) -> tuple[str, str | bytes]:
    """(mutation name, corrupted JSON/YAML text): cut short, a character changed, a brace
    removed, not UTF-8, a bare scalar, or nesting past every recursion limit."""
    kinds = ["truncate", "char", "drop_brace", "not_utf8", "scalar", "deep_list", "deep_map",
             "bytes"]
    kind = str(rng.choice(kinds))
    if kind == "truncate":
        return kind, text[:int(rng.integers(0, max(len(text), 1)))]
    if kind == "char":
        i = int(rng.integers(0, max(len(text), 1)))
        return kind, text[:i] + str(rng.choice(list("{}[]:,\"'\\\x00#&*!|>"))) + text[i + 1:]
    if kind == "drop_brace":
        return kind, text.replace("}", "", 1) if "}" in text else text + "{"
    if kind == "not_utf8":
        return kind, b"\xff\xfe\x80" + text.encode()
    if kind == "scalar":
        return kind, str(rng.choice(["42", "null", '"text"', "[]", "[1, 2]", "true", "-"]))
    if kind == "deep_list":
        n = int(rng.choice([2000, 100_000]))
        return f"{kind}@{n}", "[" * n + "]" * n
    if kind == "deep_map":
        n = int(rng.choice([2000, 100_000]))
        return f"{kind}@{n}", '{"a":' * n + "1" + "}" * n
    b = bytearray(text.encode())
    return kind, _flip_bits(bytes(b), rng)
