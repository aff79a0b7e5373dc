"""Noise floor and seed agreement from seed replicates, against direct computation."""

import numpy as np
import pandas as pd
import pytest

from designspace.analysis import noise_floor, noise_table, seed_agreement
from designspace.errors import DesignSpaceError


def replicates(n_arch=40, seeds=(0, 1, 2), sd=0.01, seed=0):
    rng = np.random.default_rng(seed)
    true = rng.normal(0.25, 0.03, n_arch)
    rows = [
        dict(arch_id=f"a{i}", cfg_seed=s, val_top1_err=true[i] + rng.normal(0, sd), status="ok")
        for i in range(n_arch)
        for s in seeds
    ]
    return pd.DataFrame(rows)


def test_pooled_sd_matches_direct_formula_and_covers_truth():
    data = replicates()
    nf = noise_floor(data)
    g = data.groupby("arch_id")["val_top1_err"]
    direct = np.sqrt(g.var(ddof=1).mean())  # equal seeds per arch: mean of variances
    assert nf.sd == pytest.approx(direct)
    assert nf.dof == 80 and nf.n_archs == 40 and nf.n_runs == 120
    assert nf.sd_low < 0.01 < nf.sd_high
    assert nf.ratio(0.02) == pytest.approx(0.02 / nf.sd)
    assert "seed-to-seed sd" in nf.describe(0.012)
    t = noise_table(data)
    assert (t["n_seeds"] == 3).all() and len(t) == 40


def test_seed_agreement_is_high_when_noise_is_small():
    agree = seed_agreement(replicates(sd=0.002))
    assert len(agree) == 3 and (agree["spearman"] > 0.9).all()
    noisy = seed_agreement(replicates(sd=0.05))
    assert (noisy["spearman"] < agree["spearman"].min()).all()


def test_noise_floor_needs_replicates():
    single = replicates(seeds=(0,))
    with pytest.raises(DesignSpaceError, match="two or more seeds"):
        noise_floor(single)
    doubled = pd.concat([replicates(), replicates()])
    with pytest.raises(DesignSpaceError, match="repeat"):
        noise_floor(doubled)
    with pytest.raises(DesignSpaceError, match="needs column"):
        noise_floor(single.drop(columns="cfg_seed"))


def test_replicates_given_apart_give_the_noise_floor_and_enter_no_comparison(tmp_path):
    # analyze(noise_runs=...) / `designspace analyze --noise DIR`: the compared populations
    # stay as they are; every effect is also quoted in units of the replicates' sd.
    from designspace.reporting.report import analyze

    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "space": ["A"] * 30 + ["B"] * 30,
            "arch_id": [f"m{i}" for i in range(60)],
            "cfg_seed": 0,
            "val_top1_err": np.r_[rng.normal(0.25, 0.02, 30), rng.normal(0.22, 0.02, 30)],
            "status": "ok",
        }
    )
    noise = replicates(n_arch=10, sd=0.01)
    rep = analyze(data, tmp_path / "a", n_boot=300, formats=("png",), noise_runs=noise)
    nf = noise_floor(noise)
    pair = rep.tables["pairwise"].iloc[0]
    assert pair["n_a"] + pair["n_b"] == 60  # the 30 replicate runs compared nowhere
    assert pair["diff_over_noise"] == pytest.approx(pair["median_diff"] / nf.sd)
    text = (tmp_path / "a" / "report.md").read_text()
    assert "given apart with --noise" in text
    without = analyze(data, tmp_path / "b", n_boot=300, formats=("png",))
    assert np.isnan(without.tables["pairwise"].iloc[0]["diff_over_noise"])
