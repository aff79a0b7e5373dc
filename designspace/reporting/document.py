"""The report's document model: blocks that render themselves.

A section fills a :class:`SectionResult` with blocks (:class:`Paragraph`, :class:`Bullets`,
:class:`Table`, :class:`FigureResult`); the report adds :class:`Heading` blocks and turns every
figure into an :class:`Image` once its files are written. Every block renders itself to
Markdown (:meth:`Block.markdown`, a list of lines), to HTML (:meth:`Block.html`) and in a
notebook (:meth:`Block.show`), and writes its own files (:meth:`Block.publish`: a table its CSV,
a figure its PNG/SVG). A new kind of block is one class here; nothing compares kinds by name.

Cheap to import: pandas, matplotlib and IPython load only when a block renders.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from designspace.errors import DesignSpaceError
from designspace.reporting.context import missing_columns
from designspace.reporting.plot_kinds import PLOT_KINDS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from designspace.reporting.context import Context


class Block:
    """One piece of a document. Subclasses override what they render."""

    def publish(self, folder: Path, formats: Sequence[str]) -> Block:
        """Write this block's files into ``folder`` (figure ``formats``: png, svg) and return
        the block that stands for it in the written document (itself by default)."""
        return self

    def markdown(self) -> list[str]:
        """The Markdown lines of this block, a blank line last (none: nothing shown)."""
        return []

    def html(self) -> str:
        """The HTML of this block (escaped; "" when nothing is shown)."""
        return ""

    def show(self) -> None:
        """Display this block in a Jupyter notebook (needs IPython)."""
        from IPython.display import Markdown, display

        lines = self.markdown()
        if lines:
            display(Markdown("\n".join(lines)))


def anchor(text: str) -> str:
    """The id of a heading, as GitHub makes it for Markdown: lower case, spaces to hyphens,
    other punctuation dropped ("RegNet fits: (DDS)" -> "regnet-fits-dds")."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return kept.strip().replace(" ", "-")


@dataclass
class Heading(Block):
    """A section heading (level 2), linked from the table of contents by :func:`anchor`."""

    text: str

    def markdown(self) -> list[str]:
        return [f"## {self.text}", ""]

    def html(self) -> str:
        return f'<h2 id="{anchor(str(self.text))}">{html.escape(str(self.text))}</h2>'


@dataclass
class Paragraph(Block):
    """A paragraph of plain text."""

    text: str

    def markdown(self) -> list[str]:
        return [str(self.text), ""]

    def html(self) -> str:
        return f"<p>{html.escape(str(self.text))}</p>"


@dataclass
class Bullets(Block):
    """A bullet list."""

    items: list[str]

    def markdown(self) -> list[str]:
        return [f"- {item}" for item in self.items] + [""]

    def html(self) -> str:
        return "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in self.items) + "</ul>"


@dataclass
class Table(Block):
    """A table of a section: ``frame`` is written to ``<name>.csv`` (with its index when
    ``index``); ``shown`` is what the report shows (None: nothing, only the CSV). Floats are
    shown to 4 significant digits."""

    name: str
    frame: pd.DataFrame
    index: bool = False
    shown: pd.DataFrame | None = None

    def publish(self, folder: Path, formats: Sequence[str]) -> Block:
        self.frame.to_csv(folder / f"{self.name}.csv", index=self.index)
        return self

    def markdown(self) -> list[str]:
        if self.shown is None:
            return []
        return [markdown_table(self.shown, self.index), ""]

    def html(self) -> str:
        if self.shown is None:
            return ""
        table = _format(self.shown).to_html(index=self.index, border=0, classes="t", escape=True)
        return f'<div class="scroll">{table}</div>'  # wide tables scroll, the page does not

    def show(self) -> None:
        from IPython.display import display

        if self.shown is not None:
            display(self.shown)


@dataclass
class FigureResult(Block):
    """A figure of a section: saved as ``<name>.<format>``; in the written document it becomes
    an :class:`Image` that links the first format and embeds a PNG."""

    name: str
    caption: str
    figure: Figure

    def publish(self, folder: Path, formats: Sequence[str]) -> Block:
        from designspace.reporting.plots import save

        for fmt in formats:
            save(self.figure, folder / f"{self.name}.{fmt}")
        if "png" in formats:
            png = (folder / f"{self.name}.png").read_bytes()
        else:
            buf = io.BytesIO()
            self.figure.savefig(buf, format="png", dpi=120)
            png = buf.getvalue()
        return Image(f"{self.name}.{formats[0]}", self.caption, png)

    def show(self) -> None:
        from IPython.display import Image as PNG
        from IPython.display import display

        png = io.BytesIO()
        self.figure.savefig(png, format="png", dpi=100)
        display(PNG(data=png.getvalue(), format="png"))


