"""The slurm executor: one SLURM job per trial, submitted through submitit.

* The driver (on a login node) submits one job per trial, at most as many at once as the
  placement allows (``--slurm-max-jobs`` and ``--max-concurrent``), polls them, and hands each
  finished result to the sweep's :class:`~designspace.sweep.executor.Recorder`, which writes
  the model's parquet file: resume, the writer lock and progress are those of every executor.
* A job travels as a pickle (the trial function, its architecture, the training settings,
  the trainer) through the jobs folder, which must lie on a file system the compute nodes
  share; its result comes back the same way. Whoever can write into that folder can have
  code run as you, so the folder is created with mode 0700 and an existing one that others
  (group or world) may write to, or that belongs to someone else, is refused.
* A trial that raises, or whose job ends without a result (killed, out of time or memory, a
  node failure), is retried ``max_failures`` times in a new job, then recorded as ``failed``
  with the reason. No job is submitted after the deadline. Ctrl-C or SIGTERM cancels the
  jobs still queued or running (``scancel``); after a SIGKILL of the driver they run on, and
  their models are trained again when the sweep resumes.
* ``--slurm-cluster local`` runs the same pickled jobs as subprocesses of this machine
  (submitit's local executor; no SLURM needed): what the tests use. Such jobs end with the
  driver, also after a SIGKILL.

Options: :class:`SlurmOptions` (flags ``--slurm-*``, study-file keys ``slurm_*``). Placement:
each job asks for ``cpus_per_trial`` CPUs and ``gpus_per_trial`` GPUs, whole numbers (SLURM
allocates no fractions); GPUs only when asked for. Importing this module imports neither
submitit nor torch.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shlex
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from designspace.errors import DesignSpaceError
from designspace.sweep.config import Placement
from designspace.sweep.executor import BaseExecutor, Job, Recorder, TrialSpec
from designspace.sweep.options import ExecutorOptions, option
from designspace.sweep.resources import local_resources

DEFAULT_FOLDER = "slurm-jobs"  # under the sweep's folder
# sbatch parameters submitit sets itself (log paths, the timeout signal, arrays).
_RESERVED = ("output", "error", "open-mode", "signal", "array", "wrap")
# How long a job that SLURM reports done may take to show its result file (a shared file
# system's attribute cache), before it counts as ended without a result.
_RESULT_GRACE_S = 30.0


@dataclass(frozen=True)
class SlurmOptions(ExecutorOptions):
    """Options of the slurm executor (flags ``--slurm-*``, study-file keys ``slurm_*``)."""

    PREFIX = "slurm"

    folder: str | None = option(
        None,
        "folder of the jobs' pickles and logs, on a file system the compute nodes share; "
        f"created with mode 0700 (default: OUT/{DEFAULT_FOLDER})",
        metavar="DIR",
    )
    partition: str | None = option(
        None, "partition of the jobs (default: the cluster's)", metavar="NAME"
    )
    time: int = option(60, "time limit of each trial's job, in minutes (default 60)",
                       metavar="MIN", low=1)  # fmt: skip
    mem_gb: float | None = option(
        None, "memory of each trial's job, in GB (default: the partition's)", metavar="GB",
        low=0.001,
    )  # fmt: skip
    account: str | None = option(None, "account to charge (default: yours)", metavar="NAME")
    qos: str | None = option(None, "quality of service of the jobs", metavar="NAME")
    max_jobs: int = option(16, "jobs queued or running at once (default 16)", metavar="N", low=1)
    sbatch: str | None = option(
        None,
        "more sbatch parameters, e.g. 'constraint=a100 exclude=node7' (KEY=VALUE pairs)",
        metavar="'KEY=VALUE ...'",
    )
    cluster: str = option(
        "slurm",
        "slurm (submit with sbatch) or local (run the same pickled jobs as subprocesses of "
        "this machine, to try a study without a cluster) (default slurm)",
        choices=("slurm", "local"),
    )

    def check(self) -> None:
        """``sbatch`` is KEY=VALUE pairs that do not set what submitit sets itself."""
        self.sbatch_parameters()

    def sbatch_parameters(self) -> dict[str, str]:
        """``--slurm-sbatch`` as a dict (sbatch long option name -> value)."""
        out: dict[str, str] = {}
        try:
            words = shlex.split(self.sbatch or "")
        except ValueError as exc:
            raise DesignSpaceError(f"--slurm-sbatch: {exc}; quote it as one string") from None
        for word in words:
            key, sep, value = word.partition("=")
            key = key.lstrip("-")
            if not sep or not key or not value or not key.replace("-", "").isalnum():
                raise DesignSpaceError(
                    f"--slurm-sbatch takes KEY=VALUE pairs (sbatch's long options), got {word!r}"
                )
            if key.replace("_", "-") in _RESERVED:
                raise DesignSpaceError(
                    f"--slurm-sbatch cannot set {key} (the executor sets it); drop it"
                )
            out[key.replace("_", "-")] = value
        return out


class SlurmExecutor(BaseExecutor):
    """One SLURM job per trial through submitit; see the module docstring."""

    name = "slurm"
    Options = SlurmOptions
    summary = "one SLURM job per trial through submitit; see --slurm-*"

    @classmethod
    def unavailable(cls, placement: Placement) -> str | None:
        """submitit not installed; fractional CPUs or GPUs; no sbatch/srun on PATH for a real
        cluster; a jobs folder others can write to."""
        options = placement.options
        if importlib.util.find_spec("submitit") is None:
            return (
                "the slurm executor needs submitit, which is not installed; "
                "pip install 'submitit>=1.5'"
            )
        c, g = placement.cpus_per_trial, placement.gpus_per_trial
        if not float(c).is_integer():
            return (
                f"SLURM allocates whole CPUs; --cpus-per-trial {c:g} is a fraction, use "
                f"{max(1, round(c))}"
            )
        if g is not None and not float(g).is_integer():
            return f"SLURM allocates whole GPUs; --gpus-per-trial {g:g} is a fraction, use 1"
        if options.cluster == "slurm":
            missing = [p for p in ("sbatch", "srun") if shutil.which(p) is None]
            if missing:
                return (
                    f"no {' or '.join(missing)} on PATH: run the sweep where SLURM's commands "
                    f"are (a login node), or use --slurm-cluster local to run the jobs here"
                )
        if options.folder is not None:
            return folder_problem(Path(options.folder))
        return None

    @classmethod
    def planned_resources(cls, placement: Placement) -> Mapping[str, float]:
        """What the jobs may use. A cluster: ``max_jobs`` jobs of ``cpus_per_trial`` CPUs and
        ``gpus_per_trial`` GPUs (the queue finds the nodes). Local jobs: this machine's CPUs
        (and GPUs, when asked for), at most ``max_jobs`` jobs' worth."""
        options = placement.options
        c = float(placement.cpus_per_trial)
        g = float(placement.gpus_per_trial or 0)
        n = options.max_jobs
        if options.cluster == "slurm":
            return {"CPU": c * n, "GPU": g * n, "node_CPU": c, "node_GPU": g}
        here = dict(local_resources())
        here["CPU"] = min(here["CPU"], c * n)
        if g == 0:  # like a cluster: a job gets a GPU only when it asks for one
            here["GPU"] = here["node_GPU"] = 0.0
        return here

    @contextlib.contextmanager
    def connect(self, placement: Placement) -> Iterator[Mapping[str, float]]:
        """Nothing to start (jobs are submitted in :meth:`run`); yields
        :meth:`planned_resources`."""
        yield self.planned_resources(placement)

    def run(self, job: Job, recorder: Recorder) -> None:
        """Submit every trial of ``job`` as a job, poll, record, retry; cancel what is left
        on an exception, Ctrl-C or SIGTERM."""
        if job.past_deadline() or not job.trials:
            return
        options: SlurmOptions = job.placement.options
        batch = Path(tempfile.mkdtemp(prefix="jobs-", dir=jobs_folder(options, job.run_dir)))
        submitter = _submitter(options, job, batch)
        parent = os.getpid() if options.cluster == "local" else None
        poll_s = 0.25 if options.cluster == "local" else 2.0
        pending: deque[tuple[TrialSpec, int]] = deque((spec, 1) for spec in job.trials)
        running: dict[Any, _Running] = {}
        with _sigterm_raises():
            try:
                while True:
                    while (
                        pending
                        and len(running) < job.resources.concurrency
                        and not job.past_deadline()
                    ):
                        spec, attempt = pending.popleft()
                        running[_submit(submitter, spec, job, parent)] = _Running(spec, attempt)
                    recorder.running(len(running))
                    if not running:
                        break
                    time.sleep(poll_s)
                    for sjob, state in list(running.items()):
                        outcome = _outcome(sjob, state)
                        if outcome is None:
                            continue
                        del running[sjob]
                        kind, payload, host = outcome
                        _forget(sjob, keep_logs=kind != "ok")
                        if kind == "ok":
                            recorder.record(state.spec.key, payload, host, state.attempt)
                        elif state.attempt <= job.max_failures:
                            recorder.retry()
                            pending.append((state.spec, state.attempt + 1))
                        else:
                            recorder.record(state.spec.key, {"status": "failed", "error": payload},
                                            host, state.attempt)  # fmt: skip
            finally:
                for sjob in running:
                    with contextlib.suppress(Exception):
                        sjob.cancel(check=False)
                with contextlib.suppress(OSError):
                    batch.rmdir()  # only when empty: logs of failed jobs stay


