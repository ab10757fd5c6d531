"""The reliability campaign (issue 19): counted evidence that bad inputs, kills, long streams
and a blocked network do what the SDK promises.

- fuzzing (:mod:`.corrupt` makes the corruptions, one ``fuzz_*`` module per family of entry
  points, :mod:`.sandbox` runs them in a worker that may die, :mod:`.outcomes` says what
  counts as a crash);
- ``kill -9`` at random moments of every writer (:mod:`.kills`), with :mod:`.partial` checking
  that nothing half-written sits at a final path;
- a long VIDEO soak of the default pipeline (:mod:`.soak`);
- the runtime and ``gazesdk benchmark`` with sockets refused (:mod:`.network`).

``benchmarks/reliability.py`` runs the whole campaign and writes the counts.
"""

from gazesdk.mobile_bench.reliability.outcomes import (
    CRASH,
    ERROR,
    INVALID,
    OK,
    Tally,
    classify_cli,
    classify_exception,
    run_case,
)

__all__ = ["CRASH", "ERROR", "INVALID", "OK", "Tally", "classify_cli", "classify_exception",
           "run_case"]
