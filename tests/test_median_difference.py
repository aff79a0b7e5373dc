"""The asymptotic difference of medians (:func:`designspace.analysis.effects.median_difference`):
an independent computation of the Price-Bonett standard error, coverage and TOST size on
data with a planted truth (a fast version of experiments/median_interval.py), and verdicts
that no longer depend on a resampling seed."""

import importlib.util
from math import sqrt
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from designspace.analysis import compare, nested_rules
from designspace.analysis.effects import median_difference, median_se, weighted_quantile
from designspace.analysis.inference import Inference

ROOT = Path(__file__).resolve().parent.parent


def frame(groups: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = [
        dict(space=k, val_top1_err=float(v), status="ok") for k, vs in groups.items() for v in vs
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("n", [10, 11, 37, 48, 100])
def test_median_se_is_price_bonett_from_order_statistics(n):
    """Without ties, the standard error is (Y_(u) - Y_(l)) / (2 z) with l, u the ranks of the
    EDF quantiles 1/2 -+ 1/sqrt(n) and z = (u - l) / sqrt(n) (= (n - 2c + 1) / sqrt(n) for
    the symmetric ranks c, n - c + 1 of Price and Bonett), written out here from sorted
    values."""
    y = np.sort(np.random.default_rng(n).gamma(3.0, 0.01, n))
    lower = max(1, int(np.ceil(n * (0.5 - 1 / sqrt(n)) - 1e-9)))
    upper = int(np.ceil(n * (0.5 + 1 / sqrt(n)) - 1e-9))
    z = (upper - lower) / sqrt(n)
    expected = (y[upper - 1] - y[lower - 1]) / (2 * z)
    assert median_se(y[::-1].copy()) == pytest.approx(expected, rel=1e-12)


def test_weighted_quantile_is_numpys_inverted_cdf():
    rng = np.random.default_rng(0)
    for _ in range(50):
        v, w = rng.normal(size=23), rng.random(23)
        for q in (0.05, 0.5, 0.81, 1.0):
            expected = np.quantile(v, q, weights=w, method="inverted_cdf")
            assert weighted_quantile(v, w, q) == expected


def test_equal_weights_give_the_unweighted_standard_error():
    v = np.random.default_rng(4).normal(size=64)
    assert median_se(v, np.full(64, 3.0)) == pytest.approx(median_se(v))


def test_standard_error_matches_the_normal_theory_value():
    """For N(0, 1) samples of 400 the median's sd is sqrt(pi / 2) / 20; the mean estimate over
    200 samples is within 10% of it."""
    rng = np.random.default_rng(7)
    ses = [median_se(rng.normal(size=400)) for _ in range(200)]
    assert np.mean(ses) == pytest.approx(sqrt(np.pi / 2) / 20, rel=0.1)


@pytest.fixture(scope="module")
def experiment() -> ModuleType:
    """experiments/median_interval.py: the suite runs a fast version of its checks."""
    spec = importlib.util.spec_from_file_location(
        "median_interval", ROOT / "experiments" / "median_interval.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("weighted", [False, True])
def test_interval_covers_a_planted_zero_difference(experiment, weighted):
    """Two samples of one skewed distribution (true difference 0): the 95% interval covers 0
    in at least 90% of 300 replicates at n = 48 (binomial sd of the rate 1.3%), the Bonferroni
    interval of 15 pairs in at least 97% (experiments/median_interval.py's check with 300
    instead of 4,000 replicates)."""

    def draw(r, n):
        return 0.2 + r.gamma(2.0, 0.01, n)

    assert experiment.coverage(draw, 48, 0.05, weighted, 300, 11) / 300 >= 0.90
    assert experiment.coverage(draw, 48, 0.05 / 15, weighted, 300, 12) / 300 >= 0.97


def test_interval_finds_a_planted_shift():
    rng = np.random.default_rng(12)
    a, b = 0.2 + rng.gamma(2.0, 0.01, 100), 0.22 + rng.gamma(2.0, 0.01, 100)
    lo, hi = median_difference(a, b).interval(0.05)
    assert hi < 0 and lo > -0.04


def test_tost_size_at_the_margin_is_at_most_alpha():
    """True difference exactly at the margin: TOST claims equivalence in at most 5% (+ 2.5
    binomial sd) of 400 replicates; well inside the margin it claims it most of the time."""
    rng = np.random.default_rng(13)
    margin, n = 0.005, 100

    def rate(shift: float) -> float:
        claims = 0
        for _ in range(400):
            a = rng.normal(0.25 + shift, 0.01, n)
            b = rng.normal(0.25, 0.01, n)
            claims += median_difference(a, b).tost_pvalue(margin) < 0.05
        return claims / 400

    assert rate(margin) <= 0.05 + 2.5 * sqrt(0.05 * 0.95 / 400)
    assert rate(0.0) > 0.5


def test_ties_and_degenerate_groups():
    """All values equal: se 0, the interval is the point and TOST decides by the margin."""
    d = median_difference(np.full(20, 0.3), np.full(20, 0.3))
    assert d.se == 0 and d.interval(0.05) == (0.0, 0.0)
    assert d.tost_pvalue(0.005) == 0.0
    far = median_difference(np.full(20, 0.31), np.full(20, 0.3))
    assert far.tost_pvalue(0.005) == 1.0


def test_pair_and_step_verdicts_do_not_depend_on_the_seed_or_n_boot():
    """compare and nested_rules no longer resample: every column of their tables is the same
    under other seeds and bootstrap sizes, a pair's interval is its median_difference's."""
    rng = np.random.default_rng(3)
    groups = {
        "AnyNetXA": rng.normal(0.30, 0.01, 40),
        "AnyNetXB": rng.normal(0.30, 0.01, 40),
        "AnyNetXC": rng.normal(0.296, 0.01, 40),
    }
    data = frame(groups)
    runs = [compare(data, inference=Inference()).pairs for s, b in ((0, 200), (1, 2000), (7, 500))]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(runs[0], other)
    steps = [nested_rules(data, inference=Inference()) for s, b in ((0, 200), (5, 900))]
    pd.testing.assert_frame_equal(steps[0], steps[1])
    row = runs[0].iloc[0]
    level = 0.05 / 3
    lo, hi = median_difference(groups[row["a"]], groups[row["b"]]).interval(level)
    assert (row["median_diff_low"], row["median_diff_high"]) == pytest.approx((lo, hi))
    half = stats.norm.ppf(1 - level / 2) * row["median_diff_se"]
    assert row["median_diff_high"] - row["median_diff"] == pytest.approx(half)
