"""Figures of the NDS / DDS analyses, in the seaborn style: ``f(data, ..., hue=..., ax=None)``.

Every function draws on ``ax`` (default: the current pyplot Axes) and returns it; ``data`` is a
results DataFrame in the sweep's schema. Rows whose status is not "ok" are left out. Errors are
fractions in the data; with ``percent=True`` (default, as in the papers) axes and legends show
them as percentages. Flops are multiply-adds. :func:`save` writes PNG or SVG by extension.
The plot kinds of ``designspace plot`` and the report are registered in
:data:`designspace.reporting.plot_kinds.PLOT_KINDS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from designspace.analysis._data import (
    COMPLEXITY,
    GROUP,
    METRIC,
    block_widths,
    group_labels,
    group_order,
    usable,
)
from designspace.analysis.bootstrap import good_range
from designspace.analysis.edf import (
    bootstrap_band,
    dkw_band,
    edf,
    max_common_bins,
    normalized_weights,
)
from designspace.analysis.features import add_features
from designspace.analysis.fidelity import join_results
from designspace.analysis.fit import FitGrid, fit_block_widths, quantized_widths
from designspace.analysis.search import search_efficiency
from designspace.errors import DesignSpaceError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_LOG_STATS = {
    "flops",
    "params",
    "acts",
    "b",
    "g",
    "fit_w0",
    "fit_wa",
    "fit_wm",
    "wm",
    "w0",
    "wa",
    "w1",
    "w2",
    "w3",
    "w4",
    "w5",
    "w6",
    "w7",
    "w8",
}


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def _plain_log(ax: Axes, axis: str) -> None:
    """Log scale with plain tick labels (2, 4, 100 instead of 2x10^0)."""
    from matplotlib.ticker import ScalarFormatter

    getattr(ax, f"set_{axis}scale")("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    for setter in (target.set_major_formatter, target.set_minor_formatter):
        fmt = ScalarFormatter()
        fmt.set_scientific(False)
        setter(fmt)


def _colors(names: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {name: cmap(i % 10) for i, name in enumerate(names)}


def _scale(percent: bool) -> float:
    return 100.0 if percent else 1.0


def _finish(ax: Axes, xlabel: str, ylabel: str) -> Axes:
    """Label both axes, add the light grid and a small legend; return ``ax``."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def _metric_label(metric: str, percent: bool) -> str:
    return f"{metric} ({'%' if percent else 'fraction'})"


def legend_label(
    name: str, values: np.ndarray, percent: bool = True, weights: np.ndarray | None = None
) -> str:
    """The papers' legend entry ``name [n | min | mean]`` (errors in % when ``percent``)."""
    s = _scale(percent)
    fmt = ".1f" if percent else ".4f"
    mean = np.average(values, weights=weights)
    return f"{name} [{values.size} | {values.min() * s:{fmt}} | {mean * s:{fmt}}]"


