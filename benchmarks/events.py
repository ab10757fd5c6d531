"""Issue 19's event-detection figures: GazeSim scan paths (fixations with drift and
microsaccades, main-sequence saccades, pursuit, blinks) filmed and run through the runtime
with the bundled model; every event classifier scored against the recordings' exact labels on
held-out subjects, at 30 and 60 fps, beside two references that separate the detector from the
model: the same detector on the true gaze (a perfect tracker) and on the true gaze plus
Gaussian noise as large as the model's own on fixations. Real faces: the share of frames of
shaken-camera stares of the real photos (a person holding still) called saccades.

    python benchmarks/events.py [--work out/events_study]

Writes ``benchmarks/results/events.{json,md}`` (``cohen_kappa``, ``saccade_onset_within_1_frame``,
``blink_recall``, ``blink_false_positive_rate`` at the top level: the default detector, model
gaze, held-out subjects, 30 fps). The recordings are cached in ``--work`` (about 6 minutes on
one core the first time; a rerun resumes).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _results import RESULTS, ROOT, command, machine, write

from gazesdk.events import EventOptions, IDTOptions, IVTOptions
from gazesdk.mobile_bench.events_study import (
    StudyPlan,
    collect,
    detect,
    false_saccades_on_stares,
    fixation_noise_cm,
    real_face_stares,
    relabel,
    score_stream,
    summarise_scores,
    with_noise,
)

GOALS = {"cohen_kappa": 0.8, "saccade_onset_within_1_frame": 0.9, "blink_recall": 0.95,
         "blink_false_positive_rate": 0.02}
DETECTORS = {"ivt": EventOptions(), "idt": EventOptions(classifier="idt"),
             "ivt_fixed_30deg_s": EventOptions(ivt=IVTOptions(noise_factor=0.0)),
             "idt_fixed_1deg": EventOptions(classifier="idt", idt=IDTOptions(noise_factor=0.0))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=ROOT / "out" / "events_study")
    ap.add_argument("--no-real", action="store_true", help="skip the real-face stares")
    args = ap.parse_args()
    t0 = time.time()
    plan = StudyPlan()

    def make():
        from gazesdk.runtime import GazeEstimator, GazeEstimatorOptions, RunningMode
        return GazeEstimator.create_from_options(GazeEstimatorOptions(
            running_mode=RunningMode.VIDEO))

    collect(plan, args.work, make)
    data = relabel(plan, args.work)
    rows = []
    for split in ("test", "val"):
        for fps in (30, 60):
            part = [d for d in data if str(d["split"]) == split and int(d["fps"]) == fps]
            if not part:
                continue
            sigma = fixation_noise_cm(part)
            for gaze in ("model", "truth_plus_model_noise", "truth"):
                streams = (part if gaze == "model" else
                           [with_noise(d, sigma if gaze != "truth" else 0.0, i)
                            for i, d in enumerate(part)])
                for name, options in DETECTORS.items():
                    if gaze != "model" and name not in ("ivt", "idt"):
                        continue
                    s = summarise_scores([score_stream(d, detect(v, options))
                                          for d, v in zip(part, streams, strict=True)])
                    rows.append({"split": split, "fps": fps, "gaze": gaze, "detector": name,
                                 "streams": len(part), "noise_sigma_cm": round(sigma, 4), **s})
    head = next(r for r in rows if (r["split"], r["fps"], r["gaze"], r["detector"])
                == ("test", 30, "model", "ivt"))
    real = None if args.no_real else real_face_stares()
    real_rows = ({name: false_saccades_on_stares(real, o) for name, o in DETECTORS.items()}
                 if real is not None else None)
    result = {"command": command(), "machine": machine(), "seconds": round(time.time() - t0, 1),
              **{k: head[k] for k in GOALS}, "goals": GOALS,
              "met": {k: (head[k] is not None and (head[k] <= g if "false" in k else head[k] >= g))
                      for k, g in GOALS.items()},
              "rows": rows, "real_face_false_saccade_share": real_rows,
              "plan": {"test_subjects": plan.test_subjects, "val_subjects": plan.val_subjects,
                       "duration_ms": plan.duration_ms, "fps60_subjects": plan.fps60_subjects,
                       "fps60_duration_ms": plan.fps60_duration_ms},
              "notes": ["labels: RecordingTruth.event_labels (a frame is a saccade frame when its "
                        "interval carries >= 20% of a saccade of >= 1 deg; microsaccades are "
                        "fixation); kappa over frames both label fixation or saccade (pursuit, "
                        "blink and frames without gaze left out)",
                        "onsets: saccades >= 2 deg (not micro) whose frames k0-1..k0+1 all have "
                        "a gaze; found when a detected saccade run starts within one frame",
                        "blink: frames with the lids at least half shut; false positives over "
                        "all other frames (as benchmarks/landmarks.py)"]}
    write(RESULTS, "events", result, markdown(result))


def markdown(r: dict) -> str:
    lines = [f"# Eye-movement events (GazeSim scan paths, bundled model)\n\n`{r['command']}`\n",
             "| split | fps | gaze | detector | kappa | onset within 1 frame | saccade recall / "
             "precision | blink recall / FP |", "|---|---|---|---|---|---|---|---|"]
    for x in r["rows"]:
        lines.append(f"| {x['split']} | {x['fps']} | {x['gaze']} | {x['detector']} | "
                     f"{x['cohen_kappa']:.3f} | {x['saccade_onset_within_1_frame']:.3f} | "
                     f"{x['saccade_recall']:.2f} / {x['saccade_precision'] or 0:.2f} | "
                     f"{x['blink_recall']:.3f} / {x['blink_false_positive_rate']:.4f} |")
    lines.append("\nGoals (test, 30 fps, model gaze, default I-VT): " + ", ".join(
        f"{k} {r[k]} ({'met' if r['met'][k] else 'not met'}; goal {g})"
        for k, g in r["goals"].items()))
    real = r["real_face_false_saccade_share"]
    if real:
        lines.append("\nReal faces (shaken-camera stares, holding still): share of frames called "
                     "saccades: " + "; ".join(f"{k} {v['all']:.3f}" for k, v in real.items()))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
