"""``designspace replicate``: train the same architectures once per training seed.

Every argument is checked before anything is imported from torch or ray, created or started.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from designspace.commands.options import add_train_options, settings_from_args

# --seeds sets the training seeds; the single training seed option is refused.
_RENAMED = {"seed": ("--train-seed", "not used here (give --seeds): ")}


def add_parser(sub: argparse._SubParsersAction) -> None:
    from designspace.commands.common import HelpFormatter
    from designspace.commands.sweep import add_placement_arguments

    p = sub.add_parser(
        "replicate",
        help="train the architectures of a samples table once per training seed (noise floor)",
        description="Train every architecture of --samples FILE once per seed of --seeds, "
        "every other training setting unchanged: one sweep per seed in OUT/seed-<s>/ "
        "(rerunning resumes). Prints the seed-to-seed noise floor: the pooled standard "
        "deviation of the error across seeds, which comparisons quote "
        "(Inference(noise=...) in compare() and nested_rules()).",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--samples", required=True, metavar="FILE", help="samples table to train")
    p.add_argument(
        "--seeds", type=int, nargs="+", required=True, metavar="S", help="training seeds (>= 2)"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder of the seed sweeps")
    p.add_argument("--no-progress", action="store_true", help="no progress display")
    options, _ = add_train_options(p, rename=_RENAMED, title_prefix="training: ")
    p.set_defaults(train_options=options)
    add_placement_arguments(p)
    p.set_defaults(run=run)


def check_args(args: argparse.Namespace):  # -> tuple[TrainConfig, Placement, Path]
    """Training configuration, placement and output folder; DesignSpaceError on bad input."""
    from designspace.commands.sweep import placement_from_args
    from designspace.errors import DesignSpaceError
    from designspace.formats.outputs import REPLICATE
    from designspace.sweep.plan import check_out_dir
    from designspace.training.trainconfig import TrainConfig

    if len(set(args.seeds)) < 2 or len(set(args.seeds)) != len(args.seeds):
        raise DesignSpaceError(f"--seeds needs at least two distinct seeds, got {args.seeds}")
    if not Path(args.samples).is_file():
        raise DesignSpaceError(f"--samples {args.samples} is not a file")
    settings = settings_from_args(args, args.train_options)
    if "seed" in settings:
        raise DesignSpaceError("--train-seed is not used by replicate; give the seeds with --seeds")
    return (
        TrainConfig(**settings),
        placement_from_args(args),
        check_out_dir(args.out, inputs=[args.samples], kind=REPLICATE),
    )


def run(args: argparse.Namespace) -> int:
    from designspace.analysis import noise_floor
    from designspace.studies.replicate import replicate

    train, placement, out = check_args(args)
    frame = replicate(
        args.samples, train, args.seeds, out, placement=placement, progress=not args.no_progress
    )
    counts = frame["status"].value_counts().to_dict()
    print(f"{len(frame)} runs ({counts}) in {out}/seed-<s>/results")
    nf = noise_floor(frame)
    print(
        f"noise floor: seed-to-seed sd {nf.sd:.4f} (95% CI {nf.sd_low:.4f}-{nf.sd_high:.4f}; "
        f"{nf.n_archs} architectures, {nf.n_runs} runs, {nf.dof} degrees of freedom)"
    )
    return 0
