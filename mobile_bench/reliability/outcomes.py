"""What counts as a crash: the one rule every fuzz case, CLI run and kill is judged by.

The SDK promises two outcomes for bad input and nothing else: a documented invalid result (a
:class:`~gazesdk.runtime.GazeResult` with ``valid=False``, a reason and a message), or a
one-line error of the project's own classes (:class:`~gazesdk.errors.GazeSDKError`; operating-
system errors such as a missing file count too, since the CLI prints them as one line). From
the CLI: exit 0, or a non-zero exit whose stderr is the command's own lines ending in one
``gazesdk <command>: error: ...`` line, with no traceback. Anything else -- an IndexError, a
KeyError, a struct.error, a traceback, a signal, a hang, a valid result with a NaN gaze -- is
a crash.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OK = "ok"                 # worked: a valid result, a loaded file
INVALID = "invalid"       # a documented invalid result with a reason
ERROR = "error"           # a one-line error of the project's classes (or the OS's)
CRASH = "crash"           # anything else
OUTCOMES = (OK, INVALID, ERROR, CRASH)
MAX_EXAMPLES = 8              # crashes kept in full: the first of each kind
# a progress bar's redraw (tqdm: "desc:  40%|####      | 2/5 [00:01<00:01, 2.0it/s]")
_PROGRESS = re.compile(r"\d+%\|.*\||\[\d+:\d+(?::\d+)?[<,]")


def _last_redraw(line: str) -> str:
    """What a terminal shows of a line a progress bar redrew with carriage returns."""
    parts = [p for p in line.split("\r") if p.strip()]
    return parts[-1] if parts else ""


def _one_line(text: str) -> bool:
    return bool(text.strip()) and "\n" not in text.strip()


def classify_exception(e: BaseException) -> tuple[str, str, str]:
    """(outcome, kind, message) of an exception raised by an entry point: ERROR for a
    one-line GazeSDKError or OSError, CRASH for everything else (a multi-line or empty
    GazeSDKError included: the CLI would print it badly)."""
    from gazesdk.errors import GazeSDKError

    message = str(e)
    kind = type(e).__name__
    if isinstance(e, GazeSDKError):
        return (ERROR if _one_line(message) else CRASH), kind, message
    if isinstance(e, OSError):
        return ERROR, kind, message
    return CRASH, kind, message


@dataclass(frozen=True)
class CliExit:
    """What the CLI's ``main()`` returned when run in-process: 0, or the status it exits
    with after printing its one-line error."""

    code: int
    stderr: str = ""
    command: str = ""


def check_result(result: Any) -> tuple[str, str, str]:
    """(outcome, kind, message) of a returned value: a GazeResult must be valid with a
    finite gaze and a screen point, or invalid with a reason and a message; an in-process CLI
    run is judged by its exit status; any other value is OK (a loaded dataset, a profile)."""
    from gazesdk.runtime.result import GazeResult

    if isinstance(result, CliExit):
        return classify_cli(result.code, result.stderr, result.command)
    if not isinstance(result, GazeResult):
        return OK, type(result).__name__, ""
    if result.valid:
        gaze = result.gaze_cm
        if (gaze is None or result.screen is None
                or not all(isinstance(v, float) and math.isfinite(v) for v in gaze)):
            return CRASH, "bad valid result", f"valid result with gaze {gaze!r}"
        return OK, "valid", ""
    if result.invalid_reason is None or not result.message:
        return CRASH, "bad invalid result", f"invalid result without reason: {result!r:.200}"
    return INVALID, f"invalid:{result.invalid_reason.value}", result.message


def run_case(call: Callable[[], Any]) -> tuple[str, str, str]:
    """Run one entry-point call and judge it (see the module); never raises except for
    KeyboardInterrupt."""
    try:
        result = call()
    except KeyboardInterrupt:
        raise
    except SystemExit as e:                 # the CLI's main() in-process: argparse
        code = e.code if isinstance(e.code, int) else 1
        return (OK if code == 0 else ERROR), "SystemExit", str(e.code)
    except BaseException as e:  # noqa: BLE001 - judging every failure is the point
        return classify_exception(e)
    return check_result(result)


def classify_cli(returncode: int, stderr: str, command: str = "") -> tuple[str, str, str]:
    """(outcome, kind, message) of a ``gazesdk`` subprocess: exit 0 is OK; a non-zero exit is
    ERROR when stderr has no traceback, every line is the command's own (``gazesdk ...``) and
    the last is its ``error:`` line; a signal, a traceback or foreign lines are a CRASH."""
    lines = [line for line in (_last_redraw(raw) for raw in stderr.split("\n"))
             if line.strip() and not _PROGRESS.search(line)]
    if returncode < 0:
        return CRASH, f"signal {-returncode}", stderr[-300:]
    if "Traceback (most recent call last)" in stderr:
        last = lines[-1] if lines else ""
        return CRASH, "traceback", last
    if returncode == 0:
        return OK, "exit 0", ""
    prefix = f"gazesdk {command}".rstrip()
    if not lines:
        return CRASH, "silent failure", f"exit {returncode} with nothing on stderr"
    foreign = [line for line in lines if not line.startswith("gazesdk ")]
    if foreign:
        return CRASH, "foreign stderr", foreign[0][:300]
    if not (lines[-1].startswith(prefix) and ": error: " in lines[-1]):
        return CRASH, "no error line", lines[-1][:300]
    return ERROR, f"exit {returncode}", lines[-1]


@dataclass
class Tally:
    """Counts of one category: inputs tried, outcomes, kinds (exception or invalid reason),
    case families, and the first crash of each kind in full."""

    category: str
    inputs: int = 0
    outcomes: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    cases: Counter = field(default_factory=Counter)
    crash_examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, label: str, outcome: str, kind: str, message: str, index: int = -1) -> None:
        self.inputs += 1
        self.outcomes[outcome] += 1
        self.kinds[f"{outcome}:{kind}"] += 1
        self.cases[label.split(":")[0]] += 1
        seen = {e["kind"] for e in self.crash_examples}
        if outcome == CRASH and kind not in seen and len(self.crash_examples) < MAX_EXAMPLES:
            self.crash_examples.append({"case": index, "input": label, "kind": kind,
                                        "message": message[:500]})

    @property
    def crashes(self) -> int:
        return self.outcomes[CRASH]

    def merge(self, other: Tally) -> None:
        self.inputs += other.inputs
        self.outcomes.update(other.outcomes)
        self.kinds.update(other.kinds)
        self.cases.update(other.cases)
        for e in other.crash_examples:
            seen = {x["kind"] for x in self.crash_examples}
            if e["kind"] not in seen and len(self.crash_examples) < MAX_EXAMPLES:
                self.crash_examples.append(e)

    def to_dict(self) -> dict[str, Any]:
        return {"inputs_tried": self.inputs, "crashes": self.crashes,
                "outcomes": {k: self.outcomes[k] for k in OUTCOMES},
                "kinds": dict(sorted(self.kinds.items())),
                "cases": dict(sorted(self.cases.items())),
                "crash_examples": self.crash_examples}
