"""Resident memory of this process, for the leak check over many frames."""

from __future__ import annotations

import os
import sys


def rss_bytes() -> int:
    """Current resident set size in bytes (Linux /proc, else psutil, else 0)."""
    try:
        with open(f"/proc/{os.getpid()}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        print("gazesdk benchmark: cannot read resident memory here (no /proc, no psutil)",
              file=sys.stderr)
        return 0
