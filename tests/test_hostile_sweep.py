"""Hostile input to sweep, study and demo: one line, exit 2, no traceback, nothing created or
changed, and (for argument and study-file errors) neither torch nor ray imported."""

from __future__ import annotations

import pytest
from hostile import refused
from sweep_support import CLI_TINY, probe_refusals

GOOD_STUDY = """\
name = "s"
spaces = ["AnyNetXA", "AnyNetXE"]
n = 2
regime = "fashion-mnist"
reference = "AnyNetXA"
out = "{out}"

[train]
max_steps = 3
subset = 256

[placement]
cpus_per_trial = 1
"""

# (what replaces what in GOOD_STUDY, ..., a piece of the message)
STUDY_CASES = [
    (("cpus_per_trial = 1", "cpus_per_tral = 1"), "did you mean 'cpus_per_trial'"),
    (("cpus_per_trial = 1", "cpus_per_trial = 0"), "--cpus-per-trial must be a number > 0"),
    (("cpus_per_trial = 1", "executor = 'rya'"), "did you mean 'ray'"),
    (('spaces = ["AnyNetXA", "AnyNetXE"]', "spaces = 5"), "'spaces' must be a non-empty list"),
    (('spaces = ["AnyNetXA", "AnyNetXE"]', "spaces = []"), "'spaces' must be a non-empty list"),
    (('reference = "AnyNetXA"', 'reference = "AnyNetXZ"'), "not one of the study's spaces"),
    (("max_steps = 3", 'epochs = "one"'), "epochs"),
    (("max_steps = 3", "max_step = 3"), "did you mean 'max_steps'"),
    (("n = 2", 'n = "2"'), "'n' must be a positive integer"),
    (("n = 2", "n = 0"), "'n' must be a positive integer"),
    (('name = "s"', 'name = "s"\ncolour = 1'), "unknown key 'colour'"),
    (('regime = "fashion-mnist"', 'regime = "fashion-mnsit"'), "unknown regime"),
    (
        ("[placement]\ncpus_per_trial = 1", ""),
        ('name = "s"', 'name = "s"\nplacement = 5'),
        "[placement] must be a table",
    ),
]


@pytest.fixture()
def study_files(tmp_path):
    files = []
    for i, (*edits, message) in enumerate(STUDY_CASES):
        text = GOOD_STUDY.format(out=tmp_path / "results" / "s")
        for old, new in edits:
            assert old in text
            text = text.replace(old, new)
        path = tmp_path / f"case{i}.toml"
        path.write_text(text)
        files.append((path, message))
    return files


def test_bad_study_files_are_refused_naming_the_file(study_files, tmp_path):
    for path, message in study_files:
        line = refused("study", str(path), watch=[tmp_path])
        assert message in line and str(path) in line, (path.read_text(), line)
    line = refused("study", str(tmp_path / "missing.toml"), watch=[tmp_path])
    assert "cannot read study file" in line


def test_study_files_and_options_are_refused_before_torch_or_ray(study_files, tmp_path):
    bad_out = tmp_path / "a-file"
    bad_out.write_text("x")
    cases = [["study", str(p)] for p, _ in study_files]
    cases += [
        ["demo", "-n", "0"],
        ["demo", "--cpus-per-trial", "0"],
        ["demo", "--max-concurrent", "0"],
        ["demo", "--out", str(bad_out / "sub")],
        ["demo", "--executor", "nope"],
    ]
    report = probe_refusals(cases, cwd=tmp_path)
    assert len(report["cases"]) == len(cases)
    for got in report["cases"]:
        lines = got["stderr"].strip().splitlines()
        assert got["rc"] == 2 and len(lines) == 1 and "Traceback" not in got["stderr"], got
    assert not report["ray"] and not report["torch"]
    assert not (tmp_path / "runs").exists() and not (tmp_path / "results").exists()


def test_bad_sweep_arguments_are_refused_and_change_nothing(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    base = ["sweep", "--space", "AnyNetXA", "-n", "1", *CLI_TINY]
    cases = [
        (["--out", str(a_file / "sub")], "is a file, not a folder"),
        (["--out", str(a_file)], "is a file; give a folder"),
        (["--out", str(tmp_path / "o"), "--cpus-per-trial", "0"], "--cpus-per-trial"),
        (["--out", str(tmp_path / "o"), "--max-concurrent", "-3"], "--max-concurrent"),
        (["--out", str(tmp_path / "o"), "--executor", "nope"], "invalid choice"),
        (["--out", str(tmp_path / "o"), "-n", "0"], "-n must be a positive number"),
        (["--out", str(tmp_path / "o"), "--space", "AnyNetXA"], "named twice"),
        # issue 20: a sweep writes only into a new, empty or sweep folder
        (["--out", ""], "--out is empty"),
        (["--out", str(tmp_path)], "did not write"),
        (["--out", str(tmp_path / ("x" * 300))], "too long"),
    ]
    for extra, message in cases:
        line = refused(*base, *extra, watch=[tmp_path])
        assert message in line, (extra, line)


@pytest.mark.parametrize("command", ["sweep", "study", "demo"])
def test_help_ends_with_examples(command):
    from designspace.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if hasattr(a, "choices") and a.choices)
    text = sub.choices[command].format_help().rstrip()
    examples = text[text.rindex("examples:") :]
    assert f"designspace {command}" in examples and examples.count("\n") >= 4
