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
    as_list,
    block_widths,
    group_labels,
    group_order,
    usable,
)
from designspace.analysis.bootstrap import good_range
from designspace.analysis.edf import (
    bootstrap_band,
    common_range,
    dkw_band,
    edf,
    max_common_bins,
    normalized_weights,
)
from designspace.analysis.features import add_features
from designspace.analysis.fidelity import join_results
from designspace.analysis.fit import FitGrid, fit_block_widths, quantized_widths
from designspace.analysis.search import search_efficiency
from designspace.errors import DesignSpaceError, closest
from designspace.reporting.style import (
    BAND_ALPHA,
    MAX_OVERLAID,
    MAX_TICKS,
    POINT_ALPHA,
    GroupStyle,
    axis_label,
    facet_axes,
    group_styles,
    si_scale,
    tidy_axis,
    unit_of,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


_FIT_FEATURES = ("fit_w0", "fit_wa", "fit_wm", "e_fit")  # the RegNet fit of every model


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def _styles(labels: np.ndarray, hue_order: Sequence[str] | None) -> dict[str, GroupStyle]:
    """Each group's style: by its place in ``hue_order`` (all groups of the data, so that a
    group keeps its colour in every figure) or in the sorted groups of ``labels``."""
    order = list(hue_order) if hue_order is not None else group_order(labels)
    order += [g for g in group_order(labels) if g not in order]
    return group_styles(order)


def _scale(percent: bool) -> float:
    return 100.0 if percent else 1.0


def _finish(ax: Axes, xlabel: str, ylabel: str, title: str | None = None) -> Axes:
    """Label both axes, add the light grid and a small legend (when something is labelled)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize="medium")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    return ax


def _panels(ax: Axes, names: Sequence[str], facet: bool | None) -> list[Axes]:
    """One Axes per group when ``facet`` (None: when there are more than
    :data:`~designspace.reporting.style.MAX_OVERLAID` groups), else ``ax`` for all."""
    if facet is None:
        facet = len(names) > MAX_OVERLAID
    return facet_axes(ax, len(names)) if facet and len(names) > 1 else [ax] * len(names)


def _label_panels(panels: list[Axes], names: Sequence[str], xlabel: str, ylabel: str) -> Axes:
    """Axis labels and titles of a scatter drawn on ``panels`` (one per group, or one shared
    Axes); returns the first Axes."""
    first = panels[0]
    if len(set(map(id, panels))) == 1:
        return _finish(first, xlabel, ylabel)
    for panel, name in zip(panels, names, strict=True):
        panel.set_title(name, fontsize="small")
        panel.grid(alpha=0.3)
    first.figure.supxlabel(xlabel, fontsize="medium")
    first.figure.supylabel(ylabel, fontsize="medium")
    if first.get_legend_handles_labels()[0]:
        first.legend(fontsize="x-small")
    return first


def legend_label(
    name: str, values: np.ndarray, percent: bool = True, weights: np.ndarray | None = None
) -> str:
    """The papers' legend entry ``name [n | min | mean]`` (errors in % when ``percent``)."""
    s = _scale(percent)
    fmt = ".1f" if percent else ".4f"
    mean = np.average(values, weights=weights)
    return f"{name} [{values.size} | {values.min() * s:{fmt}} | {mean * s:{fmt}}]"


def legend_title(hue: str | None, percent: bool = True, weighted: bool = False) -> str:
    """What the numbers of :func:`legend_label` are: "space [n | min | mean error (%)]"."""
    unit = "%" if percent else "fraction"
    mean = "weighted mean" if weighted else "mean"
    return f"{hue or 'models'} [n | min | {mean} error ({unit})]"


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
    hue_order: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Error EDFs, one per ``hue`` group, legend ``name [n | min | mean]`` as in NDS/DDS.

    ``normalize``: complexity-normalized EDFs over the groups' common ``complexity`` range,
    in ``bins`` equal bins (None: the most, up to 10, that leave no bin empty in any group, as
    :func:`~designspace.analysis.compare.compare` chooses them); the title states the bins and
    the range. ``band``: None, "dkw" (simultaneous) or "bootstrap" (pointwise), at level
    1 - alpha, drawn light. ``hue_order``: every group of the data, for stable colours.
    """
    if band not in (None, "dkw", "bootstrap"):
        raise DesignSpaceError(f"band must be None, 'dkw' or 'bootstrap', got {band!r}")
    ax = _axes(ax)
    u = usable(data, metric, [complexity] if normalize else [], "EDF plot").data
    labels = group_labels(u, hue)
    names = group_order(labels)
    styles = _styles(labels, hue_order)
    values = u[metric].to_numpy(dtype=float)
    weights = None
    title = "error EDF"
    if normalize:
        c = u[complexity].to_numpy(dtype=float)
        if bins is None:
            bins = max_common_bins(c, labels, upper=10)
        weights = normalized_weights(c, labels, bins=bins)
        lo, hi = common_range(c, labels)
        div, prefix = si_scale(np.array([lo, hi]))
        title = (
            f"complexity-normalized error EDF\n{bins} equal bins of {complexity} over "
            f"{lo / div:.4g}-{hi / div:.4g} {unit_of(complexity, prefix)}"
        )
    s = _scale(percent)
    for name in names:
        m = labels == name
        w = None if weights is None else weights[m]
        v = values[m] if w is None else values[m][w > 0]
        w = None if w is None else w[w > 0]
        f = edf(v, w)
        x = np.concatenate([[f.x[0]], f.x])
        y = np.concatenate([[0.0], f.y])
        st = styles[name]
        ax.step(
            x * s,
            y,
            where="post",
            color=st.color,
            linestyle=st.linestyle,
            label=legend_label(name, v, percent, w),
        )
        if band is not None:
            if band == "dkw":
                lo_b, hi_b = dkw_band(f, alpha)
            else:
                lo_b, hi_b = bootstrap_band(v, f.x, w, n_boot=500, alpha=alpha, seed=seed)
            ax.fill_between(
                f.x * s, lo_b, hi_b, step="post", color=st.color, alpha=BAND_ALPHA, linewidth=0
            )
    ax.set_xlabel(axis_label(metric, percent))
    ax.set_ylabel("cumulative prob." + (" (complexity-normalized)" if normalize else ""))
    ax.set_ylim(0, 1)
    tidy_axis(ax, "x", values * s, log=False)
    ax.grid(alpha=0.3)
    ax.legend(
        loc="lower right",
        fontsize="small",
        title=legend_title(hue, percent, normalize),
        title_fontsize="small",
    )
    if band is not None:
        title += f", {100 * (1 - alpha):g}% {'DKW' if band == 'dkw' else 'bootstrap'} bands"
    ax.set_title(title, fontsize="medium")
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
    hue_order: Sequence[str] | None = None,
    facet: bool | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Error vs a design statistic ``x`` (a column, or a feature such as b, g, e_fit, fit_wm),
    with the DDS good range of all models shaded (bootstrap interval) and its best value as a
    line. ``log``: None = log x when the values span more than a factor 8. ``facet``: one panel
    per ``hue`` group (None: when there are more than three). Returns the (first) Axes."""
    ax = _axes(ax)
    u = usable(data, metric, what="error-vs-parameter plot").data
    if x not in u.columns:
        u = add_features(u, fit=x in _FIT_FEATURES)
    if x not in u.columns:
        known = [c for c in u.columns if pd.api.types.is_numeric_dtype(u[c])]
        known += [f for f in _FIT_FEATURES if f not in known]
        raise DesignSpaceError(
            f"error-vs-parameter plot: no column or feature named {x!r}; the numeric columns "
            f"and features, closest first: {', '.join(closest(x, known)[:12])}, ..."
        )
    xs = pd.to_numeric(u[x], errors="coerce").to_numpy(dtype=float)
    ys = u[metric].to_numpy(dtype=float)
    labels = group_labels(u, hue)
    names = group_order(labels)
    styles = _styles(labels, hue_order)
    s = _scale(percent)
    panels = _panels(ax, names, facet if hue is not None else False)
    r = good_range(xs, ys, n_boot=n_boot, alpha=alpha, seed=seed) if band else None
    for i, (panel, name) in enumerate(zip(panels, names, strict=True)):
        m = labels == name
        panel.scatter(
            xs[m],
            ys[m] * s,
            s=8,
            alpha=POINT_ALPHA,
            color=styles[name].color,
            label=None if hue is None or len(set(map(id, panels))) > 1 else name,
        )
        first = i == 0 or panel is not panels[i - 1]
        if r is not None and first:
            panel.axvspan(
                r.low,
                r.high,
                color="0.5",
                alpha=0.18,
                linewidth=0,
                label=f"good range [{r.low:.3g}, {r.high:.3g}]" if i == 0 else None,
            )
            panel.axvline(
                r.best,
                color="k",
                linestyle="--",
                linewidth=1,
                label=f"best {r.best:.3g}" if i == 0 else None,
            )
    tidy_axis(panels[0], "x", xs, log=log)
    tidy_axis(panels[0], "y", ys * s, log=False)
    return _label_panels(panels, names, axis_label(x), axis_label(metric, percent))


def width_profile_plot(
    data: pd.DataFrame,
    metric: str = METRIC,
    top: int = 5,
    fit: bool = True,
    grid: FitGrid | None = None,
    percent: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Per-block widths of the ``top`` lowest-error models (solid) with their fitted RegNet
    rules: the linear u_j = w0 + wa * j (dotted) and its quantized widths (dashed), as in DDS.
    The legend says which line is which and gives each model's error and e_fit."""
    from matplotlib.lines import Line2D

    ax = _axes(ax)
    u = usable(data, metric, ["depths", "widths"], "width-profile plot").data
    best = u.nsmallest(max(1, top), metric)
    widths = block_widths(best)
    fits = fit_block_widths(widths, grid) if fit else None
    styles = group_styles([str(i) for i in range(len(best))])
    s = _scale(percent)
    q = (grid or FitGrid()).q
    for i, (w, err) in enumerate(zip(widths, best[metric].to_numpy(), strict=True)):
        c = styles[str(i)].color
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
    tidy_axis(ax, "y", np.concatenate(widths).astype(float))
    ax.set_xlabel("block index j")
    ax.set_ylabel("width (channels)")
    ax.set_title(f"width profiles of the {len(best)} best models", fontsize="medium")
    ax.grid(alpha=0.3)
    handles, texts = ax.get_legend_handles_labels()
    if fits is not None:
        handles += [
            Line2D([], [], color="0.3", linewidth=2),
            Line2D([], [], color="0.3", linestyle="--", linewidth=1),
            Line2D([], [], color="0.3", linestyle=":", linewidth=1),
        ]
        texts += ["block widths", "quantized RegNet fit", "linear fit u_j = w0 + wa j"]
    err_title = axis_label(metric, percent) + (", RegNet fit error" if fits is not None else "")
    ax.legend(handles, texts, fontsize="x-small", title=err_title, title_fontsize="x-small")
    return ax


def efit_plot(
    data: pd.DataFrame,
    metric: str = METRIC,
    hue: str | None = GROUP,
    grid: FitGrid | None = None,
    percent: bool = True,
    hue_order: Sequence[str] | None = None,
    facet: bool | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Fit error e_fit of the RegNet rule vs error, one colour per ``hue`` group (DDS fig. 8);
    one panel per group when there are more than three (``facet``)."""
    ax = _axes(ax)
    u = usable(data, metric, ["depths", "widths"], "e_fit plot").data
    if "e_fit" not in u.columns:
        u = add_features(u, fit=True, grid=grid)
    labels = group_labels(u, hue)
    names = group_order(labels)
    styles = _styles(labels, hue_order)
    s = _scale(percent)
    panels = _panels(ax, names, facet)
    shared = len(set(map(id, panels))) == 1
    for panel, name in zip(panels, names, strict=True):
        m = labels == name
        panel.scatter(
            u["e_fit"].to_numpy()[m],
            u[metric].to_numpy()[m] * s,
            s=8,
            alpha=POINT_ALPHA,
            color=styles[name].color,
            label=name if shared else None,
        )
    tidy_axis(panels[0], "x", u["e_fit"].to_numpy(dtype=float), log=False)
    tidy_axis(panels[0], "y", u[metric].to_numpy(dtype=float) * s, log=False)
    return _label_panels(panels, names, axis_label("e_fit"), axis_label(metric, percent))


def fidelity_plot(
    short: pd.DataFrame,
    long: pd.DataFrame,
    metric: str = METRIC,
    hue: str | None = GROUP,
    percent: bool = True,
    hue_order: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Error after the short schedule (x) vs the long one (y) for the models in both result
    sets (joined on ``arch_id``), one colour per ``hue`` group of ``short``, with y = x."""
    ax = _axes(ax)
    joined = join_results(short, long, metric)
    u = usable(short, metric, ["arch_id"], "fidelity plot").data.drop_duplicates("arch_id")
    labels = pd.Series(group_labels(u, hue), index=u["arch_id"]).reindex(joined.index)
    names = group_order(labels.to_numpy())
    styles = _styles(labels.to_numpy(), hue_order)
    s = _scale(percent)
    for name in names:
        m = (labels == name).to_numpy()
        ax.scatter(
            joined["a"].to_numpy()[m] * s,
            joined["b"].to_numpy()[m] * s,
            s=14,
            alpha=0.8,
            color=styles[name].color,
            label=name,
        )
    lo = min(joined["a"].min(), joined["b"].min()) * s
    hi = max(joined["a"].max(), joined["b"].max()) * s
    ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8, ls="--")
    label = axis_label(metric, percent)
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
    hue_order: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Expected best error of a random search of k models vs k (NDS), bootstrap band shaded
    (light) and the 25-75% spread of a single search dotted."""
    ax = _axes(ax)
    table = search_efficiency(data, hue, metric, ks, n_boot, alpha, seed)
    names = sorted(table["group"].unique())
    styles = _styles(np.asarray(names, dtype=object), hue_order)
    s = _scale(percent)
    for name in names:
        t = table[table["group"] == name]
        c = styles[name].color
        ax.plot(t["k"], t["expected_best"] * s, "-o", markersize=3, color=c, label=name)
        ax.fill_between(
            t["k"], t["ci_low"] * s, t["ci_high"] * s, color=c, alpha=BAND_ALPHA, linewidth=0
        )
        if len(names) <= MAX_OVERLAID:  # more spreads than this only blur the lines
            ax.plot(t["k"], t["q25"] * s, ":", color=c, linewidth=1)
            ax.plot(t["k"], t["q75"] * s, ":", color=c, linewidth=1)
    tidy_axis(ax, "x", table["k"].to_numpy(dtype=float))
    tidy_axis(ax, "y", table["expected_best"].to_numpy(dtype=float) * s, log=False)
    ax.set_xlabel("models sampled k")
    ax.set_ylabel("expected best " + axis_label(metric, percent))
    spread = "; dotted: 25-75% of one search" if len(names) <= MAX_OVERLAID else ""
    ax.set_title(
        f"random-search efficiency ({100 * (1 - alpha):g}% band{spread})", fontsize="medium"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def error_vs_flops_plot(
    data: pd.DataFrame,
    metric: str = METRIC,
    hue: str | None = GROUP,
    complexity: str = COMPLEXITY,
    percent: bool = True,
    hue_order: Sequence[str] | None = None,
    facet: bool | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Error vs complexity (flops = multiply-adds by default) in the SI unit that fits (MF,
    GF); log x only when the complexities span more than a factor 8; one panel per group when
    there are more than three (``facet``)."""
    ax = _axes(ax)
    u = usable(data, metric, [complexity], "error-vs-flops plot").data
    labels = group_labels(u, hue)
    names = group_order(labels)
    styles = _styles(labels, hue_order)
    s = _scale(percent)
    c = pd.to_numeric(u[complexity], errors="coerce").to_numpy(dtype=float)
    div, prefix = si_scale(c)
    panels = _panels(ax, names, facet)
    shared = len(set(map(id, panels))) == 1
    for panel, name in zip(panels, names, strict=True):
        m = labels == name
        panel.scatter(
            c[m] / div,
            u[metric].to_numpy()[m] * s,
            s=8,
            alpha=POINT_ALPHA,
            color=styles[name].color,
            label=name if shared else None,
        )
    tidy_axis(panels[0], "x", c / div)
    tidy_axis(panels[0], "y", u[metric].to_numpy(dtype=float) * s, log=False)
    xlabel = axis_label(complexity, prefix=prefix)
    if complexity == "flops":
        xlabel = xlabel[:-1] + ", multiply-adds)"
    return _label_panels(panels, names, xlabel, axis_label(metric, percent))


def learning_curve_plot(
    data: pd.DataFrame,
    curve: str = "epoch_val_top1_err",
    hue: str | None = GROUP,
    percent: bool = True,
    hue_order: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Validation error after each epoch: the median per ``hue`` group (line) and its
    quartiles (light band), over the models that reached that epoch. ``curve`` is a list
    column (one error per epoch, fractions). Raises DesignSpaceError without such lists."""
    ax = _axes(ax)
    u = usable(data, curve.replace("epoch_", "", 1), [curve], "learning-curve plot").data
    labels = group_labels(u, hue)
    names = group_order(labels)
    styles = _styles(labels, hue_order)
    s = _scale(percent)
    curves = [np.asarray(as_list(v), dtype=float) for v in u[curve]]
    longest = max((c.size for c in curves), default=0)
    if longest == 0:
        raise DesignSpaceError(f"learning-curve plot: column {curve!r} holds no epoch errors")
    table = np.full((len(curves), longest), np.nan)
    for i, c in enumerate(curves):
        table[i, : c.size] = c
    epochs = np.arange(1, longest + 1)
    for name in names:
        rows = table[labels == name]
        counts = np.isfinite(rows).sum(axis=0)
        keep = counts > 0
        q1, med, q3 = (np.full(longest, np.nan) for _ in range(3))
        q1[keep], med[keep], q3[keep] = np.nanpercentile(rows[:, keep], [25, 50, 75], axis=0)
        st = styles[name]
        ax.plot(
            epochs[keep],
            med[keep] * s,
            marker="o",
            markersize=3,
            color=st.color,
            linestyle=st.linestyle,
            label=f"{name} [{len(rows)}]",
        )
        ax.fill_between(
            epochs[keep], q1[keep] * s, q3[keep] * s, color=st.color, alpha=BAND_ALPHA, linewidth=0
        )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=MAX_TICKS - 1, integer=True, min_n_ticks=1))
    ax.set_xlim(0.5, longest + 0.5)
    ax.set_title("learning curves: median and quartiles per epoch", fontsize="medium")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation " + axis_label(curve.removeprefix("epoch_"), percent))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", title=f"{hue or 'models'} [n]", title_fontsize="small")
    return ax


def new_figure(width: float = 6.0, height: float = 4.0) -> tuple[Figure, Axes]:
    """A figure not managed by pyplot (no GUI, freed when dropped) and its Axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    # fixed margins instead of a layout engine: one draw per save instead of two
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.13, top=0.9)
    return fig, fig.add_subplot()


SAVE_FORMATS = ("png", "svg", "pdf")


def save(fig: Figure | Axes, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` (or an Axes' figure) to ``path``; the format follows the extension
    (.png, .svg or .pdf, the last for papers). Parent directories are created."""
    path = Path(path)
    fmt = path.suffix.lower()[1:]
    if fmt not in SAVE_FORMATS:
        raise DesignSpaceError(
            f"plot file {str(path)!r} must end in .png, .svg or .pdf (the format follows the "
            f"extension)"
        )
    fig = getattr(fig, "figure", fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format=fmt, metadata=figure_metadata(fmt))
    return path


def figure_metadata(fmt: str) -> dict[str, str | None]:
    """The mark every figure designspace writes carries (PNG ``Software``, SVG and PDF
    ``Creator``: "designspace <version>"), so that ``plot -o`` replaces only figures it wrote
    (:func:`designspace.formats.outputs.written_by_designspace`); PDFs carry no date, so the
    same figure gives the same file."""
    from designspace.formats.outputs import FIGURE_MARK

    if fmt == "png":
        return {"Software": FIGURE_MARK}
    if fmt == "pdf":
        return {"Creator": FIGURE_MARK, "CreationDate": None}
    return {"Creator": FIGURE_MARK}
