"""designspace refine: the loop end to end with a stand-in trainer whose error has a planted
truth (stage widths that grow lower the error), on the local executor."""

import subprocess
import sys
import zlib

import numpy as np
import pandas as pd
import pytest
import yaml

from designspace.core.spaces import load_space
from designspace.errors import DesignSpaceError
from designspace.studies.refine import RefineSettings, refine
from designspace.sweep import Placement, SweepConfig, run_sweep
from designspace.training.train import TrainConfig, TrainResult

REGIME = "fashion-mnist-small"
LOCAL = {"executor": "local", "max_concurrent": 2}


def planted_trainer(arch, config, data=None, **_):
    """Error 0.30 - 0.06 x (share of stage steps whose width grows) + noise (sd 0.01) from
    the architecture: widths that grow help; nothing else does."""
    w = arch.widths
    grow = np.mean([b >= a for a, b in zip(w, w[1:], strict=False)])
    noise = np.random.default_rng(zlib.crc32(arch.to_json().encode())).normal(0, 0.01)
    err = float(0.30 - 0.06 * grow + noise)
    return TrainResult(
        status="ok", val_top1_err=err, best_val_top1_err=err, val_top5_err=err / 3,
        train_loss=0.5, epoch_train_loss=[0.5], epoch_val_top1_err=[err],
        epoch_val_top5_err=[err / 3], train_time_s=0.01, images_per_s=1.0,
        peak_memory_mb=1.0, device="cpu", steps=1, epochs_done=1.0,
    )  # fmt: skip


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    out = tmp_path_factory.mktemp("refine") / "population"
    config = SweepConfig(
        spaces=("AnyNetXA",), n=80, seed=0, regime=REGIME, train=TrainConfig(max_steps=1)
    )
    run_sweep(config, out, Placement(**LOCAL), progress=False, trainer=planted_trainer)
    return out


@pytest.fixture(scope="module")
def loop(population, tmp_path_factory):
    out = tmp_path_factory.mktemp("refine-out") / "loop"
    lines: list[str] = []
    result = refine(
        population, "AnyNetXA", out, RefineSettings(confirm=50, rounds=2, share_draws=100),
        placement_overrides=LOCAL, progress=False, say=lines.append, trainer=planted_trainer,
    )  # fmt: skip
    return result, out, lines


def test_the_planted_constraint_is_adopted_and_confirmed_on_fresh_models(loop):
    result, out, _ = loop
    first = result.rounds[0]
    assert first.adopted is not None and first.adopted.id == "monotone:width:increasing"
    c = first.confirmation
    assert c is not None and c.confirmed and c.n_parent == c.n_refined == 50
    assert c.diff < 0 and c.diff_high < 0 and c.p_value < 0.05
    assert c.overlap == 0  # the fresh parent models are not the population again
    assert result.final.name == "AnyNetXA_r1"
    table = pd.read_csv(out / "rounds.csv")
    assert table.loc[0, "constraint"] == "monotone:width:increasing"
    assert bool(table.loc[0, "confirmed"]) and bool(table.loc[0, "kept"])


def test_the_loop_stops_when_nothing_more_is_supported(loop):
    result, _, lines = loop
    assert len(result.rounds) == 2
    second = result.rounds[1]
    assert second.parent.name == "AnyNetXA_r1" and second.adopted is None
    assert second.stopped == "nothing supported"
    assert second.n_population == 50  # round 1's fresh models of the refined space
    assert any("the loop stops" in line for line in lines)


def test_outputs_candidates_refined_space_and_log(loop):
    result, out, _ = loop
    cands = pd.read_csv(out / "candidates.csv")
    assert {"round", "constraint", "adopted", "verdict", "rho", "p_adjusted"} <= set(cands)
    assert cands["adopted"].sum() == 1
    assert (cands[cands["round"] == 1]["constraint"] == "monotone:width:increasing").any()
    # refined.yaml is the root with the kept constraint, and every draw satisfies it
    space = load_space(out / "refined.yaml")
    assert ("width", "increasing") in space.monotone
    from designspace.core.sampling import sample

    for arch in sample(space, 30, seed=5, regime=REGIME).archs:
        assert all(b >= a for a, b in zip(arch.widths, arch.widths[1:], strict=False))
    log = (out / "log.md").read_text()
    assert "round 1:" in log and "confirmed" in log and "Brunner-Munzel" in log
    assert (out / "round-1" / "edf.png").stat().st_size > 1000
    assert (out / "round-1" / "balance.csv").is_file()
    assert (out / "round-1" / "confirm" / "sweep.json").is_file()
    assert "# Design-space refinement: AnyNetXA" in (out / "report.md").read_text()


