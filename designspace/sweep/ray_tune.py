"""Ray Tune under the ray executor (:mod:`designspace.sweep.ray_executor`): trials on a local Ray
or on a cluster. The only module importing ray; imported only when a ray sweep starts.

* One function trainable with ``TuneConfig(reuse_actors=True)``: a worker process runs trial
  after trial and keeps its data set loaded (:mod:`designspace.sweep.trial`).
* The driver records each finished model from a Tune callback (:class:`_TuneRecorder` ->
  :class:`~designspace.sweep.executor.Recorder`): the driver, not the trial, writes, because on
  a cluster the workers need not share a file system with ``--out``.
* A trial that raises is retried ``max_failures`` times by Tune (on any node), then recorded as
  ``failed`` with the error; a dead worker node costs its running trials a retry.
* A local Ray (no ``address``) listens on 127.0.0.1 only (node address and every server), and
  a watchdog process (:mod:`designspace.sweep.watchdog`) ends its processes when the driver
  dies, also after SIGKILL. A cluster (``address``) is the user's: see the README on its ports.
* A deadline stops starting trials (a scheduler that hands out none after it) and ends the run
  once the running trials are done.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from designspace.core import reading
from designspace.errors import DesignSpaceError
from designspace.sweep.config import Placement
from designspace.sweep.executor import Job, Recorder

# Before ray is imported: a Ray started here uses the loopback address as its node address
# (and so binds its servers to it), as Ray does on macOS and Windows.
_LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
_TUNE_ENV = {
    # Tune's default JSON/CSV/TensorBoard loggers write several files per trial: not needed.
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
    # Experiment state is only for Tune's own restore, which is not used.
    "TUNE_GLOBAL_CHECKPOINT_S": "600",
    # Ctrl-C stops the sweep like SIGTERM (KeyboardInterrupt, exit code 130), not Tune's
    # graceful end of the run, which returned as if the sweep had merely been cut short.
    "TUNE_DISABLE_SIGINT_HANDLER": "1",
}
_TUNE_QUIET_ENV = {"RAY_AIR_NEW_OUTPUT": "0", "TUNE_PRINT_ALL_TRIAL_ERRORS": "0"}
_QUIET_LOGGERS = ("ray", "ray.tune", "ray.train", "ray.air", "ray.data")

import ray  # noqa: E402
from ray import tune  # noqa: E402
from ray.tune.schedulers import FIFOScheduler  # noqa: E402


def run_tune(job: Job, recorder: Recorder) -> None:
    """One Tune run over the trials of ``job``; each finished model goes to ``recorder``."""
    if job.past_deadline():
        return
    r = job.resources
    specs = [{"key": t.key, "arch_json": t.arch_json} for t in job.trials]
    trainable = tune.with_resources(
        tune.with_parameters(_run_trial, settings=job.settings, trainer=job.trainer),
        {"cpu": r.cpus_per_trial, "gpu": r.gpus_per_trial},
    )
    callback = _TuneRecorder(recorder)
    # Tune's experiment storage serves only its own restore, which is not used: a temporary.
    storage = tempfile.mkdtemp(prefix="designspace-tune-")
    verbose = job.placement.verbose
    try:
        with _environment(_quiet_env(verbose)), _quiet_logging(verbose):
            tuner = tune.Tuner(
                trainable,
                param_space={"model": tune.grid_search(specs)},
                tune_config=tune.TuneConfig(
                    reuse_actors=True,
                    max_concurrent_trials=job.placement.max_concurrent,
                    scheduler=_DeadlineScheduler(job),
                    trial_name_creator=lambda t: t.config["model"]["key"],
                    trial_dirname_creator=lambda t: t.trial_id,
                ),
                run_config=tune.RunConfig(
                    name="sweep",
                    storage_path=storage,
                    verbose=2 if verbose else 0,
                    callbacks=[callback],
                    stop=_DeadlineStopper(job, callback),
                    failure_config=tune.FailureConfig(max_failures=job.max_failures),
                    checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                    log_to_file=False,
                ),
            )
            tuner.fit()
    finally:
        shutil.rmtree(storage, ignore_errors=True)


def _run_trial(trial: dict[str, Any], settings: dict[str, Any], trainer: Any) -> None:
    """Ray Tune function trainable: train one model and report its metrics once."""
    from designspace.sweep.trial import hostname, run_trial

    spec = trial["model"]
    metrics = run_trial(spec["arch_json"], settings, trainer)
    err = metrics.get("val_top1_err")
    tune.report({
        "ds_metrics": json.dumps(metrics),
        "ds_host": hostname(),
        "val_top1_err": float(err) if isinstance(err, (int, float)) else float("nan"),
    })  # fmt: skip


class _DeadlineScheduler(FIFOScheduler):
    """FIFO, but starts no trial once the job's deadline has passed."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    def choose_trial_to_run(self, tune_controller: Any) -> Any:  # noqa: D102
        if self.job.past_deadline():
            return None
        return super().choose_trial_to_run(tune_controller)


