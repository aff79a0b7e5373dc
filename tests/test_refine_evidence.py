"""In-sample evidence for refine candidates (designspace.analysis.refine_evidence): planted
truths on synthetic errors over real sampled AnyNetXA configurations, seed-free verdicts, the
statistic against an independent computation, bad input, and the fast null experiment."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from designspace.analysis.multiplicity import adjust_pvalues
from designspace.analysis.refine_evidence import (
    COLUMNS,
    candidate_scores,
    partial_spearman,
    rank_candidates,
    shares_kept,
)
from designspace.core.arch import Architecture
from designspace.core.constraints import catalog, make_constraint
from designspace.core.sampling import sample
from designspace.core.spaces import get_space
from designspace.errors import DesignSpaceError

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "experiments" / "refine_null.py"
REGIME = "fashion-mnist-small"  # the committed small-regime study's regime
PARENT = get_space("AnyNetXA")
WIDTHS = "monotone:width:increasing"
B1 = "fixed:bottleneck_ratio=1"
NEUTRAL = ("monotone:depth:increasing", "monotone:depth:decreasing", "monotone:width:decreasing")


@pytest.fixture(scope="module")
def population() -> tuple[list[Architecture], pd.DataFrame]:
    """120 AnyNetXA configurations of the small regime with their flops (no errors yet)."""
    s = sample(PARENT, 120, seed=0, regime=REGIME)
    frame = s.to_frame()[["space", "arch_json", "flops"]]
    return s.archs, frame


@pytest.fixture(scope="module")
def candidates(population: tuple[list[Architecture], pd.DataFrame]) -> list:
    """The real catalog of AnyNetXA for these configurations."""
    return catalog(PARENT, population[0])


@pytest.fixture(scope="module")
def scores(population: tuple[list[Architecture], pd.DataFrame], candidates: list) -> np.ndarray:
    return candidate_scores(population[0], candidates)


def _with_error(frame: pd.DataFrame, err: np.ndarray) -> pd.DataFrame:
    out = frame.copy()
    out["val_top1_err"] = np.clip(err, 0.0, 1.0)
    return out


def _column(candidates: list, scores: np.ndarray, cid: str) -> np.ndarray:
    return scores[:, [c.id for c in candidates].index(cid)]


def _rank(frame: pd.DataFrame, candidates: list, scores: np.ndarray, **kw) -> pd.DataFrame:
    return rank_candidates(frame, PARENT, candidates, scores=scores, **kw)


def _row(table: pd.DataFrame, cid: str) -> pd.Series:
    return table.set_index("constraint").loc[cid]


# ----------------------------------------------------------------------------- planted truths
def test_growing_widths_are_supported_and_adopted(population, candidates, scores) -> None:
    archs, frame = population
    rng = np.random.default_rng(1)
    grow = _column(candidates, scores, WIDTHS)
    err = 0.30 - 0.04 * grow + rng.normal(0, 0.01, len(archs))
    table = _rank(_with_error(frame, err), candidates, scores)
    row = _row(table, WIDTHS)
    assert row["verdict"] == "supported"
    assert bool(row["adopted"]) and int(row["rank"]) == 1
    assert row["rho"] < -0.5 and row["rho_low"] < row["rho"] < row["rho_high"] < 0
    assert table["adopted"].sum() == 1
    for cid in NEUTRAL:
        assert _row(table, cid)["verdict"] != "supported", cid
    assert "lower error" in row["evidence"] and "Holm p" in row["evidence"]
    assert list(table.columns) == list(COLUMNS)
    assert list(table["rank"]) == list(range(1, len(candidates) + 1))


def test_b1_is_supported(population, candidates, scores) -> None:
    archs, frame = population
    rng = np.random.default_rng(2)
    share_b1 = _column(candidates, scores, B1)
    err = 0.30 - 0.04 * share_b1 + rng.normal(0, 0.01, len(archs))
    table = _rank(_with_error(frame, err), candidates, scores)
    assert _row(table, B1)["verdict"] == "supported"
    assert table["adopted"].sum() == 1
    for cid in NEUTRAL:
        assert _row(table, cid)["verdict"] != "supported", cid


@pytest.fixture(scope="module")
def wide() -> tuple[pd.DataFrame, list, np.ndarray]:
    """120 AnyNetXA configurations over a wide flops band (0.4-20 MF), where several
    candidates (first and last width ranges) go with flops: frame, catalog, scores."""
    s = sample(PARENT, 120, seed=0, regime=REGIME, flops=(4e5, 2e7))
    cands = catalog(PARENT, s.archs)
    return s.to_frame()[["space", "arch_json", "flops"]], cands, candidate_scores(s.archs, cands)


def test_a_flops_only_effect_adopts_nothing(wide) -> None:
    frame, candidates, scores = wide
    rng = np.random.default_rng(3)
    logf = np.log(frame["flops"].to_numpy(dtype=float))
    err = 0.30 - 0.05 * (logf - logf.mean()) + rng.normal(0, 0.01, len(frame))
    # the effect is real: a test that ignores flops would credit constraints with it
    naive = [stats.spearmanr(col, err) for col in scores.T if np.ptp(col) > 0]
    naive_p = adjust_pvalues([r.pvalue for r in naive], "holm")
    assert sum(p < 0.05 and r.statistic < 0 for r, p in zip(naive, naive_p, strict=True)) >= 2
    table = _rank(_with_error(frame, err), candidates, scores)
    assert not table["adopted"].any()
    assert not (table["verdict"] == "supported").any()


def test_pure_noise_adopts_nothing(population, candidates, scores) -> None:
    archs, frame = population
    err = np.random.default_rng(4).normal(0.3, 0.02, len(archs))
    table = _rank(_with_error(frame, err), candidates, scores)
    assert not table["adopted"].any()
    assert set(table["verdict"]) <= {"inconclusive", "not testable"}


def test_scores_are_computed_from_arch_json_when_not_given(population, candidates, scores):
    archs, frame = population
    err = 0.3 - 0.04 * _column(candidates, scores, WIDTHS)
    few = [c for c in candidates if c.id in (WIDTHS, B1, *NEUTRAL)]
    cols = [[c.id for c in candidates].index(c.id) for c in few]
    given = _rank(_with_error(frame, err), few, scores[:, cols])
    computed = rank_candidates(_with_error(frame, err), PARENT, few)
    assert bool(_row(computed, WIDTHS)["adopted"])
    pd.testing.assert_frame_equal(given, computed)


# ----------------------------------------------------------------------------- seeds
def test_verdicts_do_not_depend_on_the_shares_seed(population, candidates, scores) -> None:
    archs, frame = population
    rng = np.random.default_rng(5)
    err = 0.30 - 0.02 * _column(candidates, scores, WIDTHS) + rng.normal(0, 0.01, len(archs))
    data = _with_error(frame, err)
    shares = [shares_kept(PARENT, candidates, REGIME, n=50, seed=s) for s in (0, 1)]
    tables = [_rank(data, candidates, scores, shares=sh) for sh in shares]
    for col in ("constraint", "verdict", "adopted", "rank", "p_adjusted", "rho"):
        pd.testing.assert_series_equal(tables[0][col], tables[1][col])
    assert tables[0]["share_kept"].notna().all()
    assert not np.allclose(tables[0]["share_kept"], tables[1]["share_kept"])  # only shares move
    plain = _rank(data, candidates, scores)
    assert plain["share_kept"].isna().all()
    pd.testing.assert_series_equal(plain["verdict"], tables[0]["verdict"])


def test_shares_kept_counts_satisfying_draws(candidates) -> None:
    chosen = [c for c in candidates if c.id in (WIDTHS, B1)][::-1]
    shares = shares_kept(PARENT, chosen, REGIME, n=200, seed=3)
    assert list(shares) == [c.id for c in chosen]
    draws = sample(PARENT, 200, seed=3, regime=REGIME).archs
    c = chosen[[x.id for x in chosen].index(WIDTHS)]
    assert shares[WIDTHS] == pytest.approx(np.mean([c.satisfied(a) for a in draws]))
    assert 0 < shares[WIDTHS] < 0.5  # 4 independent widths are seldom in order
    with pytest.raises(DesignSpaceError, match="n >= 1"):
        shares_kept(PARENT, chosen, REGIME, n=0)


# ----------------------------------------------------------------------------- the statistic
def _precision_partial(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> float:
    """Partial correlation of ranks from the inverse of their correlation matrix (an
    independent route: -P_xy / sqrt(P_xx P_yy))."""
    r = np.column_stack([stats.rankdata(v) for v in (x, y, z)])
    prec = np.linalg.inv(np.corrcoef(r, rowvar=False))
    return float(-prec[0, 1] / np.sqrt(prec[0, 0] * prec[1, 1]))


def test_partial_spearman_matches_an_independent_computation() -> None:
    rng = np.random.default_rng(7)
    n = 60
    z = rng.normal(size=n)
    x = np.round(z + rng.normal(size=n), 1)  # ties
    y = 0.5 * z - 0.4 * x + rng.normal(size=n)
    rho, p, df = partial_spearman(x, y, z)
    want = _precision_partial(x, y, z)
    assert rho[0] == pytest.approx(want, abs=1e-12)
    t = want * np.sqrt((n - 3) / (1 - want**2))
    assert df == n - 3
    assert p[0] == pytest.approx(2 * stats.t.sf(abs(t), n - 3), rel=1e-10)
    # a constant control: the plain Spearman rho
    rho0, _, _ = partial_spearman(x, y, np.ones(n))
    assert rho0[0] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    # a score that is a function of the control has nothing left: NaN
    rho1, p1, _ = partial_spearman(z**3, y, z)
    assert np.isnan(rho1[0]) and np.isnan(p1[0])


def test_rank_candidates_rho_and_p_match_the_independent_computation(
    population, candidates, scores
) -> None:
    archs, frame = population
    rng = np.random.default_rng(8)
    err = 0.3 - 0.01 * _column(candidates, scores, WIDTHS) + rng.normal(0, 0.01, len(archs))
    table = _rank(_with_error(frame, err), candidates, scores)
    logf = np.log(frame["flops"].to_numpy(dtype=float))
    tested = table[table["verdict"] != "not testable"]
    assert len(tested) >= 5
    m = len(tested)
    for _, row in tested.iterrows():
        x = _column(candidates, scores, row["constraint"])
        want = _precision_partial(x, err, logf)
        assert row["rho"] == pytest.approx(want, abs=1e-10)
        t = want * np.sqrt((len(err) - 3) / (1 - want**2))
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), len(err) - 3), rel=1e-8)
        assert row["interval_level"] == pytest.approx(1 - 0.05 / m)
    # Holm by hand
    p = np.sort(tested["p_value"].to_numpy())
    holm = np.minimum(np.maximum.accumulate(p * (m - np.arange(m))), 1)
    assert np.allclose(np.sort(tested["p_adjusted"].to_numpy()), holm)


# ----------------------------------------------------------------------------- edge cases
def test_not_testable_when_too_few_models_differ(population, candidates, scores) -> None:
    archs, frame = population
    err = np.random.default_rng(9).normal(0.3, 0.02, len(archs))
    s = scores.copy()
    s[:, 0] = 1.0  # constant
    s[:, 1] = 0.0
    s[:4, 1] = 1.0  # four on one side (min_side 5)
    s[:, 2] = 0.0
    s[:5, 2] = 1.0  # five: testable
    table = _rank(_with_error(frame, err), candidates, s)
    assert _row(table, candidates[0].id)["verdict"] == "not testable"
    assert _row(table, candidates[1].id)["verdict"] == "not testable"
    assert np.isnan(_row(table, candidates[1].id)["p_adjusted"])
    assert _row(table, candidates[2].id)["verdict"] != "not testable"
    assert np.isfinite(_row(table, candidates[2].id)["diff_median"])  # 5 vs 115: enough
    assert np.isnan(_row(table, candidates[1].id)["diff_median"])  # 4 vs 116: too few
    last = table.tail(2)["verdict"].tolist()
    assert last == ["not testable", "not testable"]  # untestable rank last
    assert "not testable" in _row(table, candidates[1].id)["evidence"]


def test_failed_rows_and_other_spaces_are_dropped(population, candidates, scores) -> None:
    archs, frame = population
    rng = np.random.default_rng(10)
    err = 0.30 - 0.04 * _column(candidates, scores, WIDTHS) + rng.normal(0, 0.01, len(archs))
    data = _with_error(frame, err)
    data["status"] = "ok"
    data.loc[:9, "status"] = "failed"
    other = data.head(20).assign(space="AnyNetXB", val_top1_err=0.9)
    mixed = pd.concat([data, other], ignore_index=True)
    mixed_scores = np.vstack([scores, scores[:20]])
    table = _rank(mixed, candidates, mixed_scores)
    assert (table["n"] == len(archs) - 10).all()
    assert bool(_row(table, WIDTHS)["adopted"])


def test_bad_input_is_refused(population, candidates, scores) -> None:
    archs, frame = population
    data = _with_error(frame, np.full(len(archs), 0.3))
    with pytest.raises(DesignSpaceError, match="shape"):
        _rank(data, candidates, scores[:10])
    with pytest.raises(DesignSpaceError, match="alpha"):
        _rank(data, candidates, scores, alpha=1.5)
    with pytest.raises(DesignSpaceError, match="at least one candidate"):
        rank_candidates(data, PARENT, [], scores=scores[:, :0])
    other = make_constraint(WIDTHS, get_space("AnyNetXB"))
    with pytest.raises(DesignSpaceError, match="made for space AnyNetXB"):
        rank_candidates(data, PARENT, [other])
    with pytest.raises(DesignSpaceError, match="flops"):
        _rank(data.drop(columns="flops"), candidates, scores)
    bad = scores.copy()
    bad[0, 0] = 2.0
    with pytest.raises(DesignSpaceError, match=r"\[0, 1\]"):
        _rank(data, candidates, bad)


# ----------------------------------------------------------------------------- null experiment
def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("experiment_refine_null", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_null_experiment_fast_mode_rarely_adopts() -> None:
    """30 replicates of each null variant on the committed population: at most 3 adoptions."""
    null = _load_script()
    result = null.run(replicates=30, seed=0)
    assert set(result.summary["variant"]) == set(null.VARIANTS)
    for _, row in result.summary.iterrows():
        assert row["replicates"] == 30
        assert row["adopted"] <= 3, row["variant"]
        assert 0 <= row["ci_low"] <= row["share"] <= row["ci_high"] <= 1
    assert len(result.replicates) == 30 * len(null.VARIANTS)
    assert result.n_candidates >= 10