# --------------------------------------------------------------------------- the jobs folder
def folder_problem(folder: Path) -> str | None:
    """None when ``folder`` is missing (it will be created 0700) or is a folder of this user
    that nobody else may write to, else the one-line reason it cannot hold jobs."""
    try:
        st = folder.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot use the jobs folder {folder}: {exc.strerror}"
    if not stat.S_ISDIR(st.st_mode):
        return f"the jobs folder {folder} is not a folder; choose another --slurm-folder"
    if st.st_uid != os.getuid():
        return (
            f"the jobs folder {folder} belongs to another user, who could change the pickled "
            f"jobs it holds (they are executed); choose a folder of your own with --slurm-folder"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"the jobs folder {folder} can be written by others (mode "
            f"{stat.S_IMODE(st.st_mode):o}) and the pickled jobs in it are executed; run "
            f"'chmod 700 {folder}' or choose another --slurm-folder"
        )
    return None


def jobs_folder(options: SlurmOptions, run_dir: Path | None) -> Path:
    """The jobs folder (``--slurm-folder``, else ``RUN_DIR/slurm-jobs``) as an absolute path,
    created with mode 0700; DesignSpaceError when it cannot be used (see
    :func:`folder_problem`)."""
    if options.folder is not None:
        folder = Path(options.folder).expanduser()
    elif run_dir is not None:
        folder = Path(run_dir) / DEFAULT_FOLDER
    else:
        raise DesignSpaceError("the slurm executor needs a jobs folder; give --slurm-folder DIR")
    folder = folder.absolute()
    problem = folder_problem(folder)
    if problem:
        raise DesignSpaceError(problem)
    if not folder.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # whatever the umask
        problem = folder_problem(folder)  # e.g. created by someone else in between
        if problem:
            raise DesignSpaceError(problem)
    return folder


