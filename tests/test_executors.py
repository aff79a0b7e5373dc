"""The executor seam: a new executor is one registry entry and one module; the local
executor's placement on GPUs and its handling of workers that die."""

from __future__ import annotations

import pytest
from sweep_support import always_crash, tiny

from designspace.errors import DesignSpaceError
from designspace.sweep import EXECUTORS, Placement, get_executor, run_sweep
from designspace.sweep.local_executor import _gpu_slots


def test_a_new_executor_is_one_registry_entry(tmp_path, monkeypatch):
    monkeypatch.setitem(EXECUTORS, "inline", "sweep_support:InlineExecutor")
    info: dict = {}
    frame = run_sweep(
        tiny(n=2), tmp_path / "o", Placement(executor="inline"), progress=False, info=info
    )
    assert len(frame) == 2 and set(frame.status) == {"ok"} and info["run"].missing == 0
    assert type(get_executor("inline")).__name__ == "InlineExecutor"


def test_unknown_executors_are_refused_with_a_suggestion():
    with pytest.raises(DesignSpaceError, match="did you mean 'local'"):
        get_executor("locale")
    with pytest.raises(DesignSpaceError, match="unknown executor"):
        Placement(executor="condor")


def test_gpu_shares_spread_workers_over_the_cards(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert _gpu_slots(5, 0.25) == ["0", "0", "0", "0", "1"]  # four trials per card
    assert _gpu_slots(3, 0.5) == ["0", "0", "1"]
    assert _gpu_slots(2, 1.0) == ["0", "1"]
    assert _gpu_slots(1, 2.0) == ["0,1"]
    assert _gpu_slots(2, 0.0) == [None, None]  # CPU trials leave the variable alone


def test_a_worker_that_always_dies_gives_a_failed_row(tmp_path):
    frame = run_sweep(
        tiny(n=1, max_failures=1), tmp_path / "o", Placement(executor="local"),
        progress=False, trainer=always_crash,
    )  # fmt: skip
    row = frame.iloc[0]
    assert row.status == "failed" and row.attempt == 2
    assert row.error == "the worker process died (exit code 7)"
