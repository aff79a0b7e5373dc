"""Budgeted studies: how many models per space fit in a time budget, from a measured speed.

Pure arithmetic (no torch, no ray). A budgeted study (``designspace study FILE --budget 10m``)
trains a first round, measures from it how long one model takes on this machine at the sweep's
concurrency (:class:`Speed`), and :func:`plan_budget` chooses the largest ``n`` per space whose
remaining models finish within what is left of the budget. Models are trained round-robin
across spaces (index 0 of every space, then index 1, ...), so the time of ``n`` per space is
``ceil(spaces * (n - done) / concurrency)`` waves of one model's time, plus the fixed cost of
starting the executor again. Because a sample of ``n`` configurations is the first ``n`` of a
bigger one, the study resumed later with a bigger budget continues the same sweep.

Conventions: times in seconds, ``n`` counts configurations per space.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from designspace.errors import DesignSpaceError

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([smh])")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``90s``, ``10m``, ``1.5h``, ``1h30m`` or ``2m30s`` (a bare
    number is seconds). DesignSpaceError for anything else, or for a duration of 0."""
    raw = str(text).strip().lower()
    try:
        seconds = float(raw)
    except ValueError:
        parts = _PART.findall(raw)
        if not parts or "".join(a + b for a, b in parts) != raw.replace(" ", ""):
            raise DesignSpaceError(
                f"--budget {text!r} is not a duration; write e.g. 90s, 10m, 1.5h or 1h30m"
            ) from None
        seconds = sum(float(value) * _UNITS[unit] for value, unit in parts)
    if not math.isfinite(seconds) or seconds <= 0:
        raise DesignSpaceError(f"--budget must be a positive duration, got {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """``seconds`` as ``1h02m``, ``3m05s`` or ``42s`` (rounded to the second)."""
    s = max(0, round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


@dataclass(frozen=True)
class Speed:
    """How fast this machine trains the study's models.

    ``seconds_per_model``: wall time of one model's trial while ``concurrency`` trials run at
    once; ``overhead_s``: the fixed cost of one sweep call (starting the executor and its
    workers, loading the data), paid again by every later call.
    """

    seconds_per_model: float
    concurrency: int
    overhead_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.seconds_per_model > 0 or not math.isfinite(self.seconds_per_model):
            raise DesignSpaceError(
                f"seconds per model must be positive, got {self.seconds_per_model}"
            )
        if self.concurrency < 1:
            raise DesignSpaceError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.overhead_s < 0:
            raise DesignSpaceError(f"overhead must be >= 0 s, got {self.overhead_s}")

    @property
    def models_per_hour(self) -> float:
        """Models trained per hour with every trial slot busy."""
        return 3600.0 * self.concurrency / self.seconds_per_model

    def seconds_for(self, models: int) -> float:
        """Wall seconds of one sweep call that trains ``models`` models (0 for none)."""
        if models <= 0:
            return 0.0
        waves = math.ceil(models / self.concurrency)
        return self.overhead_s + waves * self.seconds_per_model


def measure_speed(model_seconds: list[float], concurrency: int, wall_s: float) -> Speed:
    """:class:`Speed` from one sweep call: the wall seconds of each model it trained (trials
    run ``concurrency`` at a time) and the call's own wall seconds (the excess over the
    trials' waves is the call's overhead). Uses the median model (robust to one slow start)."""
    if not model_seconds:
        raise DesignSpaceError("no model was trained, so this machine's speed is unknown")
    times = sorted(float(t) for t in model_seconds)
    mid = len(times) // 2
    median = times[mid] if len(times) % 2 else 0.5 * (times[mid - 1] + times[mid])
    median = max(median, 1e-3)
    waves = math.ceil(len(times) / max(1, concurrency))
    # The waves' time is at least the slowest model when they all ran at once.
    busy = max(waves * median, times[-1] if waves == 1 else 0.0)
    return Speed(median, max(1, concurrency), max(0.0, wall_s - busy))


@dataclass(frozen=True)
class BudgetPlan:
    """What a budget buys: ``n`` configurations per space (``done`` of them already recorded),
    ``new_models`` still to train, their estimated wall seconds ``eta_s``, and ``deadline_s``:
    seconds from now after which no trial may start, so that the last ones end in the budget.
    ``capped``: ``n`` is the study's own n (the budget would allow more)."""

    n: int
    done: int
    new_models: int
    eta_s: float
    deadline_s: float
    capped: bool


def plan_budget(
    remaining_s: float, speed: Speed, spaces: int, done: int, n_max: int | None = None
) -> BudgetPlan:
    """The largest ``n >= done`` per space (at most ``n_max``) whose ``spaces * (n - done)``
    models, trained round-robin at ``speed``, finish within ``remaining_s`` seconds.

    ``done``: configurations per space already recorded (every space holds at least that
    many of its first ones). The deadline leaves one model's time before the end of the budget
    (a trial started at the deadline still ends in it); a slower machine than measured then
    stops early, balanced, rather than late.
    """
    if spaces < 1:
        raise DesignSpaceError(f"a study has at least one space, got {spaces}")
    if done < 0 or (n_max is not None and n_max < 1):
        raise DesignSpaceError(f"bad plan bounds: done {done}, n_max {n_max}")
    remaining_s = max(0.0, remaining_s)
    per_round = speed.seconds_per_model * spaces / speed.concurrency
    # A first guess from the average rate, then walk to the exact bound (waves are whole).
    n = done + max(0, int((remaining_s - speed.overhead_s) / per_round) + 1)
    if n_max is not None:
        n = min(n, max(n_max, done))
    while n > done and speed.seconds_for(spaces * (n - done)) > remaining_s:
        n -= 1
    capped = n_max is not None and n >= n_max
    if not capped:  # a rounding of the first guess may leave room for one more round
        while (n_max is None or n + 1 <= n_max) and speed.seconds_for(
            spaces * (n + 1 - done)
        ) <= remaining_s:
            n += 1
        capped = n_max is not None and n >= n_max
    new = spaces * (n - done)
    eta = speed.seconds_for(new)
    deadline = max(0.0, remaining_s - speed.seconds_per_model)
    return BudgetPlan(n, done, new, eta, deadline, capped)
