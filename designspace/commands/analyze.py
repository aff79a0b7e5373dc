"""``designspace analyze``: every analysis of a results set -> tables, plots, report.md/html."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXAMPLES = """\
examples:
  designspace analyze results/fmnist-progression --out /tmp/progression-analysis
  designspace analyze results/study1 --by space --reference AnyNetXA --out results/study1/analysis
  designspace analyze runs/a runs/b/results extra.csv --formats png --n-boot 2000
  designspace analyze results/fmnist-exercises --alpha 0.01 --out exercises-analysis
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``designspace analyze`` on the sub-command parsers."""
    from designspace.reporting.sections import SECTIONS

    p = sub.add_parser(
        "analyze",
        help="compare spaces, derive the RegNet rules, write plots and a report",
        description="Analyse one or more results sets (a study or sweep folder, its results/ "
        "folder, parquet files or CSV; several are concatenated). The report's sections, in "
        "order: " + ", ".join(SECTIONS) + ". A section the data cannot support (one group, no "
        "per-stage columns, no flops) is skipped and the reason stated in the report. Writes "
        "every table as CSV, every plot as PNG and SVG, report.md and a self-contained "
        "report.html into --out (replaced only once the new analysis is complete), and prints "
        "the comparison. Models whose status is not 'ok' are excluded and counted.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", nargs="+", metavar="RESULTS", help="folder, parquet file or CSV")
    p.add_argument("--by", default="space", help="column that names the groups (default: space)")
    p.add_argument(
        "--metric",
        default="val_top1_err",
        help="error column, fractions in [0, 1] (default: val_top1_err)",
    )
    p.add_argument("--reference", help="group to test the others against (default: first)")
    p.add_argument(
        "--alpha", type=float, default=0.05, help="test level, 0 < alpha < 1 (default: 0.05)"
    )
    p.add_argument("--out", default="analysis", help="output folder (default: analysis)")
    p.add_argument("--formats", default="png,svg", help="plot formats (default: png,svg)")
    p.add_argument(
        "--n-boot",
        type=int,
        default=10_000,
        help="bootstrap resamples, at least 100 (default: 10000)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of the resampling")
    p.add_argument(
        "--adjust",
        default="holm",
        help="multiple-testing adjustment of every family of tests: holm, bh or none "
        "(default: holm)",
    )
    p.add_argument(
        "--margin",
        type=float,
        default=0.005,
        help="equivalence margin, in error units (fractions; default: 0.005)",
    )
    p.add_argument(
        "--best",
        type=float,
        default=0.25,
        help="fraction of the models that count as the best in the preference tests "
        "(default: 0.25)",
    )
    p.set_defaults(run=run)


def options_from_args(args: argparse.Namespace) -> object:
    """The :class:`~designspace.reporting.options.AnalysisOptions` of the command line
    (validated; cheap: nothing heavy is imported)."""
    from designspace.errors import DesignSpaceError
    from designspace.reporting.options import AnalysisOptions

    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    bad = sorted(set(formats) - {"png", "svg"})
    if bad or not formats:
        raise DesignSpaceError(f"--formats takes png and/or svg, got {args.formats!r}")
    for name in ("alpha", "n_boot", "seed", "adjust", "margin", "best"):
        value = getattr(args, name)
        flag = "--" + name.replace("_", "-")
        try:
            AnalysisOptions(**{name: value})
        except DesignSpaceError as exc:
            raise DesignSpaceError(f"{flag}: {exc}") from None
    return AnalysisOptions(
        by=args.by,
        metric=args.metric,
        reference=args.reference,
        alpha=args.alpha,
        formats=formats,
        n_boot=args.n_boot,
        seed=args.seed,
        adjust=args.adjust,
        margin=args.margin,
        best=args.best,
    )


def check_inputs(paths: list[str]) -> None:
    """Raise DesignSpaceError for a results path that does not exist (before loading)."""
    from designspace.errors import DesignSpaceError

    for raw in paths:
        if not Path(raw).exists():
            raise DesignSpaceError(f"results path {raw!r} does not exist")


def run(args: argparse.Namespace) -> int:
    """Run ``designspace analyze``; returns the exit code (bad input raises DesignSpaceError)."""
    from designspace.reporting.report import check_out_dir

    options = options_from_args(args)
    check_inputs(args.results)
    check_out_dir(args.out)

    from designspace.analysis import load_results
    from designspace.reporting.report import analyze

    data = load_results(args.results)
    rep = analyze(data, args.out, options, sources=args.results)
    if rep.console:
        print("\n\n".join(rep.console))
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
