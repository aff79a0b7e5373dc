"""compare(): summary, area under the EDF, KS tests, adjusted verdicts, effect sizes,
equivalence; calibration on null populations; sample-size sensitivity."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from synthetic import make_results

from designspace.analysis import area_under_edf, compare, ks_test, sample_size_sensitivity
from designspace.analysis.compare import Normalization
from designspace.analysis.inference import Inference
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
    cmp = compare(frame({"A": a, "B": b, "C": c}), reference="A", inference=Inference())
    t = cmp.table
    for name, v in zip("ABC", (a, b, c), strict=True):
        q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
        assert t.loc[name, ["n", "min", "q1", "median", "q3", "mean"]].tolist() == pytest.approx(
            [v.size, v.min(), q1, med, q3, v.mean()]
        )
        if name != "A":
            r = stats.ks_2samp(v, a)
            assert t.loc[name, "ks_ref"] == pytest.approx(r.statistic)
            # the deciding test is Brunner-Munzel (KS stays as the EDF-shape statistic)
            assert t.loc[name, "p_ref"] == pytest.approx(stats.brunnermunzel(v, a).pvalue)
    assert t.loc["A", "verdict_ref"] == "reference"
    assert t.loc["B", "verdict_ref"] == "indistinguishable"
    assert t.loc["C", "verdict_ref"] == "better"
    pairs = cmp.pairs.set_index(["a", "b"])
    assert pairs.loc[("A", "C"), "verdict"] == "worse"
    assert pairs.loc[("B", "C"), "verdict"] == "worse"
    assert pairs.loc[("A", "B"), "ks"] == pytest.approx(stats.ks_2samp(a, b).statistic)
    assert pairs.loc[("A", "B"), "p_ks"] == pytest.approx(stats.ks_2samp(a, b).pvalue)
    assert len(cmp.pairs) == 3 and "pairwise" in str(cmp)
    # Holm over the 3 pairs; the reference columns are the pair tests, adjusted
    raw = pairs["p_value"].to_numpy()
    order = np.argsort(raw)
    holm = np.maximum.accumulate(raw[order] * (3 - np.arange(3)))
    np.testing.assert_allclose(pairs["p_adjusted"].to_numpy()[order], np.minimum(holm, 1))
    assert t.loc["C", "p_ref_adjusted"] == pytest.approx(pairs.loc[("A", "C"), "p_adjusted"])
    assert cmp.interval_alpha == pytest.approx(0.05 / 3)


def test_effect_sizes_match_direct_computation():
    rng = np.random.default_rng(7)
    a, b = rng.normal(0.30, 0.02, 60), rng.normal(0.31, 0.02, 45)
    p = compare(frame({"A": a, "B": b}), inference=Inference()).pairs.iloc[0]
    assert p["median_diff"] == pytest.approx(np.median(a) - np.median(b))
    u = stats.mannwhitneyu(b, a).statistic  # pairs (b_j, a_i) with b_j > a_i: a wins
    assert p["p_a_beats_b"] == pytest.approx(u / (60 * 45))
    assert p["median_diff_low"] < p["median_diff"] < p["median_diff_high"]
    assert p["p_a_beats_b_low"] < p["p_a_beats_b"] < p["p_a_beats_b_high"]
    noisy = compare(frame({"A": a, "B": b}), inference=Inference(noise=0.004)).pairs.iloc[0]
    assert noisy["diff_over_noise"] == pytest.approx(p["median_diff"] / 0.004)


def test_equivalence_is_claimed_only_when_shown():
    rng = np.random.default_rng(8)
    same = compare(
        frame({"A": rng.normal(0.3, 0.01, 400), "B": rng.normal(0.3, 0.01, 400)}),
        inference=Inference(),
    ).pairs.iloc[0]
    assert same["verdict"] == "equivalent" and same["equivalent"]
    few = compare(
        frame({"A": rng.normal(0.3, 0.02, 12), "B": rng.normal(0.3, 0.02, 12)}),
        inference=Inference(),
    ).pairs.iloc[0]
    assert few["verdict"] == "indistinguishable" and not few["equivalent"]
    shifted = compare(
        frame({"A": rng.normal(0.3, 0.01, 400), "B": rng.normal(0.32, 0.01, 400)}),
        inference=Inference(),
    ).pairs.iloc[0]
    assert shifted["verdict"] == "better" and not shifted["equivalent"]
    # a "better" verdict comes with intervals that exclude no effect
    assert shifted["p_a_beats_b_low"] > 0.5 and shifted["median_diff_high"] < 0
    assert same["median_diff_low"] > -0.005 and same["median_diff_high"] < 0.005


def check_pair_consistency(pairs: pd.DataFrame, alpha: float, margin: float) -> None:
    """No verdict contradicts the intervals printed next to it."""
    for r in pairs.itertuples():
        beats = (r.p_a_beats_b_low, r.p_a_beats_b_high)
        diff = (r.median_diff_low, r.median_diff_high)
        where = f"{r.a} vs {r.b}: {r.verdict}, P(beats) {beats}, median diff {diff}"
        if r.verdict == "better":
            assert r.p_adjusted < alpha and beats[0] > 0.5 and diff[1] < 0, where
        elif r.verdict == "worse":
            assert r.p_adjusted < alpha and beats[1] < 0.5 and diff[0] > 0, where
        elif r.verdict == "indistinguishable":
            assert r.p_adjusted >= alpha, where
            assert beats[0] <= 0.5 <= beats[1] and diff[0] <= 0 <= diff[1], where
        elif r.verdict == "equivalent":
            assert -margin < diff[0] and diff[1] < margin and r.equivalent, where
        else:
            assert r.verdict == "inconclusive", where


def test_no_verdict_contradicts_its_intervals():
    """Many random populations (sizes, shifts, spreads, skew, ties; three adjustments): every
    better / worse / indistinguishable / equivalent verdict agrees with both printed
    intervals; disagreements are labelled "inconclusive"."""
    rng = np.random.default_rng(21)
    seen = set()
    for i in range(60):
        k = int(rng.integers(2, 6))
        groups = {}
        for j in range(k):
            n = int(rng.integers(8, 80))
            shift = rng.choice([0.0, 0.005, 0.01, 0.02]) * rng.choice([-1, 1])
            v = 0.3 + shift + rng.gamma(2.0, rng.uniform(0.003, 0.015), n)
            groups[f"S{j}"] = v.round(3) if i % 3 == 0 else v  # rounded: ties
        adjust = ("holm", "bh", "none")[i % 3]
        c = compare(frame(groups), inference=Inference(adjust=adjust))
        check_pair_consistency(c.pairs, 0.05, 0.005)
        seen |= set(c.pairs["verdict"])
        # the reference column repeats the pair verdicts (direction flipped)
        assert set(c.table["verdict_ref"]) - {"reference"} <= set(c.pairs["verdict"]) | {
            "better",
            "worse",
        }
    assert {"better", "worse", "indistinguishable"} <= seen


def test_null_populations_rarely_give_any_verdict():
    """5 spaces x 48 models from one distribution, 80 replicates: with Holm the chance of
    any better/worse verdict (family-wise error) stays near alpha = 0.05; unadjusted it does
    not (the issue measured about one half with 10 spaces)."""
    rng = np.random.default_rng(11)
    names = [f"S{i}" for i in range(5)]
    any_holm = any_none = 0
    reps = 80
    for _ in range(reps):
        data = frame({k: rng.normal(0.25, 0.02, 48) for k in names})
        holm = compare(data, inference=Inference())
        any_holm += holm.pairs["verdict"].isin(["better", "worse"]).any()
        any_none += (holm.pairs["p_value"] < 0.05).any()
    # expected <= 4 of 80 at alpha 0.05 (Holm is conservative); 11 or more has probability
    # below 0.5%
    assert any_holm <= 10
    assert any_none > any_holm + 5


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
    cmp = compare(data, normalize=Normalization(bins=4), inference=Inference())
    assert cmp.normalized and set(cmp.table.index) == {"AnyNetXA", "AnyNetXE"}
    assert (cmp.table["n"] <= 60).all()
    auto = compare(data, normalize=Normalization(), inference=Inference())
    assert any("complexity bins" in n for n in auto.notes)


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
    two = frame({"A": rng.random(5), "B": rng.random(5)})
    with pytest.raises(DesignSpaceError, match="adjustment"):
        compare(two, inference=Inference(adjust="sidak"))
    with pytest.raises(DesignSpaceError, match="margin"):
        compare(two, inference=Inference(margin=0))
    with pytest.raises(DesignSpaceError, match="noise"):
        compare(two, inference=Inference(noise=-1.0))


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


def test_bh_and_none_adjustments_in_compare():
    rng = np.random.default_rng(9)
    data = frame({k: rng.normal(0.3 - 0.004 * i, 0.01, 40) for i, k in enumerate("ABCDE")})
    bh = compare(data, inference=Inference(adjust="bh")).pairs
    np.testing.assert_allclose(
        bh["p_adjusted"], stats.false_discovery_control(bh["p_value"], method="bh")
    )
    none = compare(data, inference=Inference(adjust="none"))
    np.testing.assert_allclose(none.pairs["p_adjusted"], none.pairs["p_value"])
    assert none.interval_alpha == 0.05
    # with adjustment the verdicts can only get more cautious
    holm = compare(data, inference=Inference()).pairs
    assert holm["verdict"].isin(["better", "worse"]).sum() <= (none.pairs["p_value"] < 0.05).sum()


def test_superiority_is_brunner_munzel_and_its_interval_inverts_it():
    from designspace.analysis.effects import superiority

    rng = np.random.default_rng(5)
    for n_a, n_b in ((48, 48), (12, 30), (9, 9)):
        a, b = rng.normal(0, 1, n_a).round(1), rng.normal(0.4, 1.4, n_b).round(1)
        s = superiority(a, b)
        assert s.p_value == pytest.approx(stats.brunnermunzel(a, b).pvalue)
        assert s.p_hat == pytest.approx(1 - stats.mannwhitneyu(a, b).statistic / (n_a * n_b))
        # at the level equal to its own p-value the interval just touches 1/2
        lo, hi = s.interval(s.p_value)
        assert min(abs(lo - 0.5), abs(hi - 0.5)) < 1e-9
    sep = superiority(np.arange(5.0), np.arange(5.0) + 10)  # every a beats every b
    assert sep.p_hat == 1 and sep.p_value == pytest.approx(2 / 252)
