"""``designspace`` command line: argument parsing only; every command is one API call.

Each sub-command lives in :mod:`designspace.commands.<name>` and provides
``add_parser(subparsers)`` and ``run(args) -> int``. Command modules import nothing heavy at
module level, so ``designspace sample`` never loads torch or ray. A
:class:`~designspace.errors.DesignSpaceError` (bad input) becomes one line on stderr and exit
code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from designspace.errors import DesignSpaceError

# Order = order in `designspace --help`.
COMMANDS = (
    "spaces",
    "sample",
    "describe",
    "train",
    "sweep",
    "analyze",
    "plot",
    "study",
    "replicate",
    "nds_import",
)

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: what is wrong and where to look."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every sub-command registered."""
    from designspace.commands.common import HelpFormatter
    from designspace.version import __version__

    parser = _Parser(
        prog="designspace",
        description=(
            "Design network design spaces (Radosavovic et al., NDS 2019 / DDS 2020): sample "
            "populations of CNNs from a space under a compute budget, train them briefly, and "
            "compare spaces by their error distributions."
        ),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"designspace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"designspace.commands.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``designspace`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except DesignSpaceError as exc:
        print(f"designspace {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"designspace {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
