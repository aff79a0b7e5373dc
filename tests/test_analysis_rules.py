"""derive_rules(): recovers planted rules, claims none that were not planted.

The data are random (fixed seeds). derive_rules controls the chance of any false claim at
alpha = 0.05 (Holm over its tests), so a rare seed could claim an unplanted rule: the
calibration test below checks that rate directly over many seeds.
"""

import numpy as np
import pandas as pd
import pytest
from synthetic import SPACES, Truth, make_results

from designspace.analysis import FitGrid, add_features, derive_rules
from designspace.analysis.rules import _range_estimate, _strata, holm
from designspace.errors import DesignSpaceError

# a lighter fit search keeps the tests quick; e_fit stays a faithful measure of linearity
FAST = dict(n_boot=2000, n_perm=400, grid=FitGrid(starts=1, refine=2))


def verdicts(rules: pd.DataFrame) -> dict[str, str]:
    return dict(zip(rules["rule"], rules["verdict"], strict=True))


def test_planted_growth_rules_and_best_b_are_recovered():
    truth = Truth(widths_increase=-0.03, depths_increase=-0.02, log2_b=0.02, noise=0.01)
    rules = derive_rules(make_results(SPACES, n=100, truth=truth, seed=2), **FAST)
    v = verdicts(rules)
    assert v["widths_increase"] == "supported" and v["depths_increase"] == "supported"
    assert v["best_b"] == "supported"
    # effects estimated close to the planted ones, inside their intervals
    r = rules.set_index("rule")
    assert r.loc["widths_increase", "ci_low"] <= -0.03 <= r.loc["widths_increase", "ci_high"]
    assert r.loc["depths_increase", "ci_low"] <= -0.02 <= r.loc["depths_increase", "ci_high"]
    # not planted: linearity, g and depth ranges; sharing costs nothing or is undecided
    assert v["linear_widths"] == "not supported"
    assert v["good_g"] == "not supported" and v["good_depth"] == "not supported"
    assert v["good_wm"] == "not supported"
    assert v["shared_b"] != "contradicted" and v["shared_g"] != "contradicted"
    assert all(isinstance(s, str) and len(s) > 20 for s in rules["sentence"])


def test_nothing_planted_nothing_claimed():
    rules = derive_rules(make_results(SPACES, n=100, truth=Truth(), seed=2), **FAST)
    v = verdicts(rules)
    for rule in (
        "widths_increase",
        "depths_increase",
        "linear_widths",
        "best_b",
        "good_g",
        "good_depth",
        "good_wm",
    ):
        assert v[rule] not in ("supported", "contradicted"), (rule, v[rule])
    # with no effect and plenty of data, sharing is shown to cost nothing
    assert v["shared_b"] == "supported" and v["shared_g"] == "supported"


def test_planted_linear_widths_within_a_constrained_space():
    truth = Truth(e_fit=0.08, noise=0.005)
    data = make_results(("AnyNetXE",), n=300, truth=truth, seed=3)
    v = verdicts(derive_rules(data, **FAST))
    assert v["linear_widths"] == "supported"
    # XE fixes these, so the data cannot speak to them
    for rule in ("shared_b", "shared_g", "widths_increase", "depths_increase"):
        assert v[rule] == "not testable"


def test_planted_cost_of_sharing_b_is_reported_as_contradiction():
    truth = Truth(shared_b=0.02, noise=0.01)
    data = make_results(("AnyNetXA", "AnyNetXB"), n=150, truth=truth, seed=4)
    rules = derive_rules(data, **FAST).set_index("rule")
    assert rules.loc["shared_b", "verdict"] == "contradicted"
    assert rules.loc["shared_b", "effect"] == pytest.approx(0.02, abs=0.006)
    assert rules.loc["shared_g", "verdict"] in ("too little data", "supported", "inconclusive")


def test_planted_depth_optimum_gives_a_good_depth_range():
    truth = Truth(depth_opt=(14.0, 0.0008), noise=0.004)
    data = make_results(("AnyNetXA",), n=300, truth=truth, seed=5, max_depth=8)
    rules = derive_rules(data, **FAST).set_index("rule")
    assert rules.loc["good_depth", "verdict"] == "supported"
    assert rules.loc["good_depth", "ci_low"] <= 14 <= rules.loc["good_depth", "ci_high"]


def test_too_little_data_and_bad_input():
    data = make_results(("AnyNetXA",), n=12, seed=6)
    rules = derive_rules(data)
    assert (rules["verdict"] == "too little data").all()
    assert rules["sentence"].str.contains("12 usable models").all()
    with pytest.raises(DesignSpaceError, match="widths"):
        derive_rules(data.drop(columns="widths"))
    with pytest.raises(DesignSpaceError, match="none of the"):
        derive_rules(data.assign(status="failed"))


def test_add_features_definitions():
    row = dict(
        depths=[1, 2, 2],
        widths=[32, 64, 48],
        bottleneck_ratios=[1.0, 1.0, 1.0],
        group_widths=[8, 16, 8],
    )
    f = add_features(pd.DataFrame([row]), fit=True).iloc[0]
    assert f.shared_b and not f.shared_g and f.depths_increase and not f.widths_increase
    assert f.b == 1.0 and f.g == pytest.approx((8 * 16 * 8) ** (1 / 3))
    assert f.e_fit > 0 and np.isfinite(f.fit_wm)


def test_good_range_test_rarely_claims_an_unplanted_range():
    """False-positive rate of the permutation test over 30 null data sets stays near alpha."""
    claims = 0
    for seed in range(30):
        data = add_features(
            make_results(("AnyNetXA", "AnyNetXE"), n=60, seed=100 + seed), fit=False
        )
        err = data["val_top1_err"].to_numpy()
        r = _range_estimate(
            "good_g",
            "",
            "g",
            data["g"].to_numpy(dtype=float),
            err,
            _strata(data),
            True,
            0.05,
            1000,
            200,
            seed,
        )
        claims += r["p_value"] < 0.05
    assert claims <= 5  # expected 1.5 at alpha = 0.05; 5 or more has probability < 2%


def test_holm_adjustment():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.5])
    np.testing.assert_allclose(holm(p), [0.04, 0.09, np.nan, 0.09, 0.5])
