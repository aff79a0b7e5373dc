"""Sweeps on both executors: records, resume, corrupt files, a different sweep, faults, deadline;
and the loss of a Ray worker node.

Every model here is tiny (3.6-4 MF, 256 training images, a handful of steps). In-process Ray
sweeps share the session's Ray (``ray_session``); local sweeps start their own worker
processes; a multi-node ``Cluster`` runs in a subprocess.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import sweep_support
from sweep_support import ENV, EXECUTORS, TINY, FaultyTrainer, digest_tree, keys_of, tiny

from designspace.errors import DesignSpaceError
from designspace.formats import results as res
from designspace.sweep import Placement, describe_plan, plan_sweep, run_sweep

LIFECYCLE = tiny(spaces=("AnyNetXA", "AnyNetXE"), n=2)


@pytest.fixture(scope="module", params=EXECUTORS)
def executor(request) -> str:
    """Each test runs once per executor; the Ray ones share the session's Ray."""
    if request.param == "ray":
        ray = request.getfixturevalue("ray_session")
        # Trainers of sweep_support travel to the Ray workers by value.
        ray.cloudpickle.register_pickle_by_value(sweep_support)
    return request.param


@pytest.fixture(scope="module")
def finished(tmp_path_factory, executor):
    """A finished 4-model sweep (tests copy it before changing anything)."""
    out = tmp_path_factory.mktemp(f"finished-{executor}") / "study"
    info: dict = {}
    frame = run_sweep(LIFECYCLE, out, Placement(executor=executor), progress=False, info=info)
    return out, frame, info["run"], executor


def copy_of(finished, tmp_path: Path) -> Path:
    out = tmp_path / "study"
    shutil.copytree(finished[0], out)
    return out


def test_sweep_records_one_row_per_model(finished):
    out, frame, run, _ = finished
    assert run.planned == 4 and run.missing == 0 and run.counts["ok"] == 4
    assert keys_of(frame) == keys_of(plan_sweep(LIFECYCLE))
    assert set(frame.status) == {"ok"} and frame.val_top1_err.between(0, 1).all()
    assert (frame.sweep == "study").all() and (frame.attempt == 1).all()
    assert (frame.cfg_max_steps == 5).all() and (frame.cfg_threads == 1).all()
    assert (frame.steps == 5).all() and frame.host.notna().all()
    assert frame.epoch_val_top1_err.map(len).eq(1).all()
    assert (frame.flops > 3.5e6).all() and (frame.resolution == 28).all()
    assert len(pd.read_parquet(out / "results")) == 4
    assert not (out / ".designspace.lock").exists()  # the writer's lock is gone
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["study"]["spaces"] == ["AnyNetXA", "AnyNetXE"]
    assert manifest["train"]["max_steps"] == 5 and manifest["study"]["plan_size"] == 4
    text = describe_plan(LIFECYCLE, out=out, available={"CPU": 2, "GPU": 0})
    assert "(resuming this sweep)" in text and "to run: 0 of 4" in text
    assert "AnyNetXE: 2 configurations (2 already done)" in text


def test_resume_retrains_only_a_corrupt_result_and_then_nothing(finished, tmp_path, capsys):
    out = copy_of(finished, tmp_path)
    placement = Placement(executor=finished[3])
    files = res.result_files(out / "results")
    victim, kept = files[1], [f for i, f in enumerate(files) if i != 1]
    before = {f.name: f.read_bytes() for f in kept}
    victim.write_bytes(victim.read_bytes()[:100])
    info: dict = {}
    frame = run_sweep(LIFECYCLE, out, placement, progress=False, info=info)
    assert "moved to" in capsys.readouterr().err
    assert info["run"].done_before == 3 and info["run"].counts == {"ok": 1}
    assert keys_of(frame) == keys_of(plan_sweep(LIFECYCLE)) and len(frame) == 4
    assert {f.name: f.read_bytes() for f in kept} == before
    assert (out / "quarantine" / victim.name).exists()

    # Everything recorded: a rerun trains nothing and rewrites nothing.
    snapshot = digest_tree(out)
    frame = run_sweep(LIFECYCLE, out, placement, progress=False, info=info)
    assert info["run"].done_before == 4 and info["run"].counts == {} and len(frame) == 4
    assert digest_tree(out) == snapshot


