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

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designspace.errors import DesignSpaceError
from designspace.feedback import Stages
from designspace.reporting.context import prepare
from designspace.reporting.document import Bullets, Document, Heading, Paragraph, SectionResult
from designspace.reporting.options import AnalysisOptions
from designspace.reporting.sections import run_sections

if TYPE_CHECKING:
    import pandas as pd

_ANALYSIS_SUFFIXES = {".csv", ".png", ".svg", ".md", ".html"}


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
    **overrides: Any,
) -> AnalysisReport:
    """Run every section on ``data`` and write tables, figures and reports into ``out_dir``.

    ``options`` (default :class:`AnalysisOptions`) with ``overrides`` by field name (e.g.
    ``by="space", reference="AnyNetXA"``). ``sources`` name the inputs in the report;
    ``stages`` (None: silent) hears each step (preparing, every section, writing). Raises
    DesignSpaceError, before creating anything, when the options, the output folder or the
    data are unusable. Files: ``<table>.csv``, ``<figure>.<format>``, ``report.md``,
    ``report.html``; files of an earlier analysis in ``out_dir`` are replaced only once the new
    one is complete.
    """
    opts = AnalysisOptions.with_overrides(options, **overrides)
    out = check_out_dir(out_dir)
    if stages is not None:
        stages.stage("preparing the data")
    ctx = prepare(data, opts)
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
    with _Staging(out) as stage:
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
    rep.markdown, rep.html = out / "report.md", out / "report.html"
    return rep


def check_out_dir(out_dir: str | Path) -> Path:
    """``out_dir`` as a Path after checking that an analysis can be written there (it is a
    folder or can be created as one); creates nothing. Raises DesignSpaceError otherwise."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DesignSpaceError(
            f"output {str(out)!r} is an existing file, not a folder; name a folder for the analysis"
        )
    parent = out if out.exists() else out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise DesignSpaceError(
            f"cannot create the analysis folder {str(out)!r}: {str(parent)!r} is a file"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DesignSpaceError(f"cannot write the analysis into {str(out)!r}: no permission")
    return out


class _Staging:
    """Context manager: a temporary folder next to ``out``, moved into place on success and
    removed (with any parent folder it created) on failure."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.created: Path | None = None
        self.path: Path | None = None

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
                _publish(self.path, self.out)
            except OSError as exc:  # e.g. another analysis moved its files into place first
                shutil.rmtree(self.path, ignore_errors=True)
                raise DesignSpaceError(
                    f"could not move the new analysis into {str(self.out)!r} ({exc}); is another "
                    f"analysis writing there? Rerun when it has finished"
                ) from None
            return
        shutil.rmtree(self.path, ignore_errors=True)
        if self.created is not None:
            shutil.rmtree(self.created, ignore_errors=True)


def _publish(stage: Path, out: Path) -> None:
    """Move the finished analysis in ``stage`` to ``out``. A folder that holds only an earlier
    analysis is swapped whole (so no stale table or figure survives); any other folder gets the
    new files one by one (each replaced atomically), keeping what else it holds."""
    if not out.exists():
        stage.rename(out)
        return
    entries = list(out.iterdir())
    only_analysis = (out / "report.md").is_file() and all(
        e.is_file() and e.suffix in _ANALYSIS_SUFFIXES for e in entries
    )
    if only_analysis:
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        old.rmdir()
        out.rename(old)
        stage.rename(out)
        shutil.rmtree(old, ignore_errors=True)
        return
    for f in stage.iterdir():
        os.replace(f, out / f.name)
    stage.rmdir()


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
