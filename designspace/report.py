"""The full analysis of a results set: every table (CSV), every plot (PNG and/or SVG), report.md
and one self-contained report.html (images embedded as base64; opens from disk with no network).

:func:`analyze` is what ``designspace analyze`` and ``designspace study`` call. The report is the
sections of :mod:`designspace.sections`, in registry order; a section the data cannot support
(one group only, no per-stage columns, no flops) is skipped and its reason stated under its
heading and under "Not done".

Nothing existing is rewritten on failure: the inputs are checked before anything is created,
every file is written into a temporary folder next to the output folder, and only a complete
analysis is moved into place.
"""

from __future__ import annotations

import base64
import html
import io
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from designspace.errors import DesignSpaceError
from designspace.sections import (
    AnalysisOptions,
    FigureResult,
    SectionResult,
    prepare,
    run_sections,
)

if TYPE_CHECKING:
    import pandas as pd

_ANALYSIS_SUFFIXES = {".csv", ".png", ".svg", ".md", ".html"}


@dataclass
class AnalysisReport:
    """What :func:`analyze` produced: tables by name, figure files by name, notes, paths.

    ``comparison`` is the comparison object of the "comparison" section (None when skipped);
    ``console`` the lines the sections print on a terminal.
    """

    out_dir: Path
    options: AnalysisOptions
    sections: list[SectionResult] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, list[Path]] = field(default_factory=dict)
    comparison: Any = None
    notes: list[str] = field(default_factory=list)
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
    **overrides: Any,
) -> AnalysisReport:
    """Run every section on ``data`` and write tables, figures and reports into ``out_dir``.

    ``options`` (default :class:`AnalysisOptions`) with ``overrides`` by field name (e.g.
    ``by="space", reference="AnyNetXA"``). ``sources`` name the inputs in the report. Raises
    DesignSpaceError, before creating anything, when the options, the output folder or the
    data are unusable. Files: ``<table>.csv``, ``<figure>.<format>``, ``report.md``,
    ``report.html``; files of an earlier analysis in ``out_dir`` are replaced only once the new
    one is complete.
    """
    opts = AnalysisOptions.with_overrides(options, **overrides)
    out = check_out_dir(out_dir)
    ctx = prepare(data, opts)
    results = run_sections(ctx)
    rep = AnalysisReport(out, opts, results, comparison=ctx.shared.get("comparison"))
    if ctx.note:
        rep.notes.append(ctx.note)
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
    with _Staging(out) as stage:
        doc = _Doc(f"Design-space analysis: {opts.metric} by {opts.by}")
        doc.text(intro)
        for r in results:
            _render(r, doc, stage, opts, rep)
        if rep.not_done:
            doc.heading("Not done")
            doc.bullets(rep.not_done)
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
    r: SectionResult, doc: _Doc, stage: Path, opts: AnalysisOptions, rep: AnalysisReport
) -> None:
    """Add section ``r`` to ``doc`` and write its tables and figures into ``stage``."""
    doc.heading(r.title)
    if r.skipped:
        doc.text(f"Skipped: {r.skipped}.")
        return
    for kind, value in r.blocks:
        if kind == "p":
            doc.text(value)
        elif kind == "ul":
            doc.bullets(value)
        elif kind == "table":
            value.frame.to_csv(stage / f"{value.name}.csv", index=value.index)
            if value.shown is not None:
                doc.table(value.shown, value.index)
        elif kind == "figure":
            link, png = _save_figure(value, stage, opts.formats)
            rep.figures[value.name] = [rep.out_dir / f"{value.name}.{f}" for f in opts.formats]
            doc.image(link, value.caption, png)


def _save_figure(fig: FigureResult, stage: Path, formats: Sequence[str]) -> tuple[str, bytes]:
    """Write ``fig`` in every format; returns the file the Markdown links to and PNG bytes."""
    from designspace.plots import save

    for fmt in formats:
        save(fig.figure, stage / f"{fig.name}.{fmt}")
    if "png" in formats:
        png = (stage / f"{fig.name}.png").read_bytes()
    else:
        buf = io.BytesIO()
        fig.figure.savefig(buf, format="png", dpi=120)
        png = buf.getvalue()
    return f"{fig.name}.{formats[0]}", png


@dataclass
class _Doc:
    """A report as blocks, rendered to Markdown and to HTML."""

    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def text(self, text: str) -> None:
        self.blocks.append(("p", text))

    def bullets(self, items: Sequence[str]) -> None:
        if items:
            self.blocks.append(("ul", list(items)))

    def table(self, df: pd.DataFrame, index: bool = True) -> None:
        self.blocks.append(("table", (df, index)))

    def image(self, link: str, caption: str, png: bytes) -> None:
        self.blocks.append(("img", (link, caption, png)))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for kind, value in self.blocks:
            if kind == "h2":
                out += [f"## {value}", ""]
            elif kind == "p":
                out += [str(value), ""]
            elif kind == "ul":
                out += [f"- {item}" for item in value] + [""]
            elif kind == "table":
                out += [markdown_table(*value), ""]
            elif kind == "img":
                link, caption, _ = value
                out += [f"![{caption}]({link})", "", f"*{caption}*", ""]
        return "\n".join(out)

    def html(self) -> str:
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for kind, value in self.blocks:
            if kind == "h2":
                body.append(f"<h2>{html.escape(str(value))}</h2>")
            elif kind == "p":
                body.append(f"<p>{html.escape(str(value))}</p>")
            elif kind == "ul":
                body.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in value) + "</ul>")
            elif kind == "table":
                df, index = value
                body.append(_format(df).to_html(index=index, border=0, classes="t", escape=True))
            elif kind == "img":
                _, caption, png = value
                data = base64.b64encode(png).decode("ascii")
                body.append(
                    f'<figure><img alt="{html.escape(caption)}" '
                    f'src="data:image/png;base64,{data}"/>'
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
        style = (
            "body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}"
            "table.t{border-collapse:collapse;font-size:13px;margin:1em 0}"
            "table.t td,table.t th{border-bottom:1px solid #ddd;padding:3px 8px;"
            "text-align:right}img{max-width:100%}figcaption{font-size:13px;color:#555}"
        )
        return (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>{html.escape(self.title)}</title><style>{style}</style></head>"
            f"<body>{''.join(body)}</body></html>\n"
        )


def _format(df: pd.DataFrame) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = [f"{x:.4g}" if np.isfinite(x) else "" for x in out[col]]
        elif out[col].dtype == object:
            out[col] = ["" if _missing(x) else x for x in out[col]]
    return out


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and x != x)


def markdown_table(df: pd.DataFrame, index: bool = True) -> str:
    """A GitHub-flavoured Markdown table (floats to 4 significant digits)."""
    d = _format(df)
    if index:
        d = d.reset_index()
    cells = [[str(c) for c in d.columns]] + [
        [str(v).replace("|", "\\|") for v in row] for row in d.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(cells[0])]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)