def test_a_different_sweep_is_refused_and_force_new_keeps_the_old_results(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    placement = Placement(executor=finished[3])
    snapshot = digest_tree(out)
    other = tiny(n=1, train=replace(TINY, lr=0.05))
    with pytest.raises(DesignSpaceError, match=r"different sweep \(study.n: 2 -> 1"):
        run_sweep(other, out, placement, progress=False)
    assert digest_tree(out) == snapshot
    frame = run_sweep(other, out, placement, force_new=True, progress=False)
    assert (frame.cfg_lr == 0.05).all() and (frame.sweep == "study/run-2").all()
    assert len(frame) == 1 and (out / "run-2" / "sweep.json").exists()
    assert {k: v for k, v in digest_tree(out).items() if not k.startswith("run-2")} == snapshot
    # Resuming the forced sweep finds it again (no third run folder, nothing retrained).
    info: dict = {}
    run_sweep(other, out, placement, force_new=True, progress=False, info=info)
    assert not (out / "run-3").exists() and info["run"].done_before == 1


def test_a_sweep_grows_and_cuts_by_n_without_retraining(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    placement = Placement(executor=finished[3])
    manifest = (out / "sweep.json").read_bytes()
    before = digest_tree(out / "results")
    info: dict = {}
    # A bigger n is the same sweep (its first 2 per space are the recorded ones): 2 more.
    bigger = replace(LIFECYCLE, n=3)
    frame = run_sweep(bigger, out, placement, progress=False, info=info)
    assert info["run"].done_before == 4 and info["run"].counts == {"ok": 2}
    assert keys_of(frame) == keys_of(plan_sweep(bigger)) and len(frame) == 6
    grown = digest_tree(out / "results")
    assert {k: grown[k] for k in before} == before  # nothing recorded was rewritten
    assert (out / "sweep.json").read_bytes() == manifest  # keeps the n it started with
    # A smaller n trains nothing, changes nothing and returns only its own models.
    frame = run_sweep(replace(LIFECYCLE, n=1), out, placement, progress=False, info=info)
    assert info["run"].counts == {} and len(frame) == 2 and set(frame.sample_index) == {0}
    assert digest_tree(out / "results") == grown
    text = describe_plan(bigger, out=out, available={"CPU": 2, "GPU": 0})
    assert "(resuming this sweep)" in text and "to run: 0 of 6" in text


def test_a_grown_sweep_whose_prefix_differs_is_refused(finished, tmp_path):
    out = copy_of(finished, tmp_path)
    path = out / "sweep.json"
    manifest = json.loads(path.read_text())
    manifest["study"]["plan_sha256"] = "0" * 64  # e.g. sampled by another version
    path.write_text(json.dumps(manifest))
    snapshot = digest_tree(out)
    with pytest.raises(DesignSpaceError, match=r"different sweep \(study.n: 2 -> 3"):
        run_sweep(replace(LIFECYCLE, n=3), out, Placement(executor=finished[3]), progress=False)
    with pytest.raises(DesignSpaceError, match="different sweep"):
        run_sweep(replace(LIFECYCLE, n=3, seed=1), copy_of(finished, tmp_path / "b"),
                  Placement(executor=finished[3]), progress=False)  # fmt: skip
    assert digest_tree(out) == snapshot


class _OrderExecutor:
    """Records the order in which a sweep hands out its trials; trains nothing."""

    seen: list[str] = []

    def connect(self, placement):
        import contextlib

        return contextlib.nullcontext({"CPU": 2.0, "GPU": 0.0, "node_CPU": 2.0, "node_GPU": 0.0})

    def run(self, job, recorder):
        _OrderExecutor.seen = [t.key for t in job.trials]


def test_trials_are_handed_out_round_robin_across_spaces(tmp_path, monkeypatch):
    from designspace.sweep import EXECUTORS

    monkeypatch.setitem(EXECUTORS, "order", f"{__name__}:_OrderExecutor")
    config = tiny(spaces=("AnyNetXE", "AnyNetXA", "AnyNetXB"), n=3)
    run_sweep(config, tmp_path / "order", Placement(executor="order"), progress=False)
    pairs = [(k.split("|")[0], int(k.split("|")[1])) for k in _OrderExecutor.seen]
    spaces = ["AnyNetXE", "AnyNetXA", "AnyNetXB"]
    assert pairs == [(s, i) for i in range(3) for s in spaces]


def test_faults_become_rows_and_the_sweep_goes_on(tmp_path, executor):
    config = tiny(n=5, max_failures=1)
    ids = list(plan_sweep(config).arch_id)
    faults = {ids[0]: "always", ids[1]: "oom", ids[2]: "diverge", ids[4]: "crash_once"}
    (tmp_path / "marks").mkdir()
    trainer = FaultyTrainer(faults, marks=str(tmp_path / "marks"))
    frame = run_sweep(
        config, tmp_path / "faults", Placement(executor=executor), progress=False, trainer=trainer
    )
    by_id = frame.set_index("arch_id")
    assert len(frame) == 5
    always = by_id.loc[ids[0]]
    assert always.status == "failed" and always.error == "RuntimeError: injected fault"
    assert always.attempt == 2  # the first try and max_failures = 1 retry
    assert by_id.loc[ids[1], "status"] == "failed" and by_id.loc[ids[1], "attempt"] == 1
    assert by_id.loc[ids[1], "error"].startswith("out of memory: CUDA out of memory")
    assert by_id.loc[ids[2], "status"] == "diverged" and "non-finite" in by_id.loc[ids[2], "error"]
    assert by_id.loc[ids[3], "status"] == "ok" and by_id.loc[ids[3], "attempt"] == 1
    # A worker process that died costs its trial one retry.
    assert by_id.loc[ids[4], "status"] == "ok" and by_id.loc[ids[4], "attempt"] == 2


def test_a_deadline_stops_starting_trials_and_the_sweep_resumes(tmp_path, executor):
    config = tiny(n=1)
    out = tmp_path / "late"
    info: dict = {}
    placement = Placement(executor=executor)
    frame = run_sweep(config, out, placement, progress=False, info=info, deadline=0)
    assert len(frame) == 0 and info["run"].missing == 1 and info["run"].stopped_at_deadline
    assert (out / "sweep.json").exists()  # a sweep that has started, resumable
    frame = run_sweep(config, out, placement, progress=False, info=info)
    assert len(frame) == 1 and info["run"].missing == 0 and not info["run"].stopped_at_deadline


NODE_LOSS = textwrap.dedent(
    """
    import json, os, threading, time
    import ray
    from ray.cluster_utils import Cluster
    from designspace.formats import results as res
    from designspace.core.regimes import get_regime
    from designspace.sweep import Placement, SweepConfig, run_sweep
    from designspace.training.train import TrainConfig, train

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
    r = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=240,
        env=ENV,
        start_new_session=True,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["nodes"] == 1  # the head survives
    assert report["rows"] == 4 and report["keys"] == 4 and report["status"] == ["ok"]
    assert max(report["attempts"]) == 2  # the trial on the lost node ran again elsewhere