class _DeadlineStopper(tune.Stopper):
    """Ends the run after the deadline once no trial is running (pending ones stay unrun)."""

    def __init__(self, job: Job, callback: _TuneRecorder) -> None:
        self.job = job
        self.callback = callback

    def __call__(self, trial_id: str, result: dict) -> bool:  # noqa: D102
        return False

    def stop_all(self) -> bool:  # noqa: D102
        return self.job.past_deadline() and self.callback.running_now == 0


# --------------------------------------------------------------------------- recording
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Tune appends each failure of a trial to its error file; the last one is at the end.
_ERROR_TAIL = 1 << 20
_PAYLOAD_LIMIT = 16 << 20  # a trial's metrics: a few KiB of JSON


def _error_text(trial: Any) -> str:
    """The last error of a Tune trial in one line: the exception line of its traceback, or
    the last line of Ray's message (e.g. why an actor died)."""
    text = ""
    path = getattr(trial, "error_file", None)
    if path and os.path.exists(path):
        with contextlib.suppress(DesignSpaceError):  # unreadable: "no error message" below
            tail = reading.read_tail(path, "trial error file", _ERROR_TAIL)
            text = _ANSI.sub("", tail.decode("utf-8", errors="replace"))
    block = text.rsplit("Failure # ", 1)[-1].split("\n", 1)[-1] if text else ""
    lines = [ln.rstrip() for ln in block.splitlines() if ln.strip()]
    top = [ln for ln in lines if not ln[0].isspace()]
    if not top:
        return "the trial failed (no error message was recorded)"
    return top[-1][:2000]


def _metrics(payload: Any, key: str) -> dict[str, Any]:
    """The metrics a trial reported (JSON text written by :func:`_run_trial`), parsed with
    :func:`designspace.core.reading.parse_json` (bounded nesting and size; NaN allowed: a
    diverged run's losses); a payload that is not such an object is a failed trial."""
    try:
        if not isinstance(payload, str) or len(payload) > _PAYLOAD_LIMIT:
            raise DesignSpaceError("not JSON text of at most 16 MiB")
        metrics = reading.parse_json(payload, f"the metrics of trial {key}", allow_nan=True)
        if not isinstance(metrics, dict):
            raise DesignSpaceError("not a JSON object")
    except DesignSpaceError as exc:
        return {"status": "failed", "error": f"the trial reported unreadable metrics: {exc}"}
    return metrics


