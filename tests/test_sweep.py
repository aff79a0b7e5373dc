"""Sweeps through Ray Tune: plan, records, resume after SIGKILL, faults, node loss, bad input.

Every model here is tiny (3.6-4 MF, 256 training images, a handful of steps) so the file runs in
a few minutes on 2 cores. In-process sweeps share the session's Ray (``ray_session``); a CLI
subprocess or a multi-node ``Cluster`` starts its own Ray in its own process.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from ray import cloudpickle

from designspace import results as res
from designspace.cli import main
from designspace.complexity import complexity
from designspace.errors import DesignSpaceError
from designspace.regimes import get_regime
from designspace.sampling import sample
from designspace.sweep import Placement, SweepConfig, describe_plan, plan_sweep, run_sweep
from designspace.train import TrainConfig, train

# Trainers defined here travel to the Ray workers by value (tests/ is not importable there).
cloudpickle.register_pickle_by_value(sys.modules[__name__])

# 28 px with a stride-1 stem: 4-stage networks keep a >= 1 px final map.
REGIME = get_regime("fashion-mnist").with_overrides(stem="small")
TINY = TrainConfig(subset=256, val_subset=100, batch_size=32, max_steps=5)
CLI_TINY = ["--regime", "fashion-mnist", "--stem", "small", "--subset", "256",
            "--val-subset", "100", "--batch-size", "32"]  # fmt: skip


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


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "designspace", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


# --------------------------------------------------------------------------- no Ray needed
def test_plan_samples_each_space_and_counts_at_the_training_resolution(tmp_path):
    config = SweepConfig(
        spaces=("AnyNetXA", "AnyNetXE"), n=3, regime=REGIME, train=replace(TINY, resize=32)
    )
    plan = plan_sweep(config)
    assert list(plan.groupby("space").size()) == [3, 3]
    expected = sample("AnyNetXE", 3, seed=0, regime=REGIME).archs
    got = plan[plan.space == "AnyNetXE"].sort_values("sample_index")
    assert list(got.arch_id) == [a.id for a in expected]
    for a, (_, row) in zip(expected, got.iterrows(), strict=True):
        assert row.resolution == 32 and row.flops == complexity(a, 32).flops

    samples = tmp_path / "s.jsonl"
    from designspace.archfile import write_table

    write_table(sample("AnyNetXB", 4, seed=5, regime=REGIME).to_frame(), samples)
    from_file = plan_sweep(SweepConfig(samples=str(samples), train=TINY))
    assert list(from_file.space) == ["AnyNetXB"] * 4 and list(from_file.sample_seed) == [5] * 4
    assert list(from_file.arch_id) == [a.id for a in sample("AnyNetXB", 4, 5, REGIME).archs]


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "study"
    code = main(
        [
            "sweep",
            "--space",
            "AnyNetXA",
            "--space",
            "AnyNetXC",
            "-n",
            "3",
            "--max-steps",
            "5",
            *CLI_TINY,
            "--out",
            str(out),
            "--dry-run",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0 and not out.exists()
    assert "AnyNetXA: 3 configurations" in text and "AnyNetXC: 3 configurations" in text
    assert "concurrency: " in text and "multiply-adds" in text and "to run: 6 of 6" in text
    est = describe_plan(tiny(n=3), Placement(cpus_per_trial=0.5), available={"CPU": 4, "GPU": 0})
    assert "concurrency: 8 trials" in est


def test_bad_input_exits_2_and_touches_nothing(tmp_path, capsys):
    out = tmp_path / "study"
    base = ["sweep", "--space", "AnyNetXA", "-n", "2", *CLI_TINY, "--out", str(out)]
    t0 = time.monotonic()
    r = run_cli(*base, "--address", "127.0.0.1:9")  # nothing listens on the discard port
    assert r.returncode == 2 and "cannot reach a Ray cluster" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and time.monotonic() - t0 < 60
    cases = [
        (["--gpus-per-trial", "1"], "more GPUs than any node has"),
        (["--gpus-per-trial", "1.5"], "fraction"),
        (["--address", "nonsense"], "HOST:PORT"),
        (["--samples", str(tmp_path / "none.parquet")], "-n samples a space"),
        (["--data-root", str(tmp_path / "no_data")], "is missing"),
        (["--subset", "70000"], "subset 70000 is not in 1..60000"),
    ]
    for extra, message in cases:
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert main(["sweep", "--space", "AnyNetXA", "--out", str(out)]) == 2
    assert "needs -n" in capsys.readouterr().err
    # 4-stage networks with a stride-2 stem need at least 17 px: refused before any trial
    assert (
        main(
            [
                "sweep",
                "--space",
                "AnyNetXA",
                "-n",
                "2",
                "--regime",
                "fashion-mnist",
                "--resize",
                "12",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "cannot train" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------- in-process sweeps
LIFECYCLE = tiny(spaces=("AnyNetXA", "AnyNetXE"), n=2)


@pytest.fixture(scope="module")
def finished(tmp_path_factory, ray_session):
    """A finished 4-model sweep (tests copy it before changing anything)."""
    out = tmp_path_factory.mktemp("finished") / "study"
    info: dict = {}
    frame = run_sweep(LIFECYCLE, out, progress=False, info=info)
    return out, frame, info["run"]


def copy_of(finished, tmp_path: Path) -> Path:
    out = tmp_path / "study"
    shutil.copytree(finished[0], out)
    return out


def test_sweep_records_one_row_per_model(finished):
    out, frame, run = finished
    assert run.planned == 4 and run.missing == 0 and run.counts["ok"] == 4
    assert keys_of(frame) == keys_of(plan_sweep(LIFECYCLE))
    assert set(frame.status) == {"ok"} and frame.val_top1_err.between(0, 1).all()
    assert (frame.sweep == "study").all() and (frame.attempt == 1).all()
    assert (frame.cfg_max_steps == 5).all() and (frame.cfg_threads == 1).all()
    assert (frame.steps == 5).all() and frame.host.notna().all()
    assert frame.epoch_val_top1_err.map(len).eq(1).all()
    assert (frame.flops > 3.5e6).all() and (frame.resolution == 28).all()
    assert len(pd.read_parquet(out / "results")) == 4
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["study"]["spaces"] == ["AnyNetXA", "AnyNetXE"]
    assert manifest["train"]["max_steps"] == 5 and manifest["study"]["plan_size"] == 4
    text = describe_plan(LIFECYCLE, out=out, available={"CPU": 2, "GPU": 0})
    assert "(resuming this sweep)" in text and "to run: 0 of 4" in text
    assert "AnyNetXE: 2 configurations (2 already done)" in text


def test_resume_retrains_only_a_corrupt_result_and_then_nothing(finished, tmp_path, capsys):
    out = copy_of(finished, tmp_path)
    files = res.result_files(out / "results")
    victim, kept = files[1], [f for i, f in enumerate(files) if i != 1]
    before = {f.name: f.read_bytes() for f in kept}
    victim.write_bytes(victim.read_bytes()[:100])
    info: dict = {}
    frame = run_sweep(LIFECYCLE, out, progress=False, info=info)
    assert "moved to" in capsys.readouterr().err
    assert info["run"].done_before == 3 and info["run"].counts["ok"] == 1
    assert keys_of(frame) == keys_of(plan_sweep(LIFECYCLE)) and len(frame) == 4
    assert {f.name: f.read_bytes() for f in kept} == before
    assert (out / "quarantine" / victim.name).exists()

    # Everything recorded: a rerun trains nothing and rewrites nothing.
    snapshot = digest_tree(out)
    frame = run_sweep(LIFECYCLE, out, progress=False, info=info)
    assert info["run"].done_before == 4 and info["run"].counts == {} and len(frame) == 4
    assert digest_tree(out) == snapshot


def test_a_different_sweep_is_refused_and_force_new_keeps_the_old_results(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    snapshot = digest_tree(out)
    other = tiny(n=1, train=replace(TINY, lr=0.05))
    with pytest.raises(DesignSpaceError, match=r"different sweep \(study.n: 2 -> 1"):
        run_sweep(other, out, progress=False)
    assert digest_tree(out) == snapshot
    frame = run_sweep(other, out, force_new=True, progress=False)
    assert (frame.cfg_lr == 0.05).all() and (frame.sweep == "study/run-2").all()
    assert len(frame) == 1 and (out / "run-2" / "sweep.json").exists()
    assert {k: v for k, v in digest_tree(out).items() if not k.startswith("run-2")} == snapshot
    # Resuming the forced sweep finds it again (no third run folder, nothing retrained).
    info: dict = {}
    run_sweep(other, out, force_new=True, progress=False, info=info)
    assert not (out / "run-3").exists() and info["run"].done_before == 1


class FaultyTrainer:
    """The real trainer, with a fault planted per architecture id."""

    def __init__(self, faults: dict[str, str]) -> None:
        self.faults = faults

    def __call__(self, arch, config, data=None):
        import torch

        fault = self.faults.get(arch.id)
        if fault == "always":
            raise RuntimeError("injected fault")
        if fault == "oom":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if fault == "diverge":
            config = replace(config, lr=1e6)
        return train(arch, config, data=data)


def test_faults_become_rows_and_the_sweep_goes_on(tmp_path, ray_session):
    config = tiny(n=4, max_failures=1)
    ids = list(plan_sweep(config).arch_id)
    faults = {ids[0]: "always", ids[1]: "oom", ids[2]: "diverge"}
    frame = run_sweep(config, tmp_path / "faults", progress=False, trainer=FaultyTrainer(faults))
    by_id = frame.set_index("arch_id")
    assert len(frame) == 4
    always = by_id.loc[ids[0]]
    assert always.status == "failed" and always.error == "RuntimeError: injected fault"
    assert always.attempt == 2  # the first try and max_failures = 1 retry
    assert by_id.loc[ids[1], "status"] == "failed" and by_id.loc[ids[1], "attempt"] == 1
    assert by_id.loc[ids[1], "error"].startswith("out of memory: CUDA out of memory")
    assert by_id.loc[ids[2], "status"] == "diverged" and "non-finite" in by_id.loc[ids[2], "error"]
    assert by_id.loc[ids[3], "status"] == "ok" and by_id.loc[ids[3], "attempt"] == 1


# --------------------------------------------------------------------------- own Ray processes
def test_sigkilled_sweep_resumes_without_retraining(tmp_path, ray_session):
    out = tmp_path / "study"
    args = ["sweep", "--space", "AnyNetXA", "-n", "6", *CLI_TINY, "--max-steps", "5",
            "--out", str(out), "--no-progress"]  # fmt: skip
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    scratch_before = set(Path(tempfile.gettempdir()).glob("designspace-tune-*"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "designspace", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 150
        while not res.result_files(out / "results") and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)  # the driver only, mid-sweep
        proc.wait(timeout=30)
    finally:
        time.sleep(1)
        try:  # Ray processes the driver left behind (its own session; started by this test)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        # ... and the killed driver's Tune scratch folder.
        for d in set(Path(tempfile.gettempdir()).glob("designspace-tune-*")) - scratch_before:
            shutil.rmtree(d, ignore_errors=True)
    first = {f.name: f.read_bytes() for f in res.result_files(out / "results")}
    assert 1 <= len(first) < 6
    assert len(pd.read_parquet(out / "results")) == len(first)

    # The same command again, joining the session's running Ray (--address) to save a start.
    r = run_cli(*args, "--address", ray_session.get_runtime_context().gcs_address)
    assert r.returncode == 0, r.stderr
    assert f"{len(first)} were done before this run" in r.stdout
    frame = pd.read_parquet(out / "results")
    assert len(frame) == 6 and len(set(keys_of(frame))) == 6 and set(frame.status) == {"ok"}
    assert {n: (out / "results" / n).read_bytes() for n in first} == first


NODE_LOSS = textwrap.dedent(
    """
    import json, os, threading, time
    import ray
    from ray.cluster_utils import Cluster
    from designspace import results as res
    from designspace.regimes import get_regime
    from designspace.sweep import Placement, SweepConfig, run_sweep
    from designspace.train import TrainConfig, train

    out, marks = {out!r}, {marks!r}

    def marking_trainer(arch, config, data=None):
        # The real trainer, leaving a file named after its node while it runs.
        mark = os.path.join(marks, ray.get_runtime_context().get_node_id() + "-" + arch.id)
        open(mark, "w").close()
        try:
            return train(arch, config, data=data)
        finally:
            os.remove(mark)

    # The head node runs trials too; the other node is the one that dies.
    cluster = Cluster(initialize_head=True, head_node_args=dict(
        num_cpus=1, include_dashboard=False, object_store_memory=100 * 2**20))
    doomed = cluster.add_node(num_cpus=1, object_store_memory=100 * 2**20)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")

    def kill_the_node_mid_trial():
        # After a first result is recorded, while a trial is training on the doomed node.
        while not (res.result_files(os.path.join(out, "results")) and
                   any(m.startswith(doomed.node_id) for m in os.listdir(marks))):
            time.sleep(0.02)
        cluster.remove_node(doomed)

    threading.Thread(target=kill_the_node_mid_trial, daemon=True).start()
    config = SweepConfig(
        spaces=("AnyNetXA",), n=4, regime=get_regime("fashion-mnist").with_overrides(stem="small"),
        train=TrainConfig(subset=256, val_subset=100, batch_size=32, max_steps=15))
    frame = run_sweep(config, out, Placement(max_concurrent=2), progress=False,
                      trainer=marking_trainer)
    print(json.dumps({{"rows": len(frame), "keys": len(set(zip(frame.space, frame.sample_index))),
                      "status": sorted(set(frame.status)), "attempts": frame.attempt.tolist(),
                      "nodes": len([n for n in ray.nodes() if n["Alive"]])}}))
    ray.shutdown()
    cluster.shutdown()
    """
)


def test_losing_a_worker_node_costs_a_retry_and_loses_nothing(tmp_path):
    script = tmp_path / "node_loss.py"
    (tmp_path / "marks").mkdir()
    script.write_text(NODE_LOSS.format(out=str(tmp_path / "study"), marks=str(tmp_path / "marks")))
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    r = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        start_new_session=True,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["nodes"] == 1  # the head survives
    assert report["rows"] == 4 and report["keys"] == 4 and report["status"] == ["ok"]
    assert max(report["attempts"]) == 2  # the trial on the lost node ran again elsewhere
