"""Progress shaped for its destination: a bar on a terminal, plain lines in a log."""

from __future__ import annotations

import io
import math

from designspace.sweep.progress import (
    BarProgress,
    LineProgress,
    NoProgress,
    format_duration,
    make_progress,
)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_finished_model_with_eta():
    stream, clock = io.StringIO(), Clock()
    p = LineProgress(total=5, initial=1, stream=stream, min_interval=0, clock=clock)
    clock.t = 10
    p.finished({"ok": 1, "failed": 0}, 0.25)
    clock.t = 20
    p.finished({"ok": 1, "failed": 1}, 0.25)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "sweep: 2/5 models, 0 failed, best err 0.2500, elapsed 10s, ETA 30s"
    assert lines[1] == "sweep: 3/5 models, 1 failed, best err 0.2500, elapsed 20s, ETA 20s"
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()


def test_lines_are_rate_limited_and_the_last_state_is_always_shown():
    stream, clock = io.StringIO(), Clock()
    p = LineProgress(total=100, stream=stream, min_interval=60, clock=clock)
    for i in range(50):  # 50 models in 49 s: one line, then the rest held back
        clock.t = float(i)
        p.finished({"failed": 0}, math.inf)
    assert len(stream.getvalue().splitlines()) == 1
    p.close()  # the sweep stops: its latest state is written
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("sweep: 50/100 models")
    for i in range(50, 100):
        clock.t = 100.0 + i
        p.finished({"failed": 0}, math.inf)
    assert stream.getvalue().splitlines()[-1].endswith("done")  # the last model always


def test_the_display_follows_the_stream():
    assert isinstance(make_progress(3, stream=io.StringIO()), LineProgress)
    terminal = Terminal()
    bar = make_progress(3, stream=terminal)
    assert isinstance(bar, BarProgress)
    bar.finished({"failed": 0}, 0.5)
    bar.close()
    assert "1/3" in terminal.getvalue()
    assert isinstance(make_progress(3, enabled=False, stream=terminal), NoProgress)


def test_durations_read_well():
    assert [format_duration(s) for s in (5, 65, 3 * 3600 + 7 * 60)] == ["5s", "1m05s", "3h07m"]
    assert format_duration(math.inf) == "?"
