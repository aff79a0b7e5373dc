"""``designspace sweep``: train sampled configurations of design spaces, in parallel, resumably.

Every argument is checked before anything is imported from torch or ray, created or started.
"""

from __future__ import annotations

import argparse
import sys

from designspace.commands.options import add_train_options, settings_from_args

# The sampling seed is --seed (as in `designspace sample`); train's --seed becomes --train-seed.
_RENAMED = {"seed": ("--train-seed", "training seed: ")}

EXAMPLES = """\
examples:
  designspace sweep --space AnyNetXA --space AnyNetXE -n 100 --epochs 1 --out results/s1
      100 models of each space on Fashion-MNIST, one epoch each, on a local Ray
  designspace sweep --space AnyNetXA -n 32 --epochs 1 --subset 10000 --out runs/a --executor local
      the same without Ray: worker processes on this machine
  designspace sweep --samples samples.parquet --max-steps 200 --out runs/b --dry-run
      the plan, resources and compute of a samples table; nothing is started or written
  designspace sweep --space RegNetX -n 500 --device cuda --gpus-per-trial 0.25 --out runs/g
      four trials per GPU
  designspace sweep --space AnyNetXA -n 200 --out /shared/a --executor slurm --gpus-per-trial 1
      one SLURM job per model (run it on a login node); the jobs go through /shared/a/slurm-jobs
  designspace sweep --space AnyNetXA -n 100 --epochs 1 --out results/s1 --wait
      resume; if another sweep is writing into results/s1, wait for it instead of stopping
"""


