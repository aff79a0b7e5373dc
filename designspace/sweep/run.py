"""Running a sweep: plan, lock the output folder, resume, hand the pending trials to an
executor, record each finished model.

Order (nothing is created or started before the input is checked): the output folder is
checked, the plan built, the executor asked whether it can run here, resources checked
against what it will offer (where that is known before it starts) and the data set opened;
then the folder's writer lock is taken (one writer per ``--out``), the sweep's folder
resolved (resume or new), unreadable result files quarantined, and the executor started.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designspace.core.datasets import check_subsets
from designspace.errors import DesignSpaceError
from designspace.formats import results as res
from designspace.sweep.config import Placement, SweepConfig
from designspace.sweep.executor import (
    Job,
    Recorder,
    Trainer,
    TrialSpec,
    check_available,
    get_executor,
    planned_resources,
)
from designspace.sweep.locks import out_lock
from designspace.sweep.plan import (
    build_manifest,
    check_out_dir,
    pending,
    plan_digester,
    plan_records,
    plan_sweep,
    resolve_precision,
    resolve_run_dir,
    round_robin,
)
from designspace.sweep.progress import make_progress
from designspace.sweep.resources import resolve_resources

if TYPE_CHECKING:
    import pandas as pd

    from designspace.training.trainconfig import TrainConfig


@dataclass
class SweepRun:
    """Where a sweep's results live and what happened in the last call of :func:`run_sweep`.

    ``planned``: models in the plan; ``done_before``: recorded before this call; ``counts``:
    models recorded by this call, by status; ``missing``: planned models without a result
    now; ``stopped_at_deadline``: the deadline stopped the sweep before every model ran;
    ``recorded``: the keys (``space|sample_index|arch_id``) of the models this call recorded;
    ``concurrency``: the trials this call could run at once (0 when it ran none).
    """

    run_dir: Path
    planned: int
    done_before: int
    counts: dict[str, int]
    missing: int
    stopped_at_deadline: bool = False
    recorded: frozenset[str] = frozenset()
    concurrency: int = 0


def deadline_time(deadline: float | datetime | None) -> float | None:
    """A :func:`time.time` instant from a deadline in seconds from now (a number) or a
    :class:`~datetime.datetime` (naive = local time); None stays None."""
    if deadline is None:
        return None
    if isinstance(deadline, datetime):
        return deadline.timestamp()
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or deadline < 0:
        raise DesignSpaceError(f"a deadline is seconds >= 0 or a datetime, got {deadline!r}")
    return time.time() + float(deadline)


def check_data(train: TrainConfig) -> None:
    """DesignSpaceError when the training data cannot be loaded on this machine: subsets
    larger than the data set (no file read), then Fashion-MNIST or CIFAR-10 loaded once at
    native size (about a second); an image folder was already listed by the plan."""
    check_subsets(train.data)
    if train.data.spec.counted:
        return
    from designspace.training.data import load_data

    load_data(dataclasses.replace(train.data, resize=None))


def sweep_inputs(samples: str | None, spaces: Sequence[Any]) -> list[str]:
    """The files a sweep reads that its output folder must neither be nor hold: the samples
    table and the space files (built-in space names are not files)."""
    named = [s for s in spaces if isinstance(s, (str, Path)) and Path(s).is_file()]
    return [str(p) for p in ([samples] if samples else []) + named]


def _schema_for(plan: pd.DataFrame) -> Any:
    from designspace.training.train import TrainResult
    from designspace.training.trainconfig import TrainConfig

    settings = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    metrics = {f.name: f.type for f in dataclasses.fields(TrainResult) if f.name != "extra"}
    return res.results_schema(int(plan["num_stages"].max()), settings, metrics)


def run_sweep(
    config: SweepConfig,
    out: str | Path,
    placement: Placement | None = None,
    *,
    force_new: bool = False,
    progress: bool = True,
    trainer: Trainer | None = None,
    info: dict[str, Any] | None = None,
    wait: bool = False,
    deadline: float | datetime | None = None,
    say: Callable[[str], None] | None = None,
    lock: bool = True,
) -> pd.DataFrame:
    """Run (or resume) a sweep into ``out`` and return all its results as a DataFrame.

    ``out`` gets ``sweep.json`` and the ``results/`` parquet data set (see
    :mod:`designspace.formats.results`); models already recorded there are not trained again.
    ``out`` holding a different sweep is refused unless ``force_new``, which starts this
    sweep in ``out/run-K`` and leaves the existing results alone. One writer per ``out``:
    another live sweep or study writing there is refused, or waited for with ``wait``.
    ``placement`` (None: :class:`Placement`'s defaults); its ``executor`` chooses what runs
    the trials (a name of :data:`designspace.sweep.registry.EXECUTORS`).
    ``progress`` shows a bar on a terminal, plain lines otherwise (stderr). ``trainer``
    replaces :func:`designspace.training.train.train` (same signature; importable or picklable
    in the workers). ``deadline`` (seconds from now, or a datetime): no trial starts after it; the
    sweep ends when the running ones are done and resumes later like any other. ``info``,
    when given, is filled with a :class:`SweepRun` under ``"run"``. ``lock=False`` is for a
    caller that already holds ``out``'s writer lock (:func:`designspace.sweep.locks.out_lock`),
    such as a study; ``say`` receives the lock's one-line notices (default: stderr).
    """
    placement = placement or Placement()
    out = check_out_dir(out, inputs=sweep_inputs(config.samples, config.spaces))
    plan = plan_sweep(config)
    check_subsets(config.train.data)
    when = deadline_time(deadline)
    check_available(placement)
    with out_lock(out, wait=wait, command="sweep", say=say) if lock else nullcontext():
        return _run_locked(
            config, out, plan, placement, force_new=force_new, progress=progress,
            trainer=trainer, info=info, deadline=when,
        )  # fmt: skip


def _run_locked(
    config: SweepConfig,
    out: Path,
    plan: pd.DataFrame,
    placement: Placement,
    *,
    force_new: bool,
    progress: bool,
    trainer: Trainer | None,
    info: dict[str, Any] | None,
    deadline: float | None,
) -> pd.DataFrame:
    """:func:`run_sweep` once the caller holds ``out``'s writer lock."""
    name = config.name or out.name
    manifest = build_manifest(config, plan, name)
    run_dir, old = resolve_run_dir(
        out, manifest, force_new, config.name is not None, plan_digester(config, plan)
    )
    if old is None and run_dir != out:
        name = f"{name}/{run_dir.name}" if config.name is None else name
        manifest["name"] = name
    elif old is not None:
        name = old["name"]
    data_dir = run_dir / res.DATA_DIRNAME

    scan = res.scan_results(run_dir) if old is not None else res.ResultsScan(None)
    records = plan_records(plan)
    todo = pending(records, scan)
    done_before = len(records) - len(todo)
    counts: dict[str, int] = {}
    stopped = False
    recorded: frozenset[str] = frozenset()
    concurrency = 0

    if todo:
        planned = planned_resources(placement)
        if planned is not None:  # fail before anything starts
            resolve_resources(placement, config.train, planned)
        check_data(config.train)
        executor = get_executor(placement.executor)
        with executor.connect(placement) as available:
            r = resolve_resources(placement, config.train, available)
            precisions = (
                scan.table.column("precision").to_pylist()
                if scan.table is not None and "precision" in scan.table.column_names
                else []
            )
            precision = resolve_precision(config.train.precision, r.device, old, precisions)
            manifest["resolved"] = {"precision": precision}
            settings = dataclasses.replace(
                config.train, threads=r.threads, device=r.device, precision=precision
            )
            # A bad file would block its model's new file (same name): move it aside first.
            _quarantine(run_dir, scan.bad)
            if old is None:
                data_dir.mkdir(parents=True, exist_ok=True)
                res.write_manifest(run_dir, manifest)
            data_dir.mkdir(exist_ok=True)
            display = make_progress(len(records), done_before, progress)
            recorder = Recorder(
                records, settings.to_dict(), data_dir, _schema_for(plan), name, display
            )
            job = Job(
                trials=tuple(TrialSpec(k, todo[k]["arch_json"]) for k in round_robin(todo)),
                settings=settings.to_dict(),
                resources=r,
                placement=placement,
                max_failures=config.max_failures,
                trainer=trainer,
                deadline=deadline,
                run_dir=run_dir,
            )
            try:
                executor.run(job, recorder)
            finally:
                display.close()
            counts = {k: v for k, v in recorder.counts.items() if v}
            recorded = frozenset(recorder.recorded)
            concurrency = r.concurrency
            stopped = job.past_deadline() and len(recorder.recorded) < len(todo)
    frame = res.load_results(run_dir) if data_dir.exists() else plan.iloc[0:0]
    have = set()
    if len(frame):
        have = set(zip(frame.space, frame.sample_index, frame.arch_id, strict=True))
        # A folder grown to more configurations than this call's n: only this plan's models.
        planned = {(r["space"], int(r["sample_index"]), r["arch_id"]) for r in records.values()}
        keep = [k in planned for k in have_keys(frame)]
        frame = frame[keep].reset_index(drop=True)
    missing = sum(
        (r["space"], int(r["sample_index"]), r["arch_id"]) not in have for r in records.values()
    )
    if info is not None:
        info["run"] = SweepRun(
            run_dir, len(records), done_before, counts, missing, stopped, recorded, concurrency
        )
    return frame


def have_keys(frame: pd.DataFrame) -> list[tuple[str, int, str]]:
    """``(space, sample_index, arch_id)`` of each row of a results frame."""
    return [
        (s, int(i), a)
        for s, i, a in zip(frame.space, frame.sample_index, frame.arch_id, strict=True)
    ]


def _quarantine(run_dir: Path, bad: list[tuple[Path, str]]) -> None:
    moved = res.quarantine(run_dir, [f for f, _ in bad])
    for (f, reason), dest in zip(bad, moved, strict=True):
        print(
            f"warning: unreadable result file {f.name} ({reason}); moved to {dest}, its model "
            f"will be trained again",
            file=sys.stderr,
        )
