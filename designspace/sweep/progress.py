"""Progress of a sweep, shaped for where it goes.

On a terminal: one live tqdm bar (models done / total, failures, running trials, best error).
Anywhere else (a log file, a pipe, CI): plain lines, one per finished model but at most one
every ``min_interval`` seconds (the last model always gets its line), each with done/total,
failures, elapsed time and an ETA, so a long sweep writes a readable log instead of thousands
of bar redraws.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping
from typing import IO, Protocol


class Progress(Protocol):
    """What the recorder tells the display."""

    def finished(self, counts: Mapping[str, int], best: float) -> None:
        """One more model recorded; ``counts`` by status (this run), ``best`` error so far."""

    def status(self, *, running: int | None = None, retries: int | None = None) -> None:
        """Trials running now, retries so far (either may be None: unchanged)."""

    def close(self) -> None:
        """The sweep ended (or stopped)."""


def format_duration(seconds: float) -> str:
    """``"42s"``, ``"3m05s"`` or ``"2h07m"``."""
    if not math.isfinite(seconds):
        return "?"
    s = int(round(max(0.0, seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class NoProgress:
    """Shows nothing."""

    def finished(self, counts: Mapping[str, int], best: float) -> None:  # noqa: D102
        pass

    def status(self, *, running: int | None = None, retries: int | None = None) -> None:  # noqa: D102
        pass

    def close(self) -> None:  # noqa: D102
        pass


class LineProgress:
    """One plain line per finished model (rate-limited); see the module docstring.

    ``total``: models in the sweep; ``initial``: already done before this run (the ETA uses
    only this run's pace); ``clock``: seconds, monotonic (replaceable in tests).
    """

    def __init__(
        self,
        total: int,
        initial: int = 0,
        stream: IO[str] | None = None,
        min_interval: float = 5.0,
        label: str = "sweep",
        clock=time.monotonic,
    ) -> None:
        self.total, self.initial = total, initial
        self.stream = stream if stream is not None else sys.stderr
        self.min_interval = min_interval
        self.label = label
        self.clock = clock
        self.start = clock()
        self.last_line = -math.inf
        self.done_now = 0
        self.retries = 0
        self.pending_line: str | None = None

    def finished(self, counts: Mapping[str, int], best: float) -> None:  # noqa: D102
        self.done_now += 1
        now = self.clock()
        elapsed = now - self.start
        done = self.initial + self.done_now
        left = self.total - done
        eta = elapsed / self.done_now * left
        parts = [f"{self.label}: {done}/{self.total} models", f"{counts.get('failed', 0)} failed"]
        if counts.get("diverged"):
            parts.append(f"{counts['diverged']} diverged")
        if self.retries:
            parts.append(f"{self.retries} retries")
        if math.isfinite(best):
            parts.append(f"best err {best:.4f}")
        parts.append(f"elapsed {format_duration(elapsed)}")
        parts.append("done" if left <= 0 else f"ETA {format_duration(eta)}")
        line = ", ".join(parts)
        if left <= 0 or now - self.last_line >= self.min_interval:
            self._write(line)
            self.last_line = now
            self.pending_line = None
        else:
            self.pending_line = line

    def status(self, *, running: int | None = None, retries: int | None = None) -> None:  # noqa: D102
        if retries is not None:
            self.retries = retries

    def close(self) -> None:  # noqa: D102
        if self.pending_line is not None:  # the latest state was not shown yet
            self._write(self.pending_line)
            self.pending_line = None

    def _write(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


class BarProgress:
    """A live tqdm bar (for a terminal)."""

    def __init__(self, total: int, initial: int = 0, stream: IO[str] | None = None) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total, initial=initial, desc="sweep", unit="model",
            file=stream if stream is not None else sys.stderr, dynamic_ncols=True, smoothing=0.1,
        )  # fmt: skip
        self.post: dict[str, object] = {"failed": 0, "running": 0}
        self.last = 0.0

    def finished(self, counts: Mapping[str, int], best: float) -> None:  # noqa: D102
        self.post["failed"] = counts.get("failed", 0)
        if counts.get("diverged"):
            self.post["diverged"] = counts["diverged"]
        self.post["best_err"] = f"{best:.4f}" if math.isfinite(best) else "-"
        self.bar.update(1)
        self._show(force=True)

    def status(self, *, running: int | None = None, retries: int | None = None) -> None:  # noqa: D102
        if running is not None:
            self.post["running"] = running
        if retries:
            self.post["retries"] = retries
        self._show()

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= 0.5:
            self.last = now
            self.bar.set_postfix(self.post, refresh=True)

    def close(self) -> None:  # noqa: D102
        self.bar.close()


def make_progress(
    total: int, initial: int = 0, enabled: bool = True, stream: IO[str] | None = None
) -> Progress:
    """The display for ``stream`` (default stderr): a bar on a terminal, lines otherwise,
    nothing when not ``enabled``."""
    if not enabled:
        return NoProgress()
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return BarProgress(total, initial, stream)
    return LineProgress(total, initial, stream)
