"""``gazesdk benchmark``: how fast and how steady the runtime is, per stage and end to end.

Latency per stage (decode, detect, crop, infer, map, smooth) with the face detector alone as
the reference, over backends x precision x threads at batch 1; jitter (MSD) at model level on
GazeSim stare sequences and end to end on real-face frames with and without smoothing; each
filter's lag; model facts. See ``mobile_bench/GUIDE.md`` for running it on a phone or board.
"""

from gazesdk.mobile_bench.benchmark import BenchmarkSettings, run_benchmark
from gazesdk.mobile_bench.profiles import PROFILES, Profile

__all__ = ["PROFILES", "BenchmarkSettings", "Profile", "run_benchmark"]
