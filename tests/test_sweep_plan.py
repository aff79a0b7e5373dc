"""Sweep planning, dry run and argument checks: nothing here starts an executor."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from sweep_support import CLI_TINY, ENV, REGIME, TINY, probe_refusals, tiny

from designspace.cli import main
from designspace.core.complexity import complexity
from designspace.core.sampling import sample
from designspace.errors import DesignSpaceError
from designspace.sweep import Placement, SweepConfig, describe_plan, plan_sweep


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
    from designspace.formats.archfile import write_table

    write_table(sample("AnyNetXB", 4, seed=5, regime=REGIME).to_frame(), samples)
    from_file = plan_sweep(SweepConfig(samples=str(samples), train=TINY))
    assert list(from_file.space) == ["AnyNetXB"] * 4 and list(from_file.sample_seed) == [5] * 4
    assert list(from_file.arch_id) == [a.id for a in sample("AnyNetXB", 4, 5, REGIME).archs]


def test_planning_and_dry_run_import_neither_torch_nor_ray(tmp_path):
    code = (
        "import sys\n"
        "from designspace.cli import main\n"
        f"rc = main(['sweep', '--space', 'AnyNetXA', '-n', '2', '--max-steps', '5', "
        f"*{CLI_TINY!r}, '--out', {str(tmp_path / 'o')!r}, '--dry-run'])\n"
        "print(rc, 'torch' in sys.modules, 'ray' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert r.stdout.split()[-3:] == ["0", "False", "False"], r.stderr[-2000:]
    assert "to run: 2 of 2" in r.stdout and not (tmp_path / "o").exists()


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "study"
    code = main(
        ["sweep", "--space", "AnyNetXA", "--space", "AnyNetXC", "-n", "3", "--max-steps", "5",
         *CLI_TINY, "--out", str(out), "--dry-run", "--executor", "local"]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0 and not out.exists()
    assert "AnyNetXA: 3 configurations" in text and "AnyNetXC: 3 configurations" in text
    assert "concurrency: " in text and "multiply-adds" in text and "to run: 6 of 6" in text
    assert "executor: local" in text
    est = describe_plan(tiny(n=3), Placement(cpus_per_trial=0.5), available={"CPU": 4, "GPU": 0})
    assert "concurrency: 8 trials" in est


def test_bad_input_is_refused_before_ray_or_torch_is_imported(tmp_path):
    out = tmp_path / "study"
    base = ["sweep", "--space", "AnyNetXA", "-n", "2", *CLI_TINY, "--out", str(out)]
    cases = [
        # nothing listens on the discard port: refused before Ray is even imported
        (["--address", "127.0.0.1:9"], "cannot reach a Ray cluster"),
        (["--address", "nonsense"], "HOST:PORT"),
        (["--samples", str(tmp_path / "none.parquet")], "-n samples a space"),
        (["--subset", "70000"], "subset 70000 is not in 1..60000"),
        (["--cpus-per-trial", "0"], "--cpus-per-trial must be a number > 0"),
        (["--cpus-per-trial", "-2"], "--cpus-per-trial must be a number > 0"),
        (["--cpus-per-trial", "nan"], "--cpus-per-trial must be a number > 0"),
        (["--gpus-per-trial", "1.5"], "fraction"),
        (["--gpus-per-trial", "-1"], "fraction"),
        (["--max-concurrent", "0"], "--max-concurrent must be an integer >= 1"),
        (["--max-failures", "-1"], "--max-failures must be >= 0"),
        (["--executor", "local", "--address", "auto"], "drop --address"),
        (["--resize", "12", "--stem", "simple"], "cannot train"),
    ]
    report = probe_refusals([[*base, *extra] for extra, _ in cases])
    for (extra, message), got in zip(cases, report["cases"], strict=True):
        lines = got["stderr"].strip().splitlines()
        assert got["rc"] == 2 and len(lines) == 1 and message in lines[0], (extra, got)
    assert not report["ray"] and not report["torch"]
    assert not out.exists()


def test_bad_input_exits_2_and_touches_nothing(tmp_path, capsys):
    out = tmp_path / "study"
    base = ["sweep", "--space", "AnyNetXA", "-n", "2", *CLI_TINY, "--out", str(out)]
    # Checked against this machine (more GPUs than it has) and its data files (opened).
    for extra, message in (
        (["--gpus-per-trial", "1"], "more GPUs than any node has"),
        (["--data-root", str(tmp_path / "no_data")], "is missing"),
    ):
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    assert main(["sweep", "--space", "AnyNetXA", "--out", str(out)]) == 2
    assert "needs -n" in capsys.readouterr().err
    assert not out.exists()


def test_placement_checks_its_values():
    for bad in (
        {"cpus_per_trial": 0},
        {"cpus_per_trial": True},
        {"gpus_per_trial": float("inf")},
        {"max_concurrent": 1.5},
        {"executor": "rya"},
        {"address": "host:99999"},
    ):
        with pytest.raises(DesignSpaceError):
            Placement.from_values(bad)
    with pytest.raises(DesignSpaceError, match="did you mean 'ray'"):
        Placement(executor="rya")
