"""Verdicts that do not depend on chance: every test and interval behind a verdict is exact or
asymptotic, so a report analysed with another seed has the same verdict tables, number for
number (experiments/seed_stability.py checks the committed studies)."""

import numpy as np
import pandas as pd
import pytest
from synthetic import SPACES, Truth, make_results

from designspace.reporting.options import AnalysisOptions
from designspace.reporting.report import analyze

#: Every table with a verdict, and the balance's stratified re-comparison.
VERDICT_TABLES = (
    "pairwise.csv",
    "pairwise_normalized.csv",
    "comparison.csv",
    "rules_nested.csv",
    "rules_observational.csv",
    "preferences.csv",
    "rules.csv",
    "findings.csv",
    "balance.csv",
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A five-space study with planted effects (growing widths and b = 1 help), analysed
    with seeds 0 and 5."""
    truth = Truth(widths_increase=-0.01, b_one=-0.01, noise=0.01)
    data = make_results(SPACES, n=40, truth=truth, seed=3)
    root = tmp_path_factory.mktemp("seeds")
    for seed in (0, 5):
        analyze(data, root / f"s{seed}", AnalysisOptions(n_boot=200, seed=seed, formats=("png",)))
    return root


@pytest.mark.parametrize("table", VERDICT_TABLES)
def test_every_verdict_table_is_the_same_under_another_seed(reports, table):
    a = pd.read_csv(reports / "s0" / table)
    b = pd.read_csv(reports / "s5" / table)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) > 0


def test_the_planted_effects_are_found(reports):
    pairs = pd.read_csv(reports / "s0" / "pairwise.csv")
    assert {"better", "worse"} & set(pairs["verdict"])
    steps = pd.read_csv(reports / "s0" / "rules_nested.csv").set_index("rule")
    assert steps.loc["widths_increase", "verdict"] == "supported"
    assert not any("undecided" in str(v) for v in pairs["verdict"])
    assert np.isfinite(pairs["median_diff_se"]).all()
