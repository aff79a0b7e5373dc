"""DDS good-range bootstrap: against a direct loop, planted optimum, determinism."""

import numpy as np
import pytest
from synthetic import Truth, make_results

from designspace.analysis import best_of_subsamples, good_range, good_ranges
from designspace.errors import DesignSpaceError


def test_best_of_subsamples_equals_direct_loop():
    rng = np.random.default_rng(0)
    s, e = rng.integers(1, 30, 80).astype(float), rng.random(80)
    got = best_of_subsamples(s, e, n_boot=500, frac=0.25, seed=3)
    idx = np.random.default_rng(3).integers(0, 80, size=(500, 20))
    direct = [s[row][np.argmin(e[row])] for row in idx]
    np.testing.assert_array_equal(got, direct)


def test_good_range_quantiles_and_values_are_observed():
    rng = np.random.default_rng(1)
    s, e = rng.uniform(0, 40, 300).round(), rng.random(300)
    r = good_range(s, e, n_boot=2000, seed=5)
    best = best_of_subsamples(s, e, 2000, 0.25, 5)
    assert (r.low, r.best, r.high) == tuple(
        np.quantile(best, [0.025, 0.5, 0.975], method="inverted_cdf")
    )
    assert {r.low, r.best, r.high} <= set(s)
    assert r.n == 300 and r.n_boot == 2000


def test_planted_optimum_is_recovered():
    rng = np.random.default_rng(2)
    depth = rng.integers(4, 40, 500).astype(float)
    err = 0.3 + 0.0004 * (depth - 20) ** 2 + rng.normal(0, 0.005, 500)
    r = good_range(depth, err, seed=0)
    assert r.low <= 20 <= r.high and abs(r.best - 20) <= 3 and r.high - r.low <= 12
    # no planted link: the interval spans most of the sampled range
    r0 = good_range(depth, rng.permutation(err), seed=0)
    assert r0.high - r0.low > 20


def test_good_range_depends_on_the_seed_only_through_the_draws():
    rng = np.random.default_rng(3)
    s, e = rng.random(500), rng.random(500)
    r1, r2 = good_range(s, e, n_boot=10_000, seed=4), good_range(s, e, n_boot=10_000, seed=4)
    assert r1 == r2 and r1.n_boot == 10_000
    # order of the models does not matter beyond the draws: a permuted copy gives a range
    # over the same values
    perm = rng.permutation(500)
    r3 = good_range(s[perm], e[perm], n_boot=10_000, seed=4)
    assert {r3.low, r3.best, r3.high} <= set(s)


def test_good_ranges_table_and_errors():
    data = make_results(("AnyNetXA",), n=60, truth=Truth(), seed=4)
    t = good_ranges(data, ["depth", "w1"], n_boot=500)
    assert list(t["statistic"]) == ["depth", "w1"]
    assert (t["low"] <= t["best"]).all() and (t["best"] <= t["high"]).all()
    assert (t["data_min"] <= t["low"]).all() and (t["high"] <= t["data_max"]).all()
    with pytest.raises(DesignSpaceError, match="needs column"):
        good_ranges(data, ["nope"])
    with pytest.raises(DesignSpaceError, match="frac"):
        good_range([1.0, 2.0], [0.1, 0.2], frac=0)