@dataclass
class Image(Block):
    """A written figure: ``link`` is its file (for Markdown), ``png`` its bytes (embedded in
    the HTML, so that the page needs no other file)."""

    link: str
    caption: str
    png: bytes

    def markdown(self) -> list[str]:
        return [f"![{self.caption}]({self.link})", "", f"*{self.caption}*", ""]

    def html(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        caption = html.escape(self.caption)
        return (
            f'<figure><img alt="{caption}" src="data:image/png;base64,{data}"/>'
            f"<figcaption>{caption}</figcaption></figure>"
        )


@dataclass
class SectionResult:
    """What one section produced: ``blocks`` in order, ``console`` lines for the terminal and
    ``not_done`` (parts skipped, each with its reason). ``skipped`` is the reason the whole
    section was skipped (None when it ran)."""

    name: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    not_done: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def tables(self) -> dict[str, Table]:
        """The tables by name."""
        return {b.name: b for b in self.blocks if isinstance(b, Table)}

    @property
    def figures(self) -> dict[str, FigureResult]:
        """The figures by name."""
        return {b.name: b for b in self.blocks if isinstance(b, FigureResult)}

    def text(self, text: str) -> None:
        """Add a paragraph."""
        self.blocks.append(Paragraph(text))

    def bullets(self, items: Sequence[str]) -> None:
        """Add a bullet list (nothing when empty)."""
        if items:
            self.blocks.append(Bullets(list(items)))

    def table(
        self,
        name: str,
        frame: pd.DataFrame,
        index: bool = False,
        shown: pd.DataFrame | bool = True,
    ) -> pd.DataFrame:
        """Add table ``name`` (CSV ``<name>.csv``); ``shown``: True shows ``frame``, False
        nothing, a DataFrame shows that digest instead. Returns ``frame``."""
        view = frame if shown is True else (None if shown is False else shown)
        self.blocks.append(Table(name, frame, index, view))
        return frame

    def figure(
        self, ctx: Context, name: str, kind: str, caption: str, **params: object
    ) -> FigureResult | None:
        """Draw plot ``kind`` of the context's data as figure ``name``; when its columns are
        missing or the data cannot support it, record why in ``not_done`` and return None."""
        spec = PLOT_KINDS[kind]
        lacking = missing_columns(ctx.data, [ctx.options.column(c) for c in spec.requires])
        if lacking:
            self.not_done.append(f"plot {name}: needs column(s) {lacking} for every model")
            return None
        from designspace.reporting.plots import new_figure

        fig, ax = new_figure()
        try:
            spec.draw(ctx.plot_data(), ctx.options, ax, **params)
        except DesignSpaceError as exc:
            self.not_done.append(f"plot {name}: {exc}")
            return None
        result = FigureResult(name, caption, fig)
        self.blocks.append(result)
        return result


@dataclass
class Document:
    """A whole report: a title and blocks, rendered to Markdown and to one self-contained HTML
    page (images embedded)."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, block: Block) -> None:
        """Append a block."""
        self.blocks.append(block)

    def headings(self) -> list[str]:
        """The section headings, in order (the table of contents)."""
        return [b.text for b in self.blocks if isinstance(b, Heading)]

    def markdown(self) -> str:
        """The document as Markdown, a linked table of contents after the title."""
        out = [f"# {self.title}", "", "Contents:", ""]
        out += [f"- [{h}](#{anchor(h)})" for h in self.headings()] + [""]
        for block in self.blocks:
            out += block.markdown()
        return "\n".join(out)

    def html(self) -> str:
        """The document as one HTML page that opens from disk with no network: a linked table
        of contents, then the blocks; readable from a laptop's width down to a phone's."""
        toc = "".join(
            f'<li><a href="#{anchor(h)}">{html.escape(h)}</a></li>' for h in self.headings()
        )
        body = [f"<h1>{html.escape(self.title)}</h1>", f'<nav id="contents"><ul>{toc}</ul></nav>']
        body += [b.html() for b in self.blocks]
        style = (
            "body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}"
            "table.t{border-collapse:collapse;font-size:13px;margin:1em 0}"
            "table.t td,table.t th{border-bottom:1px solid #ddd;padding:3px 8px;"
            "text-align:right}img{max-width:100%;height:auto}"
            "figcaption{font-size:13px;color:#555}div.scroll{overflow-x:auto}"
            "nav#contents{columns:2;font-size:14px}nav#contents ul{margin:0}"
        )
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
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
