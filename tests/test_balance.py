"""Balance of structural features between two populations (designspace.analysis.balance):
SMD and tests recomputed independently, a planted confound is named and a clean step is not,
the stratified re-comparison, the committed XE -> RegNetX step and the report's Balance
section."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from designspace.analysis.balance import (
    COLUMNS,
    balance,
    confounded_label,
    confounders,
    smd,
    step_balance,
    step_labels,
    stratified_comparison,
    structural_features,
)
from designspace.analysis.compare import compare
from designspace.analysis.inference import Inference
from designspace.analysis.load import load_results
from designspace.analysis.rules import NESTED_STEPS, nested_rules
from designspace.core.arch import Architecture, Stage
from designspace.errors import DesignSpaceError

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "results" / "fmnist-small-progression"
# today's linear_widths step, AnyNetXE -> RegNetX, whatever NESTED_STEPS holds by then
LINEAR = replace(
    next(s for s in NESTED_STEPS if s.rule == "linear_widths"),
    from_space="AnyNetXE",
    to_space="RegNetX",
)
WIDTHS = replace(
    next(s for s in NESTED_STEPS if s.rule == "widths_increase"),
    from_space="AnyNetXC",
    to_space="AnyNetXD",
)


def population(
    space: str,
    n: int,
    rng: np.random.Generator,
    *,
    sorted_widths: bool = False,
    five_stages: float = 0.0,
    error: float = 0.30,
    five_stage_error: float = 0.0,
) -> pd.DataFrame:
    """``n`` models of ``space`` in the results schema: 4 stages (5 with probability
    ``five_stages``), depths 1..6, widths 16..512 (sorted when ``sorted_widths``), b in
    {1, 2, 4}, g in {1, 2, 4, 8}; flops and params drawn independently of the structure (as a
    FLOPs band keeps them); error ``error`` + ``five_stage_error`` for 5 stages + noise."""
    rows = []
    for i in range(n):
        k = 5 if rng.random() < five_stages else 4
        d = rng.integers(1, 7, size=k)
        w = np.exp(rng.uniform(np.log(16), np.log(512), size=k))
        w = np.sort(w) if sorted_widths else w
        b, g = rng.choice([1, 2, 4], size=k), rng.choice([1, 2, 4, 8], size=k)
        stages = []
        for di, wi, bi, gi in zip(d, w, b, g, strict=True):
            unit = int(np.lcm(int(bi * gi), 8))
            stages.append(Stage(int(di), max(unit, round(wi / unit) * unit), int(bi), int(gi), 2))
        arch = Architecture(tuple(stages), block="x", stem="small", in_channels=1, num_classes=10)
        err = error + (five_stage_error if k == 5 else 0.0) + rng.normal(0, 0.01)
        rows.append(
            dict(
                space=space,
                sample_index=i,
                **arch.to_row(),
                resolution=28,
                flops=rng.uniform(3.6e6, 4.0e6),
                params=rng.uniform(2e5, 4e5),
                status="ok",
                val_top1_err=err,
            )
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    data = load_results(STUDY)
    return data[data["space"].isin(["AnyNetXE", "RegNetX"])].reset_index(drop=True)


def test_smd_and_p_values_match_an_independent_computation(study):
    to, frm = study[study["space"] == "RegNetX"], study[study["space"] == "AnyNetXE"]
    table = balance(to, frm, names=("RegNetX", "AnyNetXE")).set_index("feature")
    assert list(table.reset_index().columns) == COLUMNS
    # numbers from the flat results columns (not the per-stage lists balance() reads)
    for feature, column in (("depth", "depth"), ("w2", "w2"), ("g4", "g4"), ("flops", "flops")):
        a = to[column].to_numpy(dtype=float)
        b = frm[column].to_numpy(dtype=float)
        expected = (a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
        assert table.loc[feature, "smd"] == pytest.approx(expected, rel=1e-12), feature
        p = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
        assert table.loc[feature, "p_value"] == pytest.approx(p, rel=1e-12), feature
        assert table.loc[feature, "n_a"] == len(to) and table.loc[feature, "n_b"] == len(frm)
    # stage count: two values in all, so a 2 x 2 table and Fisher's exact test
    counts = pd.crosstab(study["num_stages"], study["space"])[["RegNetX", "AnyNetXE"]]
    assert table.loc["num_stages", "test"] == "Fisher exact"
    assert table.loc["num_stages", "p_value"] == pytest.approx(
        stats.fisher_exact(counts.to_numpy()).pvalue, rel=1e-12
    )
    # Holm over the tested rows, by hand
    p = table["p_value"].dropna().sort_values()
    holm = np.minimum(1, np.maximum.accumulate(p.to_numpy() * np.arange(len(p), 0, -1)))
    assert np.allclose(table.loc[p.index, "p_adjusted"], holm, rtol=1e-12)
    # a 5th stage only RegNetX has: no SMD, no test, never flagged, said so in the note
    assert np.isnan(table.loc["d5", "smd"]) and not table.loc["d5", "imbalanced"]
    assert (
        table.loc["d5", "n_a"] == int((to["num_stages"] == 5).sum())
        and "only" in (table.loc["d5", "note"])
    )
    # last stage: 28 px, stride-1 stem, four or five stride-2 stages -> 2 or 1 px
    side = structural_features(study)["last_resolution"]
    assert (side == np.where(study["num_stages"] == 5, 1, 2)).all()


def test_smd_edge_cases_and_bad_input():
    assert smd(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == -np.inf  # constant shift
    assert smd(np.array([3.0, 3.0]), np.array([3.0])) == 0.0
    assert np.isnan(smd(np.array([]), np.array([1.0])))
    rng = np.random.default_rng(0)
    a, b = population("A", 12, rng), population("B", 12, rng)
    with pytest.raises(DesignSpaceError, match="SMD threshold"):
        balance(a, b, threshold=-1)
    with pytest.raises(DesignSpaceError, match="unknown structural feature"):
        balance(a, b, intended=["widths"])
    with pytest.raises(DesignSpaceError, match="cannot be an intended feature"):
        balance(a, b, intended=["flops"])
    with pytest.raises(DesignSpaceError, match="has none"):
        balance(a.iloc[:0], b)
    with pytest.raises(DesignSpaceError, match="no intended features are known"):
        step_balance(pd.concat([a, b]), "A", "B", "no_such_step")


def test_a_planted_stage_count_confound_is_named_and_a_clean_step_is_not():
    rng = np.random.default_rng(7)
    parent = population("AnyNetXC", 120, rng)
    # the child grows its widths (the step) AND has 5 stages in 60% of its models
    child = population("AnyNetXD", 120, rng, sorted_widths=True, five_stages=0.6)
    planted = step_balance(pd.concat([parent, child]), "AnyNetXC", "AnyNetXD", "widths_increase")
    assert planted.confounders[0] == "stage count"
    assert planted.label.startswith("confounded by stage count")
    assert "stage widths" not in planted.label  # the step is meant to change them
    rows = planted.table.set_index("feature")
    assert rows.loc["w4", "intended"] and abs(rows.loc["w4", "smd"]) > 0.1
    assert not rows.loc["w4", "imbalanced"]
    # clean: same structure, only the stepped feature (widths grow) differs
    clean_child = population("AnyNetXD", 120, rng, sorted_widths=True)
    clean = step_balance(
        pd.concat([parent, clean_child]), "AnyNetXC", "AnyNetXD", "widths_increase"
    )
    assert clean.confounders == () and clean.label == "" and clean.stratified is None
    assert "balanced" in clean.sentence()
    # the same pair judged as a rule that does not intend widths: they are the confounder
    as_depths = balance(clean_child, parent, intended=["d"])
    assert confounders(as_depths) and confounded_label(as_depths).startswith(
        "confounded by stage widths w"
    )
    # the SMD alone (alpha=None) is the literal matching rule: it can only flag more
    literal = balance(clean_child, parent, intended=["w"], alpha=None)
    assert set(confounders(literal)) >= set(confounders(balance(clean_child, parent, ["w"])))


def test_stratified_comparison_undoes_a_stage_count_confound():
    """5-stage models are better; within each stage count the child is WORSE by 0.01. Pooled,
    the child looks better; within strata the planted +0.01 comes back."""
    rng = np.random.default_rng(3)
    parent = population("AnyNetXC", 150, rng, five_stages=0.2, five_stage_error=-0.05)
    child = population("AnyNetXD", 150, rng, five_stages=0.8, five_stage_error=-0.05, error=0.31)
    data = pd.concat([parent, child])
    pooled = np.median(child["val_top1_err"]) - np.median(parent["val_top1_err"])
    assert pooled < 0  # the naive comparison favours the child
    result = step_balance(data, "AnyNetXC", "AnyNetXD", "widths_increase")
    s = result.stratified
    assert s is not None and s.by == ("num_stages", "last_resolution")
    assert s.n_strata == 2 and s.p_value < 0.05 and s.z > 0
    assert s.ci_low <= 0.01 <= s.ci_high and s.ci_low > 0
    assert s.p_a_beats_b < 0.5 and "van Elteren" in s.sentence()
    # one stratum: van Elteren is the Wilcoxon rank-sum test (normal, no continuity correction)
    four_a = child[child["num_stages"] == 4]
    four_b = parent[parent["num_stages"] == 4]
    one = stratified_comparison(four_a, four_b, ["num_stages"], inference=Inference())
    expected = stats.mannwhitneyu(
        four_a["val_top1_err"],
        four_b["val_top1_err"],
        method="asymptotic",
        use_continuity=False,
    ).pvalue
    assert one.p_value == pytest.approx(expected, rel=1e-9)
    # a stratum below min_stratum is listed but not used
    small = stratified_comparison(child, parent, ["num_stages"], min_stratum=100)
    assert small.n_strata == 0 and np.isnan(small.p_value) and "no stratum" in small.sentence()
    with pytest.raises(DesignSpaceError, match="strata are defined by"):
        stratified_comparison(child, parent, ["flops"])


def test_the_committed_xe_to_regnetx_step_is_confounded_by_stage_count(study):
    result = step_balance(study, "AnyNetXE", "RegNetX", "linear_widths")
    assert result.confounders[0] == "stage count"
    assert "last-stage resolution" in result.confounders
    rows = result.table.set_index("feature")
    assert rows.loc["num_stages", "mean_a"] == pytest.approx(4.69)  # 69 of 100 have 5 stages
    # within the 4-stage stratum (31 RegNetX models) RegNetX is not better than XE
    s = result.stratified
    assert s.n_strata == 1 and s.n_a == 31 and s.n_b == 100 and s.effect > 0
    # the wiring: nested_rules and compare carry the label, the sentence says it
    rules = nested_rules(study, steps=[LINEAR], inference=Inference())
    row = rules.iloc[0]
    assert row["confounded"].startswith("confounded by stage count")
    assert ": supported, confounded by stage count" in row["sentence"]
    c = compare(study, reference="AnyNetXE", inference=Inference(), steps=[LINEAR])
    assert c.pairs.loc[0, "confounded"] == row["confounded"]
    assert c.table.loc["RegNetX", "confounded"] == row["confounded"]
    assert np.isnan(c.table.loc["AnyNetXE", "confounded"])  # the reference itself
    assert compare(study, inference=Inference()).pairs["confounded"].isna().all()


def test_labels_without_per_stage_columns_say_not_assessed():
    frame = pd.DataFrame(
        dict(space=["AnyNetXC"] * 12 + ["AnyNetXD"] * 12, val_top1_err=np.linspace(0.2, 0.3, 24))
    )
    labels = step_labels(frame, [WIDTHS])
    assert labels[("AnyNetXC", "AnyNetXD")].startswith("not assessed")
    rules = nested_rules(frame, steps=[WIDTHS], inference=Inference())
    assert "confounded" not in rules.loc[0, "sentence"]


def test_the_report_has_a_balance_section_and_table(study, tmp_path):
    from designspace.reporting.report import analyze

    rep = analyze(study, tmp_path / "analysis", n_boot=100, formats=("png",))
    md = (tmp_path / "analysis" / "report.md").read_text()
    section = md.split("## Balance\n", 1)[1].split("\n## ", 1)[0]
    assert "- [Balance](#balance)" in md
    # the reference sweep's RegNetX is no nested step of AnyNetXE: compared as neighbours
    assert "AnyNetXE -> RegNetX: differs in stage count" in section
    assert "no nested step, so nothing is intended" in section
    assert "| stage count | 100 | 100 | 4.69 | 4 |" in section and "imbalanced" in section
    assert "van Elteren" in section and "4 stages" in section
    table = pd.read_csv(tmp_path / "analysis" / "balance.csv")
    pair = (table["from_space"] == "AnyNetXE") & (table["to_space"] == "RegNetX")
    assert table.loc[pair, "rule"].isna().all()
    assert "num_stages" in set(table.loc[pair & table["imbalanced"], "feature"])
    assert (tmp_path / "analysis" / "balance_strata.csv").exists()
    assert not (tmp_path / "analysis" / "rules_nested.csv").exists()  # no nested step here
    assert any(line.startswith("balance AnyNetXE -> RegNetX: differs") for line in rep.console)
