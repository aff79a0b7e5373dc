"""The registry of figure types: what ``designspace plot``, the report and the notebook draw.

A :class:`PlotKind` is one figure type: its name (the ``designspace plot`` kind), a description,
the columns it needs and a function ``draw(data, options, ax, **params)``. Adding a plot = one
drawing function in :mod:`designspace.reporting.plots` + one ``PLOT_KINDS`` entry here. Cheap to
import: the drawing functions import matplotlib when they run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from designspace.errors import DesignSpaceError, closest

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from designspace.reporting.options import AnalysisOptions


@dataclass(frozen=True)
class PlotKind:
    """One figure type: ``draw(data, options, ax, **params) -> Axes``; ``requires`` are the
    columns it needs (``{complexity}`` etc. filled from the options)."""

    name: str
    description: str
    requires: tuple[str, ...]
    draw: Callable[..., Axes]


def _order(data: pd.DataFrame, o: AnalysisOptions) -> list[str]:
    """Every group of ``data`` in sorted order: the colour key shared by all figures."""
    from designspace.analysis._data import group_labels, group_order

    return group_order(group_labels(data, o.by)) if o.by in data.columns else []


def _draw_edf(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.reporting.plots import edf_plot

    band = p.get("band", o.band)
    return edf_plot(
        data, o.metric, o.by, band=band, alpha=o.alpha, seed=o.seed, hue_order=_order(data, o),
        ax=ax,
    )  # fmt: skip


def _draw_nedf(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.reporting.plots import normalized_edf_plot

    return normalized_edf_plot(data, o.metric, o.by, o.complexity, hue_order=_order(data, o), ax=ax)


def _draw_param(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.reporting.plots import error_vs_param_plot

    x = p.get("x", o.x)
    return error_vs_param_plot(
        data, x, o.metric, o.by, n_boot=o.n_boot, alpha=o.alpha, seed=o.seed,
        hue_order=_order(data, o), ax=ax,
    )  # fmt: skip


def _draw_widths(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.reporting.plots import width_profile_plot

    return width_profile_plot(data, o.metric, o.top, ax=ax)


def _draw_efit(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.reporting.plots import efit_plot

    return efit_plot(data, o.metric, o.by, hue_order=_order(data, o), ax=ax)


def _draw_search(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.reporting.plots import search_efficiency_plot

    return search_efficiency_plot(
        data, o.metric, o.by, alpha=o.alpha, seed=o.seed, hue_order=_order(data, o), ax=ax
    )


def _draw_flops(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.reporting.plots import error_vs_flops_plot

    return error_vs_flops_plot(data, o.metric, o.by, o.complexity, hue_order=_order(data, o), ax=ax)


def _draw_curves(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.reporting.plots import learning_curve_plot

    return learning_curve_plot(data, f"epoch_{o.metric}", o.by, hue_order=_order(data, o), ax=ax)


PLOT_KINDS: dict[str, PlotKind] = {
    k.name: k
    for k in (
        PlotKind("edf", "error EDFs per group, legend [n | min | mean]", (), _draw_edf),
        PlotKind("nedf", "complexity-normalized EDFs (NDS)", ("{complexity}",), _draw_nedf),
        PlotKind("param", "error vs a statistic (--x) with the DDS good range", (), _draw_param),
        PlotKind(
            "widths",
            "per-block width profiles of the top models with fitted RegNet rules",
            ("depths", "widths"),
            _draw_widths,
        ),
        PlotKind("efit", "RegNet fit error e_fit vs error", ("depths", "widths"), _draw_efit),
        PlotKind(
            "search", "random-search efficiency: expected best error of k samples", (), _draw_search
        ),
        PlotKind("flops", "error vs complexity (flops)", ("{complexity}",), _draw_flops),
        PlotKind(
            "curves",
            "learning curves: validation error per epoch, median and quartiles per group",
            ("epoch_{metric}",),
            _draw_curves,
        ),
    )
}


def draw(kind: str, data: pd.DataFrame, options: AnalysisOptions, ax: Axes) -> Axes:
    """Draw plot ``kind`` of ``data`` (all rows; the plot keeps the usable ones) on ``ax``;
    raises DesignSpaceError for an unknown kind or missing columns."""
    if kind not in PLOT_KINDS:
        raise DesignSpaceError(
            f"unknown plot kind {kind!r}; kinds, closest first: "
            f"{', '.join(closest(kind, PLOT_KINDS))}"
        )
    spec = PLOT_KINDS[kind]
    need = [options.column(c) for c in spec.requires]
    lacking = [c for c in need if c not in data.columns]
    if lacking:
        raise DesignSpaceError(
            f"plot {kind} needs column(s) {lacking} that the results do not have"
        )
    return spec.draw(data, options, ax)
