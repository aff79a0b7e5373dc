"""Feedback on long work: which stage a command is in, on stderr, from its first second.

:class:`Stages` prints one line per stage when stderr is a log (a file, a pipe, CI), and keeps
one updating line on a terminal, each with the elapsed time; a stage that ends after more than
:data:`SLOW_S` seconds states its duration. Library functions take an optional ``stages``
argument (None: silent) and call :meth:`Stages.stage`; the command line passes a printing one.
Imports nothing but the standard library, so every layer may use it.
"""

from __future__ import annotations

import re
import sys
import time
from typing import TextIO

SLOW_S = 2.0  # stages longer than this get their duration printed when they end
# the lines Stages prints, so that logs (and tests) can tell progress from messages
PROGRESS_LINE = re.compile(r"^[a-z][a-z ]*( \[\d+/\d+\])?: .*(\(\d+\.\d s\)| took \d+\.\d s)$")


class Stages:
    """Stage reporter for one command (``what``: its name, the prefix of every line).

    ``stream`` (default stderr) and ``tty`` (default: whether the stream is a terminal) decide
    the form; ``enabled=False`` prints nothing (what library functions use by default)."""

    def __init__(
        self,
        what: str,
        stream: TextIO | None = None,
        tty: bool | None = None,
        enabled: bool = True,
    ) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.enabled = enabled
        self.start = time.monotonic()
        self.current: str | None = None
        self.since = self.start
        self.lines: list[str] = []  # what was printed, for tests and logs

    def stage(self, name: str, step: int | None = None, total: int | None = None) -> None:
        """Enter stage ``name`` (``step`` of ``total`` when known); ends the previous one."""
        self._end()
        self.current = name
        self.since = time.monotonic()
        count = f" [{step}/{total}]" if step is not None and total else ""
        self._print(f"{self.what}{count}: {name} ({self._elapsed()})")

    def done(self, summary: str = "done") -> None:
        """End the last stage and print ``summary`` with the total time."""
        self._end()
        self.current = None
        self._print(f"{self.what}: {summary} ({self._elapsed()})", final=True)

    def _end(self) -> None:
        if self.current is not None and time.monotonic() - self.since > SLOW_S and not self.tty:
            took = time.monotonic() - self.since
            self._print(f"{self.what}: {self.current} took {took:.1f} s")

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.start:.1f} s"

    def _print(self, line: str, final: bool = False) -> None:
        if not self.enabled:
            return
        self.lines.append(line)
        if self.tty:  # one line, rewritten in place; the last one stays
            self.stream.write("\r\033[K" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
