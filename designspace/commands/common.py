"""Argument groups shared by several commands (regime options, architecture selection)."""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from designspace.core.arch import Architecture
    from designspace.core.regimes import Regime


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that wraps each line of a description or epilog to the terminal but keeps the line
    breaks, and keeps lines that start with a space verbatim (example commands)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for line in text.splitlines():
            if not line.strip() or line.startswith(" "):
                out.append(indent + line)
            else:
                out.append(
                    textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent)
                )
        return "\n".join(out)


def examples(*cases: tuple[str, str]) -> str:
    """An ``examples:`` epilog for :class:`HelpFormatter`: each (command, what it does) as an
    indented command line followed by its explanation."""
    lines = ["examples:"]
    for command, what in cases:
        lines += [f"  {command}", f"      {what}"]
    return "\n".join(lines)


def _regimes_help() -> str:
    """The built-in regimes in one line each, from the registry (so none is forgotten)."""
    from designspace.core.regimes import REGIMES, format_quantity

    def one(r: Regime) -> str:
        lo, hi = r.flops
        stem = f", {r.stem} stem" if r.stem != "simple" else ""
        return (
            f"{r.name} ({r.resolution} px, {r.in_channels} ch, {r.num_classes} classes{stem}, "
            f"{format_quantity(lo)}-{format_quantity(hi)} flops)"
        )

    return "; ".join(one(r) for r in REGIMES.values())


def add_regime_arguments(
    p: argparse.ArgumentParser, default: str | None = "imagenet", bands: bool = True
) -> None:
    """--regime, --resolution, --in-channels, --num-classes, --stem and, with ``bands``,
    the complexity bands --flops/--params/--acts."""
    g = p.add_argument_group(
        "regime (input, output and complexity band)" if bands else "regime (input and output)"
    )
    g.add_argument(
        "--regime",
        default=default,
        help=_regimes_help() + (f"; default {default}" if default else ""),
    )
    g.add_argument("--resolution", type=int, help="input side in px (overrides the regime)")
    g.add_argument("--in-channels", type=int, help="input channels (overrides the regime)")
    g.add_argument("--num-classes", type=int, help="classes (overrides the regime)")
    g.add_argument(
        "--stem",
        choices=["simple", "small"],
        help="simple = 3x3 stride-2 conv; small = stride 1 (for 28-32 px)",
    )
    if not bands:
        return
    g.add_argument(
        "--flops",
        metavar="LO:HI",
        help="band of flops (multiply-adds), e.g. 360M:400M, 0.36G:0.4G, 3.6e8:4e8",
    )
    g.add_argument("--params", metavar="LO:HI", help="band of parameter counts, e.g. 2M:6M")
    g.add_argument("--acts", metavar="LO:HI", help="band of activations, e.g. 1M:5M")


def regime_from_args(args: argparse.Namespace, name: str | None = None) -> Regime:
    """The regime named by --regime (or ``name``) with the command-line overrides applied."""
    from designspace.core.regimes import get_regime, parse_band
    from designspace.errors import DesignSpaceError

    regime = get_regime(name or args.regime)
    for key in ("resolution", "in_channels", "num_classes"):
        value = getattr(args, key, None)
        if value is not None and value <= 0:
            raise DesignSpaceError(f"--{key.replace('_', '-')} must be positive, got {value}")
    return regime.with_overrides(
        resolution=args.resolution,
        in_channels=args.in_channels,
        num_classes=args.num_classes,
        stem=args.stem,
        flops=parse_band(args.flops) if getattr(args, "flops", None) else None,
        params=parse_band(args.params) if getattr(args, "params", None) else None,
        acts=parse_band(args.acts) if getattr(args, "acts", None) else None,
    )


def add_architecture_arguments(p: argparse.ArgumentParser) -> None:
    """ARCH (a named model or an architecture .json) or --from FILE --index K."""
    p.add_argument(
        "arch",
        nargs="?",
        metavar="NAME|ARCH.json",
        help="a named model (e.g. RegNetX-400MF, RegNetX32) or an architecture JSON file",
    )
    p.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="a samples/results table (.parquet, .csv, .jsonl) to take the model from",
    )
    p.add_argument(
        "--index", type=int, default=None, metavar="K", help="0-based row of --from FILE"
    )


def architecture_from_args(args: argparse.Namespace) -> tuple[Architecture, int | None]:
    """The selected architecture and, for a table row, its recorded resolution (else None)."""
    from designspace.errors import DesignSpaceError
    from designspace.formats.archfile import architecture_from_table, read_architecture, read_table

    if args.from_file:
        if args.arch:
            raise DesignSpaceError("give either NAME|ARCH.json or --from FILE --index K, not both")
        if args.index is None:
            raise DesignSpaceError("--from FILE needs --index K (the 0-based row)")
        arch = architecture_from_table(args.from_file, args.index)
        frame = read_table(args.from_file)
        if "resolution" not in frame.columns:
            return arch, None
        res = frame["resolution"].iloc[args.index]
        try:
            if float(res) != int(res) or int(res) < 1:
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raise DesignSpaceError(
                f"{args.from_file} row {args.index}: resolution {res!r} is not a whole number "
                f"of px >= 1"
            ) from None
        return arch, int(res)
    if not args.arch:
        raise DesignSpaceError(
            "name a model (e.g. RegNetX-400MF), an ARCH.json file, or use --from FILE --index K"
        )
    return read_architecture(args.arch), None
