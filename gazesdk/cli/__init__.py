"""The ``gazesdk`` command. Each subcommand lives in its own module with ``register(subparsers)``.

User mistakes (:class:`gazesdk.GazeSDKError`, and operating-system errors such as a missing
file, a path that is a file where a folder is needed, or a full disk) print one line and exit 2;
they never show a traceback. Set ``GAZESDK_DEBUG=1`` to see one anyway.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from gazesdk import __version__
from gazesdk.errors import GazeSDKError

SUBCOMMANDS = ("sim", "models", "train", "pretrain", "eval", "export", "assets", "benchmark",
               "demo", "calibrate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gazesdk",
        description="On-device gaze estimation for phones: simulate, train, export, run.",
    )
    parser.add_argument("--version", action="version", version=f"gazesdk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"gazesdk.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:          # e.g. `gazesdk ... | head`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (GazeSDKError, OSError) as e:
        if os.environ.get("GAZESDK_DEBUG"):
            raise
        if isinstance(e, OSError) and e.strerror and e.filename:
            msg = f"{e.strerror}: {e.filename}"
        else:
            msg = str(e)
        print(f"gazesdk {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gazesdk {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
