"""``designspace`` command line: argument parsing only; every command is one API call.

Each sub-command lives in :mod:`designspace.commands.<name>` and provides
``add_parser(subparsers)`` and ``run(args) -> int``. Command modules import nothing heavy at
module level, so ``designspace sample`` never loads torch or ray. A
:class:`~designspace.errors.DesignSpaceError` (bad input) becomes one line on stderr and exit
code 2, without a traceback; so does an OSError (name too long, no permission, a link loop, a
full or read-only disk: :func:`os_error_message`). SIGTERM stops a command like SIGINT (exit
codes 130 and 143).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

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
    "refine",
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


class Terminated(KeyboardInterrupt):
    """SIGTERM (or another stopping signal) received: handled like Ctrl-C, so that every
    ``except KeyboardInterrupt`` / ``finally`` on the way up cleans up the same way; ``signum``
    gives the exit code ``128 + signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


# errno -> the cause in words (the rest: the system's own text).
_OS_CAUSES = {
    errno.ENAMETOOLONG: "the name is too long for the file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ELOOP: "too many levels of symbolic links (a link loop)",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.EEXIST: "it exists already",
    errno.ENOTEMPTY: "the folder is not empty",
    errno.EXDEV: "it is on another file system",
}


def os_error_message(exc: OSError) -> str:
    """One line for an OSError: the path(s) it names and the cause in words, with what to
    do; no traceback."""
    cause = _OS_CAUSES.get(exc.errno or -1) or exc.strerror or str(exc) or type(exc).__name__
    paths = [p for p in (exc.filename, exc.filename2) if p is not None]
    where = " -> ".join(os.fsdecode(p) if isinstance(p, (bytes, str)) else str(p) for p in paths)
    text = f"{where}: {cause}" if where else cause
    return " ".join(text.split()) + "; nothing was half written, fix the cause and rerun"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``designspace`` console script; returns the exit code.

    Bad input (DesignSpaceError) and operating-system errors (a name too long, no permission,
    a link loop, a full or read-only disk) are one line on stderr and exit code 2. SIGTERM is
    handled like SIGINT (Ctrl-C): the command stops cleanly and exits with 128 + the signal
    (130 for SIGINT, 143 for SIGTERM).
    """
    received: list[int] = []  # the stopping signals seen (a library may re-raise without it)

    def stop(signum: int, frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated(signum)

    old = {}
    if threading.current_thread() is threading.main_thread():
        old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    args = argparse.Namespace(command="")
    try:
        # The parser loads every command module: a signal then interrupts nothing.
        args = build_parser().parse_args(argv)
        return _run(args, received)
    except Exception:
        # A library turned the stop into another exception (numpy, interrupted while it
        # loads its C extension, raises ImportError): the signal is what happened.
        if not received:
            raise
        return _stopped(args.command, received[-1])
    except KeyboardInterrupt as exc:
        # A library may re-raise a plain KeyboardInterrupt for our Terminated: what was
        # received decides the exit code.
        fallback = received[-1] if received else signal.SIGINT
        return _stopped(args.command, getattr(exc, "signum", fallback))
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _stopped(command: str, signum: int) -> int:
    """One line for a command stopped by ``signum``; the exit code 128 + ``signum``."""
    name = "terminated" if signum == signal.SIGTERM else "interrupted"
    print(f"{' '.join(['designspace', command]).strip()}: {name}", file=sys.stderr)
    return 128 + int(signum)


def _run(args: argparse.Namespace, received: list[int]) -> int:
    """Run the parsed command; bad input and system errors become one line and exit 2."""
    try:
        return int(args.run(args) or 0)
    except DesignSpaceError as exc:
        if received:
            raise
        print(f"designspace {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if received:
            raise
        print(f"designspace {args.command}: error: {os_error_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as exc:  # Path.resolve() before Python 3.13: a link loop
        if not str(exc).startswith("Symlink loop from "):
            raise
        where = str(exc).removeprefix("Symlink loop from ").strip("'\"")
        loop = OSError(errno.ELOOP, "symlink loop", where)
        print(f"designspace {args.command}: error: {os_error_message(loop)}", file=sys.stderr)
        return EXIT_BAD_INPUT


def entry() -> NoReturn:
    """The console script and ``python -m designspace``: run :func:`main` and exit with its code.

    After a command that used Ray the process ends with ``os._exit`` once the output streams
    are flushed: every result is already written and Ray is shut down, but Ray's native
    threads could still crash the interpreter's own teardown (SIGSEGV after the clean stop
    line in 3 of 40 signal-stress runs), which would replace the exit code that says how the
    command ended.
    """
    code = main()
    if "ray" in sys.modules:
        import logging

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
