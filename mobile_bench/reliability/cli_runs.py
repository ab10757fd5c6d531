"""Running the ``gazesdk`` command the two ways the campaign needs: in-process (``main(argv)``,
fast, for the bulk of a fuzz category) and as a real subprocess (``python -m gazesdk``, slow,
for a sample: only there do a traceback printed by the interpreter, a native library's stderr
or a signal show as a user would see them)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys

from gazesdk.mobile_bench.reliability.outcomes import CliExit

CLI_TIMEOUT_S = 300.0


def cli_in_process(argv: list[str]) -> CliExit:
    """``gazesdk.cli.main(argv)`` with its stdout dropped and its stderr captured; an
    exception it lets through propagates (a crash)."""
    from gazesdk.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as e:             # argparse's own exit (bad flags)
            code = e.code if isinstance(e.code, int) else 1
    return CliExit(int(code or 0), err.getvalue(), argv[0] if argv else "")


def cli_subprocess(argv: list[str], *, timeout_s: float = CLI_TIMEOUT_S,
                   env: dict[str, str] | None = None) -> CliExit:
    """``python -m gazesdk argv`` in a fresh interpreter (``GAZESDK_DEBUG`` unset): its exit
    status (negative: a signal; -9 when it ran past ``timeout_s`` and was killed) and stderr."""
    run_env = dict(os.environ if env is None else env)
    run_env.pop("GAZESDK_DEBUG", None)
    try:
        proc = subprocess.run([sys.executable, "-m", "gazesdk", *argv], capture_output=True,
                              text=True, timeout=timeout_s, env=run_env,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else ""
        return CliExit(-9, err + f"\n(killed: no exit within {timeout_s:g} s)",
                       argv[0] if argv else "")
    return CliExit(proc.returncode, proc.stderr, argv[0] if argv else "")
