"""Preferences of the best models: planted b = 1 effect found, no g effect not claimed,
null calibration, the asymptotic test against the exact permutation test, good-range
description and its stability."""

import numpy as np
import pandas as pd
import pytest
from synthetic import SPACES, Truth, make_results

from designspace.analysis import FitGrid, add_features, preferences
from designspace.analysis.preferences import centred_ranks, preference_test, top_mask
from designspace.errors import DesignSpaceError


def test_planted_b_one_is_supported_and_g_is_not():
    truth = Truth(b_one=-0.02, noise=0.015)
    data = make_results(SPACES, n=150, truth=truth, seed=21)
    p = preferences(data, ["b", "g"], n_boot=2000).set_index("column")
    assert p.loc["b", "verdict"] == "supported" and p.loc["b", "direction"] == "lower"
    assert p.loc["b", "range_best"] == 1.0
    assert p.loc["g", "verdict"] == "not supported"
    assert p.loc["b", "p_adjusted"] >= p.loc["b", "p_value"]
    assert "good range" in p.loc["b", "sentence"]


def test_null_preferences_are_rarely_claimed():
    rng = np.random.default_rng(4)
    strata = np.repeat(np.arange(3), 50)
    claims = 0
    for _ in range(100):
        x = rng.integers(1, 5, 150).astype(float)
        e = rng.random(150)
        claims += preference_test(x, e, strata)[1] < 0.05
    assert claims <= 11  # expected 5 of 100; 12 or more has probability < 0.5%


def test_shift_definition_and_top_mask():
    strata = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    err = np.array([0.1, 0.2, 0.3, 0.4, 0.4, 0.3, 0.2, 0.1])
    mask = top_mask(err, strata, 0.25)
    np.testing.assert_array_equal(np.flatnonzero(mask), [0, 7])
    x = np.array([1.0, 2, 3, 4, 1, 2, 3, 4])
    r = centred_ranks(x, strata)
    np.testing.assert_allclose(r[:4], (np.arange(1, 5) - 2.5) / 4)
    shift, p, se, _ = preference_test(x, err, strata, 0.25)
    assert shift == pytest.approx(((1 - 2.5) / 4 + (4 - 2.5) / 4) / 2)


def test_stability_columns_and_bad_input():
    data = make_results(("AnyNetXA",), n=60, seed=4)
    feats = add_features(data, fit=True, grid=FitGrid(ratio=1.06, beam=2, fine=21))
    p = preferences(feats, ["depth", "wm"], n_boot=500, seeds=(0, 1, 2))
    assert list(p["column"]) == ["depth", "wm"]
    assert (p["best_min"] <= p["best_max"]).all() and (p["low_min"] <= p["range_low"]).all()
    assert p["stable"].dtype == bool or set(p["stable"]) <= {True, False}
    with pytest.raises(DesignSpaceError, match="top"):
        preferences(feats, ["depth"], top=1.5)
    flat = pd.DataFrame({"val_top1_err": np.random.default_rng(0).random(20), "x": 1.0})
    assert preferences(flat, ["x"], by=None).loc[0, "verdict"] == "not testable"


def test_preference_verdicts_agree_with_their_shift_intervals():
    """Planted and null populations: "supported" comes with a shift interval that excludes 0
    on the side of the direction; "not supported" with one that contains 0."""
    seen = set()
    for i, effect in enumerate((-0.02, -0.01, 0.0, 0.0, -0.005)):
        data = make_results(SPACES[:2], n=80, truth=Truth(b_one=effect, noise=0.015), seed=40 + i)
        p = preferences(data, ["b", "g", "depth"], n_boot=500)
        for r in p.itertuples():
            seen.add(r.verdict)
            assert r.shift_low <= r.shift <= r.shift_high or r.verdict != "supported"
            if r.verdict == "supported":
                assert r.p_adjusted < 0.05
                assert r.shift_high < 0 if r.direction == "lower" else r.shift_low > 0
            elif r.verdict == "not supported":
                assert r.p_adjusted >= 0.05 and r.shift_low <= 0 <= r.shift_high
            else:
                assert r.verdict == "inconclusive"
    assert {"supported", "not supported"} <= seen


def _permutation_shifts(x, err, strata, n_perm, rng):
    """The shift under ``n_perm`` within-stratum permutations of the values (written here
    independently of the library: shuffle, re-rank, take the best models' mean)."""
    mask = top_mask(err, strata, 0.25)
    out = np.empty(n_perm)
    for i in range(n_perm):
        y = x.copy()
        for s in np.unique(strata):
            idx = np.flatnonzero(strata == s)
            y[idx] = rng.permutation(y[idx])
        out[i] = centred_ranks(y, strata)[mask].mean()
    return out


def test_asymptotic_p_matches_the_permutation_test():
    """The p-value and standard error of the normal approximation match 4,000 within-stratum
    permutations (strata of 24, 48 and 100 models, tied values 1..5, planted preferences
    from none to strong): the se within 5% of the permutation sd, p within 0.02 (the
    permutation p-value's own standard error is at most 0.008)."""
    rng = np.random.default_rng(8)
    strata = np.repeat(np.arange(3), [24, 48, 100])
    for effect in (0.0, 0.03, 0.06):
        x = rng.integers(1, 6, strata.size).astype(float)
        err = rng.random(strata.size) - effect * (x == 1)
        shift, p, se, _ = preference_test(x, err, strata)
        null = _permutation_shifts(x, err, strata, 4000, rng)
        assert abs(null.mean()) < 3 * null.std() / np.sqrt(4000)
        assert se == pytest.approx(null.std(), rel=0.05)
        exact = (1 + np.sum(np.abs(null) >= abs(shift) - 1e-12)) / 4001
        assert p == pytest.approx(exact, abs=0.02), (effect, p, exact)


def test_shift_interval_covers_a_planted_preference():
    """Errors that fall with the statistic (true shift from 20,000 models per stratum): the
    95% interval (the test inverted) covers the true shift in at least 90% of 300 studies of
    six spaces x 48 models."""
    rng = np.random.default_rng(9)

    def study(n_s):
        strata = np.repeat(np.arange(6 if n_s < 1000 else 1), n_s)
        x = rng.gamma(2.0, 1.0, strata.size)
        return x, rng.normal(0, 1, strata.size) + 0.3 * x, strata

    true = preference_test(*study(20_000))[0]
    hits = 0
    for _ in range(300):
        shift, _p, se, _ = preference_test(*study(48))
        hits += abs(shift - true) <= 1.96 * se
    assert hits / 300 >= 0.90
