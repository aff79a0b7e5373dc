"""The power statement of small groups (Noether's formula) against simulation, and the warnings
the report gives for small groups and models at chance level."""

import numpy as np
import pytest
from scipy.stats import mannwhitneyu, norm
from synthetic import make_results

from designspace.analysis.power import at_chance, chance_error, detectable_superiority
from designspace.errors import DesignSpaceError
from designspace.reporting.context import prepare
from designspace.reporting.options import AnalysisOptions


@pytest.mark.parametrize("n_a, n_b", [(20, 20), (12, 40)])
def test_detectable_superiority_has_the_stated_power_in_simulation(n_a, n_b):
    # planted truth: normal errors shifted so that P(a beats b) = 0.5 + delta exactly
    delta = detectable_superiority(n_a, n_b, alpha=0.05, power=0.8)
    shift = np.sqrt(2) * norm.ppf(0.5 + delta)
    rng = np.random.default_rng(0)
    reps = 600
    hits = sum(
        mannwhitneyu(rng.normal(0, 1, n_a), rng.normal(shift, 1, n_b)).pvalue < 0.05
        for _ in range(reps)
    )
    # 600 replicates: the binomial 99% interval around 0.8 is about +-0.042
    assert abs(hits / reps - 0.8) < 0.05, hits / reps


def test_detectable_superiority_shrinks_with_n_and_is_capped():
    values = [detectable_superiority(n, n) for n in (3, 10, 30, 100)]
    assert values == sorted(values, reverse=True) and values[0] == 0.5
    assert detectable_superiority(100, 100) == pytest.approx(
        (norm.ppf(0.975) + norm.ppf(0.8)) / np.sqrt(12 * 100 * 100 / 200)
    )
    with pytest.raises(DesignSpaceError):
        detectable_superiority(0, 5)


def test_chance_level():
    assert chance_error(10) == pytest.approx(0.9)
    assert at_chance(0.88, 10) and not at_chance(0.70, 10)


def test_small_groups_and_chance_models_are_warned_about_in_the_report(tmp_path):
    from designspace.reporting.report import analyze

    data = make_results(("AnyNetXA", "AnyNetXE"), n=30, seed=4)
    small = data[data["space"] == "AnyNetXE"].index[:24]
    data = data.drop(index=small)  # AnyNetXE keeps 6 models
    data.loc[data.index[:3], "val_top1_err"] = 0.895  # three AnyNetXA models learned nothing
    ctx = prepare(data, AnalysisOptions(n_boot=200))
    small_warn = [w for w in ctx.warnings if "only 6 model(s)" in w]
    assert len(small_warn) == 1 and "0.5 +- 0." in small_warn[0]
    chance = [w for w in ctx.warnings if "chance level" in w]
    assert len(chance) == 1 and chance[0].startswith("3 of 30 model(s) of space AnyNetXA")
    rep = analyze(data.drop(columns=["widths"]), tmp_path / "a", ctx.options)
    md = (tmp_path / "a" / "report.md").read_text()
    assert "## Warnings" in md and "learned nothing" in md
    assert rep.console[0].startswith("warning: ")
    clean = prepare(make_results(("AnyNetXA", "AnyNetXE"), n=30, seed=4), ctx.options)
    assert clean.warnings == []


def test_a_bootstrap_too_big_for_memory_is_refused_before_it_starts():
    from designspace.reporting.options import BOOT_MEMORY_LIMIT, bootstrap_bytes

    data = make_results(("AnyNetXA", "AnyNetXE"), n=30, seed=4)
    n_boot = BOOT_MEMORY_LIMIT // (bootstrap_bytes(1, 60)) + 1
    with pytest.raises(DesignSpaceError, match=r"--n-boot .* resamples of 60 models need"):
        prepare(data, AnalysisOptions(n_boot=n_boot))
    assert prepare(data, AnalysisOptions(n_boot=10_000)).data.shape[0] == 60
