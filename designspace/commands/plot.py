"""``designspace plot KIND``: one figure of a results set as PNG or SVG."""

from __future__ import annotations

import argparse
import sys

KINDS = {
    "edf": "error EDFs per group, legend [n | min | mean]",
    "nedf": "complexity-normalized EDFs (NDS)",
    "param": "error vs a statistic (--x) with the DDS good range",
    "widths": "per-block width profiles of the top models with fitted RegNet rules",
    "efit": "RegNet fit error e_fit vs error",
    "search": "random-search efficiency: expected best error of k samples",
    "flops": "error vs flops",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``designspace plot`` on the sub-command parsers."""
    p = sub.add_parser(
        "plot",
        help="draw one analysis figure",
        description="Draw one figure of one or more results sets (parquet directories/files or "
        "CSV; several are concatenated). Kinds: "
        + "; ".join(f"{k}: {v}" for k, v in KINDS.items())
        + ".",
    )
    p.add_argument("kind", choices=sorted(KINDS), help="which figure")
    p.add_argument("results", nargs="+", metavar="RESULTS", help="parquet directory/file or CSV")
    p.add_argument("-o", "--output", required=True, help="output file, .png or .svg")
    p.add_argument("--by", default="space", help="column that names the groups (default: space)")
    p.add_argument("--metric", default="val_top1_err", help="error column (default: val_top1_err)")
    p.add_argument("--x", default="depth", help="statistic for 'param' (default: depth)")
    p.add_argument("--top", type=int, default=5, help="models for 'widths' (default: 5)")
    p.add_argument("--band", choices=["dkw", "bootstrap"], help="confidence band for 'edf'")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``designspace plot``; returns the exit code (bad input raises DesignSpaceError)."""
    from designspace import plots
    from designspace.analysis import load_results
    from designspace.analysis._data import usable
    from designspace.errors import DesignSpaceError

    if not args.output.lower().endswith((".png", ".svg")):
        raise DesignSpaceError(f"--output {args.output!r} must end in .png or .svg")
    data = load_results(args.results)
    fig, ax = plots.new_figure()
    by, metric = args.by, args.metric
    if args.kind == "edf":
        plots.edf_plot(data, metric, by, band=args.band, ax=ax)
    elif args.kind == "nedf":
        plots.normalized_edf_plot(data, metric, by, ax=ax)
    elif args.kind == "param":
        plots.error_vs_param_plot(data, args.x, metric, by, ax=ax)
    elif args.kind == "widths":
        plots.width_profile_plot(data, metric, args.top, ax=ax)
    elif args.kind == "efit":
        plots.efit_plot(data, metric, by, ax=ax)
    elif args.kind == "search":
        plots.search_efficiency_plot(data, metric, by, ax=ax)
    else:
        plots.error_vs_flops_plot(data, metric, by, ax=ax)
    note = usable(data, metric, what=f"plot {args.kind}").note()
    if note:
        print(note, file=sys.stderr)
    print(plots.save(fig, args.output))
    return 0
