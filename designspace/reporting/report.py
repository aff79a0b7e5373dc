"""The full analysis of a results set: every table (CSV), every plot (PNG and/or SVG), report.md
and one self-contained report.html (images embedded as base64; opens from disk with no network).

:func:`analyze` is what ``designspace analyze`` and ``designspace study`` call. The report is the
sections of :mod:`designspace.reporting.sections`, in registry order; a section the data
cannot support
(one group only, no per-stage columns, no flops) is skipped and its reason stated under its
heading and under "Not done".

Nothing existing is rewritten on failure: the inputs are checked before anything is created,
every file is written into a temporary folder next to the output folder, and only a complete
analysis is moved into place.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designspace.errors import DesignSpaceError
from designspace.feedback import Stages
from designspace.formats import outputs
from designspace.reporting.context import prepare
from designspace.reporting.document import Bullets, Document, Heading, Paragraph, SectionResult
from designspace.reporting.options import AnalysisOptions
from designspace.reporting.sections import run_sections

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class AnalysisReport:
    """What :func:`analyze` produced: tables by name, figure files by name, notes, paths.

    ``comparison`` is the comparison object of the "comparison" section (None when skipped);
    ``console`` the lines the sections print on a terminal (the ``warnings`` first: what limits
    the conclusions, see :func:`designspace.reporting.context.data_warnings`).
    """

    out_dir: Path
    options: AnalysisOptions
    sections: list[SectionResult] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, list[Path]] = field(default_factory=dict)
    comparison: Any = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    not_done: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    markdown: Path | None = None
    html: Path | None = None


def analyze(
    data: pd.DataFrame,
    out_dir: str | Path,
    options: AnalysisOptions | None = None,
    *,
    sources: Sequence[str] = (),
    stages: Stages | None = None,
    noise_runs: pd.DataFrame | None = None,
    **overrides: Any,
) -> AnalysisReport:
    """Run every section on ``data`` and write tables, figures and reports into ``out_dir``.

    ``options`` (default :class:`AnalysisOptions`) with ``overrides`` by field name (e.g.
    ``by="space", reference="AnyNetXA"``). ``sources`` name the inputs in the report;
    ``stages`` (None: silent) hears each step (preparing, every section, writing). Raises
    DesignSpaceError, before creating anything, when the options, the output folder or the
    data are unusable. Files: ``<table>.csv``, ``<figure>.<format>``, ``report.md``,
    ``report.html``; files of an earlier analysis in ``out_dir`` are replaced only once the new
    one is complete. ``out_dir`` must be new, empty or an analysis designspace wrote: a file
    it did not write is never replaced or removed (:mod:`designspace.formats.outputs`).
    ``noise_runs``: seed replicates of some architectures (e.g. ``designspace replicate``'s
    folders) that give the noise floor (every effect's ``diff_over_noise``) without entering
    the compared populations.
    """
    opts = AnalysisOptions.with_overrides(options, **overrides)
    out = check_out_dir(out_dir)
    if stages is not None:
        stages.stage("preparing the data")
    ctx = prepare(data, opts)
    if noise_runs is not None:
        from designspace.analysis._data import usable

        ctx.noise_runs = usable(noise_runs, opts.metric, ["arch_id", "cfg_seed"], "--noise").data
    results = run_sections(ctx, stages=stages)
    rep = AnalysisReport(out, opts, results, comparison=ctx.shared.get("comparison"))
    if ctx.note:
        rep.notes.append(ctx.note)
    rep.warnings = list(ctx.warnings)
    rep.console += [f"warning: {w}" for w in rep.warnings]
    for r in results:
        rep.console += r.console
        if r.skipped:
            rep.not_done.append(f"{r.title}: skipped, {r.skipped}")
        rep.not_done += r.not_done
        rep.tables.update({name: t.frame for name, t in r.tables.items()})
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    intro = (
        f"Generated {when} from {', '.join(map(str, sources)) or 'a DataFrame'}. Errors are "
        f"fractions in [0, 1] in the tables and percentages in the plots; flops are multiply-adds."
    )
    if stages is not None:
        stages.stage(f"writing {len(rep.tables)} tables, figures and the report")
    staging = _Staging(out)
    with staging as stage:
        doc = Document(f"Design-space analysis: {opts.metric} by {opts.by}")
        doc.add(Paragraph(intro))
        if rep.warnings:
            doc.add(Heading("Warnings"))
            doc.add(Bullets(rep.warnings))
        for r in results:
            _render(r, doc, stage, opts, rep)
        if rep.not_done:
            doc.add(Heading("Not done"))
            doc.add(Bullets(rep.not_done))
        (stage / "report.md").write_text(doc.markdown(), encoding="utf-8")
        (stage / "report.html").write_text(doc.html(), encoding="utf-8")
    if staging.published is not None:
        rep.notes += [
            f"kept {out / name}: not part of this analysis, and changed since designspace "
            f"wrote it or written by an older version; remove it if it is stale"
            for name in staging.published.kept
        ]
    rep.markdown, rep.html = out / "report.md", out / "report.html"
    return rep


def check_out_dir(out_dir: str | Path, inputs: Sequence[str | Path] = ()) -> Path:
    """``out_dir`` as a Path after checking that an analysis can be written there: a new or
    empty folder, or one designspace wrote an analysis into (see
    :func:`designspace.formats.outputs.check_out_dir`), that neither is nor holds one of
    ``inputs`` and is not inside a results data set; creates nothing. Raises
    DesignSpaceError otherwise."""
    outputs.check_out_dir(out_dir, outputs.ANALYSIS, inputs=inputs)
    return Path(out_dir)


class _Staging:
    """Context manager: a temporary folder next to ``out``, published into place on success
    (:func:`_publish`) and removed (with any parent folder it created) on failure or
    interruption. ``published`` tells what the publishing wrote, removed and kept."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.created: Path | None = None
        self.path: Path | None = None
        self.published: outputs.Published | None = None

    def __enter__(self) -> Path:
        parent = self.out.parent
        missing = [p for p in [parent, *parent.parents] if not p.exists()]
        if missing:
            self.created = missing[-1]
            parent.mkdir(parents=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=parent))
        return self.path

    def __exit__(self, kind: type | None, *_: object) -> None:
        assert self.path is not None
        if kind is None:
            try:
                self.published = _publish(self.path, self.out)
            except OSError as exc:  # e.g. another analysis moved its files into place first
                raise DesignSpaceError(
                    f"could not move the new analysis into {str(self.out)!r} ({exc}); is another "
                    f"analysis writing there? Rerun when it has finished"
                ) from None
            finally:
                shutil.rmtree(self.path, ignore_errors=True)
            return
        shutil.rmtree(self.path, ignore_errors=True)
        if self.created is not None:
            shutil.rmtree(self.created, ignore_errors=True)


def _publish(stage: Path, out: Path) -> outputs.Published:
    """Move the finished analysis in ``stage`` to ``out`` through the outputs manifest
    (:func:`designspace.formats.outputs.publish`): a new folder is renamed into place whole;
    in an existing one each new file replaces its namesake atomically, and files of the
    earlier analysis are removed only while unchanged. Files designspace did not write are
    never touched (a name clash is refused before anything moves)."""
    return outputs.publish(stage, out, "analyze", outputs.ANALYSIS)


def _render(
    r: SectionResult, doc: Document, stage: Path, opts: AnalysisOptions, rep: AnalysisReport
) -> None:
    """Add section ``r`` to ``doc`` and write its tables and figures into ``stage``."""
    doc.add(Heading(r.title))
    if r.skipped:
        doc.add(Paragraph(f"Skipped: {r.skipped}."))
        return
    for block in r.blocks:
        doc.add(block.publish(stage, opts.formats))
    for name in r.figures:
        rep.figures[name] = [rep.out_dir / f"{name}.{f}" for f in opts.formats]
