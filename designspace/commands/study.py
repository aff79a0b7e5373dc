"""``designspace study FILE`` and ``designspace demo``: sweep a study's spaces, then analyze.

The study file and every option are checked before torch or ray is imported or anything is
created or started.
"""

from __future__ import annotations

import argparse
import dataclasses

from designspace.commands.common import HelpFormatter
from designspace.commands.sweep import (
    add_placement_arguments,
    placement_from_args,
    placement_values,
)

# Allowance for the analysis after a budgeted sweep (tables, bootstrap intervals, plots,
# reports), in seconds: the demo's analysis of 48 models took 9 s on the 2-core development machine.
ANALYSIS_S = 20.0

STUDY_EXAMPLES = """\
examples:
  designspace study experiments/fmnist-progression.toml
      run (or resume) a study; results and analysis land in its 'out' folder
  designspace study experiments/fmnist-progression.toml -n 8 --out runs/small --executor local
      a smaller copy of it (the first 8 models per space), without Ray
  designspace study my-study.toml --wait
      resume; if another run is writing into the study's folder, wait for it
  designspace study experiments/fmnist-progression.toml --budget 10m
      as many of its models per space as fit in 10 minutes of training (round-robin over
      the spaces); the plan and its ETA are printed first; rerun with a bigger budget to go on
"""

DEMO_EXAMPLES = """\
examples:
  designspace demo
      the demo on a local Ray; results and report in runs/demo (rerun to resume)
  designspace demo --executor local --no-progress > demo.log
      without Ray, one progress line per finished model in the log
  designspace demo --budget 10m --out runs/demo-10m
      a bigger demo: as many models per space (up to 24) as fit in 10 minutes of training
  designspace demo --budget off -n 4 --out runs/demo-quick
      exactly 4 models per space, however long they take
"""


DEMO_DESCRIPTION = (
    "Sweep AnyNetXA and AnyNetXE on Fashion-MNIST (28 px, 3.6-4.0MF; each model one epoch on "
    "a 4,000-image subset, validated on 2,000 test images), then compare the spaces and write "
    "the report. The demo has a budget of 2 minutes of training: it prints its ETA, measures this "
    "machine's speed on its first two models, prints how many models per space (up to 24) fit "
    "and when they will be done, trains them round-robin, and starts no model after the "
    "budget. Results go to runs/demo (rerunning resumes; a bigger --budget continues the same "
    "sweep)."
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="DIR", help="results folder (default: the study's 'out')")
    p.add_argument("-n", type=int, help="configurations per space (default: the study's)")
    p.add_argument(
        "--budget",
        metavar="DURATION",
        help="time for training, e.g. 90s, 10m, 1.5h (or 'off'): measure this machine's speed "
        "on the first models, train as many of the n models per space as fit, stop starting "
        "models when it ends (rerun to resume) (default: the study's 'budget', if any)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    add_placement_arguments(p)
    p.set_defaults(run=run)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help="run a study file: sweep its spaces, then write the analysis",
        description="Run a study defined in a TOML file (spaces, regime, n, seed, training "
        "settings, output folder; see experiments/*.toml): sweep every space (Ray Tune by "
        "default, --executor local or --executor slurm; rerunning resumes), then write the "
        "analysis (tables, EDF plots, report.md and report.html) to OUT/analysis and print the "
        "comparison table. The file is checked completely before anything starts.",
        epilog=STUDY_EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("file", help="the study's .toml file")
    _common(p)
    d = sub.add_parser(
        "demo",
        help="the main job: a small AnyNetXA vs AnyNetXE study on Fashion-MNIST",
        description=DEMO_DESCRIPTION,
        epilog=DEMO_EXAMPLES,
        formatter_class=HelpFormatter,
    )
    d.set_defaults(file="demo")
    _common(d)


def run(args: argparse.Namespace) -> int:
    from designspace.errors import DesignSpaceError
    from designspace.studies.budget import format_duration, parse_duration
    from designspace.studies.study import load_study, run_study
    from designspace.sweep.plan import check_out_dir

    if args.n is not None and args.n <= 0:
        raise DesignSpaceError(f"-n must be positive, got {args.n}")
    budget = None
    if args.budget is not None and args.budget.strip().lower() != "off":
        budget = parse_duration(args.budget)
    study = load_study(args.file)
    if args.budget is None and study.budget is not None:
        budget = parse_duration(study.budget)
    study = dataclasses.replace(study, budget=None)  # decided here: --budget, else the file's
    placement_from_args(args, **study.placement)  # checks the options
    from designspace.core.memory import check_training_memory
    from designspace.core.regimes import get_regime

    train = study.train_config()  # [train] batch_size: a lower bound from the regime's stem
    check_training_memory(train.data, train.batch_size, regime=get_regime(study.regime),
                          flag="[train] batch_size")  # fmt: skip
    check_out_dir(args.out or study.out, inputs=[] if args.file == "demo" else [args.file])
    overrides = placement_values(args)
    n = args.n or study.n
    if budget is None:
        plan = f"n = {n} per space"
    else:
        import time

        finish = time.strftime("%H:%M:%S UTC", time.gmtime(time.time() + budget + ANALYSIS_S))
        plan = (
            f"up to {n} per space, as many as fit in a {format_duration(budget)} budget; ETA "
            f"{format_duration(budget + ANALYSIS_S)} (done by about {finish}, analysis included)"
        )
    print(
        f"study {study.name}: {', '.join(study.spaces)}; {plan}; regime {study.regime}", flush=True
    )
    result = run_study(
        study,
        out=args.out,
        n=args.n,
        progress=not args.no_progress,
        placement_overrides=overrides,
        wait=args.wait,
        budget=budget,
        say=lambda line: print(line, flush=True),
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
