"""Shared pieces of the sweep tests: tiny configurations, a faulty trainer, CLI runners.

Not a test module. Trainers defined here reach the workers by reference (the local executor's
spawned workers import this module through the test session's ``sys.path``) or by value (the
Ray tests register this module with cloudpickle).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from designspace.core.regimes import get_regime
from designspace.sweep import SweepConfig
from designspace.training.trainconfig import TrainConfig

EXECUTORS = ("ray", "local")
# 28 px with a stride-1 stem: 4-stage networks keep a >= 1 px final map.
REGIME = get_regime("fashion-mnist").with_overrides(stem="small")
TINY = TrainConfig(subset=256, val_subset=100, batch_size=32, max_steps=5)
CLI_TINY = ["--regime", "fashion-mnist", "--stem", "small", "--subset", "256",
            "--val-subset", "100", "--batch-size", "32"]  # fmt: skip
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}


def tiny(spaces=("AnyNetXA",), n=2, **kw) -> SweepConfig:
    return SweepConfig(spaces=spaces, n=n, regime=REGIME, train=kw.pop("train", TINY), **kw)


def keys_of(frame: pd.DataFrame) -> list[tuple]:
    return sorted(zip(frame.space, frame.sample_index, frame.arch_id, strict=True))


def digest_tree(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m designspace ARGS`` with this process's environment as it is now (which
    carries, e.g., the session Ray's authentication mode to a driver that joins it)."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "designspace", *args],
        capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


PROBE = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from designspace.cli import main

    out = []
    for args in json.loads(sys.argv[1]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                rc = main(args)
            except SystemExit as exc:  # argparse errors
                rc = exc.code
        out.append({"args": args, "rc": rc, "stderr": err.getvalue()})
    print(json.dumps({"cases": out, "ray": "ray" in sys.modules, "torch": "torch" in sys.modules}))
    """
)


def start_driver(args: list[str]) -> subprocess.Popen:
    """``designspace ARGS`` as a driver process in its own session (stderr piped), so that a
    test can signal the driver alone and kill the whole group afterwards."""
    return subprocess.Popen(
        [sys.executable, "-m", "designspace", *args],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_for_first_result(
    proc: subprocess.Popen, out: Path, timeout: float, poll: float = 0.1
) -> None:
    """Wait until the sweep writing into ``out`` has recorded its first model (or ``timeout``
    seconds passed); fails with the driver's stderr if it ends before."""
    from designspace.formats import results as res

    deadline = time.monotonic() + timeout
    while not res.result_files(out / "results") and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(poll)


def probe_refusals(cases: list[list[str]], cwd: Path | None = None) -> dict:
    """Run every case through ``designspace.cli.main`` in one fresh process; return each
    case's exit code and stderr, and whether ray or torch was ever imported."""
    r = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(cases)],
        capture_output=True, text=True, timeout=300, env=ENV, cwd=cwd, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


class FaultyTrainer:
    """The real trainer, with a fault planted per architecture id.

    ``always``: raises every time; ``oom``: CUDA out of memory; ``diverge``: a huge learning
    rate; ``crash_once``: the worker process dies on the first try (a marker file in
    ``marks`` remembers it), trains normally on the retry.
    """

    def __init__(self, faults: dict[str, str], marks: str | None = None) -> None:
        self.faults = faults
        self.marks = marks

    def __call__(self, arch, config, data=None):
        import torch

        from designspace.training.train import train

        fault = self.faults.get(arch.id)
        if fault == "always":
            raise RuntimeError("injected fault")
        if fault == "oom":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if fault == "diverge":
            config = replace(config, lr=1e6)
        if fault == "crash_once":
            mark = Path(self.marks) / arch.id
            if not mark.exists():
                mark.touch()
                os._exit(3)
        return train(arch, config, data=data)


class InlineExecutor:
    """A toy executor for the seam's test: every trial in the driver process, one at a time."""

    def connect(self, placement):
        import contextlib

        from designspace.sweep.resources import local_resources

        return contextlib.nullcontext(local_resources())

    def run(self, job, recorder):
        from designspace.sweep.trial import hostname, run_trial

        for spec in job.trials:
            if job.past_deadline():
                return
            recorder.record(spec.key, run_trial(spec.arch_json, job.settings, job.trainer),
                            hostname(), 1)  # fmt: skip


class HangOnce:
    """The real trainer, except that the first try of each architecture in ``ids`` writes its
    process id to ``marks/<arch id>.pid`` and waits to be killed (the test kills it and then
    writes ``marks/<arch id>.killed``); the retry trains normally."""

    def __init__(self, ids: list[str], marks: str) -> None:
        self.ids = list(ids)
        self.marks = marks

    def __call__(self, arch, config, data=None):
        import time

        from designspace.training.train import train

        killed = Path(self.marks) / f"{arch.id}.killed"
        if arch.id in self.ids and not killed.exists():
            tmp = Path(self.marks) / f"{arch.id}.pid.tmp"
            tmp.write_text(str(os.getpid()))
            tmp.rename(Path(self.marks) / f"{arch.id}.pid")
            time.sleep(120)  # killed long before
            raise RuntimeError("the test did not kill this trial")
        return train(arch, config, data=data)


def always_crash(arch, config, data=None):
    """A trainer whose worker process dies every time."""
    os._exit(7)
