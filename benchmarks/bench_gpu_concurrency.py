"""Many trials per GPU: models per hour of one-epoch trials, one at a time vs K at once.

The workload is a sweep's: one-epoch trials in the Fashion-MNIST regime (28 px, a 10,000-image
class-balanced training subset, 5,000 validation images, batch 128, the trainer's defaults:
bf16 autocast, channels_last, CUDA-graph steps), on models sampled from the six progression
spaces (AnyNetXA..XE, RegNetX) in the regimes ``fashion-mnist`` and ``fashion-mnist-small``,
interleaved so that every prefix of the model list is a balanced mix.

A *setting* with K workers starts K processes on the one card (forked from a fork server that
has imported torch but never touched CUDA; each worker has its own CUDA context, loads the data
once, and uses torch intra-op threads = cores // K). Every worker signals ready, all start
together, and each takes trials from one shared queue and runs them back to back until the
queue is empty, so every model of the setting is trained exactly once. K = 1 is the baseline,
one trial at a time. Reported per setting: models per hour in steady state (trials done /
seconds from the common start to the last trial's end; worker start-up is reported separately
and also folded into an end-to-end rate), the ratio to K = 1 (target: >= 8x for one setting),
GPU utilization and memory in use (``nvidia-smi`` sampled every 250 ms in the background; the
utilization is the fraction of time any kernel ran, not of the SMs in use), peak memory per
trial (``torch.cuda.max_memory_allocated``, reset by the trainer at each trial), how many
trials really overlapped, and whether any CUDA-graph capture fell back to eager steps.
The recommended GPU share per trial is 1/K of the setting with the fewest concurrent trials
whose throughput is within 10% of the best one (the reasoning is written next to it).

Without MPS the card time-slices between processes (their kernels never run at the same
time), which caps what K processes can gain; the plan therefore also has "mps" settings: the
same K workers under a private CUDA MPS daemon (its own pipe folder in /tmp, logs under
``--out``, stopped at the end; the card's own settings are not touched), where the workers'
kernels do run concurrently. Several CUDA-graph trials on separate streams inside one process
are not tried: the trainer captures with CUDA's global capture mode on a capture stream shared
by all threads and synchronizes the whole device, so concurrent trials in one process would
break each other's captures.

Settings run in the plan's order (default ``1,16,mps16,4,mps32,8,mps8,2,32``: the baseline,
then plain vs MPS at K = 16, then the rest of the curve), each skipped when its estimated time
(slowest start-up so far + its models at the best rate so far) no longer fits the time budget
(``--budget``, seconds); a setting still running at the budget's end is cut (its completed
trials are kept, marked "cut"). The JSON (``gpu_concurrency.json``) and the log
(``gpu_concurrency.log``) go to ``--out`` (default ``$OUT``, else /tmp/gpu-concurrency); the
JSON is rewritten after every setting, so nothing measured is lost when the run is stopped.

Without CUDA (or with ``--cpu-smoke``) it runs a tiny CPU version (3 optimizer steps per trial
on 256 images, K = 1 and 2) through the same code paths and says that it measured nothing on a
GPU. Timestamps are ``time.monotonic()`` seconds (one clock for all processes on Linux).
Neither this script nor what it imports from designspace imports Ray (checked at the end, in
every worker too). Last line on a GPU:
``RESULT name=gpu_models_per_hour value=<best> baseline=<K=1> ratio=<r> target=8 ...``.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

# Importable without `pip install` (the device machine runs this from a copy of the tree).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SPACES = ("AnyNetXA", "AnyNetXB", "AnyNetXC", "AnyNetXD", "AnyNetXE", "RegNetX")
REGIMES = ("fashion-mnist", "fashion-mnist-small")
TARGET_RATIO = 8.0
WITHIN = 0.10  # a setting within this fraction of the best throughput counts as "as good"
JSON_NAME, LOG_NAME = "gpu_concurrency.json", "gpu_concurrency.log"


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures.

    ``plan``: the settings, tried in this order: "K" = K worker processes, "mpsK" = K worker
    processes under a private MPS daemon (:class:`MpsDaemon`); "1" (the baseline, one trial
    at a time) should come first. ``models``: trials of the smallest settings; a setting with
    K workers trains ``max(models, models_per_worker * K)`` models (a prefix of one list).
    ``budget_s``: wall seconds for all settings together. ``train``: the flat TrainConfig
    fields of every trial (``TrainConfig.from_dict``). ``data``: "fashion-mnist", "synthetic"
    (random images of the same shape: throughput only, accuracies meaningless) or "auto"
    (Fashion-MNIST when its files load, else synthetic). ``smoke``: a CPU check that measures
    nothing.
    """

    plan: tuple[str, ...] = ("1", "16", "mps16", "4", "mps32", "8", "mps8", "2", "32")
    models: int = 24
    models_per_worker: int = 4
    budget_s: float = 270.0
    seed: int = 0
    data: str = "auto"
    smoke: bool = False
    ready_timeout_s: float = 90.0
    train: dict[str, Any] = field(
        default_factory=lambda: {
            "dataset": "fashion-mnist",
            "subset": 10000,
            "val_subset": 5000,
            "epochs": 1.0,
            "batch_size": 128,
            "device": "cuda",
        }
    )

    def n_models(self, k: int) -> int:
        """Number of trials of the setting with ``k`` workers."""
        return max(self.models, self.models_per_worker * k)

    def settings(self) -> list[tuple[str, int]]:
        """The plan as (mode, K): mode "processes" or "mps"; bad entries raise ValueError."""
        out = []
        for item in self.plan:
            mode = "mps" if item.startswith("mps") else "processes"
            k = int(item.removeprefix("mps"))
            if k < 1:
                raise ValueError(f"K must be >= 1 in {item!r}")
            out.append((mode, k))
        return out


