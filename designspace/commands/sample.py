"""``designspace sample``: draw reproducible configurations of a space within a FLOPs band."""

from __future__ import annotations

import argparse

from designspace.commands.common import (
    HelpFormatter,
    add_regime_arguments,
    examples,
    regime_from_args,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sample",
        help="sample configurations of a design space within a complexity band",
        description="Rejection-sample N distinct configurations of a design space whose "
        "flops (multiply-adds, counted analytically at the regime's resolution) lie in the "
        "band. The same --seed gives the same configurations on any machine, and the first k "
        "of N are the sample of k.",
        epilog=examples(
            (
                "designspace sample --space AnyNetXE -n 500 -o samples.parquet",
                "500 AnyNetXE networks in the papers' band (360-400MF at 224 px)",
            ),
            (
                "designspace sample --space RegNetX -n 100 --regime fashion-mnist --seed 1",
                "100 RegNetX networks for 28 px Fashion-MNIST (3.6-4.0MF), another seed",
            ),
            (
                "designspace sample --space AnyNetXA -n 20 --flops 200M:400M --params 2M:6M",
                "your own flops and parameter bands",
            ),
            (
                "designspace sample --space my_space.yaml -n 50 -o s.csv",
                "a space from a file (see 'designspace spaces AnyNetXE' for the parameters)",
            ),
        ),
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--space",
        required=True,
        help="a built-in space (see 'designspace spaces') or a .yaml/.toml file",
    )
    p.add_argument("-n", type=int, required=True, help="number of configurations")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "-o", "--out", metavar="FILE", help="write the samples to FILE (.parquet, .csv or .jsonl)"
    )
    p.add_argument(
        "--max-draws",
        type=int,
        default=1_000_000,
        help="give up after this many candidates (default 1,000,000; after 100,000 "
        "when none is in the band)",
    )
    add_regime_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from designspace.core.regimes import format_quantity
    from designspace.core.sampling import sample
    from designspace.errors import DesignSpaceError

    if args.n <= 0:
        raise DesignSpaceError(f"-n must be a positive number of configurations, got {args.n}")
    regime = regime_from_args(args)
    result = sample(args.space, args.n, seed=args.seed, regime=regime, max_draws=args.max_draws)
    if args.out is not None:  # checked once the sample is drawn (its errors come first)
        from pathlib import Path

        from designspace.formats import outputs
        from designspace.formats.archfile import TABLE_FORMATS

        if Path(args.out).suffix in TABLE_FORMATS:  # else write_table names the formats
            space_file = [args.space] if Path(args.space).is_file() else []
            outputs.check_out_file(args.out, outputs.TABLE, TABLE_FORMATS, inputs=space_file)
        elif not args.out.strip():
            raise DesignSpaceError("-o is empty; name the output file (.parquet, .csv, .jsonl)")
        from designspace.formats.archfile import write_table

        write_table(result.to_frame(), args.out)
    lo, hi = result.band["flops"]
    print(
        f"{result.space}: {len(result)} configurations, seed {result.seed}, regime "
        f"{regime.name} ({regime.resolution} px, {regime.in_channels} ch, "
        f"{regime.num_classes} classes)"
    )
    print(
        f"acceptance {result.acceptance_rate:.2%} ({len(result)} of {result.draws} draws; "
        f"{result.duplicates} duplicates skipped); band {format_quantity(lo)}.."
        f"{format_quantity(hi)} flops"
    )
    for key, values in (("flops", result.flops), ("params", result.params), ("acts", result.acts)):
        print(
            f"  {key:7s} {format_quantity(values.min()):>8s} .. {format_quantity(values.max()):>8s}"
        )
    stages = max(len(a.stages) for a in result.archs)
    for label, attr in (
        ("d", "depth"),
        ("w", "width"),
        ("b", "bottleneck_ratio"),
        ("g", "group_width"),
    ):
        parts = []
        for i in range(stages):
            vals = [getattr(a.stages[i], attr) for a in result.archs if len(a.stages) > i]
            parts.append(f"{label}{i + 1} {min(vals):g}..{max(vals):g}")
        print("  " + "  ".join(parts))
    if args.out:
        print(f"wrote {args.out}")
    return 0
