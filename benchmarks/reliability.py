"""Issue 19's reliability campaign: counted fuzzing of every entry point, kill -9 at random
moments of every writer, the long VIDEO soak and a run with the network blocked.

    python benchmarks/reliability.py [--sections fuzz,kills,network] [--scale 1.0] [--seed 0]

Each section's figures are kept under ``out/reliability/`` as it finishes (a fuzz category at a
time), so a rerun resumes where the last one stopped; ``--fresh`` starts over. The soak is its
own script (``benchmarks/soak.py``, ~14 min); its last result is read from
``benchmarks/results/soak.json`` and quoted with its command. Writes
``benchmarks/results/reliability.{json,md}`` (``inputs_tried``, ``crashes``, ``kills``,
``partial_files``, ``soak_frames``, ``rss_growth_fraction``, ``sockets_opened``). The whole
campaign takes about an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from _results import RESULTS, ROOT, command, machine, write

OUT = ROOT / "out" / "reliability"
SECTIONS = ("fuzz", "kills", "network")


def _cached(path: Path, make, fresh: bool) -> dict:
    if path.exists() and not fresh:
        print(f"  (kept from an earlier run: {path.relative_to(ROOT)})", flush=True)
        return json.loads(path.read_text())
    result = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return result


def fuzz(scale: float, seed: int, fresh: bool) -> dict:
    from gazesdk.mobile_bench.reliability.sandbox import MODULES, get_target, run_category

    out = {}
    for category in MODULES:
        count = max(1, round(get_target(category).count * scale))

        def make(category: str = category, count: int = count) -> dict:
            folder = OUT / "work" / category
            shutil.rmtree(folder, ignore_errors=True)
            t0 = time.time()
            tally = run_category(category, count, seed=seed, folder=folder)
            shutil.rmtree(folder, ignore_errors=True)
            return {**tally.to_dict(), "what": get_target(category).what,
                    "seconds": round(time.time() - t0, 1)}

        out[category] = _cached(OUT / f"fuzz_{category}_{seed}_{count}.json", make, fresh)
    return out


def kills(scale: float, seed: int, fresh: bool) -> dict:
    from gazesdk.mobile_bench.reliability.kills import WRITERS, run_writer_kills

    out = {}
    for name, writer in WRITERS.items():
        count = max(1, round(writer.kills * scale))
        out[name] = _cached(OUT / f"kills_{name}_{seed}_{count}.json",
                            lambda w=writer, c=count: run_writer_kills(
                                w, c, seed=seed, folder=OUT / "work" / f"kill_{w.name}"),
                            fresh)
    return out


def network(fresh: bool) -> dict:
    from gazesdk.mobile_bench.reliability.network import run_blocked

    return _cached(OUT / "network.json", lambda: run_blocked(OUT / "work" / "network"), fresh)


def markdown(result: dict) -> str:
    lines = [f"# Reliability campaign (`{result['command']}`)", "",
             f"**{result['inputs_tried']} fuzz inputs, {result['crashes']} crashes; "
             f"{result['kills']} kills, {result['partial_files']} partial files; "
             f"{result['soak_frames']} frames soaked, RSS growth "
             f"{100 * result['rss_growth_fraction']:.2f}%; "
             f"{result['sockets_opened']} sockets opened.**", ""]
    if result["fuzz"]:
        lines += ["| fuzz category | inputs | ok | invalid result | one-line error | crashes |",
                  "|---|---|---|---|---|---|"]
        for name, t in result["fuzz"].items():
            o = t["outcomes"]
            lines.append(f"| {name} | {t['inputs_tried']} | {o['ok']} | {o['invalid']} | "
                         f"{o['error']} | {t['crashes']} |")
        lines.append("")
    if result["kills_by_writer"]:
        lines += ["| writer killed (kill -9) | kills | partial files | rerun/resume worked |",
                  "|---|---|---|---|"]
        for name, k in result["kills_by_writer"].items():
            lines.append(f"| {name} | {k['kills']} | {k['partial_files']} | "
                         f"{k['recovered']}/{k['kills']} |")
        lines.append("")
    soak = result["soak"]
    lines += [f"Soak (`{soak['command']}`): {soak['soak_frames']} VIDEO frames, RSS "
              f"{soak['rss_after_warmup'] / 2**20:.1f} -> {soak['rss_end'] / 2**20:.1f} MiB, "
              f"fds {soak['fds_after_warmup']} -> {soak['fds_end']}, threads "
              f"{soak['threads_after_warmup']} -> {soak['threads_end']}."]
    net = result["network"]
    if net:
        lines += ["", f"Network blocked at the socket level: {net['sockets_opened']} sockets "
                      f"opened over {', '.join(r['what'] for r in net['runs'])}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sections", default=",".join(SECTIONS),
                    help=f"comma-separated subset of {', '.join(SECTIONS)}")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="fraction of each fuzz category's and writer's default count")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fresh", action="store_true", help="ignore kept section results")
    args = ap.parse_args()
    sections = [s for s in args.sections.split(",") if s]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown or args.scale <= 0:
        ap.error(f"unknown sections {unknown}" if unknown else "--scale must be positive")
    t0 = time.time()
    fuzzed = fuzz(args.scale, args.seed, args.fresh) if "fuzz" in sections else {}
    killed = kills(args.scale, args.seed, args.fresh) if "kills" in sections else {}
    net = network(args.fresh) if "network" in sections else {}
    soak = json.loads((RESULTS / "soak.json").read_text())
    soak.pop("samples", None)
    result = {
        "command": command(), "machine": machine(), "seed": args.seed, "scale": args.scale,
        "seconds": round(time.time() - t0, 1),
        "inputs_tried": sum(t["inputs_tried"] for t in fuzzed.values()),
        "crashes": sum(t["crashes"] for t in fuzzed.values()),
        "kills": sum(k["kills"] for k in killed.values()),
        "partial_files": sum(k["partial_files"] for k in killed.values()),
        "kills_not_recovered": sum(k["not_recovered"] for k in killed.values()),
        "soak_frames": soak["soak_frames"],
        "rss_growth_fraction": soak["rss_growth_fraction"],
        "sockets_opened": net.get("sockets_opened"),
        "fuzz": fuzzed, "kills_by_writer": killed, "soak": soak, "network": net,
    }
    write(RESULTS, "reliability", result, markdown(result))


if __name__ == "__main__":
    main()
