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
  designspace sweep --space AnyNetXA -n 100 --epochs 1 --out results/s1 --wait
      resume; if another sweep is writing into results/s1, wait for it instead of stopping
"""


class _HelpFormatter(argparse.HelpFormatter):
    """Wraps the description; keeps the examples (the epilog) line by line as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def add_placement_arguments(
    p: argparse.ArgumentParser, ray_options: bool = True
) -> argparse._ArgumentGroup:
    """``--executor``, ``--cpus-per-trial``, ``--gpus-per-trial``, ``--max-concurrent``,
    ``--wait`` (and with ``ray_options`` ``--address``), shared by sweep, study and demo;
    returns their argument group."""
    from designspace.sweep.registry import EXECUTORS

    r = p.add_argument_group("placement")
    r.add_argument(
        "--executor",
        choices=list(EXECUTORS),
        default=None,
        help="what runs the trials: ray (Ray Tune; a local Ray bound to 127.0.0.1, or a "
        "cluster with --address) or local (worker processes on this machine, no Ray); "
        "default ray",
    )
    if ray_options:
        r.add_argument(
            "--address",
            metavar="auto|HOST:PORT",
            help="join a running Ray cluster (default: start a local Ray on 127.0.0.1)",
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
    return r


def placement_from_args(args: argparse.Namespace, **base: object):  # -> Placement
    """The :class:`~designspace.sweep.Placement` of the placement options (``base``: values
    from elsewhere, e.g. a study file, that given options override)."""
    from designspace.sweep.config import Placement

    values = dict(base)
    for key in ("executor", "address", "cpus_per_trial", "gpus_per_trial", "max_concurrent"):
        value = getattr(args, key, None)
        if value is not None:
            values[key] = value
    if getattr(args, "verbose", False):
        values["verbose"] = True
    return Placement(**values)


def add_parser(sub: argparse._SubParsersAction) -> None:
    from designspace.commands.common import add_regime_arguments

    p = sub.add_parser(
        "sweep",
        help="train sampled configurations of one or more spaces, in parallel, resumably",
        description="Sample -n configurations of each --space (in the training data set's "
        "regime unless --regime), or take them from --samples FILE, and train each one: "
        "through Ray Tune on a local Ray started for the sweep (default; it listens on "
        "127.0.0.1 only), on a running cluster (--address), or in worker processes without "
        "Ray (--executor local). One parquet file per finished model lands in OUT/results "
        "(pandas.read_parquet works at any moment); OUT/sweep.json records the settings. "
        "Running the same command again resumes: recorded models are not trained again. "
        "One sweep writes into an OUT at a time. Progress: a bar on a terminal, one line per "
        "finished model otherwise. Exit code 0 when every model has a row, 1 when the sweep "
        "stopped early, 2 on bad input.",
        epilog=EXAMPLES,
        formatter_class=_HelpFormatter,
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
    o.add_argument("--verbose", action="store_true", help="show Ray's and Tune's own output")
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
    out = check_out_dir(args.out)
    if placement.address is not None:
        from designspace.sweep.config import check_address

        check_address(placement.address)
    train = TrainConfig(**settings_from_args(args, args.train_options))
    regime = None
    if args.samples is None and (args.regime or _regime_overrides(args)):
        regime = regime_from_args(args, name=args.regime or _dataset_regime(train.dataset))
    config = SweepConfig(
        spaces=tuple(args.space), n=args.n if args.n is not None else 1, seed=args.seed,
        regime=regime, samples=args.samples, train=train, max_failures=args.max_failures,
        name=args.name,
    )  # fmt: skip
    return config, placement, out


def run(args: argparse.Namespace) -> int:
    import time

    from designspace.sweep import describe_plan, run_sweep

    config, placement, out = check_args(args)
    if args.dry_run:
        available = None
        if args.address:
            from designspace.sweep import ray_connection

            with ray_connection(placement) as available:
                pass
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
