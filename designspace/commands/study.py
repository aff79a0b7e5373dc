"""``designspace study FILE`` and ``designspace demo``: sweep a study's spaces, then analyze."""

from __future__ import annotations

import argparse


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="DIR", help="results folder (default: the study's 'out')")
    p.add_argument("-n", type=int, help="configurations per space (default: the study's)")
    p.add_argument("--cpus-per-trial", type=float, help="CPUs (and torch threads) per trial")
    p.add_argument("--max-concurrent", type=int, help="at most this many trials at once")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help="run a study file: sweep its spaces, then write the analysis",
        description="Run a study defined in a TOML file (spaces, regime, n, seed, training "
        "settings, output folder; see experiments/*.toml): sweep every space with Ray Tune "
        "(rerunning resumes), then write the analysis (tables, EDF plots, report.md and "
        "report.html) to OUT/analysis and print the comparison table.",
    )
    p.add_argument("file", help="the study's .toml file")
    _common(p)
    d = sub.add_parser(
        "demo",
        help="the main job: a small AnyNetXA vs AnyNetXE study on Fashion-MNIST",
        description="Sweep 16 models each of AnyNetXA and AnyNetXE (Fashion-MNIST, 28 px, "
        "3.6-4.0MF; 2 epochs on a 10,000-image subset, validated on 2,000 test images), then "
        "compare the spaces and write the report. Results go to runs/demo (rerunning "
        "resumes).",
    )
    d.set_defaults(file="demo")
    _common(d)


def run(args: argparse.Namespace) -> int:
    from designspace.errors import DesignSpaceError
    from designspace.study import load_study, run_study

    study = load_study(args.file)
    if args.n is not None and args.n <= 0:
        raise DesignSpaceError(f"-n must be positive, got {args.n}")
    overrides = {}
    if args.cpus_per_trial is not None:
        overrides["cpus_per_trial"] = args.cpus_per_trial
    if args.max_concurrent is not None:
        overrides["max_concurrent"] = args.max_concurrent
    print(
        f"study {study.name}: {', '.join(study.spaces)}; n = {args.n or study.n} per space; "
        f"regime {study.regime}",
        flush=True,
    )
    result = run_study(
        study, out=args.out, n=args.n, progress=not args.no_progress, placement_overrides=overrides
    )
    frame = result.results
    ok = int((frame["status"] == "ok").sum()) if len(frame) else 0
    print(f"\n{len(frame)} models evaluated ({ok} ok)")
    rep = result.report
    if rep.comparison is not None:
        print(rep.comparison)
    print(f"\nresults (parquet data set): {result.results_dir / 'results'}")
    edf = rep.figures.get("edf")
    if edf:
        print(f"EDF plot: {edf[0]}")
    print(f"report: {rep.html}")
    print(f"load it in a notebook: pandas.read_parquet('{result.results_dir / 'results'}')")
    return 0
