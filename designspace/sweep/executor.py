"""The executor seam: what runs a sweep's pending trials, and the recorder they report to.

An executor gets a :class:`Job` (the trials still to run, the training settings, per-trial
resources, retries, an optional deadline) and a :class:`Recorder`; it runs every trial
somewhere and calls :meth:`Recorder.record` once per finished model (a result, or the error
after the last retry). The recorder runs in the driver process: it writes the model's parquet
file atomically and drives the progress display, so every executor records the same way.

Adding an executor = one module with a class that has ``connect`` and ``run`` (see
:class:`Executor`; :class:`BaseExecutor` gives the other hooks their defaults) + one entry in
:data:`designspace.sweep.registry.EXECUTORS`. The class owns everything particular to it: its
options (``Options``, a :class:`~designspace.sweep.options.ExecutorOptions` dataclass that
generates its flags and study-file keys), its availability probe (``unavailable``) and its
placement rules (``planned_resources`` before it starts, what ``connect`` yields once it has).
The rest of the package asks these hooks and never which executor it has. Pure: imports
neither torch nor ray; importing an executor's module must not import them either.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from designspace.errors import DesignSpaceError
from designspace.sweep.options import ExecutorOptions

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
    instant after which no trial is started (running ones finish), None = no deadline;
    ``run_dir``: the sweep's folder (``sweep.json``, ``results/``), where an executor may keep
    its own files in a subfolder (None: a caller without one).
    """

    trials: tuple[TrialSpec, ...]
    settings: dict[str, Any]
    resources: Resources
    placement: Placement
    max_failures: int
    trainer: Trainer | None = None
    deadline: float | None = None
    run_dir: Path | None = None

    def past_deadline(self) -> bool:
        """True once the deadline has passed (never without one)."""
        return self.deadline is not None and time.time() >= self.deadline


class Executor(Protocol):
    """What runs trials. ``connect`` yields the resources the trials can use (``CPU``, ``GPU``,
    ``node_CPU``, ``node_GPU``: totals and the largest node's) for the duration of the block;
    ``run`` runs every trial of ``job`` inside that block and records each finished model.
    The optional hooks are those of :class:`BaseExecutor`."""

    def connect(self, placement: Placement) -> AbstractContextManager[Mapping[str, float]]: ...

    def run(self, job: Job, recorder: Recorder) -> None: ...


class BaseExecutor:
    """The hooks an executor may override, with their defaults.

    ``name``: its registry name; ``Options``: its options dataclass (none by default);
    ``summary``: what it is, in a few words (the ``--executor`` help).
    """

    name: ClassVar[str] = ""
    Options: ClassVar[type[ExecutorOptions]] = ExecutorOptions
    summary: ClassVar[str] = ""

    @classmethod
    def unavailable(cls, placement: Placement) -> str | None:
        """None when this executor can run ``placement`` here, else the one-line reason it
        cannot (a package not installed, a cluster not reachable, a request it cannot place).
        Cheap: imports nothing heavy, starts nothing."""
        return None

    @classmethod
    def planned_resources(cls, placement: Placement) -> Mapping[str, float] | None:
        """The resources :meth:`connect` will yield for ``placement``, known before anything
        starts (checked then, so a trial that cannot fit is refused at once), or None when
        only connecting tells (a cluster to join). Default: this machine's."""
        from designspace.sweep.resources import local_resources

        return local_resources()


def get_executor(name: str) -> Executor:
    """A new executor of the registered ``name`` (see :mod:`designspace.sweep.registry`)."""
    from designspace.sweep.registry import executor_class

    return executor_class(name)()


def check_available(placement: Placement) -> None:
    """DesignSpaceError with the executor's one-line reason when it cannot run ``placement``
    here (see :meth:`BaseExecutor.unavailable`)."""
    from designspace.sweep.registry import executor_class

    probe = getattr(executor_class(placement.executor), "unavailable", None)
    reason = probe(placement) if probe is not None else None
    if reason:
        raise DesignSpaceError(reason)


def planned_resources(placement: Placement) -> Mapping[str, float] | None:
    """The resources ``placement``'s executor will offer, when known before it starts (see
    :meth:`BaseExecutor.planned_resources`); None for an executor without the hook."""
    from designspace.sweep.registry import executor_class

    hook = getattr(executor_class(placement.executor), "planned_resources", None)
    return hook(placement) if hook is not None else None


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
