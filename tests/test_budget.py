"""Budgeted studies: durations, the planning arithmetic, and a budgeted sweep that plans, stops
at its budget and resumes (tiny models on the session's Ray, a handful of steps each)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hostile import refused
from sweep_support import TINY, digest_tree, keys_of, tiny

from designspace.errors import DesignSpaceError
from designspace.studies import budget as bud
from designspace.studies.study import budgeted_sweep, done_rounds, study_from_dict
from designspace.sweep import Placement, plan_sweep


@pytest.mark.parametrize(
    "text, seconds",
    [("90", 90), ("90s", 90), ("10m", 600), ("1.5h", 5400), ("1h30m", 5400), ("2m30s", 150),
     (" 2M ", 120), (".5m", 30)],
)  # fmt: skip
def test_durations(text, seconds):
    assert bud.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten minutes", "10x", "0", "0m", "-5m", "5m10", "m", "nan"])
def test_bad_durations_are_refused(text):
    with pytest.raises(DesignSpaceError, match="budget"):
        bud.parse_duration(text)


def test_format_duration():
    assert [bud.format_duration(s) for s in (0, 42.4, 185, 3720)] == ["0s", "42s", "3m05s", "1h02m"]


def test_speed_from_a_measured_round():
    # Two models at once took 20 s and 24 s; the call took 31 s: 22 s each, 9 s to start.
    s = bud.measure_speed([20.0, 24.0], concurrency=2, wall_s=31.0)
    assert s.seconds_per_model == 22.0 and s.concurrency == 2
    assert s.overhead_s == pytest.approx(31.0 - 24.0)  # one wave: the slowest model
    assert s.models_per_hour == pytest.approx(3600 * 2 / 22)
    # Three waves of one slot each: the median per wave.
    s = bud.measure_speed([10.0, 11.0, 30.0], concurrency=1, wall_s=40.0)
    assert s.seconds_per_model == 11.0 and s.overhead_s == pytest.approx(7.0)
    with pytest.raises(DesignSpaceError, match="no model was trained"):
        bud.measure_speed([], 2, 5.0)
    with pytest.raises(DesignSpaceError):
        bud.Speed(0.0, 1)


def test_seconds_for_counts_whole_waves():
    s = bud.Speed(10.0, concurrency=4, overhead_s=5.0)
    assert s.seconds_for(0) == 0
    assert s.seconds_for(1) == 15 and s.seconds_for(4) == 15 and s.seconds_for(5) == 25


@pytest.mark.parametrize("spaces, conc, per_model, overhead, remaining, done, n_max", [
    (2, 2, 10.0, 5.0, 120.0, 1, None),
    (2, 2, 10.0, 5.0, 120.0, 1, 4),
    (6, 16, 3.0, 12.0, 600.0, 3, None),
    (3, 1, 7.5, 0.0, 100.0, 0, None),
    (2, 2, 10.0, 5.0, 4.0, 1, None),   # not even the overhead fits
    (2, 4, 10.0, 0.0, 1000.0, 30, 24),  # more done than the cap
])  # fmt: skip
def test_plan_is_the_largest_n_that_fits(spaces, conc, per_model, overhead, remaining, done, n_max):
    speed = bud.Speed(per_model, conc, overhead)
    plan = bud.plan_budget(remaining, speed, spaces, done, n_max)
    assert plan.n >= done and plan.new_models == spaces * (plan.n - done)
    assert plan.eta_s == speed.seconds_for(plan.new_models) <= max(remaining, 0)
    if n_max is not None:
        assert plan.n <= max(n_max, done)
    if not plan.capped:  # one more round would not fit
        assert speed.seconds_for(spaces * (plan.n + 1 - done)) > remaining
    assert plan.deadline_s == pytest.approx(max(0.0, remaining - per_model))


def test_plan_by_hand():
    # 2 spaces, 2 at a time, 10 s per model, 5 s to start, 120 s left, 1 round done:
    # n rounds more cost 5 + 10 n s -> 11 rounds (115 s), n = 12.
    plan = bud.plan_budget(120.0, bud.Speed(10.0, 2, 5.0), spaces=2, done=1)
    assert (plan.n, plan.new_models, plan.eta_s, plan.capped) == (12, 22, 115.0, False)
    capped = bud.plan_budget(120.0, bud.Speed(10.0, 2, 5.0), spaces=2, done=1, n_max=8)
    assert (capped.n, capped.capped, capped.eta_s) == (8, True, 75.0)
    # A faster machine (4 at a time) fits twice the rounds in the same time.
    assert bud.plan_budget(120.0, bud.Speed(10.0, 4, 5.0), 2, 1).n == 1 + 22


def test_a_study_file_budget_is_checked():
    base = {"name": "x", "spaces": ["AnyNetXA"], "n": 2, "regime": "fashion-mnist", "out": "o"}
    assert study_from_dict({**base, "budget": "10m"}).budget == "10m"
    with pytest.raises(DesignSpaceError, match="'budget'"):
        study_from_dict({**base, "budget": "ten"})
    with pytest.raises(DesignSpaceError, match="'budget' must be"):
        study_from_dict({**base, "budget": 600})


def test_budget_flags_are_refused_before_anything_starts(tmp_path):
    out = tmp_path / "d"
    for flag in ("10x", "0", "-1m"):
        message = refused("demo", f"--budget={flag}", "--out", str(out), watch=[tmp_path])
        assert "--budget" in message
    assert not out.exists()


@pytest.fixture
def placement():
    """The local executor: the budget logic does not depend on the executor, and Ray Tune's
    start per round (10-70 s on 2 busy cores) made these the slowest tests of the suite.
    tests/test_sweep.py runs deadlines, growth and resumption through Ray."""
    return Placement(executor="local")


def test_a_budgeted_sweep_plans_trains_round_robin_and_resumes(tmp_path, placement):
    config = tiny(spaces=("AnyNetXA", "AnyNetXE"), n=3, name="b")
    out = tmp_path / "b"
    lines: list[str] = []
    frame = budgeted_sweep(config, out, placement, 3600.0, progress=False, say=lines.append)
    # Plenty of time: capped at n = 3 per space, every model trained once.
    assert keys_of(frame) == keys_of(plan_sweep(config)) and set(frame.status) == {"ok"}
    assert lines[0].startswith("budget 1h00m: training ends by")
    assert "first 2 model(s) (1 per space, 2 at a time)" in lines[0]
    assert "plan: 3 model(s) per space of at most 3, 4 more to train, ETA" in lines[1]
    assert done_rounds(config, out) == 3
    before = digest_tree(out / "results")
    # A bigger study resumed with a budget continues the same sweep: nothing retrained.
    bigger = replace(config, n=4)
    frame = budgeted_sweep(bigger, out, placement, 3600.0, progress=False, say=lines.append)
    assert len(frame) == 8 and set(frame.sample_index) == {0, 1, 2, 3}
    after = digest_tree(out / "results")
    assert {k: after[k] for k in before} == before and len(after) == 8
    assert done_rounds(bigger, out) == 4
    lines.clear()
    frame = budgeted_sweep(bigger, out, placement, 60.0, progress=False, say=lines.append)
    assert lines == ["all 4 models per space are already trained; nothing to train"]
    assert len(frame) == 8 and digest_tree(out / "results") == after


def test_a_budget_that_ends_stops_cleanly_and_resumes(tmp_path, placement):
    config = tiny(spaces=("AnyNetXA", "AnyNetXE"), n=2, name="late")
    out = tmp_path / "late"
    lines: list[str] = []
    frame = budgeted_sweep(config, out, placement, 1e-6, progress=False, say=lines.append)
    assert len(frame) == 0 and "budget ended during the first round" in lines[-1]
    assert (out / "sweep.json").exists() and done_rounds(config, out) == 0
    frame = budgeted_sweep(config, out, placement, 3600.0, progress=False, say=lines.append)
    assert len(frame) == 4 and done_rounds(config, out) == 2


def test_done_rounds_counts_complete_leading_rounds(tmp_path, placement):
    from designspace.sweep import run_sweep

    config = tiny(spaces=("AnyNetXA", "AnyNetXE"), n=2, name="r")
    out = tmp_path / "r"
    assert done_rounds(config, out) == 0
    # A sweep of 1 per space, then a bigger plan: one complete round.
    run_sweep(replace(config, n=1), out, placement, progress=False)
    assert done_rounds(config, out) == 1
    with pytest.raises(DesignSpaceError, match="different sweep"):
        done_rounds(replace(config, train=replace(TINY, lr=0.05)), out)
    assert math.isfinite(bud.plan_budget(10.0, bud.Speed(1.0, 2), 2, 1).eta_s)
