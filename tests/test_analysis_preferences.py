"""Preferences of the best models: planted b = 1 effect found, no g effect not claimed,
null calibration, good-range description and its stability."""

import numpy as np
import pandas as pd
import pytest
from synthetic import SPACES, Truth, make_results

from designspace.analysis import FitGrid, add_features, preferences
from designspace.analysis.decide import UNDECIDED
from designspace.analysis.preferences import centred_ranks, preference_test, top_mask
from designspace.errors import DesignSpaceError


def test_planted_b_one_is_supported_and_g_is_not():
    truth = Truth(b_one=-0.02, noise=0.015)
    data = make_results(SPACES, n=150, truth=truth, seed=21)
    p = preferences(data, ["b", "g"], n_perm=1000, n_boot=2000).set_index("column")
    assert p.loc["b", "verdict"] == "supported" and p.loc["b", "direction"] == "lower"
    assert p.loc["b", "range_best"] == 1.0
    assert p.loc["g", "verdict"] == "not supported"
    assert p.loc["b", "p_adjusted"] >= p.loc["b", "p_value"]
    assert "good range" in p.loc["b", "sentence"]


def test_null_preferences_are_rarely_claimed():
    rng = np.random.default_rng(4)
    strata = np.repeat(np.arange(3), 50)
    claims = 0
    for i in range(100):
        x = rng.integers(1, 5, 150).astype(float)
        e = rng.random(150)
        claims += preference_test(x, e, strata, n_perm=200, seed=i)[1] < 0.05
    assert claims <= 11  # expected 5 of 100; 12 or more has probability < 0.5%


def test_shift_definition_and_top_mask():
    strata = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    err = np.array([0.1, 0.2, 0.3, 0.4, 0.4, 0.3, 0.2, 0.1])
    mask = top_mask(err, strata, 0.25)
    np.testing.assert_array_equal(np.flatnonzero(mask), [0, 7])
    x = np.array([1.0, 2, 3, 4, 1, 2, 3, 4])
    r = centred_ranks(x, strata)
    np.testing.assert_allclose(r[:4], (np.arange(1, 5) - 2.5) / 4)
    shift, p, _ = preference_test(x, err, strata, 0.25, n_perm=500)
    assert shift == pytest.approx(((1 - 2.5) / 4 + (4 - 2.5) / 4) / 2)


def test_stability_columns_and_bad_input():
    data = make_results(("AnyNetXA",), n=60, seed=4)
    feats = add_features(data, fit=True, grid=FitGrid(ratio=1.06, beam=2, fine=21))
    p = preferences(feats, ["depth", "wm"], n_perm=200, n_boot=500, seeds=(0, 1, 2))
    assert list(p["column"]) == ["depth", "wm"]
    assert (p["best_min"] <= p["best_max"]).all() and (p["low_min"] <= p["range_low"]).all()
    assert p["stable"].dtype == bool or set(p["stable"]) <= {True, False}
    with pytest.raises(DesignSpaceError, match="top"):
        preferences(feats, ["depth"], top=1.5)
    flat = pd.DataFrame({"val_top1_err": np.random.default_rng(0).random(20), "x": 1.0})
    assert preferences(flat, ["x"], by=None, n_perm=200).loc[0, "verdict"] == "not testable"


def test_preference_verdicts_agree_with_their_shift_intervals():
    """Planted and null populations: "supported" comes with a shift interval that excludes 0
    on the side of the direction; "not supported" with one that contains 0."""
    seen = set()
    for i, effect in enumerate((-0.02, -0.01, 0.0, 0.0, -0.005)):
        data = make_results(SPACES[:2], n=80, truth=Truth(b_one=effect, noise=0.015), seed=40 + i)
        p = preferences(data, ["b", "g", "depth"], n_perm=300, n_boot=500)
        for r in p.itertuples():
            seen.add(r.verdict)
            assert r.shift_low <= r.shift <= r.shift_high or r.verdict != "supported"
            if r.verdict == "supported":
                assert r.p_adjusted < 0.05
                assert r.shift_high < 0 if r.direction == "lower" else r.shift_low > 0
            elif r.verdict == "not supported":
                assert r.p_adjusted >= 0.05 and r.shift_low <= 0 <= r.shift_high
            elif r.verdict == UNDECIDED:
                assert r.growth == 16  # only once the permutations reached the cap
            else:
                assert r.verdict == "inconclusive"
    assert {"supported", "not supported"} <= seen