def test_rerunning_resumes_without_training_again(loop, population):
    result, out, _ = loop
    before = (out / "candidates.csv").read_bytes()
    calls = []

    def counting(arch, config, data=None, **kw):
        calls.append(arch)
        return planted_trainer(arch, config, data, **kw)

    published = []

    def watch(line):  # while the rerun re-derives round 2, round 1's rerun has not shrunk it
        if line.startswith("round 2:"):
            published.append(len(pd.read_csv(out / "rounds.csv")))

    again = refine(
        population, "AnyNetXA", out, RefineSettings(confirm=50, rounds=2, share_draws=100),
        placement_overrides={"executor": "local", "max_concurrent": 1}, progress=False,
        say=watch, trainer=counting,
    )  # fmt: skip
    assert calls == [] and again.final.name == result.final.name
    assert published and set(published) == {2}
    assert (out / "candidates.csv").read_bytes() == before


def test_in_sample_only_ranks_and_writes_a_refined_space(population, tmp_path):
    result = refine(
        population, "AnyNetXA", tmp_path / "ins", RefineSettings(share_draws=100),
        say=lambda _: None,
    )  # fmt: skip
    assert len(result.rounds) == 1 and result.rounds[0].confirmation is None
    assert result.rounds[0].adopted.id == "monotone:width:increasing"
    data = yaml.safe_load((tmp_path / "ins" / "refined.yaml").read_text())
    assert data["monotone"] == {"width": "increasing"}


def test_bad_input_is_refused_before_anything_is_written(population, tmp_path):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("my notes")
    with pytest.raises(DesignSpaceError, match="did not write"):
        refine(population, "AnyNetXA", user, say=lambda _: None)
    assert [p.name for p in user.iterdir()] == ["notes.txt"]
    with pytest.raises(DesignSpaceError, match="no models of space"):
        refine(population, "AnyNetXE", tmp_path / "e", say=lambda _: None)
    with pytest.raises(DesignSpaceError, match="at least 50"):
        RefineSettings(confirm=10)
    with pytest.raises(DesignSpaceError, match="needs --confirm"):
        RefineSettings(rounds=2)
    with pytest.raises(DesignSpaceError, match="error column"):
        RefineSettings(metric="flops")
    with pytest.raises(DesignSpaceError, match="population's own sampling seed"):
        refine(population, "AnyNetXA", tmp_path / "s", RefineSettings(confirm=50, seed=0),
               placement_overrides=LOCAL, say=lambda _: None)  # fmt: skip


def test_the_command_line_refuses_bad_input_in_one_line(population, tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "designspace", "refine", str(population), "--space", "AnyNetXA",
         "--out", str(tmp_path / "o"), "--confirm", "5"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "at least 50" in r.stderr
    assert not (tmp_path / "o").exists()


def slow_trainer(arch, config, data=None, **kw):
    import time

    time.sleep(0.05)
    return planted_trainer(arch, config, data, **kw)


def test_a_budget_that_ends_leaves_the_round_unfinished_and_adopts_nothing(population, tmp_path):
    lines: list[str] = []
    result = refine(
        population, "AnyNetXA", tmp_path / "b",
        RefineSettings(confirm=50, share_draws=100, budget=1.0),
        placement_overrides=LOCAL, progress=False, say=lines.append, trainer=slow_trainer,
    )  # fmt: skip
    r = result.rounds[0]
    assert r.adopted is not None and r.stopped == "unfinished" and not r.kept
    assert result.final.name == "AnyNetXA"
    assert any("rerun the same command to resume" in line for line in lines)
    assert not pd.read_csv(tmp_path / "b" / "rounds.csv").loc[0, "kept"]
