"""The full analysis of a results set: every table (CSV), every plot (PNG + SVG), report.md and
one self-contained report.html (images embedded as base64; opens from disk with no network).

:func:`analyze` is what ``designspace analyze`` calls. Parts that the data cannot support (one
group only, no per-stage columns, no flops) are skipped and listed under "Not done" in the
report; input that nothing can be done with raises DesignSpaceError after writing a report that
says what is missing.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from designspace.analysis._data import COMPLEXITY, GROUP, METRIC, group_labels, usable
from designspace.analysis.bootstrap import good_ranges
from designspace.analysis.compare import Comparison, compare, sample_size_sensitivity, summary
from designspace.analysis.features import STAGE_COLUMNS, add_features
from designspace.analysis.rules import derive_rules
from designspace.analysis.search import search_efficiency
from designspace.errors import DesignSpaceError


@dataclass
class AnalysisReport:
    """What :func:`analyze` produced: tables by name, figure files by name, notes, paths."""

    out_dir: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, list[Path]] = field(default_factory=dict)
    comparison: Comparison | None = None
    notes: list[str] = field(default_factory=list)
    not_done: list[str] = field(default_factory=list)
    markdown: Path | None = None
    html: Path | None = None


@dataclass
class _Doc:
    """A report as blocks, rendered to Markdown and to HTML."""

    title: str
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(("h2", text))

    def text(self, text: str) -> None:
        self.blocks.append(("p", text))

    def bullets(self, items: Sequence[str]) -> None:
        if items:
            self.blocks.append(("ul", list(items)))

    def table(self, df: pd.DataFrame, index: bool = True) -> None:
        self.blocks.append(("table", (df, index)))

    def image(self, path: Path, caption: str) -> None:
        self.blocks.append(("img", (path, caption)))

    def markdown(self, base: Path) -> str:
        out = [f"# {self.title}", ""]
        for kind, value in self.blocks:
            if kind == "h2":
                out += [f"## {value}", ""]
            elif kind == "p":
                out += [str(value), ""]
            elif kind == "ul":
                out += [f"- {item}" for item in value] + [""]
            elif kind == "table":
                df, index = value
                out += [markdown_table(df, index), ""]
            elif kind == "img":
                path, caption = value
                out += [
                    f"![{caption}]({path.relative_to(base).as_posix()})",
                    "",
                    f"*{caption}*",
                    "",
                ]
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
                path, caption = value
                data = base64.b64encode(path.read_bytes()).decode("ascii")
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
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = [f"{x:.4g}" if np.isfinite(x) else "" for x in out[col]]
    return out


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


def analyze(
    data: pd.DataFrame,
    out_dir: str | Path,
    by: str = GROUP,
    metric: str = METRIC,
    reference: str | None = None,
    alpha: float = 0.05,
    complexity: str = COMPLEXITY,
    formats: Sequence[str] = ("png", "svg"),
    n_boot: int = 10_000,
    top: int = 5,
    seed: int = 0,
    sources: Sequence[str] = (),
) -> AnalysisReport:
    """Run every analysis on ``data`` and write tables, plots and reports into ``out_dir``.

    Files: ``summary.csv``, ``comparison.csv``, ``pairwise.csv``, ``comparison_normalized.csv``,
    ``sample_size.csv``, ``good_ranges.csv``, ``rules.csv``, ``fits.csv``, ``search.csv`` (each
    when the data allow), ``<plot>.png`` / ``.svg``, ``report.md`` and ``report.html``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rep = AnalysisReport(out)
    doc = _Doc(f"Design-space analysis: {metric} by {by}")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc.text(
        f"Generated {when} from {', '.join(sources) or 'a DataFrame'}. Errors are "
        f"fractions in [0, 1] in the tables and percentages in the plots; flops are "
        f"multiply-adds."
    )
    try:
        u = usable(data, metric, [by], "analyze")
    except DesignSpaceError as exc:
        rep.not_done.append(str(exc))
        doc.heading("Not done")
        doc.bullets(rep.not_done)
        _write(doc, rep)
        raise
    d = u.data
    labels = group_labels(d, by)
    names = sorted(set(labels))
    if reference is not None and reference not in names:
        raise DesignSpaceError(
            f"reference {reference!r} is not among the groups of '{by}': {names}"
        )
    if u.n_excluded:
        rep.notes.append(u.note())
    doc.heading("Data")
    doc.text(f"{len(d)} usable models in {len(names)} group(s) of '{by}' ({u.n_total} rows read).")
    doc.bullets(rep.notes)

    tables = rep.tables
    tables["summary"] = summary(d, by, metric)
    doc.heading("Summary")
    doc.table(tables["summary"])

    has_flops = (
        complexity in d.columns and pd.to_numeric(d[complexity], errors="coerce").notna().all()
    )
    has_stages = all(c in d.columns for c in STAGE_COLUMNS)
    if not has_flops:
        rep.not_done.append(
            f"no '{complexity}' column with values for every model: normalized "
            f"EDFs and the error-vs-{complexity} plot skipped"
        )
    if not has_stages:
        rep.not_done.append(
            f"no per-stage columns {list(STAGE_COLUMNS)}: RegNet fits, good "
            f"ranges, rules and width profiles skipped"
        )

    doc.heading("Comparison")
    if len(names) >= 2:
        rep.comparison = compare(d, by, metric, reference, alpha)
        tables["comparison"] = rep.comparison.table
        tables["pairwise"] = rep.comparison.pairs
        doc.text(
            f"Reference {rep.comparison.reference}; Kolmogorov-Smirnov tests at level "
            f"{alpha:g}. auc = mean of the EDF over the common error range "
            f"[{rep.comparison.error_range[0]:.4f}, {rep.comparison.error_range[1]:.4f}] "
            f"(higher = more good models)."
        )
        doc.table(rep.comparison.table)
        doc.table(rep.comparison.pairs, index=False)
        if has_flops:
            try:
                norm = compare(
                    d, by, metric, reference, alpha, normalize=True, complexity=complexity
                )
                tables["comparison_normalized"] = norm.table
                doc.text(f"Complexity-normalized over the common {complexity} range:")
                doc.table(norm.table)
            except DesignSpaceError as exc:
                rep.not_done.append(f"normalized comparison: {exc}")
    else:
        msg = (
            f"comparison needs at least two groups in column '{by}'; these results hold "
            f"only {names}: add results of another {by} to compare"
        )
        rep.not_done.append(msg)
        doc.text(msg)

    try:
        tables["sample_size"] = sample_size_sensitivity(d, by, metric, seed=seed)
        doc.text(
            "Sample-size sensitivity (NDS): KS statistic between two disjoint random "
            "subsamples of k models (mean and 5-95% range over repeats); small values "
            "mean k models pin the EDF down."
        )
        doc.table(tables["sample_size"], index=False)
        small = sorted(set(names) - set(tables["sample_size"]["group"]))
        if small:
            rep.not_done.append(
                f"sample-size sensitivity: groups with fewer than 4 models left out: {small}"
            )
    except DesignSpaceError as exc:
        rep.not_done.append(str(exc))

    tables["search"] = search_efficiency(d, by, metric, seed=seed)
    doc.heading("Random-search efficiency")
    doc.text(
        "Expected best error among k models drawn at random (exact), with a bootstrap interval."
    )
    doc.table(_search_digest(tables["search"]), index=False)

    feats = None
    if has_stages:
        feats = add_features(d, fit=True)
        fit_cols = [
            c
            for c in ("arch_id", by, metric, "fit_w0", "fit_wa", "fit_wm", "e_fit")
            if c in feats.columns
        ]
        tables["fits"] = feats[fit_cols]
        stats = [
            c
            for c in (
                "depth",
                "b",
                "g",
                "fit_w0",
                "fit_wa",
                "fit_wm",
                "e_fit",
                complexity,
                "params",
            )
            if c in feats.columns
        ]
        tables["good_ranges"] = good_ranges(
            feats, stats, metric, by, n_boot=n_boot, alpha=alpha, seed=seed
        )
        tables["rules"] = derive_rules(feats, metric, alpha, n_boot=n_boot, seed=seed)
        doc.heading("RegNet design principles")
        doc.bullets([f"{r.rule}: {r.verdict}. {r.sentence}" for r in tables["rules"].itertuples()])
        doc.table(tables["rules"].drop(columns=["sentence"]), index=False)
        doc.heading("Good ranges (DDS bootstrap)")
        doc.text(f"{n_boot} resamples of 25% of the models; interval at level {1 - alpha:g}.")
        doc.table(tables["good_ranges"], index=False)

    for name, table in tables.items():
        table.to_csv(
            out / f"{name}.csv", index=name in ("summary", "comparison", "comparison_normalized")
        )

    doc.heading("Figures")
    _figures(
        rep,
        doc,
        d if feats is None else feats,
        by,
        metric,
        complexity,
        has_flops,
        has_stages,
        formats,
        top,
        seed,
        n_boot,
        alpha,
    )
    if rep.not_done:
        doc.heading("Not done")
        doc.bullets(rep.not_done)
    _write(doc, rep)
    return rep


