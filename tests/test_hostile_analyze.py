"""Hostile input to `designspace analyze` and `designspace plot` (issue 14): one line, exit 2,
no traceback, nothing created, and a good analysis already in --out never rewritten."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import refused, snapshot
from synthetic import make_results

from designspace.analysis import load_results
from designspace.cli import build_parser
from designspace.reporting.report import analyze

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = str(ROOT / "results" / "fixtures" / "small_results")


@pytest.fixture(scope="module")
def area(tmp_path_factory):
    """A folder holding a good analysis (good/), a plain file, and a results set that all
    failed."""
    root = tmp_path_factory.mktemp("hostile-analyze")
    # without per-stage widths the analysis is quick; its files are what matters here
    data = load_results(FIXTURE).drop(columns=["widths"])
    analyze(data, root / "good", n_boot=200, formats=("png",))
    (root / "file.txt").write_text("not a folder")
    failed = make_results(("AnyNetXA", "AnyNetXB"), n=4, seed=1).assign(status="failed")
    failed.to_csv(root / "failed.csv", index=False)
    assert (root / "good" / "report.html").exists()
    # a user's folder (issue 20): their data and their own report.md
    (root / "user").mkdir()
    failed.assign(status="ok").to_csv(root / "user" / "data.csv", index=False)
    (root / "user" / "report.md").write_text("# my notes\n")
    (root / "set" / "results").mkdir(parents=True)
    shutil.copy(Path(FIXTURE) / "AnyNetXA.parquet", root / "set" / "results" / "a.parquet")
    (root / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    return root


CASES = {
    "alpha above 1": (["analyze", FIXTURE, "--alpha", "5", "--out", "{good}"], "--alpha"),
    "alpha zero": (["analyze", FIXTURE, "--alpha", "0", "--out", "{good}"], "--alpha"),
    "no bootstrap": (["analyze", FIXTURE, "--n-boot", "0", "--out", "{good}"], "--n-boot"),
    "negative seed": (["analyze", FIXTURE, "--seed", "-1", "--out", "{good}"], "--seed"),
    "out is a file": (["analyze", FIXTURE, "--out", "{root}/file.txt"], "existing file"),
    "out under a file": (["analyze", FIXTURE, "--out", "{root}/file.txt/sub"], "is a file"),
    "bad --by into a good analysis": (
        ["analyze", FIXTURE, "--by", "nope", "--out", "{good}"],
        "nope",
    ),
    "bad --by into a new folder": (
        ["analyze", FIXTURE, "--by", "nope", "--out", "{root}/new/deeper"],
        "nope",
    ),
    "all failed": (["analyze", "{root}/failed.csv", "--out", "{good}"], "none of the 8 models"),
    "unknown reference": (["analyze", FIXTURE, "--reference", "X", "--out", "{good}"], "'X'"),
    "bad formats": (["analyze", FIXTURE, "--formats", "jpg", "--out", "{good}"], "--formats"),
    "missing results": (["analyze", "{root}/nothing", "--out", "{good}"], "does not exist"),
    "plot top 0": (["plot", "widths", FIXTURE, "--top", "0", "-o", "{root}/w.png"], "--top"),
    "plot top -3": (["plot", "widths", FIXTURE, "--top", "-3", "-o", "{root}/w.png"], "--top"),
    "plot into a folder": (["plot", "edf", FIXTURE, "-o", "{good}"], ".png, .svg or .pdf"),
    "plot into a .png folder": (["plot", "edf", FIXTURE, "-o", "{root}/d.png/"], "folder"),
    "plot bad --by": (["plot", "edf", FIXTURE, "--by", "nope", "-o", "{root}/e.png"], "nope"),
    "plot under a file": (["plot", "edf", FIXTURE, "-o", "{root}/file.txt/e.png"], "is a file"),
    # issue 20: outputs never destroy inputs or files designspace did not write
    "out holds the input": (
        ["analyze", "{root}/user/data.csv", "--out", "{root}/user"],
        "contains the input",
    ),
    "out is a user's folder": (["analyze", FIXTURE, "--out", "{root}/user"], "did not write"),
    "out is the data set": (["analyze", "{root}/set", "--out", "{root}/set/results"], "data set"),
    "out inside the data set": (
        ["analyze", FIXTURE, "--out", "{root}/set/results/analysis"],
        "data set",
    ),
    "out is empty": (["analyze", FIXTURE, "--out", ""], "--out is empty"),
    "out is the input": (["analyze", "{root}/set", "--out", "{root}/set"], "the input"),
    "out name too long": (["analyze", FIXTURE, "--out", "{root}/" + "n" * 300], "too long"),
    "plot over a user's image": (["plot", "edf", FIXTURE, "-o", "{root}/photo.png"], "not a fig"),
    "plot over its input": (
        ["plot", "edf", "{root}/user/data.csv", "-o", "{root}/user/data.csv"],
        ".png, .svg or .pdf",
    ),  # fmt: skip
    "plot -o empty": (["plot", "edf", FIXTURE, "-o", ""], ".png, .svg or .pdf"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_without_touching_anything(case, area):
    argv, message = CASES[case]
    if case == "plot into a .png folder":
        (area / "d.png").mkdir(exist_ok=True)
    args = [a.format(root=area, good=area / "good") for a in argv]
    line = refused(*args, watch=[area])
    assert message in line, line


def test_argument_errors_are_refused_before_the_analysis_library_loads():
    code = (
        "import sys; from designspace.cli import main; "
        "codes = [main(['analyze', 'x', '--alpha', '5']), main(['analyze', 'x', '--n-boot', '0']), "
        "main(['plot', 'widths', 'x', '--top', '0', '-o', 'w.png'])]; "
        "print(codes, sorted(m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[2, 2, 2] []"


@pytest.mark.parametrize("command", ["analyze", "plot"])
def test_help_ends_with_examples(command):
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    text = sub.choices[command].format_help().rstrip().splitlines()
    start = text.index("examples:")
    examples = text[start + 1 :]
    assert len(examples) >= 3 and all(line.strip().startswith("designspace ") for line in examples)
    assert any(f"designspace {command} " in line for line in examples)


def test_good_analysis_survived_every_case(area):
    state = snapshot([area / "good"])
    assert any(k.endswith("report.html") for k in state) and len(state) > 10
    assert not (area / "new").exists() and not (area / "w.png").exists()
