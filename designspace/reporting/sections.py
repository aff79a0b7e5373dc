"""The registry of the report's sections: what ``designspace analyze`` and the notebook run.

A :class:`Section` is one part of the report: its name, title, the columns it needs (with a
value for every usable model), the least number of groups, and a function ``run(ctx, out)`` that
adds text, tables (written as CSV) and figures (drawn by a plot kind of
:mod:`designspace.reporting.plot_kinds`) to ``out``, a
:class:`~designspace.reporting.document.SectionResult`.

A section whose columns are missing, whose data hold too few groups, or whose run raises
DesignSpaceError (the data cannot support it) is skipped and the reason is stated in the
report; the other sections still run. Adding an analysis = one ``run_<name>`` function in
:mod:`designspace.reporting.report_sections` + one ``SECTIONS`` entry here
(:func:`sections_table` lists them in order). Column names in ``requires`` may name the options
``{complexity}``, ``{metric}`` and ``{by}``.

Importing this module is cheap (no pandas, scipy or matplotlib): the command-line parser lists
the sections from it. Run functions import the analysis library when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from designspace.errors import DesignSpaceError
from designspace.feedback import Stages
from designspace.reporting import report_sections as rs
from designspace.reporting.context import Context, missing_columns
from designspace.reporting.document import SectionResult
from designspace.reporting.options import STAGE_COLUMNS


@dataclass(frozen=True)
class Section:
    """One part of the report. ``run(ctx, out)`` fills ``out``; it runs only when every column
    of ``requires`` has a value for every usable model and the data hold at least
    ``min_groups`` groups of ``options.by``, and ``applies(ctx)`` (when given) returns None
    instead of the reason the data do not fit."""

    name: str
    title: str
    run: Callable[[Context, SectionResult], None]
    requires: tuple[str, ...] = ()
    min_groups: int = 1
    applies: Callable[[Context], str | None] | None = None


def run_section(section: Section | str, ctx: Context) -> SectionResult:
    """Run one section (or state why it is skipped) and return what it produced."""
    sec = SECTIONS[section] if isinstance(section, str) else section
    out = SectionResult(sec.name, sec.title)
    columns = [ctx.options.column(c) for c in sec.requires]
    lacking = missing_columns(ctx.data, columns)
    complete = ctx.complete_groups(columns) if lacking and set(columns) <= set(ctx.data) else []
    if lacking and complete:  # run on the groups that have the data, say which were left out
        left_out = [g for g in ctx.groups if g not in complete]
        out.not_done.append(
            f"{sec.title}: {ctx.options.by} {', '.join(left_out)} left out: their models lack "
            f"{', '.join(lacking)}"
        )
        ctx = ctx.restricted(complete)
        lacking = []
    if lacking:
        out.skipped = f"needs column(s) {lacking} with a value for every model"
    elif len(ctx.groups) < sec.min_groups:
        out.skipped = (
            f"needs at least {_count(sec.min_groups)} groups in column '{ctx.options.by}'; these "
            f"results hold only {ctx.groups}: add results of another {ctx.options.by} to compare"
        )
    elif sec.applies is not None and (why := sec.applies(ctx)):
        out.skipped = why
    else:
        try:
            sec.run(ctx, out)
        except DesignSpaceError as exc:  # the data cannot support it: say why, keep the rest
            out.blocks.clear()
            out.console.clear()
            out.skipped = str(exc)
    return out


def run_sections(
    ctx: Context, names: Sequence[str] | None = None, stages: Stages | None = None
) -> list[SectionResult]:
    """Run the named sections (default: all, in registry order), reporting each to
    ``stages`` (None: silently)."""
    chosen = list(names or SECTIONS)
    out = []
    for i, name in enumerate(chosen, 1):
        if stages is not None:
            stages.stage(SECTIONS[name].title, i, len(chosen))
        out.append(run_section(name, ctx))
    return out


def show(result: SectionResult) -> None:
    """Display a section in a Jupyter notebook: its title, text, shown tables and figures, and
    what was not done (needs IPython)."""
    from IPython.display import Markdown, display

    display(Markdown(f"### {result.title}"))
    if result.skipped:
        display(Markdown(f"Skipped: {result.skipped}."))
        return
    for block in result.blocks:
        block.show()
    for line in result.not_done:
        print("not done:", line)


def sections_table() -> list[tuple[str, str, tuple[str, ...], int]]:
    """(name, title, required columns, least groups) of every section, in report order."""
    return [(s.name, s.title, s.requires, s.min_groups) for s in SECTIONS.values()]


def _count(n: int) -> str:
    return {1: "one", 2: "two", 3: "three"}.get(n, str(n))


SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        Section("data", "Data", rs.run_data),
        Section("noise", "Training noise (seed replicates)", rs.run_noise, applies=rs.replicated),
        Section("summary", "Summary", rs.run_summary),
        Section("comparison", "Comparison", rs.run_comparison, min_groups=2),
        Section(
            "comparison_normalized",
            "Complexity-normalized comparison",
            rs.run_normalized,
            ("{complexity}",),
            min_groups=2,
        ),
        Section("balance", "Balance", rs.run_balance, STAGE_COLUMNS, min_groups=2),
        Section("sample_size", "Sample-size sensitivity", rs.run_sample_size),
        Section("search", "Random-search efficiency", rs.run_search),
        Section("flops", "Error vs complexity", rs.run_flops, ("{complexity}",)),
        Section(
            "curves",
            "Learning curves",
            rs.run_curves,
            ("epoch_{metric}",),
            applies=rs.several_epochs,
        ),
        Section("fits", "RegNet fits", rs.run_fits, STAGE_COLUMNS),
        Section(
            "rules_nested",
            "RegNet principles: nested spaces",
            rs.run_nested,
            min_groups=2,
            applies=rs.nested_pair_present,
        ),
        Section(
            "rules_observational",
            "RegNet principles: within-space evidence (observational)",
            rs.run_observational,
            STAGE_COLUMNS,
        ),
        Section(
            "preferences",
            "Preferences of the best models (top vs all)",
            rs.run_preferences,
            STAGE_COLUMNS,
        ),
        Section("rules", "RegNet principles: verdicts", rs.run_rules, STAGE_COLUMNS),
        Section("findings", "Findings (the confirmatory family)", rs.run_findings),
        Section("good_ranges", "Good ranges (DDS bootstrap)", rs.run_good_ranges, STAGE_COLUMNS),
    )
}
