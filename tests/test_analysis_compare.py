"""compare(): summary, area under the EDF, KS tests and verdicts; sample-size sensitivity."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from synthetic import make_results

from designspace.analysis import area_under_edf, compare, ks_test, sample_size_sensitivity
from designspace.errors import DesignSpaceError


def frame(groups: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = [
        dict(space=k, val_top1_err=float(x), status="ok", flops=1e8 + i * 1e6)
        for k, v in groups.items()
        for i, x in enumerate(v)
    ]
    return pd.DataFrame(rows)


def test_compare_table_matches_numpy_and_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(0.40, 0.02, 120)
    b = rng.normal(0.40, 0.02, 90)
    c = rng.normal(0.37, 0.02, 100)
    cmp = compare(frame({"A": a, "B": b, "C": c}), reference="A")
    t = cmp.table
    for name, v in zip("ABC", (a, b, c), strict=True):
        q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
        assert t.loc[name, ["n", "min", "q1", "median", "q3", "mean"]].tolist() == pytest.approx(
            [v.size, v.min(), q1, med, q3, v.mean()]
        )
        if name != "A":
            r = stats.ks_2samp(v, a)
            assert t.loc[name, "ks_ref"] == pytest.approx(r.statistic)
            assert t.loc[name, "p_ref"] == pytest.approx(r.pvalue)
    assert t.loc["A", "verdict_ref"] == "reference"
    assert t.loc["B", "verdict_ref"] == "indistinguishable"
    assert t.loc["C", "verdict_ref"] == "better"
    pairs = cmp.pairs.set_index(["a", "b"])
    assert pairs.loc[("A", "C"), "verdict"] == "worse"
    assert pairs.loc[("B", "C"), "verdict"] == "worse"
    assert pairs.loc[("A", "B"), "ks"] == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert len(cmp.pairs) == 3 and "pairwise" in str(cmp)


def test_area_under_edf_is_mean_of_edf_over_common_range():
    rng = np.random.default_rng(1)
    v = rng.random(50) * 0.3 + 0.2
    lo, hi = 0.15, 0.55
    grid = np.linspace(lo, hi, 200_001)
    direct = np.mean([(v <= g).mean() for g in grid[::100]])
    assert area_under_edf(v, lo, hi) == pytest.approx(direct, abs=2e-3)
    # compare(): common range = pooled min/max, better group has the larger area
    cmp = compare(frame({"A": v, "B": v - 0.05}))
    assert cmp.error_range == (pytest.approx(v.min() - 0.05), pytest.approx(v.max()))
    assert cmp.table.loc["B", "auc"] > cmp.table.loc["A", "auc"]


def test_weighted_ks_with_unit_weights_is_the_asymptotic_test():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=80), rng.normal(0.4, size=60)
    r = ks_test(a, b, np.ones(80), np.ones(60))
    s = stats.ks_2samp(a, b, method="asymp")
    assert (r.statistic, r.pvalue) == (pytest.approx(s.statistic), pytest.approx(s.pvalue))
    assert r.sign == 1  # a has the larger EDF: smaller values


def test_normalized_compare_runs_and_reports_range():
    data = make_results(("AnyNetXA", "AnyNetXE"), n=60, seed=3)
    cmp = compare(data, normalize=True, bins=4)
    assert cmp.normalized and set(cmp.table.index) == {"AnyNetXA", "AnyNetXE"}
    assert (cmp.table["n"] <= 60).all()


def test_compare_bad_input():
    rng = np.random.default_rng(3)
    one = frame({"A": rng.random(20)})
    with pytest.raises(DesignSpaceError, match="at least two groups"):
        compare(one)
    with pytest.raises(DesignSpaceError, match="needs column"):
        compare(one.drop(columns="space"))
    with pytest.raises(DesignSpaceError, match="empty"):
        compare(one.iloc[:0])
    failed = frame({"A": rng.random(5), "B": rng.random(5)}).assign(status="failed")
    with pytest.raises(DesignSpaceError, match="none of the 10 models is usable"):
        compare(failed)
    with pytest.raises(DesignSpaceError, match="reference"):
        compare(frame({"A": rng.random(5), "B": rng.random(5)}), reference="Z")


def test_failed_rows_are_excluded_and_counted():
    rng = np.random.default_rng(4)
    data = frame({"A": rng.random(30), "B": rng.random(30)})
    data.loc[:4, "status"] = "diverged"
    cmp = compare(data)
    assert cmp.table.loc["A", "n"] == 25 and cmp.n_excluded == 5
    assert "diverged 5" in cmp.notes[0]


def test_sample_size_sensitivity_shrinks_with_k():
    rng = np.random.default_rng(5)
    out = sample_size_sensitivity(
        frame({"A": rng.random(400), "B": rng.random(3)}), n_rep=50, seed=1
    )
    assert set(out["group"]) == {"A"}  # B is too small for two disjoint subsamples
    assert list(out.columns) == ["group", "k", "ks_mean", "ks_lo", "ks_hi", "n_rep"]
    assert out["k"].max() <= 200
    first, last = out.iloc[0], out.iloc[-1]
    assert last.ks_mean < first.ks_mean and last.ks_mean < 0.15
    assert (out["ks_lo"] <= out["ks_mean"]).all() and (out["ks_mean"] <= out["ks_hi"]).all()
    with pytest.raises(DesignSpaceError, match="at least 4 models"):
        sample_size_sensitivity(frame({"A": rng.random(3)}))
