"""Keep the converters' chatter out of the user's terminal.

torch.onnx, litert-torch, coremltools and TensorFlow's C++ logging print progress lines,
version warnings and tracer warnings on every conversion. gazesdk shows its own progress bar
and summary; the converters' messages are silenced while they run (set ``GAZESDK_DEBUG=1`` to
see them), and errors still propagate.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator

if not os.environ.get("GAZESDK_DEBUG"):       # before TF/LiteRT's C++ logging first loads
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "3")

_LOGGERS = ("torch.onnx", "torch.export", "torch._export", "torch.fx", "torch._dynamo",
            "coremltools", "litert_torch", "absl", "torchao", "jax", "onnxscript",
            "torch.utils._pytree")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence Python warnings, converter loggers and their prints, including C++ logging
    written straight to file descriptors 1 and 2."""
    if os.environ.get("GAZESDK_DEBUG"):
        yield
        return
    levels = {n: logging.getLogger(n).level for n in _LOGGERS}
    for n in _LOGGERS:
        logging.getLogger(n).setLevel(logging.ERROR)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sink = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
                contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)
