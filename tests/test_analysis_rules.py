"""Rules: nested-step verdicts find planted effects and claim none that were not planted;
sensitivity flags; observational evidence kept apart; derive_rules' table."""

import numpy as np
import pandas as pd
import pytest
from synthetic import SPACES, Truth, make_results

from designspace.analysis import (
    FitGrid,
    add_features,
    derive_rules,
    nested_rules,
    observational_rules,
)
from designspace.analysis.inference import Inference
from designspace.analysis.rules import holm
from designspace.errors import DesignSpaceError

FAST_GRID = FitGrid(ratio=1.06, beam=2, fine=21)


def frame(groups: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = [dict(space=k, val_top1_err=float(x), status="ok") for k, v in groups.items() for x in v]
    return pd.DataFrame(rows)


def verdicts(rules: pd.DataFrame) -> dict[str, str]:
    return dict(zip(rules["rule"], rules["verdict"], strict=True))


def test_planted_step_effect_is_found_and_unplanted_ones_are_not():
    rng = np.random.default_rng(0)
    n, sd = 150, 0.015
    # XA -> XB: no effect, 400 precise models a side, enough to show equivalence within 0.005
    base = {s: rng.normal(0.25, 0.008, 400) for s in ("AnyNetXA", "AnyNetXB")}
    base["AnyNetXC"] = rng.normal(0.25, sd, n)
    base["AnyNetXD"] = rng.normal(0.23, sd, n)  # growing widths: -0.02
    base["AnyNetXE"] = rng.normal(0.23, sd, n)  # growing depths: no effect
    rules = nested_rules(frame(base), inference=Inference()).set_index("rule")
    assert rules.loc["widths_increase", "verdict"] == "supported"
    assert (
        rules.loc["widths_increase", "ci_low"] <= -0.02 <= rules.loc["widths_increase", "ci_high"]
    )
    assert rules.loc["depths_increase", "verdict"] == "not supported"
    # no effect and enough data: sharing shown to cost nothing (equivalence)
    assert rules.loc["shared_b", "verdict"] == "supported"
    assert rules.loc["shared_b", "p_equivalence_adjusted"] < 0.05
    assert rules.loc["linear_widths", "verdict"] == "not testable"  # no RegNetX
    assert (rules.loc[rules["verdict"] != "not testable", "sensitivity"] == "robust").all()
    # intervals at the Holm level of 4 tests: wider than the unadjusted ones
    none = nested_rules(frame(base), inference=Inference(adjust="none")).set_index("rule")
    w = lambda r: r["ci_high"] - r["ci_low"]  # noqa: E731
    assert w(rules.loc["widths_increase"]) > w(none.loc["widths_increase"])


def test_null_populations_rarely_support_any_step():
    rng = np.random.default_rng(1)
    claims = 0
    for _ in range(40):
        groups = {s: rng.normal(0.25, 0.02, 48) for s in (*SPACES, "RegNetX")}
        r = nested_rules(frame(groups), inference=Inference())
        claims += bool((r["p_adjusted"] < 0.05).any())  # any "better"/"worse" step
    assert claims <= 6  # expected <= 2 of 40 at alpha 0.05; 7 or more has probability < 1%


def test_a_verdict_carried_by_outliers_is_fragile():
    rng = np.random.default_rng(2)
    a = rng.normal(0.25, 0.01, 100)
    b = np.concatenate([rng.normal(0.25, 0.01, 70), np.full(30, 0.9)])  # 30 diverged models
    r = nested_rules(frame({"AnyNetXA": a, "AnyNetXB": b}), inference=Inference()).set_index("rule")
    row = r.loc["shared_b"]
    assert row["verdict"] == "contradicted"
    assert row["verdict_trimmed"] != "contradicted" and row["sensitivity"] == "fragile"
    assert "Fragile" in row["sentence"]


def test_noise_floor_is_quoted():
    rng = np.random.default_rng(3)
    groups = {"AnyNetXC": rng.normal(0.25, 0.01, 60), "AnyNetXD": rng.normal(0.23, 0.01, 60)}
    r = nested_rules(frame(groups), inference=Inference(noise=0.005)).set_index("rule")
    row = r.loc["widths_increase"]
    assert row["diff_over_noise"] == pytest.approx(row["effect"] / 0.005)
    assert "seed-to-seed sd" in row["sentence"]


def test_observational_evidence_is_labelled_and_within_space():
    data = make_results(
        ("AnyNetXA", "AnyNetXE"), n=60, truth=Truth(e_fit=0.05, noise=0.005), seed=3
    )
    obs = observational_rules(data, grid=FAST_GRID)
    assert set(obs["evidence"]) == {"observational (within space)"}
    lin = obs[obs["rule"] == "linear_widths"].set_index("space")
    # planted: error grows with e_fit inside each space
    assert (lin["verdict"] == "association").all() and (lin["effect"] > 0).all()
    # XE fixes growing depths: no row for it there
    assert obs[(obs["space"] == "AnyNetXE") & (obs["rule"] == "depths_increase")].empty


def test_derive_rules_table_and_too_little_data():
    truth = Truth(widths_increase=-0.03, noise=0.01)
    data = make_results(SPACES, n=40, truth=truth, seed=2)
    rules = derive_rules(data, n_boot=1000, grid=FAST_GRID)
    assert list(rules["rule"]) == [
        "shared_b",
        "shared_g",
        "widths_increase",
        "depths_increase",
        "linear_widths",
        "regnet_b1",
        "regnet_wm2",
        "regnet_depth",
        "best_b",
        "good_g",
        "good_depth",
        "good_wm",
    ]
    v = verdicts(rules)
    assert v["widths_increase"] == "supported" and v["linear_widths"] == "not testable"
    assert set(rules["evidence"].dropna()) == {"nested spaces", "preference of the best models"}
    assert all(isinstance(s, str) and len(s) > 20 for s in rules["sentence"])
    small = derive_rules(make_results(("AnyNetXA",), n=12, seed=6))
    assert (small["verdict"] == "too little data").all()
    with pytest.raises(DesignSpaceError, match="widths"):
        derive_rules(data.drop(columns="widths"))


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


def test_holm_alias():
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])


