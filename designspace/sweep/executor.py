"""The executor seam: what runs a sweep's pending trials, and the recorder they report to.

An executor gets a :class:`Job` (the trials still to run, the training settings, per-trial
resources, retries, an optional deadline) and a :class:`Recorder`; it runs every trial
somewhere and calls :meth:`Recorder.record` once per finished model (a result, or the error
after the last retry). The recorder runs in the driver process: it writes the model's parquet
file atomically and drives the progress display, so every executor records the same way.

Adding an executor = one module with a class that has ``connect`` and ``run`` (see
:class:`Executor`) + one entry in :data:`designspace.sweep.registry.EXECUTORS`. Pure: imports
neither torch nor ray.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from designspace.sweep.config import Placement
    from designspace.sweep.progress import Progress
    from designspace.sweep.resources import Resources

Trainer = Callable[..., Any]  # (arch, config, data=...) -> TrainResult


@dataclass(frozen=True)
class TrialSpec:
    """One model to train: its key (``space|sample_index|arch_id``) and architecture JSON."""

    key: str
    arch_json: str


@dataclass(frozen=True)
class Job:
    """The pending trials of a sweep and how to run them.

    ``settings``: training settings (``TrainConfig.to_dict()``, threads and device resolved);
    ``max_failures``: retries of a trial that raises; ``deadline``: a :func:`time.time`
    instant after which no trial is started (running ones finish), None = no deadline.
    """

    trials: tuple[TrialSpec, ...]
    settings: dict[str, Any]
    resources: Resources
    placement: Placement
    max_failures: int
    trainer: Trainer | None = None
    deadline: float | None = None

    def past_deadline(self) -> bool:
        """True once the deadline has passed (never without one)."""
        return self.deadline is not None and time.time() >= self.deadline


class Executor(Protocol):
    """What runs trials. ``connect`` yields the resources the trials can use (``CPU``, ``GPU``,
    ``node_CPU``, ``node_GPU``: totals and the largest node's) for the duration of the block;
    ``run`` runs every trial of ``job`` inside that block and records each finished model."""

    def connect(self, placement: Placement) -> AbstractContextManager[Mapping[str, float]]: ...

    def run(self, job: Job, recorder: Recorder) -> None: ...


def get_executor(name: str) -> Executor:
    """A new executor of the registered ``name`` (see :mod:`designspace.sweep.registry`)."""
    from designspace.sweep.registry import executor_class

    return executor_class(name)()


class Recorder:
    """Writes each finished model's row (one parquet file, atomically) and shows progress.

    ``plan``: key -> plan row; ``settings``: the training settings recorded as ``cfg_*``;
    ``sweep``: the ``sweep`` column. Runs in the driver only.
    """

    def __init__(
        self,
        plan: Mapping[str, dict[str, Any]],
        settings: Mapping[str, Any],
        data_dir: Path,
        schema: Any,
        sweep: str,
        progress: Progress,
    ) -> None:
        self.plan = plan
        self.settings = dict(settings)
        self.data_dir = Path(data_dir)
        self.schema = schema
        self.sweep = sweep
        self.progress = progress
        from designspace.formats.results import STATUSES

        self.recorded: set[str] = set()
        self.counts: dict[str, int] = {s: 0 for s in STATUSES}
        self.retries = 0
        self.best = math.inf

    def record(self, key: str, metrics: Mapping[str, Any], host: str | None, attempt: int) -> None:
        """Write the row of model ``key`` (once: a second report of the same key is ignored).

        ``metrics``: the trainer's result row (``status`` "ok", "diverged" or "failed", errors
        as fractions); ``attempt``: 1 = first try.
        """
        from designspace.formats import results as res
        from designspace.version import __version__

        if key in self.recorded:  # e.g. a node died after the report reached the driver
            return
        row = res.assemble_row(
            self.plan[key], self.settings, dict(metrics), sweep=self.sweep, host=host,
            attempt=attempt, version=__version__,
        )  # fmt: skip
        try:
            res.write_result(self.data_dir, row, self.schema)
        except FileExistsError as exc:  # not expected: the plan skips recorded models
            print(f"warning: {exc}; keeping the recorded result", file=sys.stderr)
        self.recorded.add(key)
        status = str(metrics.get("status"))
        self.counts[status] = self.counts.get(status, 0) + 1
        err = metrics.get("val_top1_err")
        if status == "ok" and isinstance(err, (int, float)) and err < self.best:
            self.best = float(err)
        self.progress.finished(self.counts, self.best)

    def retry(self) -> None:
        """Count one retry of a trial that raised."""
        self.retries += 1
        self.progress.status(retries=self.retries)

    def running(self, n: int) -> None:
        """Tell the progress display how many trials are running now."""
        self.progress.status(running=n)
