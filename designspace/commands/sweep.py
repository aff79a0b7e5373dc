"""``designspace sweep``: train sampled configurations of design spaces through Ray Tune."""

from __future__ import annotations

import argparse
import copy

# The sampling seed is --seed (as in `designspace sample`); train's --seed becomes --train-seed.
_RENAMED = {"seed": ("--train-seed", "train_seed")}


def _train_options(p: argparse.ArgumentParser) -> tuple[str, ...]:
    """Copy every training option of ``designspace train`` into ``p``; return their dests.

    The options are taken from the train command's own parser (argparse's ``parents``
    mechanism, restricted to the training settings), so the two commands cannot drift apart.
    """
    from designspace.commands import train as train_cmd

    holder = argparse.ArgumentParser(add_help=False).add_subparsers()
    train_cmd.add_parser(holder)
    train_parser = holder.choices["train"]
    wanted = set(train_cmd._CONFIG_ARGS)
    dests = []
    for group in train_parser._action_groups:
        actions = [a for a in group._group_actions if a.dest in wanted]
        if not actions:
            continue
        target = p.add_argument_group(f"training: {group.title}")
        for action in actions:
            if action.dest in _RENAMED:
                action = copy.copy(action)
                option, dest = _RENAMED[action.dest]
                action.option_strings, action.dest = [option], dest
                action.help = f"training seed: {action.help}"
            target._add_action(action)
            dests.append(action.dest)
    return tuple(dests)


def add_parser(sub: argparse._SubParsersAction) -> None:
    from designspace.commands.common import add_regime_arguments

    p = sub.add_parser(
        "sweep",
        help="train sampled configurations of one or more spaces, in parallel, resumably",
        description="Sample -n configurations of each --space (in the training data set's "
        "regime unless --regime), or take them from --samples FILE, and train each one "
        "through Ray Tune: on a local Ray started for the sweep (default) or on a running "
        "cluster (--address). One parquet file per finished model lands in OUT/results "
        "(pandas.read_parquet works at any moment); OUT/sweep.json records the settings. "
        "Running the same command again resumes: recorded models are not trained again. "
        "Exit code 0 when every model has a row, 1 when the sweep stopped early, 2 on bad "
        "input.",
        epilog="example: designspace sweep --space AnyNetXA --space AnyNetXE -n 100 "
        "--dataset fashion-mnist --epochs 1 --out results/study1",
    )
    what = p.add_argument_group("what to evaluate")
    what.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="NAME",
        help="a space to sample (repeat for several; see 'designspace spaces')",
    )
    what.add_argument(
        "-n", type=int, default=None, help="configurations per space (required with --space)"
    )
    what.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    what.add_argument(
        "--samples",
        metavar="FILE",
        help="evaluate the configurations of a samples table (.parquet, .csv, "
        ".jsonl, e.g. from 'designspace sample -o') instead of sampling",
    )
    add_regime_arguments(p, default=None)
    p.set_defaults(train_dests=_train_options(p))
    o = p.add_argument_group("output")
    o.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="sweep folder: sweep.json + results/ (created; reused to resume)",
    )
    o.add_argument("--name", help="the sweep's name in the 'sweep' column (default: DIR's name)")
    o.add_argument(
        "--force-new",
        action="store_true",
        help="when DIR holds a different sweep, start this one in DIR/run-K "
        "(existing results are kept untouched)",
    )
    o.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (configurations, resources, concurrency, compute) "
        "and exit; nothing is started or written",
    )
    o.add_argument("--verbose", action="store_true", help="show Ray's and Tune's own output")
    o.add_argument("--no-progress", action="store_true", help="no progress bar")
    r = p.add_argument_group("placement")
    r.add_argument(
        "--address",
        metavar="auto|HOST:PORT",
        help="join a running Ray cluster (default: start a local Ray)",
    )
    r.add_argument(
        "--cpus-per-trial",
        type=float,
        default=None,
        help="CPUs per trial, also its torch threads (default 1: two 1-thread "
        "trainings side by side beat one 2-thread training)",
    )
    r.add_argument(
        "--gpus-per-trial",
        type=float,
        default=None,
        help="GPUs per trial; a fraction shares a card among trials (default 0.25 "
        "when the cluster has GPUs and --device is not cpu, else 0)",
    )
    r.add_argument(
        "--max-concurrent",
        type=int,
        default=None,
        help="at most this many trials at once (default: as resources allow)",
    )
    r.add_argument(
        "--max-failures",
        type=int,
        default=2,
        help="retries of a trial that raises before it is recorded as failed (default 2)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys
    import time
    from pathlib import Path

    from designspace.commands.common import regime_from_args
    from designspace.errors import DesignSpaceError
    from designspace.sweep import (
        DEFAULT_CPUS_PER_TRIAL,
        Placement,
        SweepConfig,
        describe_plan,
        run_sweep,
    )
    from designspace.train import TrainConfig

    if args.space and args.n is None:
        raise DesignSpaceError("--space needs -n (configurations per space)")
    if args.samples and args.n is not None:
        raise DesignSpaceError("-n samples a space; with --samples every row is evaluated")
    settings = {}
    for dest in args.train_dests:
        value = getattr(args, dest)
        if value is not None:
            settings["seed" if dest == "train_seed" else dest] = value
    train = TrainConfig(**settings)
    regime = None
    if args.samples is None and (args.regime or _regime_overrides(args)):
        regime = regime_from_args(args, name=args.regime or _dataset_regime(train.dataset))
    config = SweepConfig(
        spaces=tuple(args.space), n=args.n or 1, seed=args.seed, regime=regime,
        samples=args.samples, train=train, max_failures=args.max_failures, name=args.name,
    )  # fmt: skip
    placement = Placement(
        address=args.address,
        cpus_per_trial=args.cpus_per_trial or DEFAULT_CPUS_PER_TRIAL,
        gpus_per_trial=args.gpus_per_trial,
        max_concurrent=args.max_concurrent,
        verbose=args.verbose,
    )
    if args.dry_run:
        available = None
        if args.address:
            from designspace.sweep import ray_connection

            with ray_connection(placement) as available:
                pass
        print(describe_plan(config, placement, args.out, available, force_new=args.force_new))
        return 0
    start = time.monotonic()
    info: dict = {}
    frame = run_sweep(
        config,
        args.out,
        placement,
        force_new=args.force_new,
        progress=not args.no_progress,
        info=info,
    )
    run_info = info["run"]
    data_dir = Path(run_info.run_dir) / "results"
    counts = frame["status"].value_counts().to_dict() if len(frame) else {}
    parts = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "diverged", "failed"))
    print(
        f"{run_info.planned} models: {parts}; {run_info.done_before} were done before this "
        f"run; {time.monotonic() - start:.0f} s"
    )
    print(f"results: {data_dir} (pandas.read_parquet('{data_dir}'))")
    if run_info.missing:
        print(
            f"designspace sweep: {run_info.missing} of {run_info.planned} models have no "
            f"result yet; run the same command again to resume",
            file=sys.stderr,
        )
        return 1
    return 0


def _regime_overrides(args: argparse.Namespace) -> bool:
    keys = ("resolution", "in_channels", "num_classes", "stem", "flops", "params", "acts")
    return any(getattr(args, k, None) is not None for k in keys)


def _dataset_regime(dataset: str) -> str:
    from designspace.regimes import REGIMES

    for regime in REGIMES.values():
        if regime.dataset == dataset:
            return regime.name
    return "imagenet"
