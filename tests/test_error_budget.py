"""One error budget per study (issue 19, item 4): the confirmatory family is adjusted by Holm
once, across the nested-steps and preferences tables; everything else is exploratory and never
reaches the findings; null studies rarely make a confirmatory claim, a planted step is found.

A fast version of experiments/null_studies.py: 20 null studies of 5 spaces x 12 synthetic
models (the errors permuted across all rows), analysed with the report's verdict sections."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import SPACES, Truth, make_results

from designspace.analysis.family import (
    CONFIRMATORY,
    EXPLORATORY,
    Family,
    FamilyInference,
    false_under_null,
    findings,
    resolve,
)
from designspace.errors import DesignSpaceError
from designspace.reporting.context import prepare
from designspace.reporting.options import AnalysisOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
import null_studies  # noqa: E402

N_BOOT = 200
SECTIONS = ("comparison", "rules_nested", "preferences", "rules", "findings")


def holm(p: list[float]) -> list[float]:
    """Holm's adjusted p-values written out: sort, multiply by m - i, running maximum, cap."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    out, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, (len(p) - rank) * p[i])
        out[i] = min(1.0, running)
    return out


def tables(data: pd.DataFrame, features: pd.DataFrame | None = None, **options) -> dict:
    """The verdict tables of the report on ``data`` (features reused when given)."""
    opts = AnalysisOptions(reference="AnyNetXA", n_boot=N_BOOT, **options)
    if features is None:
        ctx = prepare(data, opts)
    else:
        ctx = null_studies.null_context(data, opts, 0, 0, features)
    return null_studies.verdict_tables(ctx, SECTIONS)


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    """Growing widths lower the error by 0.03 (noise 0.01): the C -> D step is real."""
    return make_results(SPACES, n=12, truth=Truth(widths_increase=-0.03, noise=0.01), seed=3)


def test_the_family_is_holm_adjusted_once_across_tables(planted):
    family = ("shared_b", "widths_increase", "good_wm", "best_b")
    t = tables(planted, confirmatory=family)
    nested, prefs = t["rules_nested"], t["preferences"]
    conf_n = nested[nested["family"] == CONFIRMATORY]
    conf_p = prefs[prefs["family"] == CONFIRMATORY]
    assert list(conf_n["rule"]) == ["shared_b", "widths_increase"]
    assert list(conf_p["column"]) == ["b", "wm"]
    raw = [*conf_n["p_value"], *conf_p["p_value"]]
    adjusted = [*conf_n["p_adjusted"], *conf_p["p_adjusted"]]
    assert np.allclose(adjusted, holm(raw), rtol=0, atol=1e-12)
    # per-table Holm (the old rule) would differ: two steps alone are adjusted by 2, not 4
    assert not np.allclose(conf_n["p_adjusted"], holm(list(conf_n["p_value"])))
    # the same adjusted p-value wherever the claim is shown
    for view in (t["rules"], t["findings"]):
        shown = view.set_index("rule")["p_adjusted"]
        for rule, p in zip([*conf_n["rule"], "best_b", "good_wm"], adjusted, strict=True):
            assert shown[rule] == pytest.approx(p, abs=1e-15), rule
    # exploratory steps are adjusted among themselves, not with the family
    expl = nested[(nested["family"] == EXPLORATORY) & nested["p_value"].notna()]
    assert list(expl["rule"]) == ["shared_g", "depths_increase"]
    assert np.allclose(expl["p_adjusted"], holm(list(expl["p_value"])))


def test_a_planted_step_is_found_and_exploratory_rows_never_reach_findings(planted):
    t = tables(planted)  # default family: every nested step present
    found = t["findings"].set_index("rule")
    assert list(found.index) == ["shared_b", "shared_g", "widths_increase", "depths_increase"]
    assert found.loc["widths_increase", "verdict"] == "supported"
    assert (found["family"] == CONFIRMATORY).all()
    # with a family that leaves it out, the planted step is an exploratory claim, no finding
    t = tables(planted, confirmatory=("shared_b",))
    nested = t["rules_nested"].set_index("rule")
    assert nested.loc["widths_increase", "verdict"] == "supported"
    assert nested.loc["widths_increase", "family"] == EXPLORATORY
    assert list(t["findings"]["rule"]) == ["shared_b"]
    pairs = t["pairwise"]
    assert (pairs["family"] == EXPLORATORY).all() and pairs["verdict"].isin(
        ["better", "worse"]
    ).any()
    assert set(t["rules"].query("family == 'exploratory'")["rule"]).isdisjoint(
        t["findings"]["rule"]
    )