# --------------------------------------------------------------------------- jobs
@dataclass
class _Running:
    """A submitted job's trial, its attempt (1 = first) and when it was first seen done
    without a result (None: not yet)."""

    spec: TrialSpec
    attempt: int
    ended_at: float | None = None


def _submitter(options: SlurmOptions, job: Job, folder: Path) -> Any:
    """A submitit executor for ``job``'s trials writing into ``folder``."""
    import submitit

    cpus = int(job.resources.cpus_per_trial)
    gpus = int(job.resources.gpus_per_trial)
    if options.cluster == "local":
        ex = submitit.LocalExecutor(folder=folder)
        ex.update_parameters(timeout_min=options.time, gpus_per_node=gpus)
        return ex
    ex = submitit.SlurmExecutor(folder=folder)
    params: dict[str, Any] = {
        "job_name": "designspace",
        "time": options.time,
        "nodes": 1,
        "ntasks_per_node": 1,
        "cpus_per_task": cpus,
        "partition": options.partition,
        "account": options.account,
        "qos": options.qos,
        "mem": None if options.mem_gb is None else f"{max(1, round(options.mem_gb * 1024))}M",
        "gpus_per_node": gpus or None,
        "additional_parameters": options.sbatch_parameters() or None,
    }
    ex.update_parameters(**{k: v for k, v in params.items() if v is not None})
    return ex


