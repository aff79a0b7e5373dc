"""``designspace plot KIND``: one figure of a results set as PNG or SVG (kinds: the plot
registry, :data:`designspace.reporting.plot_kinds.PLOT_KINDS`)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from designspace.commands.common import HelpFormatter
from designspace.commands.options import add_analysis_options, analysis_from_args

EXAMPLES = """\
examples:
  designspace plot edf results/fmnist-progression -o edf.png
  designspace plot edf results/fmnist-progression --band dkw -o edf-dkw.svg
  designspace plot param results/fmnist-progression --x b -o error-vs-b.png
  designspace plot widths results/fmnist-progression --top 3 -o widths.png
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``designspace plot`` on the sub-command parsers."""
    from designspace.reporting.plot_kinds import PLOT_KINDS

    p = sub.add_parser(
        "plot",
        help="draw one analysis figure",
        description="Draw one figure of one or more results sets (a study or sweep folder, its "
        "results/ folder, parquet files or CSV; several are concatenated). Kinds: "
        + "; ".join(f"{k.name}: {k.description}" for k in PLOT_KINDS.values())
        + ".",
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    p.add_argument("kind", choices=list(PLOT_KINDS), help="which figure")
    p.add_argument("results", nargs="+", metavar="RESULTS", help="folder, parquet file or CSV")
    p.add_argument(
        "-o", "--output", required=True, help="output file, .png, .svg or .pdf (for papers)"
    )
    options = add_analysis_options(p.add_argument_group("analysis options"), "plot")
    p.set_defaults(run=run, analysis_options=options)


def check_output(output: str, inputs: list[str] | None = None) -> Path:
    """``output`` as a Path after checking it can be written as a figure: a new file, or a
    figure designspace wrote (:func:`designspace.formats.outputs.check_out_file`), not one
    of ``inputs`` and not inside a results data set; creates nothing."""
    from designspace.errors import DesignSpaceError
    from designspace.formats import outputs

    formats = ("png", "svg", "pdf")  # what designspace.reporting.plots.save writes
    path = Path(output)
    if path.suffix.lower()[1:] not in formats:
        raise DesignSpaceError(f"--output {output!r} must end in .png, .svg or .pdf")
    if path.is_dir():
        raise DesignSpaceError(f"--output {output!r} is a folder; name a .png, .svg or .pdf file")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise DesignSpaceError(f"cannot write {output!r}: {str(parent)!r} is a file")
    outputs.check_out_file(
        output, outputs.FIGURE, tuple(f".{f}" for f in formats), inputs=inputs or (),
        flag="--output",
    )  # fmt: skip
    return path


def run(args: argparse.Namespace) -> int:
    """Run ``designspace plot``; returns the exit code (bad input raises DesignSpaceError)."""
    from designspace.commands.analyze import check_inputs
    from designspace.feedback import Stages

    check_inputs(args.results)
    output = check_output(args.output, args.results)
    options = analysis_from_args(args, args.analysis_options)
    stages = Stages("plot")
    stages.stage(f"reading {', '.join(args.results)}")

    from designspace.analysis import load_results
    from designspace.analysis._data import usable
    from designspace.reporting import plots
    from designspace.reporting.plot_kinds import draw

    data = load_results(args.results)
    options.check_memory(len(data))
    stages.stage(f"drawing {args.kind} of {len(data)} rows")
    fig, ax = plots.new_figure()
    draw(args.kind, data, options, ax)
    note = usable(data, options.metric, what=f"plot {args.kind}").note()
    if note:
        print(note, file=sys.stderr)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{output.stem}.tmp-", suffix=output.suffix, dir=output.parent
    )
    os.close(fd)
    try:
        plots.save(fig, tmp)
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    stages.done(f"wrote {output}")
    print(output)
    return 0
