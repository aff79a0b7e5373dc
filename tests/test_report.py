"""analyze() / report.md / report.html and the `designspace analyze` and `plot` commands."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic import Truth, make_results

from designspace.analysis import load_results
from designspace.cli import main
from designspace.errors import DesignSpaceError
from designspace.feedback import PROGRESS_LINE
from designspace.reporting.report import analyze

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "results" / "fixtures" / "small_results"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("analysis")
    return analyze(load_results(FIXTURE), out, n_boot=1000, formats=("png", "svg"))


def test_analyze_writes_tables_plots_and_reports(report):
    out = report.out_dir
    for name in (
        "summary",
        "comparison",
        "pairwise",
        "comparison_normalized",
        "sample_size",
        "search",
        "fits",
        "good_ranges",
        "rules",
    ):
        assert (out / f"{name}.csv").stat().st_size > 0, name
    for name in (
        "edf",
        "edf_normalized",
        "search",
        "error_vs_flops",
        "widths",
        "efit",
        "error_vs_depth",
        "error_vs_b",
        "error_vs_g",
        "error_vs_fit_wm",
    ):
        assert (out / f"{name}.png").exists() and (out / f"{name}.svg").exists(), name
    comparison = pd.read_csv(out / "comparison.csv", index_col=0)
    assert list(comparison.index) == ["AnyNetXA", "AnyNetXC", "AnyNetXE"]
    assert comparison.loc["AnyNetXE", "verdict_ref"] == "better"
    assert (comparison["n"] == 40).all()
    rules = pd.read_csv(out / "rules.csv")
    assert {"shared_b", "widths_increase", "best_b", "good_wm"} <= set(rules["rule"])
    md = (out / "report.md").read_text()
    assert "6 of 126 models excluded" in md and "![Error EDFs" in md
    # the fixture holds AnyNetXA, XC and XE: no nested pair of spaces, so that section says why
    assert "## RegNet principles: nested spaces\n\nSkipped: needs a nested pair" in md


def test_new_statistics_are_sections_of_the_report(tmp_path, capsys):
    """Adjusted comparisons with effect sizes, nested-step rules with sensitivity, within-space
    evidence, preferences and the noise floor from seed replicates: tables, report, console."""
    truth = Truth(widths_increase=-0.03, noise=0.01)
    data = make_results(("AnyNetXC", "AnyNetXD"), n=40, truth=truth, seed=4)
    rng = np.random.default_rng(0)
    again = data.head(12).assign(cfg_seed=1)  # 12 architectures trained with a second seed
    again["val_top1_err"] = again["val_top1_err"] + rng.normal(0, 0.004, len(again))
    results = pd.concat([data, again], ignore_index=True)
    csv = tmp_path / "runs.csv"
    results.to_csv(csv, index=False)
    out = tmp_path / "a"
    code = main(["analyze", str(csv), "--out", str(out), "--n-boot", "200", "--formats", "png"])
    printed = capsys.readouterr().out
    assert code == 0
    pairs = pd.read_csv(out / "pairwise.csv")
    for col in ("p_value", "p_adjusted", "median_diff_low", "p_a_beats_b", "p_equivalence"):
        assert col in pairs.columns, col
    assert pairs["diff_over_noise"].notna().all()  # quoted against the noise floor
    assert (pd.read_csv(out / "comparison.csv", index_col=0)["n"] == 40).all()  # one per model
    nested = pd.read_csv(out / "rules_nested.csv").set_index("rule")
    assert nested.loc["widths_increase", "verdict"] == "supported"
    assert nested.loc["widths_increase", "ci_high"] < 0
    assert nested.loc["shared_b", "verdict"] == "not testable"
    assert set(nested["sensitivity"].dropna()) <= {"robust", "fragile"}
    observational = pd.read_csv(out / "rules_observational.csv")
    assert (observational["evidence"] == "observational (within space)").all()
    prefs = pd.read_csv(out / "preferences.csv")
    assert list(prefs["column"]) == ["b", "g", "depth", "wm"]
    assert {"p_adjusted", "range_low", "range_high", "stable"} <= set(prefs.columns)
    floor = pd.read_csv(out / "noise_floor.csv")
    assert floor.loc[0, "n_archs"] == 12 and 0.001 < floor.loc[0, "sd"] < 0.01
    md = (out / "report.md").read_text()
    assert "92 runs of 80 architectures: seed replicates averaged" in md
    assert "OBSERVATIONAL evidence" in md and "## Training noise (seed replicates)" in md
    assert "holm adjustment over 1 pairs" in printed and "widths_increase" in printed
    assert "preferences of the best 25%" in printed and "noise floor" in printed


def test_report_html_is_self_contained(report):
    text = report.html.read_text()
    srcs = re.findall(r'src="([^"]*)"', text)
    assert len(srcs) == len(report.figures) >= 8
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "http://" not in text and "https://" not in text
    assert "<table" in text and "AnyNetXE" in text


def test_single_group_reports_what_is_missing(tmp_path):
    data = make_results(("AnyNetXA",), n=30, seed=1)
    rep = analyze(data, tmp_path, n_boot=300, formats=("png",))
    assert rep.comparison is None
    assert any("at least two groups" in s for s in rep.not_done)
    assert "at least two groups" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "rules.csv").exists() and not (tmp_path / "comparison.csv").exists()


def test_all_failed_raises_and_writes_nothing(tmp_path):
    data = make_results(("AnyNetXA", "AnyNetXB"), n=5, seed=1).assign(status="failed")
    with pytest.raises(DesignSpaceError, match="none of the 10 models"):
        analyze(data, tmp_path / "new" / "analysis")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its parent was created


def test_options_are_one_dataclass_and_unknown_overrides_are_refused(tmp_path):
    from designspace.reporting.options import AnalysisOptions

    # without per-stage widths the slow RegNet sections are skipped: this test is about options
    data = make_results(("AnyNetXA", "AnyNetXB"), n=12, seed=1).drop(columns=["widths"])
    opts = AnalysisOptions(n_boot=200, formats=("png",), reference="AnyNetXB")
    rep = analyze(data, tmp_path / "a", opts, by="space")
    assert rep.options == opts and rep.comparison.reference == "AnyNetXB"
    with pytest.raises(DesignSpaceError, match="unknown analysis option"):
        analyze(data, tmp_path / "b", opts, n_bootstrap=5)
    for bad in ({"alpha": 5}, {"alpha": 0}, {"n_boot": 0}, {"top": 0}, {"formats": ("jpg",)}):
        with pytest.raises(DesignSpaceError):
            AnalysisOptions(**bad)
    assert not (tmp_path / "b").exists()


def test_a_good_analysis_is_replaced_only_by_a_complete_one(tmp_path):
    good = make_results(("AnyNetXA", "AnyNetXB"), n=12, seed=1).drop(columns=["widths"])
    out = tmp_path / "analysis"
    analyze(good, out, n_boot=200, formats=("png",))
    (out / "stale_table.csv").write_text("old")  # left by an older version of the report
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(DesignSpaceError):
        analyze(good, out, by="nope", n_boot=200, formats=("png",))
    with pytest.raises(DesignSpaceError):
        analyze(good.assign(status="failed"), out, n_boot=200, formats=("png",))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    analyze(good, out, n_boot=200, formats=("svg",))
    names = {p.name for p in out.iterdir()}
    # the earlier analysis's own files go; a file designspace did not write stays (issue 20)
    assert "edf.svg" in names and "edf.png" not in names
    assert (out / "stale_table.csv").read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if p.name != "analysis"]  # no staging left
    # a folder of other files is not designspace's to write into: refused, left as it was
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "notes.txt").write_text("mine")
    with pytest.raises(DesignSpaceError, match="did not write"):
        analyze(good, mixed, n_boot=200, formats=("png",))
    assert [p.name for p in mixed.iterdir()] == ["notes.txt"]
    assert (mixed / "notes.txt").read_text() == "mine"
    with pytest.raises(DesignSpaceError, match="existing file"):
        analyze(good, mixed / "notes.txt")


def test_cli_analyze_concatenates_parquet_and_csv_and_prints_comparison(tmp_path, capsys):
    csv = tmp_path / "extra.csv"
    make_results(("AnyNetXB",), n=30, seed=2).to_csv(csv, index=False)
    code = main(
        [
            "analyze",
            str(FIXTURE),
            str(csv),
            "--out",
            str(tmp_path / "a"),
            "--n-boot",
            "300",
            "--formats",
            "png",
            "--reference",
            "AnyNetXB",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert "reference AnyNetXB" in captured.out and "verdict_ref" in captured.out
    assert re.search(r"AnyNetXB\s+30\s", captured.out) and "AnyNetXE" in captured.out
    assert "6 of 156 models excluded" in captured.err
    assert (tmp_path / "a" / "report.html").exists()
    assert not (tmp_path / "a" / "edf.svg").exists()


@pytest.mark.parametrize("kind", ["edf", "nedf", "param", "widths", "efit", "search", "flops"])
def test_cli_plot_every_kind(kind, tmp_path, capsys):
    out = tmp_path / f"{kind}.svg"
    assert main(["plot", kind, str(FIXTURE), "--by", "space", "-o", str(out)]) == 0
    assert b"<svg" in out.read_bytes()[:500]


def test_cli_bad_input_exits_2_with_one_line(tmp_path, capsys):
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    no_metric = tmp_path / "no_metric.csv"
    pd.DataFrame({"space": ["A", "B"], "status": ["ok", "ok"]}).to_csv(no_metric, index=False)
    failed = tmp_path / "failed.csv"
    make_results(("AnyNetXA",), n=4, seed=1).assign(status="failed").to_csv(failed, index=False)
    cases = [
        (["analyze", str(tmp_path / "missing")], "does not exist"),
        (["analyze", str(empty_dir)], "holds no result files"),
        (["analyze", str(no_metric), "--out", str(tmp_path / "o1")], "val_top1_err"),
        (["analyze", str(failed), "--out", str(tmp_path / "o2")], "none of the 4 models"),
        (
            ["analyze", str(FIXTURE), "--reference", "Nope", "--out", str(tmp_path / "o3")],
            "reference 'Nope'",
        ),
        (["analyze", str(FIXTURE), "--by", "nope", "--out", str(tmp_path / "o4")], "'nope'"),
        (["plot", "edf", str(FIXTURE), "-o", str(tmp_path / "x.jpg")], ".png, .svg or .pdf"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        said = [line for line in err.splitlines() if not PROGRESS_LINE.match(line)]
        assert message in err and len(said) == 1, (argv, err)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(("o", "."))]


def test_csv_list_cells_in_numpy_repr_are_read():
    from designspace.analysis._data import as_list

    assert as_list("[1 2 3]") == [1.0, 2.0, 3.0] and as_list("[4, 8]") == [4, 8]
    with pytest.raises(DesignSpaceError):
        as_list("[a b]")


def test_analysis_imports_neither_torch_nor_ray():
    code = (
        "import sys, designspace.analysis, designspace.reporting.plots, "
        "designspace.reporting.report, "
        "designspace.reporting.sections, "
        "designspace.commands.analyze, designspace.commands.plot; "
        "print(sorted(m for m in ('torch', 'ray') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def test_load_results_reads_a_sweep_folder_and_skips_what_is_not_a_result(tmp_path):
    import shutil

    from designspace.formats.results import ResultsWarning

    data_dir = tmp_path / "out" / "results"
    data_dir.mkdir(parents=True)
    for f in FIXTURE.glob("*.parquet"):
        shutil.copy(f, data_dir / f.name)
    (data_dir / ".tmp-in-progress.parquet").write_bytes(b"partial")
    (tmp_path / "out" / "quarantine").mkdir()
    (tmp_path / "out" / "quarantine" / "bad.parquet").write_bytes(b"garbage")
    assert len(load_results(tmp_path / "out")) == 126
    (data_dir / "broken.parquet").write_bytes(b"garbage")
    with pytest.warns(ResultsWarning, match="broken.parquet"):
        assert len(load_results([data_dir, FIXTURE / "AnyNetXA.parquet"])) == 126 + 42


def test_a_failed_move_into_place_leaves_no_staging_and_says_why(tmp_path, monkeypatch):
    import designspace.reporting.report as report

    def busy(stage, out):
        raise OSError(39, "Directory not empty")

    monkeypatch.setattr(report, "_publish", busy)
    data = make_results(("AnyNetXA", "AnyNetXB"), n=12, seed=1).drop(columns=["widths"])
    with pytest.raises(DesignSpaceError, match="another analysis"):
        analyze(data, tmp_path / "a", n_boot=200, formats=("png",))
    assert list(tmp_path.iterdir()) == []


def test_list_cells_written_to_csv_by_pandas_read_back():
    from designspace.analysis._data import as_list

    # what pandas writes for a list of numpy scalars (numpy >= 2 reprs)
    assert as_list("[np.float64(0.25), np.float64(0.5)]") == [0.25, 0.5]
    assert as_list("[1 2 3]") == [1.0, 2.0, 3.0] and as_list("[4, 5]") == [4, 5]
    with pytest.raises(DesignSpaceError, match="cannot read the list cell"):
        as_list("[a, b]")
