"""Rank agreement between two result sets over the same architectures."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from designspace.analysis import join_results, rank_agreement
from designspace.errors import DesignSpaceError


def results(ids, errors, status="ok"):
    return pd.DataFrame({"arch_id": ids, "val_top1_err": errors, "status": status})


def test_rank_agreement_values_match_scipy():
    rng = np.random.default_rng(0)
    ids = [f"m{i}" for i in range(200)]
    long = rng.random(200)
    short = long + rng.normal(0, 0.2, 200)
    out = rank_agreement(results(ids, short), results(ids[::-1], long[::-1]), n_boot=300)
    assert out.loc["spearman", "value"] == pytest.approx(stats.spearmanr(short, long).statistic)
    assert out.loc["kendall", "value"] == pytest.approx(stats.kendalltau(short, long).statistic)
    for s in ("spearman", "kendall", "top_20", "top_50"):
        assert out.loc[s, "ci_low"] <= out.loc[s, "value"] <= out.loc[s, "ci_high"]
    top = set(np.argsort(short)[:20]) & set(np.argsort(long)[:20])
    assert out.loc["top_20", "value"] == pytest.approx(len(top) / 20)
    assert out.loc["top_20", "chance"] == pytest.approx(0.1) and out["n"].iloc[0] == 200


def test_identical_and_independent_sets():
    rng = np.random.default_rng(1)
    ids = [f"m{i}" for i in range(100)]
    e = rng.random(100)
    same = rank_agreement(results(ids, e), results(ids, e), n_boot=200)
    np.testing.assert_allclose(same["value"], 1.0)
    indep = rank_agreement(results(ids, e), results(ids, rng.random(100)), n_boot=300)
    assert indep.loc["spearman", "ci_low"] < 0 < indep.loc["spearman", "ci_high"]


def test_join_averages_repeats_drops_failed_and_needs_overlap():
    a = results(["x", "x", "y", "z", "u", "v", "w"], [0.1, 0.3, 0.5, 0.4, 0.6, 0.7, 0.8])
    b = results(["x", "y", "z", "u", "v", "w", "q"], [0.2, 0.6, 0.5, 0.6, 0.9, 0.8, 0.1])
    b.loc[6, "status"] = "failed"
    j = join_results(a, b)
    assert j.loc["x", "a"] == pytest.approx(0.2) and "q" not in j.index and len(j) == 6
    with pytest.raises(DesignSpaceError, match="at least 5"):
        join_results(a.iloc[:3], b)
