"""``designspace import nds``: published NDS populations -> a results data set.

Registered as the command ``import`` (a Python keyword, hence this module's name) with one
format so far, ``nds``; see :mod:`designspace.formats.nds` for the mapping of the records.
"""

from __future__ import annotations

import argparse
import sys

from designspace.commands.common import HelpFormatter


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``designspace import nds`` on the sub-command parsers."""
    p = sub.add_parser(
        "import",
        help="read published populations (NDS .json files) into a results data set",
        description="Convert trained populations published by others into a results data set "
        "that 'designspace analyze' and pandas.read_parquet(OUT/results) read like a sweep's.",
        formatter_class=HelpFormatter,
    )
    formats = p.add_subparsers(dest="format", metavar="FORMAT")
    formats.required = True
    nds = formats.add_parser(
        "nds",
        help="the JSON files released with NDS (Radosavovic et al., ICCV 2019)",
        description="Import NDS files (a list of records, or {'top': [...], 'mid': [...]} "
        "reruns). Each record becomes one model: space from the file name (ResNet_lr-wd_in.json "
        "-> ResNet; reruns -> ResNet-top / ResNet-mid), val_top1_err = min_test_top1 / 100, "
        "per-epoch curves as fractions, settings as cfg_lr, cfg_weight_decay, cfg_epochs, "
        "cfg_seed, per-stage lists with the stem (index 0) split off. Runs near chance error "
        "or with NaN get status 'diverged'. Every file is checked before anything is written.",
        formatter_class=HelpFormatter,
    )
    nds.add_argument("files", nargs="+", metavar="FILE.json", help="NDS .json files")
    nds.add_argument("--out", required=True, help="output folder (writes OUT/results/)")
    nds.add_argument(
        "--space", help="space name instead of the file name's (reruns: NAME-top, NAME-mid)"
    )
    nds.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``designspace import nds``; returns the exit code (bad input raises)."""
    from collections import Counter

    import pandas as pd

    from designspace.feedback import Stages
    from designspace.formats.nds import import_nds

    stages = Stages("import nds")
    written = import_nds(args.files, args.out, args.space, stages=stages)
    stages.done(f"imported {len(written)} models")
    frame = pd.read_parquet(written[0].parent, columns=["space", "status"])
    counts = Counter(zip(frame["space"], frame["status"], strict=True))
    for space in sorted({s for s, _ in counts}):
        parts = ", ".join(f"{st} {n}" for (sp, st), n in sorted(counts.items()) if sp == space)
        print(f"{space}: {parts}")
    print(f"wrote {len(written)} models to {written[0].parent}", file=sys.stderr)
    return 0
