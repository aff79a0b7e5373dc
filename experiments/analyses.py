"""Every committed analysis folder, with the `designspace analyze` command that makes it.

    python experiments/analyses.py                 # regenerate all of them (about 5 min here)
    python experiments/analyses.py --only fmnist-nested
    python experiments/analyses.py --list          # print the commands, run nothing

Each entry below is one folder under results/ written by ``designspace analyze``: its
inputs (committed data sets; the small regime's seed replicates enter only as the noise floor)
and options. Running this script runs those commands (in this process, through
:func:`designspace.cli.main`, exactly as the console script would) so that every committed
report, table and figure is regenerated from the committed data by one command. Nothing is
trained. ``experiments/seed_stability.py`` re-runs the same commands with other resampling
seeds.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL_NOISE = tuple(f"results/fmnist-small-seeds/seed-{s}" for s in range(3))


@dataclass(frozen=True)
class Analysis:
    """One committed analysis: ``out`` (relative to the repository), its ``inputs``, the
    reference space and the seed-replicate folders of its noise floor."""

    out: str
    inputs: tuple[str, ...]
    reference: str
    noise: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The folder's study name (results/<name>/analysis)."""
        return Path(self.out).parent.name

    def argv(self, out: str | None = None, seed: int | None = None) -> list[str]:
        """The command line (without the program name) that writes this analysis to ``out``
        (default: its committed folder) with resampling seed ``seed`` (default: 0)."""
        args = ["analyze", *self.inputs, "--reference", self.reference, "--out", out or self.out]
        if self.noise:
            args += ["--noise", *self.noise]
        if seed is not None:
            args += ["--seed", str(seed)]
        return args


ANALYSES = (
    Analysis("results/fmnist-progression/analysis", ("results/fmnist-progression",), "AnyNetXA"),
    Analysis("results/fmnist-regnet/analysis", ("results/fmnist-regnet",), "NestedRegNetX"),
    Analysis(
        "results/fmnist-nested/analysis",
        ("results/fmnist-progression", "results/fmnist-regnet"),
        "AnyNetXA",
    ),
    Analysis("results/fmnist-exercises/analysis", ("results/fmnist-exercises",), "AnyNetXE"),
    Analysis(
        "results/fmnist-small-progression/analysis",
        ("results/fmnist-small-progression",),
        "AnyNetXA",
        SMALL_NOISE,
    ),
    Analysis(
        "results/fmnist-small-regnet/analysis",
        ("results/fmnist-small-regnet",),
        "NestedRegNetX",
        SMALL_NOISE,
    ),
    Analysis(
        "results/fmnist-small-nested/analysis",
        ("results/fmnist-small-progression", "results/fmnist-small-regnet"),
        "AnyNetXA",
        SMALL_NOISE,
    ),
)


def by_name(names: list[str] | None) -> list[Analysis]:
    """The analyses named (all when ``names`` is empty); SystemExit naming the choices."""
    if not names:
        return list(ANALYSES)
    known = {a.name: a for a in ANALYSES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown analysis {unknown}; choose from {sorted(known)}")
    return [known[n] for n in names]


def run(analysis: Analysis, out: str | None = None, seed: int | None = None) -> None:
    """Run ``designspace analyze`` for ``analysis`` from the repository root; raise
    RuntimeError when it fails."""
    from designspace.cli import main

    argv = analysis.argv(out, seed)
    code = main(argv)
    if code != 0:
        raise RuntimeError(f"designspace {shlex.join(argv)} exited {code}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", metavar="NAME", help="these analyses only")
    ap.add_argument("--list", action="store_true", help="print the commands and stop")
    args = ap.parse_args()
    chosen = by_name(args.only)
    if args.list:
        for a in chosen:
            print("designspace " + shlex.join(a.argv()))
        return 0
    import os

    os.chdir(ROOT)
    for a in chosen:
        started = time.perf_counter()
        print("designspace " + shlex.join(a.argv()), flush=True)
        run(a)
        print(f"  {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
