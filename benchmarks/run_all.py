"""Run every benchmark in benchmarks/ and print one table (`make bench`).

Each bench_*.py prints lines ``RESULT name=.. value=.. baseline=.. ratio=.. target=..``; this
collects them with the machine they ran on. Pass script names to run a subset, ``--quick`` to
forward ``--quick`` to the scripts that accept it. Run on a quiet machine: a loaded 2-core
machine can make a baseline look several times slower than it is.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULT = re.compile(r"^RESULT\s+(.*)$")


def machine() -> str:
    """A one-line description of this machine (CPU model, cores, accelerator)."""
    from designspace.training.machine import describe_cpu

    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return f"{describe_cpu()}, {gpu}"


def parse(line: str) -> dict[str, str]:
    """``name=a value=1 ...`` -> dict."""
    return dict(part.split("=", 1) for part in line.split() if "=" in part)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scripts", nargs="*", help="bench_*.py files (default: all)")
    ap.add_argument("--quick", action="store_true", help="pass --quick to each script")
    args = ap.parse_args()
    scripts = [Path(s) for s in args.scripts] or sorted(HERE.glob("bench_*.py"))
    rows, failed = [], []
    for script in scripts:
        cmd = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
        print(f"== {script.name}", flush=True)
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            failed.append(script.name)
            print(proc.stderr[-2000:], file=sys.stderr)
        for line in proc.stdout.splitlines():
            m = RESULT.match(line.strip())
            if m:
                rows.append((script.name, parse(m.group(1))))
        print(f"   ({time.perf_counter() - t:.0f} s)")
    print(f"\nmachine: {machine()}")
    header = f"| {'figure':38s} | {'value':>10s} | {'baseline':>10s} | {'ratio':>7s} | target |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for _, r in rows:
        print(
            f"| {r.get('name', '?'):38s} | {r.get('value', ''):>10s} | "
            f"{r.get('baseline', ''):>10s} | {r.get('ratio', ''):>7s} | {r.get('target', '')} |"
        )
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
