"""Sampling speed: `designspace sample --space AnyNetE -n 500` end to end and in process.

Targets (issue 2): end to end, process start included, <= 3 s on the 2-core machine;
sampling the 500 in process <= 1 s. Prints RESULT lines for benchmarks/run_all.py.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    from designspace.core.sampling import sample

    sample("AnyNetE", 10, seed=1)  # warm numpy's first-call costs
    times = []
    for seed in range(5):
        t = time.perf_counter()
        s = sample("AnyNetE", 500, seed=seed)
        times.append(time.perf_counter() - t)
    in_proc = statistics.median(times)
    print(
        f"in process: median {in_proc:.3f} s over 5 seeds for 500 AnyNetXE samples "
        f"(acceptance {s.acceptance_rate:.2%})"
    )

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "s.parquet"
        cmd = [
            sys.executable,
            "-m",
            "designspace",
            "sample",
            "--space",
            "AnyNetE",
            "-n",
            "500",
            "-o",
            str(out),
        ]
        walls = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            walls.append(time.perf_counter() - t)
    e2e = statistics.median(walls)
    print(f"end to end (python -m designspace sample ... -o s.parquet): median {e2e:.3f} s of 3")
    print(
        f"RESULT name=sample_500_in_process_s value={in_proc:.3f} baseline=1.0 "
        f"ratio={in_proc / 1.0:.3f} target=<=1.0"
    )
    print(
        f"RESULT name=sample_500_end_to_end_s value={e2e:.3f} baseline=3.0 "
        f"ratio={e2e / 3.0:.3f} target=<=1.0"
    )


if __name__ == "__main__":
    main()
