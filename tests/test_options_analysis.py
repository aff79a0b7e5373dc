"""Analysis options generated from AnalysisOptions: every field is a flag of `designspace
analyze` (and of `designspace plot` where it changes figures), and every flag round-trips."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields

import pytest

from designspace.cli import build_parser
from designspace.commands import options as generated
from designspace.commands.analyze import options_from_args
from designspace.commands.common import HelpFormatter
from designspace.commands.options import (
    add_analysis_options,
    analysis_from_args,
    analysis_options,
)
from designspace.errors import DesignSpaceError
from designspace.reporting.options import AnalysisOptions

# A valid value other than the default, for every field, and how it is typed on the command line.
OTHER = {
    "by": ("cfg_seed", "cfg_seed"),
    "metric": ("val_top5_err", "val_top5_err"),
    "reference": ("AnyNetXB", "AnyNetXB"),
    "alpha": (0.01, "0.01"),
    "complexity": ("params", "params"),
    "formats": (("svg",), "svg"),
    "n_boot": (2000, "2000"),
    "top": (3, "3"),
    "seed": (7, "7"),
    "x": ("b", "b"),
    "band": ("bootstrap", "bootstrap"),
    "adjust": ("bh", "bh"),
    "margin": (0.01, "0.01"),
    "best": (0.1, "0.1"),
    "confirmatory": (("shared_b", "good_wm"), "shared_b,good_wm"),
}
# The flags each command had before they were generated (issue 23: analyze lacked four).
OLD_ANALYZE = "--by --metric --reference --alpha --out --formats --n-boot --seed --adjust --margin"
OLD_ANALYZE += " --best"
OLD_PLOT = "-o --output --by --metric --x --top --band"
# The fields that change a figure (the rest only change tables and the report).
PLOT_FIELDS = {"by", "metric", "alpha", "complexity", "n_boot", "top", "seed", "x", "band"}


def subparser(command: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices[command]


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def argv_for(names) -> list[str]:
    argv = []
    for o in analysis_options():
        if o.field in names:
            argv += [o.flag, OTHER[o.field][1]]
    return argv


def test_every_field_has_a_flag_in_analyze_with_help():
    names = {f.name for f in fields(AnalysisOptions)}
    assert set(OTHER) == names  # this test covers every field
    parser = subparser("analyze")
    flags = option_strings(parser)
    for o in analysis_options("analyze"):
        assert o.flag in flags, o.flag
        assert len(o.help) > 20, o
    assert {o.field for o in analysis_options("analyze")} == names
    assert {"--complexity", "--top", "--x", "--band"} <= flags  # missing before generation
    assert set(OLD_ANALYZE.split()) <= flags


def test_plot_has_a_flag_for_every_field_that_changes_a_figure():
    plot = analysis_options("plot")
    assert {o.field for o in plot} == PLOT_FIELDS
    flags = option_strings(subparser("plot"))
    assert set(OLD_PLOT.split()) <= flags
    assert {o.flag for o in plot} <= flags
    assert not {"--reference", "--adjust", "--margin", "--best", "--formats"} & flags


def test_defaults_choices_and_help_are_kept():
    analyze, plot = subparser("analyze"), subparser("plot")
    for parser in (analyze, plot):
        band = next(a for a in parser._actions if "--band" in a.option_strings)
        assert list(band.choices) == ["dkw", "bootstrap"]
    text = analyze.format_help()
    for shown in ("(default: space)", "(default: 0.05)", "(default: png,svg)", "10000", "holm"):
        assert shown in text, shown
    assert options_from_args(analyze.parse_args(["r"])) == AnalysisOptions()
    plot_args = plot.parse_args(["edf", "r", "-o", "e.png"])
    assert analysis_from_args(plot_args, plot_args.analysis_options) == AnalysisOptions()


def test_every_flag_round_trips_a_non_default_value():
    args = subparser("analyze").parse_args(["r", *argv_for(OTHER)])
    options = options_from_args(args)
    expected = AnalysisOptions(**{k: v for k, (v, _) in OTHER.items()})
    assert options == expected
    for name, (value, _) in OTHER.items():
        assert getattr(options, name) == value != getattr(AnalysisOptions(), name), name


def test_plot_flags_round_trip():
    args = subparser("plot").parse_args(["param", "r", "-o", "p.png", *argv_for(PLOT_FIELDS)])
    options = analysis_from_args(args, args.analysis_options)
    assert options == AnalysisOptions(**{k: OTHER[k][0] for k in PLOT_FIELDS})


def test_formats_are_a_comma_separated_list():
    args = subparser("analyze").parse_args(["r", "--formats", " PNG, svg ,"])
    assert options_from_args(args).formats == ("png", "svg")


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--alpha", "1"),
        ("--n-boot", "99"),
        ("--top", "0"),
        ("--seed", "-1"),
        ("--margin", "0"),
        ("--best", "1.5"),
        ("--adjust", "sidak"),
        ("--formats", "jpg"),
        ("--by", " "),
        ("--confirmatory", "shared_q"),
    ],
)
def test_a_bad_value_is_refused_naming_its_flag(flag, value):
    args = subparser("analyze").parse_args(["r", flag, value])
    with pytest.raises(DesignSpaceError, match=f"^{flag}: "):
        options_from_args(args)


@dataclass(frozen=True)
class _Grown(AnalysisOptions):
    """AnalysisOptions with one more field, as a later version might add."""

    smoothing: float = field(
        default=0.5, metadata={"help": "smoothing of the new figure, 0 to 1", "plot": True}
    )


def test_a_new_field_becomes_a_flag_without_touching_the_commands(monkeypatch):
    monkeypatch.setattr(generated, "AnalysisOptions", _Grown)
    for command in ("analyze", "plot"):
        parser = argparse.ArgumentParser()
        options = add_analysis_options(parser, command)
        new = next(o for o in options if o.field == "smoothing")
        assert new.flag == "--smoothing" and new.kind is float and "(default: 0.5)" in new.help
        got = analysis_from_args(parser.parse_args(["--smoothing", "0.25"]), options)
        assert isinstance(got, _Grown) and got.smoothing == 0.25


@dataclass(frozen=True)
class _Undocumented(AnalysisOptions):
    secret: int = 1


def test_a_field_without_help_is_refused(monkeypatch):
    monkeypatch.setattr(generated, "AnalysisOptions", _Undocumented)
    with pytest.raises(TypeError, match="secret"):
        analysis_options()


def test_unknown_command_has_no_analysis_options():
    with pytest.raises(ValueError, match="study"):
        analysis_options("study")


@pytest.mark.parametrize(
    "command", ["spaces", "sample", "describe", "train", "analyze", "plot", "import"]
)
def test_commands_share_one_help_formatter(command):
    assert subparser(command).formatter_class is HelpFormatter
    assert build_parser().formatter_class is HelpFormatter
    nds = next(a for a in subparser("import")._actions if a.dest == "format").choices["nds"]
    assert nds.formatter_class is HelpFormatter


def test_confirmatory_claims_are_the_analysis_library_s():
    from designspace.analysis.family import known_claims
    from designspace.reporting.options import CONFIRMATORY_CLAIMS

    assert CONFIRMATORY_CLAIMS == known_claims()


def test_confirmatory_may_be_empty_and_drops_duplicates():
    args = subparser("analyze").parse_args(["r", "--confirmatory", ""])
    assert options_from_args(args).confirmatory == ()
    assert AnalysisOptions(confirmatory=["good_wm", "good_wm"]).confirmatory == ("good_wm",)
    assert AnalysisOptions().confirmatory is None