class _TuneRecorder(tune.Callback):
    """Passes Tune's trial events to the sweep's :class:`Recorder`."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.running_now = 0
        self._last = 0.0

    def on_trial_result(self, iteration, trials, trial, result, **info):  # noqa: D102
        payload = result.get("ds_metrics")
        if payload is not None:
            key = trial.config["model"]["key"]
            self.recorder.record(key, _metrics(payload, key), result.get("ds_host"),
                                 trial.num_failures + 1)  # fmt: skip

    def on_trial_error(self, iteration, trials, trial, **info):  # noqa: D102
        metrics = {"status": "failed", "error": _error_text(trial)}
        self.recorder.record(trial.config["model"]["key"], metrics, None,
                             max(1, trial.num_failures))  # fmt: skip

    def on_trial_complete(self, iteration, trials, trial, **info):  # noqa: D102
        self.running_now = sum(1 for t in trials if t.status == "RUNNING" and t is not trial)
        self.recorder.running(self.running_now)

    def on_trial_recover(self, iteration, trials, trial, **info):  # noqa: D102
        self.recorder.retry()

    def on_step_end(self, iteration, trials, **info):  # noqa: D102
        self.running_now = sum(1 for t in trials if t.status == "RUNNING")
        now = time.monotonic()
        if now - self._last >= 0.5:
            self._last = now
            self.recorder.running(self.running_now)


# --------------------------------------------------------------------------- Ray
def _quiet_env(verbose: bool) -> dict[str, str]:
    env = dict(_TUNE_ENV)
    if not verbose:
        env.update(_TUNE_QUIET_ENV)
    return env


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _quiet_logging(verbose: bool) -> Iterator[None]:
    if verbose:
        yield
        return
    saved = {}
    for name in _QUIET_LOGGERS:
        lg = logging.getLogger(name)
        saved[name] = lg.level
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def default_object_store_memory() -> int:
    """Object store size (bytes) for a local Ray: 5% of memory, clamped to 256 MiB..2 GiB.

    A sweep passes only architectures and settings through the object store.
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return int(min(2 * 2**30, max(256 * 2**20, total // 20)))


def _start_watchdog() -> subprocess.Popen | None:
    """A watchdog that ends this driver's Ray processes if the driver dies (see
    :mod:`designspace.sweep.watchdog`); None where it cannot run."""
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "designspace.sweep.watchdog", str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    except OSError:
        return None


@contextlib.contextmanager
def _keep_stop_handlers() -> Iterator[None]:
    """Keep the SIGINT and SIGTERM handlers that the caller chose (the command line's, which
    stop a sweep cleanly with exit code 130 or 143) across ``ray.init``, which installs its
    own SIGTERM handler (an exit with code 15; one that fires during ``ray.init`` is handed to
    the caller's handler). A default handler is left to Ray's."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except SystemExit as exc:  # SIGTERM reached Ray's handler while ray.init ran
        chosen = saved[signal.SIGTERM]
        if exc.code == signal.SIGTERM and callable(chosen):
            chosen(signal.SIGTERM, None)  # the caller's reaction (the command line's: raise)
        raise
    finally:
        for s, handler in saved.items():
            if callable(handler) and handler is not signal.default_int_handler:
                signal.signal(s, handler)


def _start_local_ray(placement: Placement, level: int) -> None:
    """``ray.init`` of a local, loopback-only Ray."""
    from ray._private import ray_constants

    saved = ray_constants.ENABLE_RAY_CLUSTER, ray_constants.RAY_DISABLE_FAILURE_SIGNAL_HANDLER
    ray_constants.ENABLE_RAY_CLUSTER = False  # node address 127.0.0.1 (this process)
    # The driver's core worker would install Ray's C++ failure-signal handler (absl), which
    # catches SIGTERM before Python does, prints a stack and aborts (exit -6) instead of the
    # clean stop with exit 143. Ray's own processes keep theirs (read from their environment).
    ray_constants.RAY_DISABLE_FAILURE_SIGNAL_HANDLER = True
    try:
        with _environment(_LOOPBACK_ENV), _keep_stop_handlers():  # ... and in Ray's processes
            ray.init(
                # "local": always a new Ray of our own; None would join a Ray that RAY_ADDRESS
                # or an earlier `ray start` names, which --address alone may choose
                address="local",
                include_dashboard=False,
                object_store_memory=(
                    placement.options.object_store_memory or default_object_store_memory()
                ),
                log_to_driver=placement.verbose,
                logging_level=level,
            )
    finally:
        ray_constants.ENABLE_RAY_CLUSTER, ray_constants.RAY_DISABLE_FAILURE_SIGNAL_HANDLER = saved


@contextlib.contextmanager
def ray_connection(placement: Placement) -> Iterator[dict[str, float]]:
    """Connect to Ray for the duration of the block; yields the cluster's total resources.

    Uses the Ray already initialized in this process if there is one (a notebook, a test
    session), else joins ``placement.options.address``, else starts a local Ray (loopback only,
    dashboard off, quiet logs, a watchdog that ends it if this process dies); only a Ray
    started here is shut down afterwards.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = False
    watchdog = None
    level = logging.INFO if placement.verbose else logging.ERROR
    address = placement.options.address
    if ray.is_initialized():
        if address is not None:
            raise DesignSpaceError(
                "Ray is already initialized in this process; call ray.shutdown() first or "
                "leave the address unset to use it"
            )
    elif address is not None:  # reachable: checked by the executor's probe
        try:
            with _keep_stop_handlers():
                ray.init(address=address, log_to_driver=placement.verbose, logging_level=level)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DesignSpaceError(f"cannot join the Ray cluster at {address}: {first}") from None
        started = True
    else:
        watchdog = _start_watchdog()
        try:
            _start_local_ray(placement, level)
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM while Ray starts: the driver is ending; its watchdog stays to
            # end the Ray processes already started (ray.shutdown() of a half-done ray.init
            # can crash the process).
            raise
        except BaseException:
            _stop(watchdog)
            raise
        started = True
    try:
        yield _node_resources()
    finally:
        if started:
            ray.shutdown()
        _stop(watchdog)


def _stop(watchdog: subprocess.Popen | None) -> None:
    if watchdog is not None:
        watchdog.kill()
        watchdog.wait()


def _node_resources() -> dict[str, float]:
    """Totals and the largest single node's CPUs and GPUs (a trial cannot span nodes)."""
    total = ray.cluster_resources()
    biggest_cpu = biggest_gpu = 0.0
    for node in ray.nodes():
        if node.get("Alive"):
            r = node.get("Resources", {})
            biggest_cpu = max(biggest_cpu, r.get("CPU", 0.0))
            biggest_gpu = max(biggest_gpu, r.get("GPU", 0.0))
    return {
        "CPU": total.get("CPU", 0.0),
        "GPU": total.get("GPU", 0.0),
        "node_CPU": biggest_cpu,
        "node_GPU": biggest_gpu,
    }
