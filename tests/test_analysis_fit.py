"""Fitting the RegNet quantized linear rule: exact rule, recovery with e_fit 0, global optimum
against an exhaustive search (also over a far larger range than the search's provable
bounds), the exact slope sweep, edge flags."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from designspace.analysis import (
    FitGrid,
    fit_block_widths,
    fit_regnet,
    fit_widths,
    quantized_widths,
)
from designspace.analysis.fit import best_slopes, dense_search, search_bounds
from designspace.errors import DesignSpaceError

MODELS = json.loads(
    (Path(__file__).resolve().parents[1] / "designspace/data/regnet_models.json").read_text()
)


def test_quantized_widths_match_reference_rule_and_published_example():
    from designspace.core.regnet import regnet_widths

    for m in MODELS:
        got = quantized_widths(m["depth"], m["w0"], m["wa"], m["wm"])
        np.testing.assert_array_equal(got, regnet_widths(m["depth"], m["w0"], m["wa"], m["wm"]))
    x200 = next(m for m in MODELS if m["name"] == "RegNetX-200MF")
    w = quantized_widths(x200["depth"], x200["w0"], x200["wa"], x200["wm"]).astype(int)
    values, counts = np.unique(w, return_counts=True)
    assert values.tolist() == [24, 56, 152, 368] and counts.tolist() == [1, 1, 4, 7]
    # broadcasting over parameter grids
    assert quantized_widths(10, np.array([8, 16])[:, None], 20.0, np.array([2.0, 2.5])).shape == (
        2,
        2,
        10,
    )


def test_fit_recovers_published_models_exactly():
    for m in MODELS:
        w = quantized_widths(m["depth"], m["w0"], m["wa"], m["wm"])
        f = fit_widths(w)
        assert f.e_fit == pytest.approx(0.0, abs=1e-12), m["name"]
        np.testing.assert_array_equal(f.widths, w)


def test_fit_recovers_random_regnets_and_reports_e_fit_formula():
    rng = np.random.default_rng(0)
    params = [
        (
            int(rng.integers(12, 29)),
            8 * int(rng.integers(1, 33)),
            float(np.exp(rng.uniform(np.log(8), np.log(128)))),
            float(rng.uniform(2, 3)),
        )
        for _ in range(40)
    ]
    widths = [quantized_widths(*p) for p in params]
    fits = fit_block_widths(widths)
    assert (fits["e_fit"] < 1e-12).mean() >= 0.9
    assert fits["e_fit"].max() < 0.1
    for w, f in zip(widths, fits.itertuples(), strict=True):
        pred = quantized_widths(w.size, f.fit_w0, f.fit_wa, f.fit_wm)
        assert f.e_fit == pytest.approx(np.mean(np.abs(np.log(w) - np.log(pred))))


def test_non_linear_profiles_have_larger_e_fit():
    linear = quantized_widths(16, 48, 30.0, 2.4)
    zigzag = np.tile([64.0, 512.0], 8)
    assert fit_widths(zigzag).e_fit > 0.5 > fit_widths(linear).e_fit


def test_fit_regnet_over_results_table_uses_depths_and_widths():
    table = pd.DataFrame(
        {
            "depths": [[1, 1, 4, 7], [2, 3]],
            "widths": [[24, 56, 152, 368], [32, 64]],
        },
        index=[10, 20],
    )
    out = fit_regnet(table)
    assert list(out.index) == [10, 20]
    assert list(out.columns) == ["fit_w0", "fit_wa", "fit_wm", "e_fit", "fit_at_edge"]
    assert out.loc[10, "e_fit"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(DesignSpaceError, match="needs column"):
        fit_regnet(table.drop(columns="depths"))
    with pytest.raises(DesignSpaceError, match="positive"):
        fit_widths([8, 0, 16])


def test_fit_reaches_a_fit_no_worse_than_exhaustive_search():
    """Exhaustive reference: every w0 (multiples of 8 to 256), 120 wm values over the default
    range and, for each (w0, wm), every distinct step pattern in wa (e_fit is constant in wa
    between the breakpoints wa = w0 (wm^(k - 1/2) - 1) / j)."""
    rng = np.random.default_rng(5)
    widths = []
    for _ in range(5):
        d = rng.integers(1, 3, size=4)
        w = np.maximum(8, np.round(np.exp(rng.uniform(np.log(8), np.log(256), 4)) / 8) * 8)
        widths.append(np.repeat(w, d).astype(float))
    fits = fit_block_widths(widths)
    w0s = np.arange(8.0, 257.0, 8.0)
    for w, f in zip(widths, fits.itertuples(), strict=True):
        d, best = w.size, np.inf
        j = np.arange(1, d)
        for wm in np.geomspace(1.05, 8.0, 120):
            k = np.arange(1, int(np.ceil(np.log(64) / np.log(wm))) + 2)
            bp = np.unique(((wm ** (k[None, :] - 0.5) - 1) / j[:, None]).ravel())
            ratio = np.concatenate([[0.0], 0.5 * (bp[1:] + bp[:-1]), [2 * bp[-1]]])
            pred = quantized_widths(d, w0s[:, None], w0s[:, None] * ratio[None, :], wm)
            best = min(best, float(np.abs(np.log(w) - np.log(pred)).mean(-1).min()))
        assert f.e_fit <= best + 1e-9


def test_fits_at_the_grid_limit_are_flagged():
    """The upper limits are provable bounds, so a two-level zigzag (which once sat at the
    wm limit of a fixed grid) is not flagged. The lower
    wm limit is real: slowly growing widths want wm below 1.05, are flagged, and a grid
    reaching lower fits them better."""
    zigzag = np.tile([16.0, 1024.0], 4)
    linear = quantized_widths(16, 48, 30.0, 2.4)
    fits = fit_block_widths([zigzag, linear])
    assert not fits["fit_at_edge"].any()
    slow = 512 + 8 * np.arange(8.0)
    f = fit_widths(slow)
    assert f.at_edge and f.e_fit > 0.005
    lower = fit_widths(slow, FitGrid(wm_lo=1.005))
    assert lower.e_fit < f.e_fit
    constant = fit_widths([64.0] * 6)  # wm does not matter: undetermined, not at an edge
    assert constant.e_fit == 0 and not constant.at_edge


def _exhaustive(w: np.ndarray, w0s: np.ndarray, wms: np.ndarray, q: int = 8) -> np.ndarray:
    """min over every distinct slope pattern of e_fit, for each (w0, wm): shape (w0, wm).
    Slopes: 0, the midpoints between the sorted breakpoints c = (wm^(k - 1/2) - 1) / j of
    every block j and level k up to the level where w0 wm^k exceeds 64 T, and beyond."""
    d = w.size
    out = np.full((w0s.size, wms.size), np.inf)
    j = np.arange(1, d)
    for b, wm in enumerate(wms):
        k = np.arange(1, int(np.ceil(np.log(64 * w.max() / q) / np.log(wm))) + 2)
        bp = np.unique(((wm ** (k[None, :] - 0.5) - 1) / j[:, None]).ravel())
        ratio = np.concatenate([[0.0], 0.5 * (bp[1:] + bp[:-1]), [2 * bp[-1]]])
        pred = quantized_widths(d, w0s[:, None], w0s[:, None] * ratio[None, :], wm, q)
        out[:, b] = np.abs(np.log(w) - np.log(pred)).mean(-1).min(axis=1)
    return out


def test_search_bounds_suffice_and_the_fit_finds_the_optimum():
    """Random jagged AnyNet-like widths: an exhaustive search over a far larger range (w0 to
    4 T, wm to 30 x the bound W) finds nothing better outside the bounds than inside them
    (the statement of fit.py's docstring), and the fit reaches the exhaustive optimum."""
    rng = np.random.default_rng(12)
    for _ in range(6):
        depths = rng.integers(1, 4, size=4)
        w = np.maximum(8, np.round(np.exp(rng.uniform(np.log(8), np.log(256), 4)) / 8) * 8)
        w = np.repeat(w, depths).astype(float)
        t, wm_hi, wa_hi = (float(x[0]) for x in search_bounds(w[None, :], 8))
        w0s = np.arange(8.0, 4 * t + 1, 8.0)
        wms = np.unique(np.concatenate([np.geomspace(1.05, 30 * wm_hi, 240), [wm_hi]]))
        e = _exhaustive(w, w0s, wms)
        inside = e[np.ix_(w0s <= t, wms <= wm_hi)].min()
        assert e.min() >= inside - 1e-12
        assert fit_widths(w).e_fit <= inside + 1e-9
        assert wa_hi >= t


def test_best_slopes_matches_brute_force_over_slopes():
    rng = np.random.default_rng(3)
    for _ in range(5):
        w = np.repeat(rng.integers(1, 40, 4) * 8.0, rng.integers(1, 5, 4))
        t = float(np.ceil(w.max() / 8) * 8)
        w0s = np.arange(8.0, t + 1, 8.0)
        wms = np.geomspace(1.1, 12, 7)
        wa, e = best_slopes(np.log(w), w0s, wms, t, 8)
        np.testing.assert_allclose(e, _exhaustive(w, w0s, wms), atol=1e-12)
        pred = quantized_widths(w.size, w0s[:, None], wa, wms[None, :])
        np.testing.assert_allclose(np.abs(np.log(w) - np.log(pred)).mean(-1), e, atol=1e-12)


def test_many_models_fit_exactly():
    rng = np.random.default_rng(1)
    widths = [
        quantized_widths(
            int(rng.integers(12, 29)),
            8 * int(rng.integers(1, 33)),
            float(rng.uniform(8, 128)),
            float(rng.uniform(2, 3)),
        )
        for _ in range(60)
    ]
    fits = fit_block_widths(widths)
    assert len(fits) == 60 and fits["e_fit"].median() < 1e-12
    assert not fits["fit_at_edge"].any()


def test_fit_equals_a_dense_exhaustive_search_on_random_widths():
    """Brute force over each model's whole provable range (dense_search: every w0, multiples
    of 8 up to T, x 1500 wm values from 1.05 to W, the slope solved exactly by best_slopes,
    itself checked against a sweep over slopes above). The fit reaches that optimum on every
    model, including one whose optimum is a cell 0.4% wide in wm (w0 = 32, wm in
    [sqrt(7.5 / 4), 5.5 / 4]: 32 wm rounds to 40 and 32 wm^2 to 64), which a search stepping
    wm by 2% without a finer second look missed (e_fit 0.071 instead of 0.043)."""
    rng = np.random.default_rng(23)
    widths = [np.repeat([16.0, 32.0, 40.0, 64.0], [1, 8, 10, 13])]
    for _ in range(12):
        d = rng.integers(1, 5, size=4)
        w = np.maximum(8, np.round(np.exp(rng.uniform(np.log(8), np.log(256), 4)) / 8) * 8)
        widths.append(np.repeat(w, d).astype(float))
    fits = fit_block_widths(widths)
    for w, f in zip(widths, fits.itertuples(), strict=True):
        w0, wa, wm, best = dense_search(w)
        pred = quantized_widths(w.size, w0, wa, wm)
        assert best == pytest.approx(np.abs(np.log(w) - np.log(pred)).mean(), abs=1e-12)
        assert f.e_fit <= best + 1e-12
        pred = quantized_widths(w.size, f.fit_w0, f.fit_wa, f.fit_wm)
        assert f.e_fit == pytest.approx(np.abs(np.log(w) - np.log(pred)).mean(), abs=1e-12)
    assert fits.loc[0, "e_fit"] == pytest.approx(0.04258, abs=1e-4)


def test_threads_do_not_change_the_fit():
    rng = np.random.default_rng(9)
    widths = [np.repeat(rng.integers(1, 40, 4) * 8.0, rng.integers(1, 6, 4)) for _ in range(12)]
    one = fit_block_widths(widths, workers=1)
    pd.testing.assert_frame_equal(one, fit_block_widths(widths, workers=3))
    with pytest.raises(DesignSpaceError, match="workers"):
        fit_block_widths(widths, workers=0)


def test_per_w0_wm_bound_loses_nothing():
    """fit.py's item 4: for each w0, no wm above U(w0) fits better than the best wm in
    [1.05, U(w0)], whose dominating points p_m = max(1.01 z_m, wm_T) are evaluated too."""
    from designspace.analysis.fit import _wm_upper, _z_levels

    rng = np.random.default_rng(4)
    checked = 0
    for it in range(24):
        d = rng.integers(1, 17 if it % 2 else 5, 4)
        w = np.repeat(np.maximum(8, np.round(np.exp(rng.uniform(2.1, 6.9, 4)) / 8) * 8), d)
        t, wm_hi, _ = (float(x[0]) for x in search_bounds(w[None, :], 8))
        w0s = np.arange(8.0, t + 1, 8.0)[::3]
        upper = _wm_upper(w0s, w.size, t, 8, 1.05, np.inf)
        wms = np.geomspace(1.05, 3 * wm_hi, 300)
        e = np.concatenate(
            [best_slopes(np.log(w), w0s, part, t, 8)[1] for part in np.array_split(wms, 12)],
            axis=1,
        )
        for a, w0 in enumerate(w0s):
            beyond = e[a, wms > upper[a]]
            if beyond.size == 0:
                continue
            pivots = np.maximum(1.01 * _z_levels(w.size), (t - 4) / w0 * (1 + 1e-9))
            pivots = np.unique(pivots[(pivots >= 1.05) & (pivots <= upper[a])])
            inside = e[a, wms <= upper[a]]
            if pivots.size:
                inside = np.concatenate([inside, best_slopes(np.log(w), [w0], pivots, t, 8)[1][0]])
            assert beyond.min() >= inside.min() - 1e-12
            checked += 1
    assert checked > 100
