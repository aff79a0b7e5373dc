"""The local executor: a sweep on one machine without Ray.

``concurrency`` worker processes (``spawn``: no state is inherited from the driver) each run
trial after trial, keeping their data set loaded between trials; the driver hands out one
trial at a time to each idle worker, so the order and the deadline are the driver's. One trial
per ``cpus_per_trial`` CPUs, or per GPU share: with ``gpus_per_trial`` g < 1, ``floor(1/g)``
workers share each card (``CUDA_VISIBLE_DEVICES`` set per worker).

Faults: a trial that raises is retried ``max_failures`` times (on a fresh try, possibly another
worker), then recorded as ``failed`` with the exception; a worker process that dies costs its
trial a retry and is replaced. Workers end with the driver, also when the driver is killed
with SIGKILL: each asks the kernel for SIGKILL when its parent dies (Linux) and also checks
its parent every second.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Iterator, Mapping
from multiprocessing.connection import Connection, wait
from typing import Any

from designspace.sweep.config import Placement
from designspace.sweep.executor import BaseExecutor, Job, Recorder, TrialSpec
from designspace.sweep.resources import local_resources

_PR_SET_PDEATHSIG = 1
_POLL_S = 0.5


class LocalExecutor(BaseExecutor):
    """Worker processes on this machine; see the module docstring. No options of its own;
    its placement: this machine's CPUs and GPUs."""

    name = "local"
    summary = "worker processes on this machine, no Ray"

    @contextlib.contextmanager
    def connect(self, placement: Placement) -> Iterator[Mapping[str, float]]:
        """This machine's CPUs and GPUs (nothing to start: workers start in :meth:`run`)."""
        yield local_resources()

    def run(self, job: Job, recorder: Recorder) -> None:
        """Run every trial of ``job``; record each finished model with ``recorder``."""
        pending = collections.deque((spec, 1) for spec in job.trials)
        slots = _gpu_slots(job.resources.concurrency, job.resources.gpus_per_trial)
        n_workers = min(job.resources.concurrency, len(pending))
        ctx = mp.get_context("spawn")
        hide = not _from_main(job.trainer)
        workers: list[_Worker] = []  # started when there is a trial for them
        try:
            while True:
                if not job.past_deadline():
                    while (
                        pending
                        and len(workers) < n_workers
                        and sum(w.task is None for w in workers) < len(pending)
                    ):
                        workers.append(
                            _Worker(ctx, slots[len(workers)], job.resources.threads, hide)
                        )
                    for w in workers:
                        if w.task is None and pending:
                            w.give(*pending.popleft(), job)
                busy = [w for w in workers if w.task is not None]
                recorder.running(len(busy))
                if not busy:
                    break
                ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], _POLL_S)
                for w in busy:
                    if w.conn not in ready and w.proc.sentinel not in ready:
                        continue
                    spec, attempt = w.task
                    w.task = None
                    try:
                        kind, payload, host = w.conn.recv()
                    except (EOFError, OSError):
                        w.proc.join(5)
                        kind, host = "error", None
                        payload = f"the worker process died (exit code {w.proc.exitcode})"
                        workers[workers.index(w)] = _Worker(
                            ctx, w.slot, job.resources.threads, hide
                        )
                    if kind == "ok":
                        recorder.record(spec.key, payload, host, attempt)
                    elif attempt <= job.max_failures:
                        recorder.retry()
                        pending.append((spec, attempt + 1))
                    else:
                        recorder.record(spec.key, {"status": "failed", "error": payload}, host,
                                        attempt)  # fmt: skip
        finally:
            for w in workers:
                w.stop()


def _from_main(trainer: Any) -> bool:
    """Whether ``trainer`` (or its class) is defined in the ``__main__`` script."""
    if trainer is None:
        return False
    module = getattr(trainer, "__module__", None) or type(trainer).__module__
    return module == "__main__" or type(trainer).__module__ == "__main__"


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """Start workers without re-running the driver's ``__main__`` script in them.

    ``spawn`` imports the parent's main script in every child, which runs a script without an
    ``if __name__ == "__main__":`` guard a second time (here: a second sweep in each worker).
    The workers need nothing from it unless the trainer lives there (then it is not hidden).
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _gpu_slots(n: int, share: float) -> list[str | None]:
    """``CUDA_VISIBLE_DEVICES`` of each of ``n`` workers (None: leave it as it is)."""
    if share <= 0:
        return [None] * n
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [v.strip() for v in visible.split(",")] if visible else None
    from designspace.sweep.resources import gpu_count

    ids = ids or [str(i) for i in range(gpu_count())]
    if share < 1:
        per_card = max(1, int(1 / share + 1e-9))
        return [ids[(i // per_card) % len(ids)] for i in range(n)]
    k = int(share)
    return [",".join(ids[(i * k + j) % len(ids)] for j in range(k)) for i in range(n)]


class _Worker:
    """One worker process and the driver's end of its pipe."""

    def __init__(self, ctx: Any, slot: str | None, threads: int, hide_main: bool) -> None:
        self.slot = slot
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=_worker_main, args=(child, os.getpid(), slot, threads), daemon=True
        )
        with _main_hidden() if hide_main else contextlib.nullcontext():
            self.proc.start()
        child.close()
        self.task: tuple[TrialSpec, int] | None = None

    def give(self, spec: TrialSpec, attempt: int, job: Job) -> None:
        self.task = (spec, attempt)
        try:
            self.conn.send((spec.arch_json, job.settings, job.trainer))
        except (OSError, BrokenPipeError):
            pass  # a dead worker: the wait loop sees its sentinel

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send(None)
        self.proc.join(2 if self.task is None else 0)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        self.conn.close()


def _die_with_parent(parent: int) -> None:
    """Ask the kernel for SIGKILL when the parent dies (Linux), and check every second too."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _worker_main(conn: Connection, parent: int, slot: str | None, threads: int) -> None:
    """A worker: take (arch_json, settings, trainer), answer (kind, payload, host), repeat."""
    _die_with_parent(parent)
    # Ctrl-C and SIGTERM (sent to the whole process group) are the driver's to handle: it
    # stops the workers itself, after the result being written is complete or abandoned.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if slot is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = slot
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    from designspace.sweep.trial import hostname, run_trial

    host = hostname()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        arch_json, settings, trainer = task
        try:
            answer = ("ok", run_trial(arch_json, settings, trainer), host)
        except Exception as exc:  # noqa: BLE001 - reported to the driver, which retries
            answer = ("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:2000], host)
        try:
            conn.send(answer)
        except (OSError, BrokenPipeError):
            return
