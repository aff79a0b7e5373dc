"""The registry of analyses and plots (designspace.reporting.sections): one list used by the report,
`designspace plot` and the notebook; sections skipped with their reason; adding one entry."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from synthetic import make_results

from designspace.cli import build_parser
from designspace.errors import DesignSpaceError
from designspace.reporting import document, options, sections
from designspace.reporting.context import prepare
from designspace.reporting.options import AnalysisOptions
from designspace.reporting.plot_kinds import PLOT_KINDS
from designspace.reporting.report import analyze
from designspace.reporting.sections import SECTIONS, Section, run_section

FAST = AnalysisOptions(n_boot=200, formats=("png",))


@pytest.fixture(scope="module")
def data():
    return make_results(("AnyNetXA", "AnyNetXE"), n=20, seed=5)


def test_light_constants_agree_with_the_analysis_library():
    from designspace.analysis import _data, features

    assert (options.GROUP, options.METRIC, options.COMPLEXITY) == (
        _data.GROUP,
        _data.METRIC,
        _data.COMPLEXITY,
    )
    assert options.STAGE_COLUMNS == features.STAGE_COLUMNS


def test_plot_command_kinds_are_the_registry():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    kind = next(a for a in sub.choices["plot"]._actions if a.dest == "kind")
    assert list(kind.choices) == list(PLOT_KINDS)
    help_text = sub.choices["plot"].format_help()
    assert all(k.description in " ".join(help_text.split()) for k in PLOT_KINDS.values())


def test_results_without_stages_or_flops_skip_those_sections_with_the_reason(data, tmp_path):
    bare = data.drop(columns=["widths", "flops"])
    rep = analyze(bare, tmp_path / "a", FAST)
    skipped = {r.name: r.skipped for r in rep.sections if r.skipped}
    for name in ("fits", "good_ranges", "comparison_normalized", "flops"):
        assert name in skipped, name
    assert "'widths'" in skipped["fits"] and "'flops'" in skipped["flops"]
    md = (tmp_path / "a" / "report.md").read_text()
    assert "## RegNet fits\n\nSkipped: needs column(s) ['widths']" in md
    assert "## Not done" in md and "Complexity-normalized comparison: skipped" in md
    assert "comparison" in rep.tables and "fits" not in rep.tables
    assert {"edf", "search"} <= set(rep.figures) and "widths" not in rep.figures
    # flops missing for one model: its group is left out, the other group still drawn
    holey = data.assign(flops=data["flops"].where(data.index != 3))
    ctx = prepare(holey, FAST)
    gap = ctx.data.loc[ctx.data["flops"].isna(), "space"].iloc[0]
    result = run_section("flops", ctx)
    assert result.skipped is None and "error_vs_flops" in result.figures
    assert result.not_done == [
        f"Error vs complexity: space {gap} left out: their models lack flops"
    ]
    # missing in every group: the section is skipped with the reason
    none = prepare(data.assign(flops=data["flops"].where(data.index > 10**6)), FAST)
    assert "['flops']" in run_section("flops", none).skipped


def test_adding_a_section_is_one_entry_and_one_function(data, tmp_path, monkeypatch):
    def best_models(ctx, out):
        best = ctx.data.nsmallest(3, ctx.options.metric)[["space", ctx.options.metric]]
        out.text("The three best models.")
        out.table("best_models", best)
        out.figure(ctx, "best_edf", "edf", "EDF drawn by a new section")

    entry = Section("best_models", "Best models", best_models, requires=("{metric}", "space"))
    monkeypatch.setitem(SECTIONS, entry.name, entry)
    rep = analyze(data.drop(columns=["widths"]), tmp_path / "a", FAST)  # (quick: no RegNet fits)
    table = pd.read_csv(tmp_path / "a" / "best_models.csv")
    assert len(table) == 3 and table["val_top1_err"].is_monotonic_increasing
    assert (tmp_path / "a" / "best_edf.png").exists() and "best_edf" in rep.figures
    md = (tmp_path / "a" / "report.md").read_text()
    assert md.index("## Best models") > md.index("## Summary")
    never = Section("needs_x", "Needs x", best_models, requires=("no_such_column",))
    monkeypatch.setitem(SECTIONS, never.name, never)
    assert "no_such_column" in run_section("needs_x", prepare(data, FAST)).skipped


def test_a_section_the_data_cannot_support_is_skipped_with_its_reason(data, monkeypatch):
    def needs_more(ctx, out):
        out.text("started")
        raise DesignSpaceError("needs at least 500 models per space")

    monkeypatch.setitem(SECTIONS, "big", Section("big", "Big", needs_more))
    result = run_section("big", prepare(data, FAST))
    assert result.skipped == "needs at least 500 models per space" and result.blocks == []


def test_a_plot_whose_columns_are_missing_is_recorded_not_drawn(data):
    ctx = prepare(data.drop(columns=["flops"]), FAST)
    out = run_section("search", ctx)
    assert "search" in out.figures
    out = document.SectionResult("x", "X")
    assert out.figure(ctx, "f", "flops", "error vs flops") is None
    assert out.not_done == ["plot f: needs column(s) ['flops'] for every model"]


def test_context_checks_groups_and_reference(data):
    with pytest.raises(DesignSpaceError, match="reference 'Nope'"):
        prepare(data, AnalysisOptions(reference="Nope"))
    with pytest.raises(DesignSpaceError, match="'nope'"):
        prepare(data, AnalysisOptions(by="nope"))
    one = prepare(data[data["space"] == "AnyNetXA"], FAST)
    assert "at least two groups" in run_section("comparison", one).skipped


def test_sections_table_is_the_order_of_the_written_report(data, tmp_path):
    rows = sections.sections_table()
    analyze(data.drop(columns=["widths"]), tmp_path / "a", FAST)  # (quick: no RegNet fits)
    md = (tmp_path / "a" / "report.md").read_text()
    headings = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert headings[: len(rows)] == [title for _, title, _, _ in rows]
    assert len({name for name, *_ in rows}) == len(rows) and rows[0][0] == "data"


def test_registry_and_commands_import_nothing_heavy():
    code = (
        "import sys, designspace.reporting.sections, designspace.cli; "
        "designspace.cli.build_parser(); "
        "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'torch', 'ray') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    ).stdout.strip()
    assert out == "[]"