def _submit(submitter: Any, spec: TrialSpec, job: Job, parent: int | None) -> Any:
    """Submit one trial; DesignSpaceError (one line) when SLURM refuses the job."""
    from submitit.core.utils import FailedSubmissionError

    try:
        return submitter.submit(_run_job, spec.arch_json, job.settings, job.trainer, parent)
    except FailedSubmissionError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        raise DesignSpaceError(
            f"sbatch refused the job: {lines[-1] if lines else type(exc).__name__}; check the "
            f"--slurm-* options"
        ) from None


def _outcome(sjob: Any, state: _Running) -> tuple[str, Any, str | None] | None:
    """``("ok", metrics, host)`` or ``("error", one line, host)`` once the job has ended,
    None while it runs (or while its result may still be on its way)."""
    from submitit.core.utils import pickle_load

    if not sjob.done():
        return None
    path = sjob.paths.result_pickle
    if path.exists():
        try:
            kind, value = pickle_load(path)
        except Exception as exc:  # noqa: BLE001 - a torn or foreign file: the trial runs again
            return "error", f"unreadable job result ({type(exc).__name__})", None
        if kind == "success":
            return value
        lines = [ln for ln in str(value).splitlines() if ln.strip() and not ln[0].isspace()]
        return "error", (lines[-1] if lines else "the job failed")[:2000], None
    local = type(sjob).__name__ == "LocalJob"
    now = time.monotonic()
    if state.ended_at is None and not local:
        state.ended_at = now
    if local or now - state.ended_at >= _RESULT_GRACE_S:
        return (
            "error",
            f"the job ended without a result (job {sjob.job_id}, state {sjob.state}; log "
            f"{sjob.paths.stderr})",
            None,
        )
    return None


def _forget(sjob: Any, keep_logs: bool) -> None:
    """Delete a finished job's files (its pickles; its logs too unless ``keep_logs``)."""
    for path in sjob.paths.folder.glob(f"{sjob.job_id}_*"):
        if keep_logs and "_log." in path.name:
            continue
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM raises SystemExit(143) in the driver for the duration of the block, so that
    its jobs are cancelled (only in the main thread, where signals are delivered)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


# --------------------------------------------------------------------------- in the job
def _run_job(
    arch_json: str, settings: dict[str, Any], trainer: Any, parent: int | None
) -> tuple[str, Any, str]:
    """The job: train one model. ``("ok", metrics, host)``, or ``("error", one line, host)``
    for an exception (the driver retries it). ``parent``: a local driver's pid, which the job
    does not outlive."""
    if parent is not None:
        _end_with(parent)
    threads = str(settings.get("threads") or 1)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads  # before torch is imported
    from designspace.sweep.trial import hostname, run_trial

    host = hostname()
    try:
        return "ok", run_trial(arch_json, settings, trainer), host
    except Exception as exc:  # noqa: BLE001 - reported to the driver, which retries
        return "error", f"{type(exc).__name__}: {exc}".splitlines()[0][:2000], host


def _end_with(parent: int) -> None:
    """End this process (``os._exit``) within a second of process ``parent`` ending."""

    def watch() -> None:
        while _alive(parent):
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="driver-watch").start()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or the pid was reused
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc: os.kill's answer
