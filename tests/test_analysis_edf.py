"""EDFs, DKW and bootstrap bands, NDS complexity normalization: against direct numpy."""

import numpy as np
import pandas as pd
import pytest
from synthetic import make_results

from designspace.analysis import (
    bootstrap_band,
    common_range,
    dkw_band,
    dkw_epsilon,
    edf,
    edfs,
    max_common_bins,
    normalized_weights,
)
from designspace.errors import DesignSpaceError


def test_edf_matches_direct_fraction_with_ties():
    rng = np.random.default_rng(1)
    v = rng.integers(0, 20, size=200) / 40  # many ties
    f = edf(v)
    grid = np.linspace(-0.1, 0.6, 301)
    np.testing.assert_allclose(f(grid), [(v <= g).mean() for g in grid])
    assert np.all(np.diff(f.x) > 0) and f.y[-1] == 1.0 and f.n == 200 and f.n_eff == 200


def test_weighted_edf_matches_direct_sum_and_kish_n():
    rng = np.random.default_rng(2)
    v, w = rng.random(100), rng.random(100)
    f = edf(v, w)
    grid = np.linspace(0, 1, 57)
    np.testing.assert_allclose(f(grid), [w[v <= g].sum() / w.sum() for g in grid])
    assert f.n_eff == pytest.approx(w.sum() ** 2 / (w**2).sum())
    # zero weights drop models
    w[:50] = 0
    np.testing.assert_allclose(edf(v, w)(grid), edf(v[50:], w[50:])(grid))


def test_dkw_epsilon_formula_and_band_clipping():
    assert dkw_epsilon(100, 0.05) == pytest.approx(np.sqrt(np.log(40) / 200))
    f = edf(np.arange(10.0))
    lo, hi = dkw_band(f, 0.05)
    eps = dkw_epsilon(10, 0.05)
    np.testing.assert_allclose(lo, np.clip(f.y - eps, 0, 1))
    np.testing.assert_allclose(hi, np.clip(f.y + eps, 0, 1))
    with pytest.raises(DesignSpaceError):
        dkw_epsilon(10, 1.5)


def test_dkw_band_covers_true_cdf_at_least_nominally():
    rng = np.random.default_rng(3)
    misses = 0
    for _ in range(300):
        v = rng.random(60)
        f = edf(v)
        eps = dkw_epsilon(60, 0.1)
        # sup |F_n - F| over uniform: check both sides of every jump
        d = max(np.max(f.y - f.x), np.max(f.x - np.concatenate([[0], f.y[:-1]])))
        misses += d > eps
    assert misses / 300 <= 0.1 + 0.04


def test_bootstrap_band_equals_direct_loop():
    rng = np.random.default_rng(4)
    v = rng.normal(size=40)
    w = rng.random(40) + 0.5
    grid = np.linspace(-2, 2, 25)
    lo, hi = bootstrap_band(v, grid, w, n_boot=300, alpha=0.1, seed=9)
    order = np.argsort(v, kind="stable")
    vs, ws = v[order], w[order]
    idx = np.random.default_rng(9).integers(0, 40, size=(300, 40))
    f = np.array([[ws[i][vs[i] <= g].sum() / ws[i].sum() for g in grid] for i in idx])
    np.testing.assert_allclose(lo, np.quantile(f, 0.05, axis=0), atol=1e-12)
    np.testing.assert_allclose(hi, np.quantile(f, 0.95, axis=0), atol=1e-12)
    assert np.all(lo <= edf(v, w)(grid) + 1e-12) and np.all(edf(v, w)(grid) <= hi + 1e-12)


def test_normalized_weights_sum_to_one_and_equalize_bins():
    rng = np.random.default_rng(5)
    c = np.concatenate([rng.uniform(0, 10, 300), rng.uniform(2, 14, 200) ** 1.0])
    groups = np.array(["a"] * 300 + ["b"] * 200)
    w = normalized_weights(c, groups, bins=8)
    lo, hi = common_range(c, groups)
    assert (lo, hi) == (
        pytest.approx(max(c[:300].min(), c[300:].min())),
        pytest.approx(min(c[:300].max(), c[300:].max())),
    )
    assert np.all(w[(c < lo) | (c > hi)] == 0)
    edges = np.linspace(lo, hi, 9)
    for g in "ab":
        m = (groups == g) & (w > 0)
        assert w[groups == g].sum() == pytest.approx(1.0)
        b = np.clip(np.digitize(c[m], edges) - 1, 0, 7)
        counts = np.bincount(b, minlength=8)
        assert np.all(counts > 0)
        # NDS formula 1 / (count in bin * bins), and each bin carries 1 / bins
        np.testing.assert_allclose(w[m], 1.0 / (counts[b] * 8))
        np.testing.assert_allclose(np.bincount(b, weights=w[m], minlength=8), 1 / 8)


def test_an_empty_bin_is_an_error_that_names_it_and_suggests_fewer_bins():
    c = np.array([0.0, 1.0, 2.0, 6.0, 9.0, 10.0, 0.5, 5.5, 9.5])
    g = np.array(["a"] * 6 + ["b"] * 3)
    # common range [0.5, 9.5]; 10 bins of 0.9: group a has 1 | 2 | - ...
    with pytest.raises(DesignSpaceError, match=r"bin 3 of 10 .*group 'a'.*use 3 bins or fewer"):
        normalized_weights(c, g, bins=10)
    # 4 bins leave [2.75, 5) empty in a; 3 bins [0.5, 3.5, 6.5, 9.5]: a 1, 2 | 6 | 9; b one each
    assert max_common_bins(c, g, upper=10) == 3
    w = normalized_weights(c, g, bins=3)
    # the NDS formula 1 / (count in bin x bins); 0 outside the common range
    np.testing.assert_allclose(w, [0, 1 / 6, 1 / 6, 1 / 3, 1 / 3, 0, 1 / 3, 1 / 3, 1 / 3])


def test_normalized_weights_log_bins_and_errors():
    c = np.geomspace(1e6, 1e9, 50)
    w = normalized_weights(c, bins=3, log=True)
    # equal width in log space: 50 log-spaced points fall evenly, so weights are ~equal
    assert w.sum() == pytest.approx(1.0) and w.max() / w.min() < 1.1
    with pytest.raises(DesignSpaceError, match="do not overlap"):
        common_range(np.array([1, 2, 5, 6]), np.array(["a", "a", "b", "b"]))


def test_edfs_of_results_exclude_failed_models():
    data = make_results(("AnyNetXA", "AnyNetXE"), n=30, n_failed=3, seed=1)
    out = edfs(data, by="space")
    assert set(out) == {"AnyNetXA", "AnyNetXE"}
    assert all(f.n == 30 for f in out.values())
    norm = edfs(data, by="space", normalize=True)
    assert all(0 < f.n <= 30 for f in norm.values())
    with pytest.raises(DesignSpaceError, match="empty"):
        edfs(pd.DataFrame(columns=["val_top1_err", "space"]))