def smoke_config(budget_s: float = 120.0) -> BenchConfig:
    """The CPU smoke version: same code paths, a few optimizer steps, measures nothing."""
    return BenchConfig(
        plan=("1", "2"),
        models=4,
        models_per_worker=2,
        budget_s=budget_s,
        smoke=True,
        ready_timeout_s=180.0,
        train={
            "dataset": "fashion-mnist",
            "subset": 256,
            "val_subset": 128,
            "epochs": 1.0,
            "max_steps": 3,
            "batch_size": 32,
            "device": "cpu",
        },
    )


class Log:
    """Lines to stdout and to a log file (flushed at once)."""

    def __init__(self, path: Path) -> None:
        self.file: TextIO = path.open("a")

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.file.write(text + "\n")
        self.file.flush()

    def close(self) -> None:
        """Close the log file."""
        self.file.close()


# --------------------------------------------------------------------------- models
def model_pool(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` models, round-robin over (regime, space) so that every prefix is a balanced mix.

    Each entry: ``id`` (0..n-1, the position), ``space``, ``regime``, ``arch`` (JSON text of
    the sampled :class:`~designspace.core.arch.Architecture`), ``mflops`` (millions of
    multiply-adds at 28 px). Sampling is deterministic in ``seed`` and prefix-stable in ``n``.
    """
    from designspace.core.complexity import complexity
    from designspace.core.regimes import get_regime
    from designspace.core.sampling import sample

    combos = [(regime, space) for regime in REGIMES for space in SPACES]
    per = math.ceil(n / len(combos))
    drawn = {c: sample(c[1], per, seed=seed, regime=c[0]).archs for c in combos}
    pool = []
    for i in range(n):
        regime, space = combos[i % len(combos)]
        arch = drawn[(regime, space)][i // len(combos)]
        res = get_regime(regime).resolution
        pool.append(
            {
                "id": i,
                "space": space,
                "regime": regime,
                "arch": arch.to_json(),
                "mflops": round(complexity(arch, res).flops / 1e6, 3),
            }
        )
    return pool


def synthetic_data(train_cfg: Any, device: str) -> Any:
    """Random uint8 28 x 28 grey images and labels of the config's subset sizes (seeded).

    Throughput does not depend on pixel values; accuracies on these data mean nothing.
    """
    import torch

    from designspace.training.data import InMemoryData

    gen = torch.Generator().manual_seed(0)
    n_train, n_val = train_cfg.subset or 10000, train_cfg.val_subset or 5000

    def images(n: int) -> torch.Tensor:
        return torch.randint(0, 256, (n, 1, 28, 28), generator=gen, dtype=torch.uint8)

    def labels(n: int) -> torch.Tensor:
        return torch.randint(0, 10, (n,), generator=gen)

    return InMemoryData(
        name="fashion-mnist",
        train_x=images(n_train).to(device),
        train_y=labels(n_train).to(device),
        val_x=images(n_val).to(device),
        val_y=labels(n_val).to(device),
        num_classes=10,
        classes=tuple(str(i) for i in range(10)),
        mean=(0.5,),
        std=(0.29,),
    )


def resolve_data_source(choice: str, train: dict[str, Any]) -> tuple[str, str]:
    """("fashion-mnist" | "synthetic", note): ``auto`` tries to load Fashion-MNIST here."""
    if choice != "auto":
        return choice, f"data {choice} (asked for)"
    from designspace.errors import DesignSpaceError
    from designspace.training.data import load_fashion_mnist

    try:
        load_fashion_mnist(train.get("data_root"))
    except DesignSpaceError as exc:
        return "synthetic", (
            f"Fashion-MNIST not found ({str(exc).splitlines()[0]}): SYNTHETIC images of the "
            "same shape; throughput is valid, accuracies are meaningless"
        )
    return "fashion-mnist", "Fashion-MNIST files"


# --------------------------------------------------------------------------- worker
def warm_up_libraries(device: str) -> None:
    """Create the process's cuDNN and cuBLAS handles (one tiny bf16 conv + linear step), so that
    their one-time cost counts as worker start-up, not as the first trial's time."""
    import torch
    import torch.nn.functional as F

    x = torch.randn(2, 4, 8, 8, device=device).to(memory_format=torch.channels_last)
    w = torch.randn(4, 4, 3, 3, device=device, requires_grad=True)
    lin = torch.randn(4, 4, device=device, requires_grad=True)
    with torch.autocast("cuda", dtype=torch.bfloat16):
        y = F.conv2d(x, w, padding=1).mean((2, 3)) @ lin
    y.float().sum().backward()
    torch.cuda.synchronize(device)


def worker_main(
    wid: int,
    k: int,
    train: dict[str, Any],
    data_source: str,
    tasks: Any,
    results: Any,
    go: Any,
    go_timeout_s: float,
    env: dict[str, str],
) -> None:
    """One worker process: load the data once, wait for ``go``, run trials until the queue ends.

    ``env`` is set before CUDA starts (the MPS pipe directory of an "mps" setting).

    Messages on ``results`` (tuples): ("ready", wid, info), ("trial", wid, record) per trial,
    ("done", wid, info) at the end. A trial that raises is recorded with status "error".
    """
    spawned = time.monotonic()
    os.environ.update(env)
    import torch

    from designspace.core.arch import Architecture
    from designspace.training.data import load_data
    from designspace.training.train import TrainConfig
    from designspace.training.train import train as train_one

    config = TrainConfig.from_dict(train)
    cuda = config.device.startswith("cuda")
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // k) if cuda else 1)
    info: dict[str, Any] = {"pid": os.getpid(), "threads": torch.get_num_threads()}
    if cuda:
        torch.ones(1, device=config.device).sum().item()  # the CUDA context, before the clock
        props = torch.cuda.get_device_properties(config.device)
        info.update(
            device=props.name,
            memory_total_mb=props.total_memory / 2**20,
            cuda=torch.version.cuda,
            cudnn=torch.backends.cudnn.version(),
        )
    if data_source == "synthetic":
        data = synthetic_data(config, config.device)
    else:
        data = load_data(config, device=config.device)
    if cuda:
        warm_up_libraries(config.device)
    import designspace

    info.update(
        torch=torch.__version__,
        designspace=str(Path(designspace.__file__).parent),
        startup_s=time.monotonic() - spawned,
    )
    results.put(("ready", wid, info))
    if not go.wait(go_timeout_s):
        results.put(("done", wid, {**info, "error": "never told to start"}))
        return
    trials = 0
    while True:
        task = tasks.get()
        if task is None:
            break
        start = time.monotonic()
        record: dict[str, Any] = {"id": task["id"], "worker": wid, "start": start}
        try:
            arch = Architecture.from_json(task["arch"])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", RuntimeWarning)
                result = train_one(arch, config, data)
            record.update(
                status=result.status,
                error=result.error,
                val_top1_err=result.val_top1_err,
                train_s=result.train_time_s,
                eval_s=result.eval_time_s,
                images_per_s=result.images_per_s,
                peak_memory_mb=result.peak_memory_mb,
                graph_fallback=any("CUDA graph capture failed" in str(w.message) for w in caught),
            )
        except Exception as exc:  # one bad trial must not stop the measurement
            record.update(status="error", error=f"{type(exc).__name__}: {exc}"[:300])
        record["end"] = time.monotonic()
        trials += 1
        results.put(("trial", wid, record))
    if cuda:
        info["max_reserved_mb"] = torch.cuda.max_memory_reserved(config.device) / 2**20
    info.update(trials=trials, ray_imported="ray" in sys.modules)
    results.put(("done", wid, info))


# --------------------------------------------------------------------------- GPU sampler
def parse_smi_line(line: str) -> tuple[float | None, float, float] | None:
    """``"2026/12/01 22:05:47.123, 37, 1234"`` -> (epoch s, utilization %, memory used MiB).

    nvidia-smi's csv, noheader, nounits output of ``timestamp,utilization.gpu,memory.used``
    (the timestamp is local time; None when it does not parse). Other lines -> None.
    """
    parts = [p.strip() for p in line.split(",")]
    if len(parts) != 3:
        return None
    try:
        util, mem = float(parts[1]), float(parts[2])
    except ValueError:  # "[N/A]", a header
        return None
    try:
        stamp: float | None = datetime.strptime(parts[0], "%Y/%m/%d %H:%M:%S.%f").timestamp()
    except ValueError:
        stamp = None
    return stamp, util, mem


class GpuSampler:
    """``nvidia-smi`` every 250 ms in a background thread: (monotonic s, util %, MiB used).

    One nvidia-smi process in loop mode (not one call per sample: each call initializes NVML
    anew); a sample's time is nvidia-smi's own timestamp, so output that arrives in bursts
    through the pipe is still placed right.
    """

    def __init__(
        self, gpu: int = 0, period_ms: int = 250, command: list[str] | None = None
    ) -> None:
        """``command`` replaces nvidia-smi (lines as :func:`parse_smi_line` reads; tests)."""
        self.samples: list[tuple[float, float, float]] = []
        self.proc: subprocess.Popen | None = None
        self.note = "nvidia-smi not found: no utilization figures"
        exe = shutil.which("nvidia-smi")
        if command is None and exe is None:
            return
        cmd = command or [
            str(exe),
            f"--id={gpu}",
            "--query-gpu=timestamp,utilization.gpu,memory.used",
            "--format=csv,noheader,nounits",
            f"--loop-ms={period_ms}",
        ]
        self.offset = time.time() - time.monotonic()  # epoch s -> monotonic s
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.note = f"nvidia-smi every {period_ms} ms (utilization.gpu: time with a kernel running)"
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            parsed = parse_smi_line(line)
            if parsed is not None:
                stamp, util, mem = parsed
                at = stamp - self.offset if stamp is not None else time.monotonic()
                self.samples.append((at, util, mem))

    def window(self, t0: float, t1: float) -> dict[str, float | None]:
        """Mean and max utilization (%), max memory used (MiB) of the samples in [t0, t1]."""
        inside = [s for s in list(self.samples) if t0 <= s[0] <= t1]
        if not inside:
            return {"gpu_util_mean": None, "gpu_util_max": None, "gpu_mem_used_max_mb": None}
        utils = [s[1] for s in inside]
        return {
            "gpu_util_mean": statistics.fmean(utils),
            "gpu_util_max": max(utils),
            "gpu_mem_used_max_mb": max(s[2] for s in inside),
            "gpu_samples": len(inside),
        }

    def first_memory(self, wait_s: float = 5.0) -> float | None:
        """Memory in use (MiB) at the first sample, waiting up to ``wait_s`` for one."""
        until = time.monotonic() + wait_s
        while not self.samples and time.monotonic() < until and self.proc is not None:
            time.sleep(0.05)
        return self.samples[0][2] if self.samples else None

    def stop(self) -> None:
        """Stop nvidia-smi (our own child process)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


# --------------------------------------------------------------------------- MPS
class MpsDaemon:
    """A private CUDA MPS control daemon for the "mps" settings, stopped at the end.

    Without MPS the card time-slices between the workers' CUDA contexts (kernels of different
    processes never run at the same time); under MPS they share one context on the GPU and
    their kernels run concurrently. The daemon's pipe directory is private (a new folder in
    /tmp: socket paths must be short), so only this script's workers (given ``env``) use it;
    its logs go to ``OUT/mps-log``. No setting of the card changes. ``running`` is False (with
    the reason in ``info["note"]``) when the control program is missing or does not start.
    """

    def __init__(self, out: Path) -> None:
        self.exe = shutil.which("nvidia-cuda-mps-control")
        self.running = False
        self.env: dict[str, str] = {}
        self.info: dict[str, Any] = {"control": self.exe}
        if self.exe is None:
            self.info["note"] = "nvidia-cuda-mps-control not found"
            return
        pipe = tempfile.mkdtemp(prefix="mps-")
        self.env = {
            "CUDA_MPS_PIPE_DIRECTORY": pipe,
            "CUDA_MPS_LOG_DIRECTORY": str(out / "mps-log"),
        }
        self.info.update(self.env)
        Path(self.env["CUDA_MPS_LOG_DIRECTORY"]).mkdir(parents=True, exist_ok=True)
        done = self._control(["-d"])
        self.running = done is not None and done.returncode == 0
        self.info["note"] = (
            f"private daemon started (pipes in {pipe})"
            if self.running
            else f"daemon did not start: {getattr(done, 'stderr', '')!s:.200}"
        )

    def _control(self, args: list[str], text: str | None = None) -> Any:
        try:
            return subprocess.run(
                [str(self.exe), *args],
                input=text,
                env={**os.environ, **self.env},
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            self.info["error"] = str(exc)
            return None

    def servers(self) -> str | None:
        """The daemon's MPS server list (PIDs; empty when no client ever connected)."""
        done = self._control([], "get_server_list\n") if self.running else None
        return done.stdout.strip() if done is not None else None

    def stop(self) -> None:
        """Quit the daemon (and its server) if this object started it."""
        if self.running:
            self._control([], "quit\n")
            self.running = False
        if self.env:
            shutil.rmtree(self.env["CUDA_MPS_PIPE_DIRECTORY"], ignore_errors=True)


# --------------------------------------------------------------------------- one setting
def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """Largest number of the half-open intervals [start, end) that share one instant."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    now = best = 0
    for _, step in events:  # at equal times an end (-1) sorts before a start (+1)
        now += step
        best = max(best, now)
    return best


def worker_context() -> Any:
    """Multiprocessing context of the workers: a fork server that has torch imported.

    Workers are forked from a fresh server process (never from this one, and the server
    touches no CUDA), so each starts in well under a second instead of importing torch anew;
    the server is started once and shared by every setting.
    """
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(
        [
            "torch",
            "designspace.training.train",
            "designspace.training.data",
            "designspace.training.models",
        ]
    )
    return ctx


def _noop() -> None:
    """A process that does nothing (starts the fork server)."""


def start_fork_server() -> float:
    """Start the workers' fork server now (seconds taken), so no setting's start-up pays it."""
    t = time.monotonic()
    p = worker_context().Process(target=_noop)
    p.start()
    p.join()
    return time.monotonic() - t


def label(mode: str, k: int) -> str:
    """A setting's short name: "8" (8 processes) or "mps8" (8 processes under MPS)."""
    return f"mps{k}" if mode == "mps" else str(k)


def stop_workers(procs: list[Any], grace_s: float = 15.0) -> None:
    """Terminate our workers still running, wait up to ``grace_s`` in all, then kill."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    until = time.monotonic() + grace_s
    for p in procs:
        p.join(timeout=max(0.1, until - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join(timeout=5)


def run_setting(
    k: int,
    models: list[dict[str, Any]],
    cfg: BenchConfig,
    data_source: str,
    deadline: float,
    log: Log,
    mode: str = "processes",
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Train ``models`` with ``k`` worker processes sharing one queue; the setting's record.

    Workers still running at ``deadline`` (monotonic s) are terminated and the setting is
    marked "cut" (its finished trials are kept). Rates are models per hour.
    """
    ctx = worker_context()
    tasks, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    for m in models:
        tasks.put({"id": m["id"], "arch": m["arch"]})
    for _ in range(k):
        tasks.put(None)
    launched = time.monotonic()
    go_timeout = max(1.0, deadline - launched)
    procs = [
        ctx.Process(
            target=worker_main,
            args=(w, k, cfg.train, data_source, tasks, results, go, go_timeout, env or {}),
            daemon=True,
        )
        for w in range(k)
    ]
    ready: dict[int, dict] = {}
    done: dict[int, dict] = {}
    trials: list[dict] = []
    status, go_at = "done", None
    ready_by = min(deadline, launched + cfg.ready_timeout_s)

    def handle(msg: tuple) -> None:
        kind, wid, payload = msg
        if kind == "ready":
            ready[wid] = payload
        elif kind == "trial":
            trials.append(payload)
            if payload["status"] not in ("ok", "diverged"):
                log(f"  {name}: model {payload['id']} {payload['status']}: {payload['error']}")
        else:
            done[wid] = payload

    name = label(mode, k)
    try:
        for p in procs:
            p.start()
        while True:
            live = [w for w, p in enumerate(procs) if p.is_alive() or w in done]
            if go_at is None and ready and len(ready) == len(live):
                go_at = time.monotonic()
                go.set()
            if len(done) == k or all(not p.is_alive() for p in procs):
                while True:  # what the last workers sent before they exited
                    try:
                        handle(results.get(timeout=0.5))
                    except queue.Empty:
                        break
                break
            now = time.monotonic()
            if now > deadline or (go_at is None and now > ready_by):
                status = "cut" if go_at is not None else "failed"
                log(f"  {name}: {'budget' if go_at else 'start-up'} time ran out; stopping")
                break
            try:
                handle(results.get(timeout=0.2))
            except queue.Empty:
                pass
    finally:
        stop_workers(procs)
    finished = time.monotonic()
    crashed = [w for w, p in enumerate(procs) if w not in done and p.exitcode not in (0, None)]
    if crashed and status == "done":
        status = "failed"
    record: dict[str, Any] = {
        "mode": mode,
        "label": label(mode, k),
        "k": k,
        "share": 1.0 / k,
        "n_models": len(models),
        "status": status,
        "crashed_workers": crashed,
        "launched": launched,
        "go": go_at,
        "finished": finished,
        "workers": [ready.get(w, {}) | done.get(w, {}) for w in range(k)],
        "trials": sorted(trials, key=lambda t: t["start"]),
    }
    record.update(summarize(record))
    return record


def summarize(setting: dict[str, Any]) -> dict[str, Any]:
    """Rates, concurrency and memory figures of one setting's record (see :func:`run_setting`).

    ``models_per_hour``: trials that ran to the end (status ok or diverged) / (last trial end -
    common start) x 3600, the tail (fewer than K trials left) included: what these models cost;
    ``models_per_hour_busy`` divides by each worker's own busy span (common start to its last
    trial's end) averaged over workers instead: the rate of a long sweep, where no worker
    idles at the end (slightly optimistic: the tail's trials ran with less contention);
    ``models_per_hour_e2e`` counts from the workers' launch (start-up included).
    ``max_concurrent``: most trials running at one instant; ``mean_concurrent``: summed trial
    time / steady wall time.
    """
    trials = setting["trials"]
    completed = [t for t in trials if t["status"] in ("ok", "diverged")]
    out: dict[str, Any] = {
        "n_trials": len(trials),
        "n_completed": len(completed),
        "n_ok": sum(t["status"] == "ok" for t in trials),
        "startup_s": (setting["go"] - setting["launched"]) if setting["go"] else None,
    }
    if not completed or setting["go"] is None:
        return out | {"models_per_hour": None, "models_per_hour_e2e": None}
    last = max(t["end"] for t in trials)
    steady = last - setting["go"]
    durations = [t["end"] - t["start"] for t in completed]
    last_by_worker: dict[int, float] = {}
    for t in trials:
        last_by_worker[t["worker"]] = max(last_by_worker.get(t["worker"], 0.0), t["end"])
    busy = statistics.fmean(e - setting["go"] for e in last_by_worker.values())
    mems = [t["peak_memory_mb"] for t in completed if t.get("peak_memory_mb") is not None]
    errs = [t["val_top1_err"] for t in completed if t["status"] == "ok"]
    return out | {
        "steady_s": steady,
        "e2e_s": last - setting["launched"],
        "models_per_hour": 3600.0 * len(completed) / steady,
        "models_per_hour_busy": 3600.0 * len(completed) / busy,
        "models_per_hour_e2e": 3600.0 * len(completed) / (last - setting["launched"]),
        "trial_s_mean": statistics.fmean(durations),
        "trial_s_median": statistics.median(durations),
        "train_s_mean": statistics.fmean(t["train_s"] for t in completed),
        "max_concurrent": max_overlap([(t["start"], t["end"]) for t in trials]),
        "mean_concurrent": sum(t["end"] - t["start"] for t in trials) / steady,
        "peak_memory_mb_max": max(mems) if mems else None,
        "peak_memory_mb_median": statistics.median(mems) if mems else None,
        "val_top1_err_median": statistics.median(errs) if errs else None,
        "graph_fallbacks": sum(bool(t.get("graph_fallback")) for t in completed),
    }


# --------------------------------------------------------------------------- verdict
def estimate_s(settings: list[dict[str, Any]], n: int) -> float | None:
    """Seconds a next setting of ``n`` models should take: the slowest start-up so far plus
    ``n`` models at the best rate so far (None before any setting has a rate)."""
    done = [s for s in settings if s.get("models_per_hour")]
    if not done:
        return None
    rate = max(s["models_per_hour"] for s in done) / 3600.0
    return max(s.get("startup_s") or 0.0 for s in done) + n / rate


def recommend(settings: list[dict[str, Any]], within: float = WITHIN) -> dict[str, Any]:
    """The GPU share per trial to use, from the measured settings, with the reasoning.

    Among finished settings, the best throughput sets the bar; the setting with the fewest
    concurrent trials whose models/hour is within ``within`` of the best is recommended (as
    fast, with less memory and less contention per trial): share = 1 / K.
    """
    measured = [s for s in settings if s.get("models_per_hour") and s["status"] == "done"]
    if not measured:
        return {"share": None, "k": None, "reasoning": "no setting finished"}
    best = max(measured, key=lambda s: s["models_per_hour"])
    good = [s for s in measured if s["models_per_hour"] >= (1 - within) * best["models_per_hour"]]
    pick = min(good, key=lambda s: (s["k"], s.get("mode") == "mps"))
    tried = sorted(s["k"] for s in measured)

    def name(s: dict[str, Any]) -> str:
        return f"K={s['k']}" + (" under MPS" if s.get("mode") == "mps" else "")

    text = (
        f"best throughput: {name(best)} concurrent trials, {best['models_per_hour']:.0f} "
        f"models/h; the fewest concurrent trials within {within:.0%} of it: {name(pick)} "
        f"({pick['models_per_hour']:.0f} models/h), so a share of 1/{pick['k']} = "
        f"{1 / pick['k']:.4g} GPU per trial (as fast, with fewer processes and less memory "
        "in use)"
    )
    if pick.get("mode") == "mps":
        text += "; this needs an MPS daemon on the GPU node"
    if pick["peak_memory_mb_max"] is not None:
        text += f"; peak memory per trial up to {pick['peak_memory_mb_max']:.0f} MiB allocated"
    if best["k"] == tried[-1] and len(tried) > 1:
        text += f"; throughput was still highest at the largest K tried ({best['k']})"
    return {
        "share": 1.0 / pick["k"],
        "k": pick["k"],
        "mode": pick.get("mode", "processes"),
        "share_of_best_k": 1.0 / best["k"],
        "best_k": best["k"],
        "reasoning": text,
    }


def device_facts(cuda: bool) -> dict[str, Any]:
    """Card name, driver, memory and compute mode from nvidia-smi; torch's version."""
    import torch

    facts: dict[str, Any] = {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
    }
    exe = shutil.which("nvidia-smi")
    if not (cuda and exe):
        return facts
    try:
        query = "name,driver_version,memory.total,compute_mode"
        out = subprocess.run(
            [exe, "--id=0", f"--query-gpu={query}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
        parts = [p.strip() for p in out.split(",")]
        if len(parts) == 4:
            facts.update(
                card=parts[0], driver=parts[1], memory_total=parts[2], compute_mode=parts[3]
            )
        # MPS would let the workers' kernels run at the same time; it is not started here.
        mps = subprocess.run(["pgrep", "-f", "nvidia-cuda-mps"], capture_output=True)
        facts["mps_running"] = mps.returncode == 0
    except (OSError, subprocess.SubprocessError) as exc:
        facts["nvidia_smi_error"] = str(exc)
    return facts


# --------------------------------------------------------------------------- main
def line_for(s: dict[str, Any], base: float | None) -> str:
    """One table row of a setting."""

    def fmt(v: Any, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    ratio = s["models_per_hour"] / base if base and s.get("models_per_hour") else None
    return (
        f"{s['label']:>5s} {s['n_models']:>6d} {s['status']:>7s} "
        f"{fmt(s.get('startup_s'), '.1f'):>8s} "
        f"{fmt(s.get('steady_s'), '.1f'):>8s} {fmt(s.get('models_per_hour'), '.0f'):>9s} "
        f"{fmt(ratio, '.2f'):>6s} {fmt(s.get('max_concurrent'), 'd'):>4s} "
        f"{fmt(s.get('gpu_util_mean'), '.0f'):>5s} {fmt(s.get('gpu_mem_used_max_mb'), '.0f'):>8s} "
        f"{fmt(s.get('peak_memory_mb_max'), '.0f'):>8s} {fmt(s.get('trial_s_mean'), '.2f'):>7s}"
    )


HEADER = (
    "    K models  status  start s steady s  models/h  ratio conc util% used MiB peak MiB trial s"
)


def run(cfg: BenchConfig, out: Path) -> dict[str, Any]:
    """Measure every setting of ``cfg`` within its budget; write and return the JSON record."""
    t_start = time.monotonic()
    deadline = t_start + cfg.budget_s
    out.mkdir(parents=True, exist_ok=True)
    log = Log(out / LOG_NAME)
    cuda = not cfg.smoke
    report: dict[str, Any] = {
        "script": "benchmarks/bench_gpu_concurrency.py",
        "measured_on_gpu": cuda,
        "note": (
            "GPU measurement"
            if cuda
            else "CPU SMOKE TEST: checks the code paths only; nothing was measured on a GPU"
        ),
        "config": asdict(cfg),
        "target_ratio": TARGET_RATIO,
        "clock": "time.monotonic() seconds, shared by all processes",
    }
    report["started_utc"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    log(f"bench_gpu_concurrency ({report['started_utc']} UTC): {report['note']}")
    report["device"] = device_facts(cuda)
    log(f"device: {json.dumps(report['device'])}")
    data_source, data_note = resolve_data_source(cfg.data, cfg.train)
    report.update(data_source=data_source, data_note=data_note)
    log(f"data: {data_note}")
    t = time.monotonic()
    pool = model_pool(max(cfg.n_models(k) for _, k in cfg.settings()), cfg.seed)
    log(f"sampled {len(pool)} models in {time.monotonic() - t:.1f} s")
    report["models"] = [{k: v for k, v in m.items() if k != "arch"} for m in pool]
    sampler = GpuSampler() if cuda else None
    report["utilization_source"] = sampler.note if sampler else "none (CPU smoke)"
    report["idle_memory_used_mb"] = sampler.first_memory() if sampler else None
    settings: list[dict[str, Any]] = []
    report["settings"], report["skipped"] = settings, []
    path = out / JSON_NAME

    def save() -> None:
        report["elapsed_s"] = time.monotonic() - t_start
        path.write_text(json.dumps(report, indent=1, default=str))

    report["fork_server_start_s"] = start_fork_server()
    log(f"fork server (torch imported) started in {report['fork_server_start_s']:.1f} s")
    save()
    log(HEADER)
    base_rate = None
    mps: MpsDaemon | None = None
    try:
        for mode, k in cfg.settings():
            name, n = label(mode, k), cfg.n_models(k)
            now = time.monotonic()
            estimate = estimate_s(settings, n)
            reason = None
            if estimate is not None and now + estimate > deadline:
                reason = (
                    f"estimated {estimate:.0f} s (start-up + {n} models at the best rate so "
                    f"far), {deadline - now:.0f} s of the budget left"
                )
            elif mode == "mps" and mps is None:
                mps = MpsDaemon(out)
                report["mps"] = mps.info
                log(f"MPS: {mps.info['note']}")
            if reason is None and mode == "mps" and not mps.running:
                reason = f"no MPS: {mps.info['note']}"
            if reason is not None:
                report["skipped"].append({"setting": name, "k": k, "reason": reason})
                log(f"  {name}: skipped: {reason}")
                continue
            env = mps.env if mode == "mps" else None
            setting = run_setting(k, pool[:n], cfg, data_source, deadline, log, mode, env)
            if mode == "mps":
                setting["mps_servers"] = mps.servers()
                if not setting["trials"]:  # clients could not start: no use trying more
                    mps.stop()
                    mps.info["note"] = f"{name} started no trial; MPS settings given up"
            if sampler is not None and setting["go"] is not None:
                setting.update(sampler.window(setting["go"], setting["finished"]))
                idle = report["idle_memory_used_mb"]
                if setting.get("gpu_mem_used_max_mb") is not None and idle is not None:
                    used = setting["gpu_mem_used_max_mb"] - idle
                    setting["gpu_mem_used_per_worker_mb"] = used / k
            if (mode, k) == ("processes", 1) and setting.get("models_per_hour"):
                base_rate = setting["models_per_hour"]
            if base_rate and setting.get("models_per_hour"):
                setting["ratio_to_baseline"] = setting["models_per_hour"] / base_rate
            settings.append(setting)
            log(line_for(setting, base_rate))
            save()
    finally:
        if sampler is not None:
            sampler.stop()
        if mps is not None:
            mps.stop()
    report["recommendation"] = recommend(settings)
    plain = [s for s in settings if s["mode"] == "processes"]
    report["recommendation_without_mps"] = recommend(plain)
    ratios = [s["ratio_to_baseline"] for s in settings if s.get("ratio_to_baseline")]
    report["best_ratio"] = max(ratios) if ratios else None
    report["target_met"] = bool(cuda and ratios and max(ratios) >= TARGET_RATIO)
    report["ray_imported"] = "ray" in sys.modules or any(
        w.get("ray_imported") for s in settings for w in s["workers"]
    )
    save()
    log(f"recommendation: {report['recommendation']['reasoning']}")
    log(f"ray imported anywhere: {report['ray_imported']}")
    log(f"JSON: {path}")
    if cuda and base_rate:
        best = max(settings, key=lambda s: s.get("models_per_hour") or 0)
        card = report["device"].get("card", "?").replace(" ", "_")
        log(
            f"RESULT name=gpu_models_per_hour value={best['models_per_hour']:.0f} "
            f"baseline={base_rate:.0f} ratio={report['best_ratio']:.2f} target={TARGET_RATIO:g} "
            f"setting={best['label']} share={report['recommendation']['share']} device={card}"
        )
    else:
        log("(CPU smoke test: nothing measured on a GPU; no RESULT line)")
    log.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--plan", default=None, help="comma-separated settings, e.g. 1,2,4,8,mps8 (see BenchConfig)"
    )
    parser.add_argument("--models", type=int, default=None, help="trials of the small settings")
    parser.add_argument("--models-per-worker", type=int, default=None)
    parser.add_argument("--budget", type=float, default=None, help="seconds for all settings")
    parser.add_argument("--data", choices=("auto", "fashion-mnist", "synthetic"), default="auto")
    parser.add_argument("--out", default=None, help="folder for the JSON and log ($OUT)")
    parser.add_argument("--cpu-smoke", action="store_true", help="CPU check; measures nothing")
    parser.add_argument("--quick", action="store_true", help="(run_all.py) same as default")
    args = parser.parse_args()

    import torch

    smoke = args.cpu_smoke or not torch.cuda.is_available()
    if smoke and not args.cpu_smoke:
        print("bench_gpu_concurrency: no CUDA device here; running the CPU smoke version")
    cfg = smoke_config() if smoke else BenchConfig()
    changes: dict[str, Any] = {"data": args.data}
    if args.plan is not None:
        changes["plan"] = tuple(x.strip() for x in args.plan.split(",") if x.strip())
    for name, value in (
        ("models", args.models),
        ("models_per_worker", args.models_per_worker),
        ("budget_s", args.budget),
    ):
        if value is not None:
            changes[name] = value
    cfg = BenchConfig(**{**asdict(cfg), **changes})
    try:
        ok = bool(cfg.settings()) and cfg.models >= 1 and cfg.models_per_worker >= 1
    except ValueError:
        ok = False
    if not ok:
        print(
            "bench_gpu_concurrency: --plan needs entries K or mpsK with K >= 1, and --models, "
            "--models-per-worker must be >= 1",
            file=sys.stderr,
        )
        return 2
    out = Path(args.out or os.environ.get("OUT") or "/tmp/gpu-concurrency")
    # `timeout` sends SIGTERM: unwind, so that workers, nvidia-smi and MPS are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run(cfg, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
