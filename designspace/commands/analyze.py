"""``designspace analyze``: every analysis of a results set -> tables, plots, report.md/html."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from designspace.commands.common import HelpFormatter
from designspace.commands.options import add_analysis_options, analysis_from_args

if TYPE_CHECKING:
    from designspace.reporting.options import AnalysisOptions

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
        formatter_class=HelpFormatter,
    )
    p.add_argument("results", nargs="+", metavar="RESULTS", help="folder, parquet file or CSV")
    p.add_argument(
        "--out",
        help="output folder (default: STUDY/analysis for one study or sweep folder or its "
        "results/ folder, else ./analysis)",
    )
    p.add_argument(
        "--noise",
        nargs="+",
        metavar="DIR",
        help="seed replicates of some architectures (e.g. the seed-<s> folders of designspace "
        "replicate) used only for the noise floor: every effect is also given in units of "
        "the seed-to-seed sd (diff_over_noise); they enter no comparison",
    )
    options = add_analysis_options(p.add_argument_group("analysis options"), "analyze")
    p.set_defaults(run=run, analysis_options=options)


def options_from_args(args: argparse.Namespace) -> AnalysisOptions:
    """The :class:`~designspace.reporting.options.AnalysisOptions` of the command line
    (validated, a bad value named by its flag; cheap: nothing heavy is imported)."""
    return analysis_from_args(args, args.analysis_options)


def default_out(paths: list[str]) -> Path:
    """Where the analysis goes without ``--out``: beside the results it analyses, in
    ``STUDY/analysis``, when the one input is a study or sweep folder (it holds ``results/``)
    or its ``results/`` folder; else ``./analysis``."""
    if len(paths) == 1:
        path = Path(paths[0])
        if (path / "results").is_dir():
            return path / "analysis"
        if path.is_dir() and path.name == "results" and path.resolve().parent != path.resolve():
            return path.resolve().parent / "analysis"
    return Path("analysis")


def check_inputs(paths: list[str]) -> None:
    """Raise DesignSpaceError for a results path that does not exist (before loading)."""
    from designspace.errors import DesignSpaceError

    for raw in paths:
        if not Path(raw).exists():
            raise DesignSpaceError(f"results path {raw!r} does not exist")


def run(args: argparse.Namespace) -> int:
    """Run ``designspace analyze``; returns the exit code (bad input raises DesignSpaceError)."""
    from designspace.feedback import Stages
    from designspace.reporting.report import check_out_dir

    options = options_from_args(args)
    noise = list(args.noise or [])
    check_inputs(args.results + noise)
    # the raw --out: Path("") would be "." (an empty --out is refused, not the current folder)
    out = check_out_dir(
        args.out if args.out is not None else default_out(args.results),
        inputs=args.results + noise,
    )
    stages = Stages("analyze")
    stages.stage(f"reading {', '.join(args.results)}")

    from designspace.analysis import load_results
    from designspace.reporting.report import analyze

    data = load_results(args.results)
    noise_runs = load_results(noise) if noise else None
    sources = args.results + [f"{n} (noise floor only)" for n in noise]
    rep = analyze(data, out, options, sources=sources, stages=stages, noise_runs=noise_runs)
    stages.done(f"analysed {len(data)} rows")
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