def edf_plot(
    data: pd.DataFrame,
    metric: str = METRIC,
    hue: str | None = GROUP,
    normalize: bool = False,
    complexity: str = COMPLEXITY,
    bins: int | None = None,
    band: str | None = None,
    alpha: float = 0.05,
    percent: bool = True,
    seed: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """Error EDFs, one per ``hue`` group, legend ``name [n | min | mean]`` as in NDS/DDS.

    ``normalize``: complexity-normalized EDFs over the groups' common ``complexity`` range,
    in ``bins`` equal bins (None: the most, up to 10, that leave no bin empty in any group, as
    :func:`~designspace.analysis.compare.compare` chooses them).
    ``band``: None, "dkw" (simultaneous) or "bootstrap" (pointwise), at level 1 - alpha.
    """
    if band not in (None, "dkw", "bootstrap"):
        raise DesignSpaceError(f"band must be None, 'dkw' or 'bootstrap', got {band!r}")
    ax = _axes(ax)
    u = usable(data, metric, [complexity] if normalize else [], "EDF plot").data
    labels = group_labels(u, hue)
    names = group_order(labels)
    colors = _colors(names)
    values = u[metric].to_numpy(dtype=float)
    weights = None
    if normalize:
        c = u[complexity].to_numpy(dtype=float)
        if bins is None:
            bins = max_common_bins(c, labels, upper=10)
        weights = normalized_weights(c, labels, bins=bins)
    s = _scale(percent)
    for name in names:
        m = labels == name
        w = None if weights is None else weights[m]
        v = values[m] if w is None else values[m][w > 0]
        w = None if w is None else w[w > 0]
        f = edf(v, w)
        x = np.concatenate([[f.x[0]], f.x])
        y = np.concatenate([[0.0], f.y])
        ax.step(x * s, y, where="post", color=colors[name], label=legend_label(name, v, percent, w))
        if band == "dkw":
            lo, hi = dkw_band(f, alpha)
            ax.fill_between(
                f.x * s, lo, hi, step="post", color=colors[name], alpha=0.2, linewidth=0
            )
        elif band == "bootstrap":
            lo, hi = bootstrap_band(v, f.x, w, n_boot=500, alpha=alpha, seed=seed)
            ax.fill_between(
                f.x * s, lo, hi, step="post", color=colors[name], alpha=0.2, linewidth=0
            )
    ax.set_xlabel(_metric_label(metric, percent))
    ax.set_ylabel("cumulative prob." + (" (complexity-normalized)" if normalize else ""))
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(("normalized " if normalize else "") + "error EDF")
    return ax


def normalized_edf_plot(
    data: pd.DataFrame,
    metric: str = METRIC,
    hue: str | None = GROUP,
    complexity: str = COMPLEXITY,
    bins: int | None = None,
    percent: bool = True,
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Complexity-normalized EDFs (NDS): :func:`edf_plot` with ``normalize=True``."""
    return edf_plot(
        data,
        metric,
        hue,
        normalize=True,
        complexity=complexity,
        bins=bins,
        percent=percent,
        ax=ax,
        **kwargs,
    )


def error_vs_param_plot(
    data: pd.DataFrame,
    x: str,
    metric: str = METRIC,
    hue: str | None = None,
    band: bool = True,
    log: bool | None = None,
    n_boot: int = 10_000,
    alpha: float = 0.05,
    percent: bool = True,
    seed: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """Error vs a design statistic ``x`` (a column, or a feature such as b, g, e_fit, fit_wm),
    with the DDS good range shaded (bootstrap interval) and its best value as a line."""
    ax = _axes(ax)
    u = usable(data, metric, what="error-vs-parameter plot").data
    if x not in u.columns:
        u = add_features(u, fit=x in ("fit_w0", "fit_wa", "fit_wm", "e_fit"))
    if x not in u.columns:
        raise DesignSpaceError(f"error-vs-parameter plot: no column or feature named {x!r}")
    xs = pd.to_numeric(u[x], errors="coerce").to_numpy(dtype=float)
    ys = u[metric].to_numpy(dtype=float)
    labels = group_labels(u, hue)
    names = group_order(labels)
    colors = _colors(names)
    s = _scale(percent)
    for name in names:
        m = labels == name
        ax.scatter(
            xs[m],
            ys[m] * s,
            s=8,
            alpha=0.6,
            color=colors[name],
            label=None if hue is None else name,
        )
    if band:
        r = good_range(xs, ys, n_boot=n_boot, alpha=alpha, seed=seed)
        ax.axvspan(
            r.low,
            r.high,
            color="0.5",
            alpha=0.2,
            linewidth=0,
            label=f"good range [{r.low:.3g}, {r.high:.3g}]",
        )
        ax.axvline(r.best, color="k", linestyle="--", linewidth=1, label=f"best {r.best:.3g}")
    if log is None:
        log = x in _LOG_STATS and bool(np.nanmin(xs) > 0)
    if log:
        _plain_log(ax, "x")
    return _finish(ax, x, _metric_label(metric, percent))


def width_profile_plot(
    data: pd.DataFrame,
    metric: str = METRIC,
    top: int = 5,
    fit: bool = True,
    grid: FitGrid | None = None,
    percent: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Per-block widths of the ``top`` lowest-error models with their fitted RegNet rules:
    the linear u_j = w0 + wa * j (dotted) and its quantized widths (dashed), as in DDS."""
    ax = _axes(ax)
    u = usable(data, metric, ["depths", "widths"], "width-profile plot").data
    best = u.nsmallest(max(1, top), metric)
    widths = block_widths(best)
    fits = fit_block_widths(widths, grid) if fit else None
    colors = _colors([str(i) for i in range(len(best))])
    s = _scale(percent)
    q = (grid or FitGrid()).q
    for i, (w, err) in enumerate(zip(widths, best[metric].to_numpy(), strict=True)):
        c = colors[str(i)]
        j = np.arange(w.size)
        label = f"{err * s:.1f}{'%' if percent else ''}"
        if fits is not None:
            f = fits.iloc[i]
            label += f", e_fit {f.e_fit:.3f}"
            ax.plot(j, f.fit_w0 + f.fit_wa * j, ":", color=c, linewidth=1)
            ax.step(
                j,
                quantized_widths(w.size, f.fit_w0, f.fit_wa, f.fit_wm, q),
                "--",
                where="mid",
                color=c,
                linewidth=1,
            )
        ax.step(j, w, where="mid", color=c, linewidth=2, label=label)
    _plain_log(ax, "y")
    ax.set_xlabel("block index j")
    ax.set_ylabel("width (channels)")
    ax.set_title(f"width profiles of the top {len(best)} models")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", title=metric)
    return ax


def efit_plot(
    data: pd.DataFrame,
    metric: str = METRIC,
    hue: str | None = GROUP,
    grid: FitGrid | None = None,
    percent: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Fit error e_fit of the RegNet rule vs error, one colour per ``hue`` group (DDS fig. 8)."""
    ax = _axes(ax)
    u = usable(data, metric, ["depths", "widths"], "e_fit plot").data
    if "e_fit" not in u.columns:
        u = add_features(u, fit=True, grid=grid)
    labels = group_labels(u, hue)
    names = group_order(labels)
    colors = _colors(names)
    s = _scale(percent)
    for name in names:
        m = labels == name
        ax.scatter(
            u["e_fit"].to_numpy()[m],
            u[metric].to_numpy()[m] * s,
            s=8,
            alpha=0.6,
            color=colors[name],
            label=name,
        )
    return _finish(ax, "e_fit (mean |log w - log w_fit|)", _metric_label(metric, percent))


def fidelity_plot(
    short: pd.DataFrame,
    long: pd.DataFrame,
    metric: str = METRIC,
    hue: str | None = GROUP,
    percent: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Error after the short schedule (x) vs the long one (y) for the models in both result
    sets (joined on ``arch_id``), one colour per ``hue`` group of ``short``, with y = x."""
    ax = _axes(ax)
    joined = join_results(short, long, metric)
    u = usable(short, metric, ["arch_id"], "fidelity plot").data.drop_duplicates("arch_id")
    labels = pd.Series(group_labels(u, hue), index=u["arch_id"]).reindex(joined.index)
    names = group_order(labels.to_numpy())
    colors = _colors(names)
    s = _scale(percent)
    for name in names:
        m = (labels == name).to_numpy()
        ax.scatter(
            joined["a"].to_numpy()[m] * s,
            joined["b"].to_numpy()[m] * s,
            s=14,
            alpha=0.8,
            color=colors[name],
            label=name,
        )
    lo = min(joined["a"].min(), joined["b"].min()) * s
    hi = max(joined["a"].max(), joined["b"].max()) * s
    ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8, ls="--")
    label = _metric_label(metric, percent)
    return _finish(ax, f"{label}, short schedule", f"{label}, long schedule")


def search_efficiency_plot(
    data: pd.DataFrame,
    metric: str = METRIC,
    hue: str | None = GROUP,
    ks: Sequence[int] | None = None,
    n_boot: int = 1000,
    alpha: float = 0.05,
    percent: bool = True,
    seed: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """Expected best error of a random search of k models vs k (NDS), bootstrap band shaded
    and the 25-75% spread of a single search dotted."""
    ax = _axes(ax)
    table = search_efficiency(data, hue, metric, ks, n_boot, alpha, seed)
    names = sorted(table["group"].unique())
    colors = _colors(names)
    s = _scale(percent)
    for name in names:
        t = table[table["group"] == name]
        ax.plot(t["k"], t["expected_best"] * s, "-o", markersize=3, color=colors[name], label=name)
        ax.fill_between(
            t["k"], t["ci_low"] * s, t["ci_high"] * s, color=colors[name], alpha=0.2, linewidth=0
        )
        ax.plot(t["k"], t["q25"] * s, ":", color=colors[name], linewidth=1)
        ax.plot(t["k"], t["q75"] * s, ":", color=colors[name], linewidth=1)
    _plain_log(ax, "x")
    ax.set_xlabel("models sampled k")
    ax.set_ylabel("expected best " + _metric_label(metric, percent))
    ax.set_title("random-search efficiency")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def error_vs_flops_plot(
    data: pd.DataFrame,
    metric: str = METRIC,
    hue: str | None = GROUP,
    complexity: str = COMPLEXITY,
    percent: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Error vs complexity (flops = multiply-adds by default), log x axis."""
    ax = _axes(ax)
    u = usable(data, metric, [complexity], "error-vs-flops plot").data
    labels = group_labels(u, hue)
    names = group_order(labels)
    colors = _colors(names)
    s = _scale(percent)
    c = pd.to_numeric(u[complexity], errors="coerce").to_numpy(dtype=float)
    for name in names:
        m = labels == name
        ax.scatter(
            c[m], u[metric].to_numpy()[m] * s, s=8, alpha=0.6, color=colors[name], label=name
        )
    if np.nanmin(c) > 0:
        ax.set_xscale("log")
    xlabel = complexity + (" (multiply-adds)" if complexity == "flops" else "")
    return _finish(ax, xlabel, _metric_label(metric, percent))


def new_figure(width: float = 6.0, height: float = 4.0) -> tuple[Figure, Axes]:
    """A figure not managed by pyplot (no GUI, freed when dropped) and its Axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    # fixed margins instead of a layout engine: one draw per save instead of two
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.13, top=0.92)
    return fig, fig.add_subplot()


def save(fig: Figure | Axes, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` (or an Axes' figure) to ``path``; the format follows the extension
    (.png or .svg). Parent directories are created."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise DesignSpaceError(f"plot file {str(path)!r} must end in .png or .svg")
    fig = getattr(fig, "figure", fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format=path.suffix[1:].lower())
    return path
