"""Feedback on long work: stages on stderr, one line each in a log, one updating line on a
terminal; analyze reports every section as it starts."""

import io

from synthetic import make_results

from designspace.feedback import Stages
from designspace.reporting.options import AnalysisOptions
from designspace.reporting.report import analyze
from designspace.reporting.sections import SECTIONS


def test_a_log_gets_one_line_per_stage():
    out = io.StringIO()
    stages = Stages("plot", stream=out, tty=False)
    stages.stage("reading results")
    stages.stage("drawing", 2, 3)
    stages.done("wrote edf.png")
    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "plot: reading results",
        "plot [2/3]: drawing",
        "plot: wrote edf.png",
    ]
    assert all(line.endswith(" s)") for line in lines)


def test_a_terminal_gets_one_line_rewritten_in_place():
    out = io.StringIO()
    stages = Stages("analyze", stream=out, tty=True)
    stages.stage("a")
    stages.stage("b")
    stages.done()
    text = out.getvalue()
    assert text.count("\r\033[K") == 3 and text.count("\n") == 1 and text.endswith("\n")


def test_silent_stages_print_nothing():
    out = io.StringIO()
    stages = Stages("x", stream=out, enabled=False)
    stages.stage("a")
    stages.done()
    assert out.getvalue() == "" and stages.lines == []


def test_analyze_reports_every_section_before_running_it(tmp_path):
    data = make_results(("AnyNetXA", "AnyNetXE"), n=16, seed=2).drop(columns=["widths"])
    stages = Stages("analyze", stream=io.StringIO(), tty=False)
    analyze(data, tmp_path / "a", AnalysisOptions(n_boot=200, formats=("png",)), stages=stages)
    names = [line.split(": ", 1)[1].rsplit(" (", 1)[0] for line in stages.lines]
    assert names[0] == "preparing the data"
    titles = [s.title for s in SECTIONS.values()]
    assert [n for n in names if n in titles] == titles
    assert names[-1].startswith("writing ")
