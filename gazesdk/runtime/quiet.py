"""Keep native libraries' start-up chatter (MediaPipe's glog/absl lines, XNNPACK's "Created
delegate") out of the user's terminal; ``GAZESDK_DEBUG=1`` shows it."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

if not os.environ.get("GAZESDK_DEBUG"):       # before MediaPipe / LiteRT load their logging
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null while native code initialises."""
    if os.environ.get("GAZESDK_DEBUG"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