def test_twenty_null_studies_rarely_make_a_confirmatory_claim():
    base = make_results(SPACES, n=12, truth=Truth(noise=0.02), seed=5)
    opts = AnalysisOptions(reference="AnyNetXA", n_boot=N_BOOT)
    features = prepare(base, opts).features()
    claims = 0
    for rep in range(20):
        ctx = null_studies.null_context(base, opts, 11, rep, features)
        # the sections that hold confirmatory rows (the pairwise tables are all exploratory)
        verdicts = null_studies.verdict_tables(ctx, ("rules_nested", "preferences", "findings"))
        o = null_studies.outcome(verdicts, opts.alpha)
        assert o.n_confirmatory == 4  # the four steps of A -> ... -> E
        claims += bool(o.confirmatory)
    # Holm over the family at 5%: 4 or more of 20 has probability below 2%
    assert claims <= 3
    lo, hi = null_studies.clopper_pearson(claims, 20)
    assert lo <= claims / 20 <= hi


def test_clopper_pearson_matches_closed_forms():
    assert null_studies.clopper_pearson(0, 20) == (0.0, pytest.approx(1 - 0.025 ** (1 / 20)))
    assert null_studies.clopper_pearson(20, 20) == (pytest.approx(0.025 ** (1 / 20)), 1.0)
    lo, hi = null_studies.clopper_pearson(10, 200)
    assert 0.02 < lo < 0.05 < hi < 0.095


def test_family_inference_adjusts_over_its_own_and_the_others():
    inf = FamilyInference(others=(0.01, float("nan"), 0.04))
    own = [0.02, 0.5]
    assert np.allclose(inf.adjusted(own), holm([*own, 0.01, 0.04])[:2])
    assert inf.level(2, 0) == pytest.approx(0.05 / 4)
    with pytest.raises(DesignSpaceError, match=r"\[0, 1\]"):
        FamilyInference(others=(1.5,))


def test_resolve_and_labels():
    groups = ["AnyNetXA", "AnyNetXB", "AnyNetXC", "RegNetX"]
    fam = resolve(None, groups)
    assert fam == Family(("shared_b", "shared_g"), (), declared=False)
    fam = resolve(["good_wm", "shared_g"], groups)
    assert fam.members == ("shared_g", "good_wm") and fam.preference_columns == ("wm",)
    assert fam.labels(["shared_g", "shared_b", "wm", "b"]) == [
        CONFIRMATORY,
        EXPLORATORY,
        CONFIRMATORY,
        EXPLORATORY,
    ]
    assert resolve([], groups).members == ()
    with pytest.raises(DesignSpaceError, match="did you mean 'shared_b'"):
        resolve(["shared_bb"], groups)


def test_false_under_null_spares_equivalence():
    assert false_under_null({"rule": "widths_increase", "verdict": "supported"}, 0.05)
    shared = {"rule": "shared_b", "verdict": "supported", "p_adjusted": 0.4}
    assert not false_under_null(shared, 0.05)  # supported by equivalence: true under the null
    assert false_under_null(dict(shared, p_adjusted=0.01), 0.05)
    assert not false_under_null({"verdict": "equivalent"}, 0.05)
    assert not false_under_null({"verdict": "inconclusive"}, 0.05)


def test_findings_hold_only_confirmatory_rows():
    nested = pd.DataFrame(
        dict(rule=["a", "b"], verdict=["supported", "supported"], family=[CONFIRMATORY, "x"])
    )
    prefs = pd.DataFrame(
        dict(column=["wm", "b"], verdict=["supported"] * 2, sentence=["s", "t"]),
    ).assign(family=[EXPLORATORY, CONFIRMATORY])
    out = findings(nested, prefs)
    assert list(out["rule"]) == ["a", "best_b"]
    out = findings(nested, prefs, Family(("a", "shared_g"), ("best_b",), declared=True))
    assert list(out["rule"]) == ["a", "best_b", "shared_g"]
    assert out["verdict"].iloc[-1] == "not testable"
