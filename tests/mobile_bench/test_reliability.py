"""The reliability campaign's harness (issue 19): what counts as a crash, seeded cases, the
sandbox that survives a dying worker, the partial-file check of the kill trials, and the
socket counter of the network-blocked runs. Each is checked against a case built by hand
whose answer is known, including ones that must be reported as failures."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from gazesdk.errors import ConfigError, DataFormatError
from gazesdk.mobile_bench.reliability import CRASH, ERROR, OK, Tally, classify_cli, run_case
from gazesdk.mobile_bench.reliability.corrupt import case_rng
from gazesdk.mobile_bench.reliability.kills import (
    WRITERS,
    final_files,
    partial_files,
    run_writer_kills,
    temp_leftovers,
)
from gazesdk.mobile_bench.reliability.network import run_blocked
from gazesdk.mobile_bench.reliability.outcomes import classify_exception
from gazesdk.mobile_bench.reliability.sandbox import run_category
from gazesdk.mobile_bench.reliability.selftest import behaviour


# -- what counts as a crash ----------------------------------------------------------------------
@pytest.mark.parametrize("code, stderr, outcome", [
    (0, "", OK),
    (2, "gazesdk sim: error: --subjects must be positive\n", ERROR),
    # a progress bar's redraws are not foreign lines
    (2, "gen:  40%|####      | 2/5 [00:01<00:01, 2.0it/s]\rgen: 100%|##########| 5/5\n"
        "gazesdk sim: error: disk full\n", ERROR),
    (1, "Traceback (most recent call last):\n  File ...\nKeyError: 'x'\n", CRASH),
    (0, "Traceback (most recent call last):\nKeyError: 'x'\n", CRASH),
    (2, "libpng warning: Image width exceeds user limit in IHDR\n"
        "gazesdk demo: error: no readable image\n", CRASH),
    (1, "", CRASH),                                   # a silent failure
    (-11, "", CRASH),                                 # SIGSEGV
    (2, "gazesdk sim: error: a\ngazesdk sim: something after the error\n", CRASH),
])
def test_classify_cli(code, stderr, outcome) -> None:
    assert classify_cli(code, stderr, "sim" if "sim" in stderr else "demo")[0] == outcome


def test_classify_exception() -> None:
    assert classify_exception(ConfigError("bad setting"))[0] == ERROR
    assert classify_exception(DataFormatError("two\nlines"))[0] == CRASH
    assert classify_exception(DataFormatError(""))[0] == CRASH
    assert classify_exception(FileNotFoundError(2, "No such file"))[0] == ERROR
    assert classify_exception(KeyError("x"))[0] == CRASH
    assert classify_exception(RecursionError())[0] == CRASH


def test_run_case_judges_every_way_out() -> None:
    assert run_case(lambda: 3)[0] == OK
    assert run_case(lambda: {}["k"])[:2] == (CRASH, "KeyError")

    def argparse_exit() -> None:
        raise SystemExit(2)

    assert run_case(argparse_exit)[0] == ERROR


def test_tally_counts_and_keeps_the_first_crash_of_each_kind() -> None:
    t = Tally("x")
    for i, (outcome, kind) in enumerate([(OK, "valid"), (CRASH, "KeyError"), (CRASH, "KeyError"),
                                         (ERROR, "ConfigError"), (CRASH, "IndexError")]):
        t.add(f"fam{i % 2}:case", outcome, kind, f"m{i}", i)
    d = t.to_dict()
    assert d["inputs_tried"] == 5 and d["crashes"] == 3
    assert d["outcomes"] == {"ok": 1, "invalid": 0, "error": 1, "crash": 3}
    assert d["cases"] == {"fam0": 3, "fam1": 2}
    assert [e["case"] for e in d["crash_examples"]] == [1, 4]


def test_case_generators_are_seeded_and_independent() -> None:
    a = case_rng(0, "frames", 7).integers(0, 2**31, 4)
    assert np.array_equal(a, case_rng(0, "frames", 7).integers(0, 2**31, 4))
    assert not np.array_equal(a, case_rng(0, "frames", 8).integers(0, 2**31, 4))
    assert not np.array_equal(a, case_rng(0, "videos", 7).integers(0, 2**31, 4))
    assert not np.array_equal(a, case_rng(1, "frames", 7).integers(0, 2**31, 4))


# -- the sandbox ---------------------------------------------------------------------------------
def test_the_sandbox_counts_a_dead_worker_as_a_crash_and_carries_on(tmp_path: Path) -> None:
    count = 12
    expected = [behaviour(case_rng(0, "selftest", i)) for i in range(count)]
    assert {"works", "raises", "segfaults"} <= set(expected)     # the seed exercises all three
    t = run_category("selftest", count, seed=0, folder=tmp_path, progress=False)
    assert t.inputs == count
    assert t.outcomes[OK] == expected.count("works")
    assert t.crashes == expected.count("raises") + expected.count("segfaults")
    assert t.kinds[f"{CRASH}:KeyError"] == expected.count("raises")
    died = sum(n for k, n in t.kinds.items() if "worker died" in k)
    assert died == expected.count("segfaults")


def test_a_campaign_category_runs_clean(tmp_path: Path) -> None:
    t = run_category("calibration_profiles", 25, seed=3, folder=tmp_path, progress=False)
    assert t.inputs == 25 and t.crashes == 0, t.crash_examples
    assert t.outcomes[ERROR] > 0                          # the corruptions were refused


# -- partial files -------------------------------------------------------------------------------
def test_partial_files_finds_truncated_and_unknown_files_and_skips_temporaries(tmp_path: Path
                                                                                ) -> None:
    out = tmp_path / "out"
    (out / "rec").mkdir(parents=True)
    whole = b"complete contents"
    (out / "rec" / "a.bin").write_bytes(whole)
    (out / "rec" / "b.bin").write_bytes(whole[:5])                 # truncated
    (out / "stray.bin").write_bytes(b"?")                          # not a finished run's
    (out / "00002.partial").mkdir()
    (out / "00002.partial" / "half.bin").write_bytes(b"h")         # a temporary: not checked
    (out / ".x.json.tmp").write_bytes(b"{")
    ref = {"rec/a.bin": hashlib.sha256(whole).hexdigest(),
           "rec/b.bin": hashlib.sha256(whole).hexdigest()}
    problems = partial_files(out, ref, reproducible=lambda rel: True, loads=lambda o, r: None)
    assert sorted(p.split(":")[0] for p in problems) == ["rec/b.bin", "stray.bin"]
    assert [p.as_posix() for p in final_files(out)] == ["rec/a.bin", "rec/b.bin", "stray.bin"]
    assert temp_leftovers(out) == 2
    # files judged by their loader instead
    problems = partial_files(out, {}, reproducible=lambda rel: False,
                             loads=lambda o, r: "refused" if r.name == "b.bin" else None)
    assert problems == ["rec/b.bin: refused"]


@pytest.mark.slow
def test_killing_the_asset_fetch_leaves_no_partial_file(tmp_path: Path, landmark_models
                                                         ) -> None:
    r = run_writer_kills(WRITERS["asset_fetch"], 2, seed=0, folder=tmp_path / "k",
                         progress=False)
    assert r["kills"] == 2 and r["partial_files"] == 0 and r["recovered"] == 2, r["trials"]


# -- sockets -------------------------------------------------------------------------------------
def test_the_socket_counter_sees_python_and_native_sockets(tmp_path: Path) -> None:
    r = run_blocked(tmp_path, runs=("probe",), progress=False)
    assert r["runs"][0]["python_socket_attempts"] == 1
    assert r["runs"][0]["native_sockets"] == 1
    assert r["sockets_opened"] == 2


@pytest.mark.slow
def test_the_runtime_opens_no_socket(tmp_path: Path, detector_model, landmark_models) -> None:
    # the fixtures fetch the assets once (or skip): after that, nothing may touch the network
    r = run_blocked(tmp_path, runs=("runtime",), progress=False)
    assert r["runs"][0]["frames"] == 140 and r["sockets_opened"] == 0
