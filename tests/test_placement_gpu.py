"""GPU placement without a GPU: trials with a GPU share on Ray's *logical* GPUs, and on the local
executor with CUDA_VISIBLE_DEVICES naming cards that are not there.

A recording trainer (tests/placement_support.py) notes each trial's CUDA_VISIBLE_DEVICES, Ray's
GPU ids and how many trials were running at once (the first wave waits for all its members, so
the count is observed, not timed). Each case runs in a subprocess: its Ray has other resources
than the session's (tests/conftest.py). The sweep has no memory-per-trial check to test: a GPU
share only decides how many trials go on a card (README, "Sharing a GPU among trials").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent

HEADER = textwrap.dedent(
    """
    import json, os, sys
    os.environ["CUDA_VISIBLE_DEVICES"] = "0,1"  # two cards, as far as the sweep can tell
    from placement_support import PlacementRecorder, records
    from designspace.core.regimes import get_regime
    from designspace.sweep import Placement, SweepConfig, run_sweep
    from designspace.training.trainconfig import TrainConfig

    out, marks = sys.argv[1], sys.argv[2]
    config = SweepConfig(
        spaces=("AnyNetXA",), n=int(sys.argv[3]),
        regime=get_regime("fashion-mnist").with_overrides(stem="small"),
        train=TrainConfig(subset=256, val_subset=100, batch_size=32, max_steps=1),
    )

    def sweep(name, wave, **placement):
        os.makedirs(os.path.join(marks, name))
        info = {}
        frame = run_sweep(
            config, os.path.join(out, name), Placement(**placement), progress=False, info=info,
            trainer=PlacementRecorder(os.path.join(marks, name), wave),
        )
        return {"rows": len(frame), "status": sorted(set(frame.status)),
                "concurrency": info["run"].concurrency,
                "records": records(os.path.join(marks, name))}
    """
)

RAY_CASE = HEADER + textwrap.dedent(
    """
    import ray
    ray.init(num_cpus=8, num_gpus=2, include_dashboard=False, object_store_memory=100 * 2**20,
             log_to_driver=False, logging_level="ERROR")
    result = {
        "quarter": sweep("quarter", 8, gpus_per_trial=0.25),
        "half_capped": sweep("half", 3, gpus_per_trial=0.5, max_concurrent=3),
    }
    ray.shutdown()
    print(json.dumps(result))
    """
)

LOCAL_CASE = HEADER + textwrap.dedent(
    """
    result = {"half": sweep("half", 4, executor="local", gpus_per_trial=0.5, cpus_per_trial=0.5)}
    print(json.dumps(result))
    """
)


def _run(script: str, tmp_path: Path, n: int) -> dict:
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    (tmp_path / "marks").mkdir()
    r = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "out"), str(tmp_path / "marks"), str(n)],
        capture_output=True, text=True, timeout=600, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _check(case: dict, rows: int, wave: int, per_card: int) -> None:
    assert case["rows"] == rows and case["status"] == ["ok"]
    assert case["concurrency"] == wave
    recs = case["records"]
    assert len(recs) == rows and {r["device"] for r in recs} == {"cuda"}
    card = {r["trial"]: r["cuda_visible_devices"] for r in recs}
    assert set(card.values()) <= {"0", "1"}  # one card per trial
    # Whenever a trial looked, never more trials at once than the shares allow, nor more on one
    # card than its shares; the first wave fills every slot.
    assert max(len(r["running"]) for r in recs) == wave
    for r in recs:
        on_card = Counter(card[t] for t in r["running"])
        assert max(on_card.values()) <= per_card, (r, on_card)


def test_ray_packs_trials_onto_logical_gpus_by_their_share(tmp_path):
    result = _run(RAY_CASE, tmp_path, n=9)
    quarter = result["quarter"]
    _check(quarter, rows=9, wave=8, per_card=4)  # 0.25 GPU: 4 per card, 8 on 2 cards
    for r in quarter["records"]:  # Ray's GPU id is the card the trial sees
        assert r["ray_gpu_ids"] == [r["cuda_visible_devices"]]
    card = {r["trial"]: r["cuda_visible_devices"] for r in quarter["records"]}
    full = next(r for r in quarter["records"] if len(r["running"]) == 8)
    assert sorted(Counter(card[t] for t in full["running"]).values()) == [4, 4]
    # 0.5 GPU with --max-concurrent 3: at most 2 per card and 3 at once.
    _check(result["half_capped"], rows=9, wave=3, per_card=2)


def test_local_workers_get_their_card_by_share(tmp_path):
    result = _run(LOCAL_CASE, tmp_path, n=6)
    half = result["half"]
    _check(half, rows=6, wave=4, per_card=2)  # 2 CPUs / 0.5 and 2 cards / 0.5: 4 workers
    by_pid = {r["pid"]: r["cuda_visible_devices"] for r in half["records"]}
    assert sorted(Counter(by_pid.values()).values()) == [2, 2]  # two workers per card
    assert all(r["ray_gpu_ids"] == [] for r in half["records"])