def _check_step_rows(rows: pd.DataFrame, margin: float) -> None:
    for r in rows[rows["verdict"] != "not testable"].itertuples():
        beats, diff = (r.p_beats_low, r.p_beats_high), (r.ci_low, r.ci_high)
        where = f"{r.rule}: {r.verdict}, P(beats) {beats}, median change {diff}"
        better = r.p_adjusted < 0.05 and beats[0] > 0.5 and diff[1] < 0
        worse = r.p_adjusted < 0.05 and beats[1] < 0.5 and diff[0] > 0
        nothing = r.p_adjusted >= 0.05 and beats[0] <= 0.5 <= beats[1] and diff[0] <= 0 <= diff[1]
        equivalent = r.p_equivalence_adjusted < 0.05 and -margin < diff[0] and diff[1] < margin
        if r.verdict == "supported":
            assert better or (r.rule.startswith("shared") and equivalent), where
        elif r.verdict == "contradicted":
            assert worse, where
        elif r.verdict == "not supported":
            assert nothing, where
        else:
            assert r.verdict == "inconclusive" and not better and not worse, where


def test_no_step_or_observational_verdict_contradicts_its_intervals():
    """Random populations: each nested-step verdict agrees with its printed intervals (P(to
    beats from) and the median change); each observational verdict with its interval."""
    rng = np.random.default_rng(31)
    spaces = (*SPACES, "RegNetX")
    seen = set()
    for i in range(40):
        groups = {}
        for s in spaces:
            n = int(rng.integers(10, 70))
            shift = rng.choice([0.0, 0.0, -0.01, 0.01, -0.02])
            groups[s] = 0.25 + shift + rng.gamma(2.0, rng.uniform(0.003, 0.012), n)
        r = nested_rules(
            frame(groups),
            inference=Inference(adjust=("holm", "bh", "none")[i % 3]),
        )
        _check_step_rows(r, 0.005)
        seen |= set(r["verdict"])
    assert {"supported", "not supported"} <= seen
    data = make_results(("AnyNetXC", "AnyNetXE"), n=60, truth=Truth(e_fit=0.02, noise=0.01), seed=5)
    obs = observational_rules(data, grid=FAST_GRID)
    tested = obs[obs["verdict"].isin(["association", "reverse association", "no association"])]
    assert len(tested)
    for r in tested.itertuples():
        inside = r.ci_low <= 0.0 <= r.ci_high  # median change, or Spearman rho
        if r.verdict == "no association":
            assert r.p_adjusted >= 0.05 and inside
        else:
            assert r.p_adjusted < 0.05 and not inside
            if r.rule != "linear_widths":
                assert not r.p_beats_low <= 0.5 <= r.p_beats_high


def test_holm_gap_is_inconclusive_not_a_claim():
    """A step whose Holm-adjusted p-value is below alpha while its Bonferroni-level interval
    still reaches no effect is reported as inconclusive (the test and the interval disagree)."""
    from designspace.analysis.decide import Bound, decide

    b = [Bound(0.49, 0.70, 0.5, True), Bound(-0.02, -0.001, 0.0, False)]
    assert decide(0.03, 0.05, True, b) == "disagree"
    assert decide(0.03, 0.05, True, [Bound(0.51, 0.7, 0.5, True)]) == "better"
    assert decide(0.03, 0.05, False, [Bound(0.51, 0.7, 0.5, True)]) == "disagree"
    assert decide(0.2, 0.05, True, [Bound(0.51, 0.7, 0.5, True)]) == "disagree"
    assert decide(0.2, 0.05, True, [Bound(0.45, 0.7, 0.5, True)]) == "none"
