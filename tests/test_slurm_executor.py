"""The slurm executor through submitit's local mode (real subprocess jobs, the same pickled
jobs a cluster runs): its rows equal the local executor's, a killed job is retried, a killed
driver leaves no job behind and the sweep resumes; the private jobs folder; the options that
the registry turns into flags and study-file keys; executors imported without ray or submitit.

Jobs are tiny models (256 training images, 5 steps); each job is a fresh Python process that
imports torch, so a round of jobs costs several seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import pandas as pd
import psutil
import pytest
import sweep_support
from sweep_support import CLI_TINY, ENV, HangOnce, keys_of, probe_refusals, tiny

from designspace.cli import build_parser
from designspace.commands.sweep import check_args
from designspace.errors import DesignSpaceError
from designspace.formats import results as res
from designspace.studies.study import study_from_dict
from designspace.sweep import EXECUTORS, Placement, plan_sweep, run_sweep
from designspace.sweep.registry import options_class
from designspace.sweep.slurm_executor import SlurmExecutor, SlurmOptions, jobs_folder

LOCAL_JOBS = SlurmOptions(cluster="local")
# Columns that say where and when a row was computed, not what.
CIRCUMSTANCES = ("sweep", "host", "attempt", "finished_at", "wall_time_s", "train_time_s",
                 "eval_time_s", "images_per_s", "peak_memory_mb")  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def _trainers_by_value():
    # The jobs unpickle the test trainers without the tests folder on their path.
    cloudpickle.register_pickle_by_value(sweep_support)
    yield
    cloudpickle.unregister_pickle_by_value(sweep_support)


def _kill_when_marked(marks: Path, arch_id: str, stop: threading.Event) -> None:
    """Kill the job process that marks ``arch_id`` (SIGKILL), then say so in ``marks``."""
    pid_file = marks / f"{arch_id}.pid"
    while not pid_file.exists():
        if stop.wait(0.05):
            return
    (marks / f"{arch_id}.killed").touch()
    os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_jobs_give_the_local_executors_rows_and_a_killed_job_is_retried(tmp_path):
    config = tiny(n=2, max_failures=1)
    ids = list(plan_sweep(config).arch_id)
    placement = Placement(executor="slurm", options=LOCAL_JOBS)
    out = tmp_path / "slurm"
    info: dict = {}
    # Past the deadline: no job is submitted, the sweep stays resumable.
    frame = run_sweep(config, out, placement, progress=False, info=info, deadline=0)
    assert len(frame) == 0 and info["run"].stopped_at_deadline
    assert not (out / "slurm-jobs").exists()

    marks = tmp_path / "marks"
    marks.mkdir()
    stop = threading.Event()
    killer = threading.Thread(target=_kill_when_marked, args=(marks, ids[1], stop), daemon=True)
    killer.start()
    try:
        frame = run_sweep(
            config, out, placement, progress=False, info=info, trainer=HangOnce([ids[1]], marks)
        )
    finally:
        stop.set()
        killer.join(5)
    assert (marks / f"{ids[1]}.killed").exists()  # the job really was killed mid-run
    assert info["run"].counts == {"ok": 2} and info["run"].missing == 0
    by_id = frame.set_index("arch_id")
    assert by_id.loc[ids[0], "attempt"] == 1 and by_id.loc[ids[1], "attempt"] == 2
    jobs = out / "slurm-jobs"
    assert stat.S_IMODE(jobs.stat().st_mode) == 0o700
    # Files of recorded jobs are gone; the killed job's logs stay for a look.
    left = [p.name for p in jobs.rglob("*") if p.is_file()]
    assert left and all("_log." in name for name in left), left

    local = run_sweep(config, tmp_path / "local", Placement(executor="local"), progress=False)
    same = [c for c in local.columns if c not in CIRCUMSTANCES]
    a = frame.sort_values("arch_id").reset_index(drop=True)[same]
    b = local.sort_values("arch_id").reset_index(drop=True)[same]
    assert keys_of(frame) == keys_of(local) and set(frame.status) == {"ok"}
    pd.testing.assert_frame_equal(a, b)


def test_a_killed_driver_leaves_no_job_and_the_sweep_resumes(tmp_path):
    out = tmp_path / "study"
    args = ["sweep", "--space", "AnyNetXA", "-n", "2", *CLI_TINY, "--max-steps", "5",
            "--out", str(out), "--no-progress", "--executor", "slurm",
            "--slurm-cluster", "local", "--slurm-max-jobs", "1"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "designspace", *args], env=ENV, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 200
        family: list[psutil.Process] = []
        while time.monotonic() < deadline:  # the first model recorded, the second job running
            assert proc.poll() is None, proc.stderr.read().decode()
            if res.result_files(out / "results"):
                family = psutil.Process(proc.pid).children(recursive=True)
                if family:
                    break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        _, alive = psutil.wait_procs(family, timeout=30)
        survivors = [(p.pid, p.name()) for p in alive]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert family and not survivors, survivors  # local jobs end with their driver
    first = {f.name: f.read_bytes() for f in res.result_files(out / "results")}
    assert len(first) == 1

    info: dict = {}
    placement = Placement(executor="slurm", options=SlurmOptions(cluster="local", max_jobs=1))
    frame = run_sweep(tiny(n=2), out, placement, progress=False, info=info)
    assert info["run"].done_before == 1 and info["run"].counts == {"ok": 1}
    assert len(frame) == 2 and set(frame.status) == {"ok"}
    assert {n: (out / "results" / n).read_bytes() for n in first} == first


def test_the_jobs_folder_is_private_and_one_others_can_write_is_refused(tmp_path):
    old = os.umask(0)  # a permissive umask must not leak into the folder
    try:
        made = jobs_folder(SlurmOptions(folder=str(tmp_path / "a" / "jobs")), None)
    finally:
        os.umask(old)
    assert made == tmp_path / "a" / "jobs" and stat.S_IMODE(made.stat().st_mode) == 0o700
    assert jobs_folder(SlurmOptions(), tmp_path / "run") == tmp_path / "run" / "slurm-jobs"

    for mode in (0o777, 0o770, 0o702):
        shared = tmp_path / f"shared-{mode:o}"
        shared.mkdir()
        shared.chmod(mode)
        with pytest.raises(DesignSpaceError, match="can be written by others") as err:
            jobs_folder(SlurmOptions(folder=str(shared)), None)
        assert "executed" in str(err.value) and "\n" not in str(err.value)
    readable = tmp_path / "readable"
    readable.mkdir()
    readable.chmod(0o755)
    assert jobs_folder(SlurmOptions(folder=str(readable)), None) == readable

    # A sweep is refused before anything is created or submitted.
    shared = tmp_path / "shared-777"
    placement = Placement(executor="slurm", options=SlurmOptions(folder=str(shared),
                                                                 cluster="local"))  # fmt: skip
    with pytest.raises(DesignSpaceError, match="chmod 700"):
        run_sweep(tiny(n=1), tmp_path / "out", placement, progress=False)
    assert not (tmp_path / "out").exists() and not any(shared.iterdir())


def test_options_generate_flags_and_study_keys_that_parse(tmp_path):
    parser = build_parser()
    args = parser.parse_args(
        ["sweep", "--space", "AnyNetXA", "-n", "2", *CLI_TINY, "--out", str(tmp_path / "o"),
         "--executor", "slurm", "--slurm-cluster", "local", "--slurm-partition", "gpu",
         "--slurm-time", "30", "--slurm-mem-gb", "2.5", "--slurm-max-jobs", "3",
         "--slurm-sbatch", "constraint=a100 exclude=node[1-2]", "--slurm-qos", "high"]
    )  # fmt: skip
    _, placement, _ = check_args(args)
    assert placement.options == SlurmOptions(
        partition="gpu", time=30, mem_gb=2.5, qos="high", max_jobs=3,
        sbatch="constraint=a100 exclude=node[1-2]", cluster="local",
    )  # fmt: skip
    assert placement.options.sbatch_parameters() == {"constraint": "a100", "exclude": "node[1-2]"}
    assert Placement.from_values(placement.values()) == placement
    # Every option of every registered executor is a flag of sweep, study and replicate.
    helps = {cmd: _help(parser, cmd) for cmd in ("sweep", "study", "replicate")}
    for name in EXECUTORS:
        for spec in options_class(name).specs():
            assert all(spec.flag in text for text in helps.values()), (name, spec.flag)

    study = {"name": "s", "spaces": ["AnyNetXA"], "n": 2, "regime": "fashion-mnist",
             "out": "o", "placement": {"executor": "slurm", "slurm_partition": "gpu",
                                       "slurm_max_jobs": 4}}  # fmt: skip
    s = study_from_dict(study, "s.toml")
    assert Placement.from_values(s.placement).options == SlurmOptions(partition="gpu", max_jobs=4)
    for placement_table, message in (
        ({"executor": "local", "slurm_partition": "gpu"}, "drop --slurm-partition"),
        ({"executor": "slurm", "slurm_partiton": "gpu"}, "did you mean 'slurm_partition'"),
        ({"executor": "slurm", "slurm_time": "1h"}, "--slurm-time must be a whole number"),
    ):
        with pytest.raises(DesignSpaceError, match=message):
            study_from_dict({**study, "placement": placement_table}, "s.toml")


def _help(parser: argparse.ArgumentParser, command: str) -> str:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command].format_help()


def test_bad_slurm_options_are_refused_before_anything_heavy_is_imported(tmp_path):
    out = tmp_path / "o"
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    base = ["sweep", "--space", "AnyNetXA", "-n", "2", *CLI_TINY, "--out", str(out),
            "--executor", "slurm"]  # fmt: skip
    local = ["--slurm-cluster", "local"]
    cases = [
        (["--slurm-time", "0", *local], "--slurm-time must be >= 1"),
        (["--slurm-max-jobs", "0", *local], "--slurm-max-jobs must be >= 1"),
        (["--slurm-sbatch", "constraint", *local], "KEY=VALUE"),
        (["--slurm-sbatch", "output=x.log", *local], "cannot set output"),
        (["--cpus-per-trial", "0.5", *local], "whole CPUs"),
        (["--gpus-per-trial", "0.25", *local], "whole GPUs"),
        (["--slurm-folder", str(shared), *local], "can be written by others"),
        (["--address", "auto"], "drop --address"),
    ]
    if SlurmExecutor.unavailable(Placement(executor="slurm")) is not None:  # no SLURM here
        cases.append(([], "--slurm-cluster local"))
    report = probe_refusals([[*base, *extra] for extra, _ in cases])
    for (extra, message), got in zip(cases, report["cases"], strict=True):
        lines = got["stderr"].strip().splitlines()
        assert got["rc"] == 2 and len(lines) == 1 and message in lines[0], (extra, got)
    assert not report["ray"] and not report["torch"] and not out.exists()


def test_executor_modules_import_neither_ray_nor_submitit():
    code = (
        "import importlib, json, sys, designspace.cli\n"
        "from designspace.sweep.registry import EXECUTORS, executor_class\n"
        "designspace.cli.build_parser()\n"
        "classes = [executor_class(n).__name__ for n in EXECUTORS]\n"
        "print(json.dumps([classes, sorted(m for m in ('ray', 'submitit', 'torch') "
        "if m in sys.modules)]))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV,
                       check=True)  # fmt: skip
    classes, heavy = json.loads(r.stdout.strip().splitlines()[-1])
    assert "SlurmExecutor" in classes and heavy == []
