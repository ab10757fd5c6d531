"""``gazesdk benchmark``: latency per stage and end to end, jitter with and without smoothing,
each filter's lag, and model facts, on built-in real-face frames (no arguments needed).

Writes ``benchmark.json``, ``benchmark.md``, ``latency.png`` and ``jitter.png`` to ``--out``
and prints the table; ``--json FILE`` also writes the JSON there.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

BACKENDS = ("onnxruntime", "litert", "torch", "coreml")


def _threads(text: str) -> tuple[int | str, ...]:
    out: list[int | str] = []
    for part in text.split(","):
        part = part.strip()
        if part == "all":
            out.append("all")
        elif part.isdigit() and int(part) >= 1:
            out.append(int(part))
        else:
            raise argparse.ArgumentTypeError(f"threads must be a comma list of counts >= 1 or "
                                             f"'all', got {text!r}")
    return tuple(out)


def _names(choices: tuple[str, ...]) -> object:
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(p.strip() for p in text.split(",") if p.strip())
        bad = [n for n in names if n not in choices]
        if bad or not names:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)} (comma list), "
                                             f"got {text!r}")
        return names
    return parse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "benchmark", help="latency and jitter of the runtime, per stage and end to end",
        description="Time the runtime per stage (decode, detect, mesh, iris, pose, crop, infer, "
                    "map, smooth) "
                    "and end to end against the face detector alone, over backends x "
                    "precision x threads at batch 1; measure jitter (MSD) at model level and "
                    "end to end on real-face frames with and without smoothing, and each "
                    "filter's lag. Runs on built-in inputs with no arguments.")
    p.add_argument("--model", default="default",
                   help="'default' (the bundled model, fp32 and int8 exports) or an exported "
                        ".onnx/.tflite/.mlpackage or a checkpoint.pt/.safetensors")
    p.add_argument("--profile", default="default", choices=("default", "phone"),
                   help="default: every installed backend, fp32+int8, 1/2/all threads; phone: "
                        "int8, 1 thread, a small 360x480 frame")
    p.add_argument("--backend", type=_names(BACKENDS), metavar="LIST",
                   help=f"comma list of {', '.join(BACKENDS)} (default: the profile's)")
    p.add_argument("--precision", type=_names(("fp32", "int8")), metavar="LIST",
                   help="comma list of fp32, int8 (bundled model only)")
    p.add_argument("--threads", type=_threads, metavar="LIST",
                   help="comma list of thread counts or 'all' (default: the profile's)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    src = p.add_mutually_exclusive_group()
    src.add_argument("--video", help="time the frames of this video file instead")
    src.add_argument("--images", help="time the images in this folder instead")
    p.add_argument("--max-frames", type=int, default=300,
                   help="at most this many frames of --video/--images (default 300)")
    p.add_argument("--sequences", type=int, default=8,
                   help="built-in stares (default 8)")
    p.add_argument("--frames", type=int, default=30,
                   help="frames per built-in stare (default 30, one second at 30 fps)")
    p.add_argument("--warmup", type=int, default=20, help="untimed frames per configuration")
    p.add_argument("--memory-frames", type=int, default=0, metavar="N",
                   help="also run N frames through the first int8 1-thread configuration "
                        "and report resident memory growth (e.g. 10000)")
    p.add_argument("--no-crop-comparison", action="store_true",
                   help="skip comparing keypoint, landmark and stabilised landmark crops on "
                        "jitter and lag (about 20 s)")
    p.add_argument("--smoothing-config", type=Path,
                   help="YAML/JSON of smoothing settings (gazesdk.runtime.SmoothingOptions)")
    p.add_argument("--detector-model", help="BlazeFace short-range .tflite (default: the "
                                            "cached copy; see gazesdk assets)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("out/benchmark"),
                   help="folder for benchmark.json/.md and the plots (default out/benchmark)")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the JSON here")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    p.set_defaults(func=_benchmark)


def _benchmark(args: argparse.Namespace) -> int:
    from gazesdk.cli.sim import load_settings
    from gazesdk.mobile_bench import BenchmarkSettings, run_benchmark
    from gazesdk.mobile_bench.report import markdown, plots, text_table, write_json
    from gazesdk.runtime.smoothing import SmoothingOptions

    smoothing = SmoothingOptions()
    if args.smoothing_config is not None:
        smoothing = SmoothingOptions.from_dict(load_settings(args.smoothing_config))
    settings = BenchmarkSettings(
        model=args.model, profile=args.profile, backends=args.backend,
        precisions=args.precision, threads=args.threads, device=args.device,
        sequences=args.sequences, frames_per_sequence=args.frames, warmup=args.warmup,
        seed=args.seed, video=args.video, images=args.images, max_frames=args.max_frames,
        memory_frames=args.memory_frames, detector_model=args.detector_model,
        smoothing=smoothing, compare_crops=not args.no_crop_comparison)
    report = run_benchmark(settings, progress=not args.quiet)
    argv = sys.argv[1:]
    command = "gazesdk " + " ".join(shlex.quote(a) for a in argv) \
        if argv[:1] == ["benchmark"] else "gazesdk benchmark"
    report["command"] = command
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(report, args.out / "benchmark.json")
    (args.out / "benchmark.md").write_text(markdown(report, command))
    written = [args.out / "benchmark.json", args.out / "benchmark.md"]
    if not args.no_plots:
        written += plots(report, args.out)
    if args.json is not None:
        written.append(write_json(report, args.json))
    if not args.quiet:
        print(text_table(report), end="")
        print("wrote " + ", ".join(str(p) for p in written))
    return 0