def _search_digest(table: pd.DataFrame) -> pd.DataFrame:
    keep = []
    for _, t in table.groupby("group"):
        ks = t["k"].to_numpy()
        want = {ks[0], ks[-1], *[k for k in ks if k in (5, 10, 20, 50, 100)]}
        keep.append(t[t["k"].isin(want)])
    return pd.concat(keep)[["group", "k", "expected_best", "ci_low", "ci_high", "n"]]


def _figures(
    rep: AnalysisReport,
    doc: _Doc,
    data: pd.DataFrame,
    by: str,
    metric: str,
    complexity: str,
    has_flops: bool,
    has_stages: bool,
    formats: Sequence[str],
    top: int,
    seed: int,
    n_boot: int,
    alpha: float,
) -> None:
    from designspace import plots

    jobs: list[tuple[str, str, object]] = [
        (
            "edf",
            "Error EDFs, legend [n | min | mean]",
            lambda ax: plots.edf_plot(data, metric, by, band="dkw", alpha=alpha, ax=ax),
        ),
        (
            "search",
            "Random-search efficiency",
            lambda ax: plots.search_efficiency_plot(data, metric, by, seed=seed, ax=ax),
        ),
    ]
    if has_flops:
        jobs.insert(
            1,
            (
                "edf_normalized",
                f"Complexity-normalized EDFs ({complexity})",
                lambda ax: plots.normalized_edf_plot(data, metric, by, complexity, ax=ax),
            ),
        )
        jobs.append(
            (
                "error_vs_flops",
                f"Error vs {complexity}",
                lambda ax: plots.error_vs_flops_plot(data, metric, by, complexity, ax=ax),
            )
        )
    if has_stages:
        jobs.append(
            (
                "widths",
                f"Width profiles of the top {top} models with fitted rules",
                lambda ax: plots.width_profile_plot(data, metric, top, ax=ax),
            )
        )
        jobs.append(("efit", "e_fit vs error", lambda ax: plots.efit_plot(data, metric, by, ax=ax)))
        for stat in ("depth", "b", "g", "fit_wm"):
            if stat in data.columns:
                jobs.append(
                    (
                        f"error_vs_{stat}",
                        f"Error vs {stat} with the good range",
                        lambda ax, s=stat: plots.error_vs_param_plot(
                            data, s, metric, by, n_boot=n_boot, alpha=alpha, seed=seed, ax=ax
                        ),
                    )
                )
    for name, caption, draw in jobs:
        fig, ax = plots.new_figure()
        try:
            draw(ax)
        except DesignSpaceError as exc:
            rep.not_done.append(f"plot {name}: {exc}")
            continue
        paths = [plots.save(fig, rep.out_dir / f"{name}.{fmt}") for fmt in formats]
        rep.figures[name] = paths
        png = rep.out_dir / f"{name}.png"
        if not png.exists():
            plots.save(fig, png)
        doc.image(png, caption)


def _write(doc: _Doc, rep: AnalysisReport) -> None:
    rep.markdown = rep.out_dir / "report.md"
    rep.html = rep.out_dir / "report.html"
    rep.markdown.write_text(doc.markdown(rep.out_dir), encoding="utf-8")
    rep.html.write_text(doc.html(), encoding="utf-8")
