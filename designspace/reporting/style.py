"""The look of every figure: one colour per group, readable labels with units, ticks that fit.

* **Colours** (:func:`group_colors`): the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal
  Design"), distinguishable with the common colour-vision deficiencies. A group's colour follows
  its position in the sorted list of all groups of the data, so a space keeps its colour in
  every figure of a report; past eight groups the colours repeat with another line style and
  marker (:func:`group_styles`).
* **Labels** (:func:`axis_label`): a column's name in words with its unit, e.g. ``val_top1_err``
  -> "top-1 error (%)", ``flops`` -> "flops (MF)". Errors are fractions in the data and shown in
  percent; flops (multiply-adds) and params are shown in the SI unit that fits their magnitude
  (:func:`si_scale`).
* **Ticks** (:func:`tidy_axis`): a log scale only when the data span more than a factor
  :data:`LOG_MIN_RATIO`, plain numbers (never 3.6x10^6), at most :data:`MAX_TICKS` ticks per axis.
* **Small multiples** (:func:`facet_axes`): scatter plots of more than :data:`MAX_OVERLAID`
  groups get one panel per group with shared axes instead of one crowded cloud.

Pure matplotlib; imported by :mod:`designspace.reporting.plots` only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Okabe-Ito, without its yellow (too light on white) and black (kept for reference lines).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#882255",  # wine (Tol), darker than the rest for a seventh group
    "#7F7F7F",  # grey
)
LINESTYLES: tuple[str, ...] = ("-", "--", "-.", ":")
MARKERS: tuple[str, ...] = ("o", "s", "^", "D")
BAND_ALPHA = 0.12  # light enough that two overlapping bands and the lines stay readable
POINT_ALPHA = 0.55
MAX_TICKS = 6
LOG_MIN_RATIO = 8.0  # below this span a log axis shows one or two ticks: use a linear one
MAX_OVERLAID = 3  # more groups than this in one scatter: one panel per group

_ERROR_NAMES = {
    "val_top1_err": "top-1 error",
    "best_val_top1_err": "best top-1 error",
    "val_top5_err": "top-5 error",
}
_COUNT_UNITS = {"flops": "F", "params": "", "acts": ""}
_WORDS = {
    "depth": "depth (blocks)",
    "b": "bottleneck ratio b",
    "g": "group width g (channels)",
    "w0": "initial width w0 (channels)",
    "wa": "width slope wa (channels per block)",
    "wm": "width multiplier wm",
    "fit_w0": "fitted w0 (channels)",
    "fit_wa": "fitted wa (channels per block)",
    "fit_wm": "fitted wm",
    "e_fit": "RegNet fit error e_fit (mean |log w - log w_fit|)",
    "num_stages": "stages",
    "resolution": "input resolution (px)",
    "train_time_s": "training time (s)",
    "images_per_s": "training speed (images/s)",
}


@dataclass(frozen=True)
class GroupStyle:
    """How one group is drawn: its colour, line style and marker."""

    color: str
    linestyle: str
    marker: str


def group_styles(groups: Sequence[str]) -> dict[str, GroupStyle]:
    """The style of each group, by its position in ``groups`` (give every group of the data,
    sorted, so that the mapping is the same in every figure)."""
    out = {}
    for i, name in enumerate(groups):
        cycle = i // len(PALETTE)
        out[name] = GroupStyle(
            PALETTE[i % len(PALETTE)],
            LINESTYLES[cycle % len(LINESTYLES)],
            MARKERS[cycle % len(MARKERS)],
        )
    return out


def group_colors(groups: Sequence[str]) -> dict[str, str]:
    """The colour of each group (see :func:`group_styles`)."""
    return {name: s.color for name, s in group_styles(groups).items()}


def is_error(column: str) -> bool:
    """Whether ``column`` holds errors (fractions in [0, 1]): its name ends in ``_err``."""
    return column.endswith("_err")


def si_scale(values: np.ndarray) -> tuple[float, str]:
    """(divisor, prefix) that shows ``values`` in thousands (k), millions (M) or billions (G),
    chosen from the largest magnitude; (1, "") below a thousand."""
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    for divisor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if top >= divisor:
            return divisor, prefix
    return 1.0, ""


def unit_of(column: str, prefix: str = "") -> str:
    """The unit a count column is shown in with SI ``prefix``: "MF" for flops in millions,
    "M" for params in millions ("" for other columns)."""
    return prefix + _COUNT_UNITS.get(column, "") if column in _COUNT_UNITS else ""


def axis_label(column: str, percent: bool = True, prefix: str = "") -> str:
    """``column`` in words with its unit: errors in % (or fractions), counts with the SI
    ``prefix`` they are shown in (flops are multiply-adds: "flops (MF)")."""
    if is_error(column):
        name = _ERROR_NAMES.get(column, column.removesuffix("_err").replace("_", " ") + " error")
        return f"{name} ({'%' if percent else 'fraction'})"
    if column in _COUNT_UNITS:
        unit = unit_of(column, prefix)
        return f"{column} ({unit})" if unit else column
    return _WORDS.get(column, column.replace("_", " "))


def tidy_axis(ax: Axes, axis: str, values: np.ndarray, log: bool | None = None) -> None:
    """Scale and ticks of ``axis`` ("x" or "y") for ``values`` (as drawn): log only when
    ``log`` is not False, every value is positive and they span more than
    :data:`LOG_MIN_RATIO`; plain tick labels, at most :data:`MAX_TICKS`."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    finite = values[np.isfinite(values)]
    target = ax.xaxis if axis == "x" else ax.yaxis
    wide = finite.size > 0 and finite.min() > 0 and finite.max() / finite.min() > LOG_MIN_RATIO
    if log is not False and wide:
        getattr(ax, f"set_{axis}scale")("log")
        target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=MAX_TICKS))
        target.set_minor_formatter(NullFormatter())
    else:
        target.set_major_locator(MaxNLocator(nbins=MAX_TICKS - 1, steps=[1, 2, 2.5, 5, 10]))
    target.set_major_formatter(FuncFormatter(_plain))


def _plain(value: float, _pos: int | None = None) -> str:
    """A tick label without exponent or trailing zeros: 1, 2.5, 0.05, 3.65, 2000."""
    return f"{value:.6g}" if abs(value) < 1e6 else f"{value:,.0f}"


def facet_axes(ax: Axes, n: int) -> list[Axes]:
    """``n`` panels with shared axes in the place of ``ax`` (which is removed); the figure
    grows so that each panel keeps a readable size. Returns the panels, row by row."""
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = ax.figure
    width, height = fig.get_size_inches()
    fig.set_size_inches(max(width, 2.7 * cols + 0.8), max(height, 2.3 * rows + 0.9))
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.11, top=0.92)
    spec = ax.get_subplotspec().subgridspec(rows, cols, hspace=0.45, wspace=0.12)
    ax.remove()
    panels: list[Axes] = []
    for i in range(n):
        share = panels[0] if panels else None
        panels.append(fig.add_subplot(spec[i // cols, i % cols], sharex=share, sharey=share))
    for i, panel in enumerate(panels):
        if i % cols:
            panel.tick_params(labelleft=False)
        if i < n - cols:
            panel.tick_params(labelbottom=False)
    return panels