def add_placement_arguments(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """``--executor``, ``--cpus-per-trial``, ``--gpus-per-trial``, ``--max-concurrent``,
    ``--wait`` and every registered executor's own options (generated from its ``Options``
    dataclass, one group per executor), shared by sweep, study, demo and replicate; returns
    the shared group."""
    from designspace.sweep.config import DEFAULT_EXECUTOR
    from designspace.sweep.registry import EXECUTORS, executor_class

    classes = {name: executor_class(name) for name in EXECUTORS}
    described = [
        f"{name} ({cls.summary})" if getattr(cls, "summary", "") else name
        for name, cls in classes.items()
    ]
    r = p.add_argument_group("placement")
    r.add_argument(
        "--executor",
        choices=list(EXECUTORS),
        default=None,
        help="what runs the trials: " + ", ".join(described[:-1]) + f" or {described[-1]}; "
        f"default {DEFAULT_EXECUTOR}",
    )
    r.add_argument(
        "--cpus-per-trial",
        type=float,
        default=None,
        metavar="C",
        help="CPUs per trial, also its torch threads (default 1: two 1-thread trainings side "
        "by side beat one 2-thread training)",
    )
    r.add_argument(
        "--gpus-per-trial",
        type=float,
        default=None,
        metavar="G",
        help="GPUs per trial; a fraction shares a card among trials (default 0.25 when there "
        "are GPUs and --device is not cpu, else 0)",
    )
    r.add_argument(
        "--max-concurrent",
        type=int,
        default=None,
        metavar="N",
        help="at most this many trials at once (default: as resources allow)",
    )
    r.add_argument(
        "--wait",
        action="store_true",
        help="if another sweep or study is writing into the output folder, wait for it to "
        "finish (default: stop with a message)",
    )
    for name, cls in classes.items():
        specs = getattr(cls, "Options", None)
        specs = specs.specs() if specs is not None else ()
        if not specs:
            continue
        g = p.add_argument_group(f"placement: {name} executor")
        for spec in specs:
            kwargs: dict = {"dest": spec.key, "default": None, "metavar": spec.metavar}
            if spec.kind is bool:
                kwargs = {"dest": spec.key, "default": None,
                          "action": argparse.BooleanOptionalAction}  # fmt: skip
            else:
                kwargs["type"] = spec.kind
                if spec.choices:
                    kwargs["choices"] = list(spec.choices)
                    kwargs.pop("metavar")
            g.add_argument(spec.flag, help=spec.help.replace("%", "%%"), **kwargs)
    return r


def placement_values(args: argparse.Namespace) -> dict:
    """The placement settings given on the command line, as flat keys of
    :meth:`~designspace.sweep.Placement.from_values` (options left out are absent)."""
    from designspace.sweep.config import SHARED_PLACEMENT_KEYS
    from designspace.sweep.registry import EXECUTORS, options_class

    keys = list(SHARED_PLACEMENT_KEYS)
    for name in EXECUTORS:
        keys += [k for k in options_class(name).keys() if k not in keys]
    values = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    if getattr(args, "verbose", False):
        values["verbose"] = True
    return values


def placement_from_args(args: argparse.Namespace, **base: object):  # -> Placement
    """The :class:`~designspace.sweep.Placement` of the placement options (``base``: flat
    keys from elsewhere, e.g. a study file's ``[placement]``, that given options override),
    once its executor has said it can run it here (DesignSpaceError with its reason)."""
    from designspace.sweep.config import Placement, override_values
    from designspace.sweep.executor import check_available

    placement = Placement.from_values(override_values(base, placement_values(args)))
    check_available(placement)
    return placement


def add_parser(sub: argparse._SubParsersAction) -> None:
    from designspace.commands.common import HelpFormatter, add_regime_arguments

    p = sub.add_parser(
        "sweep",
        help="train sampled configurations of one or more spaces, in parallel, resumably",
        description="Sample -n configurations of each --space (in the training data set's "
        "regime unless --regime), or take them from --samples FILE, and train each one: "
        "through Ray Tune on a local Ray started for the sweep (default; it listens on "
        "127.0.0.1 only), on a running cluster (--address), in worker processes without "
        "Ray (--executor local), or as one SLURM job per model (--executor slurm). One "
        "parquet file per finished model lands in OUT/results "
        "(pandas.read_parquet works at any moment); OUT/sweep.json records the settings. "
        "Running the same command again resumes: recorded models are not trained again. "
        "One sweep writes into an OUT at a time. Progress: a bar on a terminal, one line per "
        "finished model otherwise. Exit code 0 when every model has a row, 1 when the sweep "
        "stopped early, 2 on bad input.",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
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
    options, _ = add_train_options(p, rename=_RENAMED, title_prefix="training: ")
    p.set_defaults(train_options=options)
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
    o.add_argument(
        "--verbose", action="store_true", help="show the executor's own output (Ray's and Tune's)"
    )
    o.add_argument("--no-progress", action="store_true", help="no progress display")
    add_placement_arguments(p).add_argument(
        "--max-failures",
        type=int,
        default=2,
        metavar="K",
        help="retries of a trial that raises before it is recorded as failed (default 2)",
    )
    p.set_defaults(run=run)


def check_args(args: argparse.Namespace):  # -> tuple[SweepConfig, Placement, Path]
    """The sweep's configuration, placement and output folder from ``args``; DesignSpaceError
    on bad input. Imports neither torch nor ray, creates nothing."""
    from designspace.commands.common import regime_from_args
    from designspace.core.regimes import get_regime
    from designspace.errors import DesignSpaceError
    from designspace.sweep.config import SweepConfig
    from designspace.sweep.plan import check_out_dir
    from designspace.training.trainconfig import TrainConfig

    if args.space and args.n is None:
        raise DesignSpaceError("--space needs -n (configurations per space)")
    if args.samples and args.n is not None:
        raise DesignSpaceError("-n samples a space; with --samples every row is evaluated")
    if args.max_failures < 0:
        raise DesignSpaceError(f"--max-failures must be >= 0, got {args.max_failures}")
    placement = placement_from_args(args)
    from designspace.sweep.run import sweep_inputs

    out = check_out_dir(args.out, inputs=sweep_inputs(args.samples, args.space or ()))
    train = TrainConfig(**settings_from_args(args, args.train_options))
    regime = None
    if args.samples is None and (args.regime or _regime_overrides(args)):
        regime = regime_from_args(args, name=args.regime or _dataset_regime(train.dataset))
    config = SweepConfig(
        spaces=tuple(args.space), n=args.n if args.n is not None else 1, seed=args.seed,
        regime=regime, samples=args.samples, train=train, max_failures=args.max_failures,
        name=args.name,
    )  # fmt: skip
    from designspace.core.memory import check_training_memory

    # before anything is sampled: a lower bound from the regime's stem (samples: the input)
    stem = None if args.samples else regime or get_regime(_dataset_regime(train.dataset))
    check_training_memory(train.data, train.batch_size, regime=stem)
    return config, placement, out


def run(args: argparse.Namespace) -> int:
    import time

    from designspace.sweep import describe_plan, run_sweep

    config, placement, out = check_args(args)
    if args.dry_run:
        from designspace.sweep.executor import get_executor, planned_resources

        available = planned_resources(placement)
        if available is None:  # known once connected (a cluster to join)
            with get_executor(placement.executor).connect(placement) as connected:
                available = dict(connected)
        print(describe_plan(config, placement, out, available, force_new=args.force_new))
        return 0
    start = time.monotonic()
    info: dict = {}
    frame = run_sweep(
        config,
        out,
        placement,
        force_new=args.force_new,
        progress=not args.no_progress,
        info=info,
        wait=args.wait,
    )
    run_info = info["run"]
    data_dir = run_info.run_dir / "results"
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
    from designspace.core.regimes import regime_for_dataset

    return regime_for_dataset(dataset).name
