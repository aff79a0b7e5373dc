"""``designspace analyze``: every analysis of a results set -> tables, plots, report.md/html."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``designspace analyze`` on the sub-command parsers."""
    p = sub.add_parser(
        "analyze",
        help="compare spaces, derive the RegNet rules, write plots and a report",
        description="Analyse one or more results sets (parquet directories/files or CSV; several "
        "are concatenated): EDFs and KS comparisons by --by, good ranges, RegNet fits, rules, "
        "random-search efficiency. Writes every table as CSV, every plot as PNG and SVG, "
        "report.md and a self-contained report.html into --out, and prints the comparison "
        "table. Models whose status is not 'ok' are excluded and counted.",
    )
    p.add_argument("results", nargs="+", metavar="RESULTS", help="parquet directory/file or CSV")
    p.add_argument("--by", default="space", help="column that names the groups (default: space)")
    p.add_argument(
        "--metric",
        default="val_top1_err",
        help="error column, fractions in [0, 1] (default: val_top1_err)",
    )
    p.add_argument("--reference", help="group to test the others against (default: first)")
    p.add_argument("--alpha", type=float, default=0.05, help="test level (default: 0.05)")
    p.add_argument("--out", default="analysis", help="output directory (default: analysis)")
    p.add_argument("--formats", default="png,svg", help="plot formats (default: png,svg)")
    p.add_argument(
        "--n-boot", type=int, default=10_000, help="good-range bootstrap resamples (default: 10000)"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of the resampling")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``designspace analyze``; returns the exit code (bad input raises DesignSpaceError)."""
    from designspace.analysis import load_results
    from designspace.errors import DesignSpaceError
    from designspace.report import analyze

    formats = [f.strip().lower() for f in args.formats.split(",") if f.strip()]
    bad = sorted(set(formats) - {"png", "svg"})
    if bad or not formats:
        raise DesignSpaceError(f"--formats takes png and/or svg, got {args.formats!r}")
    data = load_results(args.results)
    rep = analyze(
        data,
        args.out,
        by=args.by,
        metric=args.metric,
        reference=args.reference,
        alpha=args.alpha,
        formats=formats,
        n_boot=args.n_boot,
        seed=args.seed,
        sources=args.results,
    )
    if rep.comparison is not None:
        print(rep.comparison)
    else:
        print(rep.tables["summary"].to_string(float_format=lambda x: f"{x:.4f}"))
    for note in rep.notes + [f"not done: {x}" for x in rep.not_done]:
        print(note, file=sys.stderr)
    print(
        f"wrote {rep.markdown}, {rep.html} and {len(rep.tables)} tables, "
        f"{len(rep.figures)} figures in {rep.out_dir}",
        file=sys.stderr,
    )
    return 0
