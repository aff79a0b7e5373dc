"""The registry of analyses and plots: what ``designspace analyze``, ``designspace plot`` and
the notebook run.

* A :class:`PlotKind` is one figure type: its name (the ``designspace plot`` kind), a
  description, the columns it needs and a function ``draw(data, options, ax, **params)``.
* A :class:`Section` is one part of the report: its name, title, the columns it needs (with a
  value for every usable model), the least number of groups, and a function ``run(ctx, out)``
  that adds text, tables (written as CSV) and figures (drawn by a plot kind) to ``out``.

A section whose columns are missing, whose data hold too few groups, or whose run raises
DesignSpaceError (the data cannot support it) is skipped and the reason is stated in the
report; the other sections still run. Adding a plot = one drawing function in
:mod:`designspace.plots` + one ``PLOT_KINDS`` entry here; adding an analysis = one
``run_<name>`` function in :mod:`designspace.report_sections` + one ``SECTIONS`` entry here
(:func:`sections_table` lists them in order). Column names in ``requires`` may name the
options ``{complexity}``, ``{metric}`` and ``{by}``.

Importing this module is cheap (no pandas, scipy or matplotlib): the command-line parser lists
the plot kinds from it, and arguments are validated (:class:`AnalysisOptions`) before anything
heavy is loaded. Run and draw functions import the analysis library when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from designspace import report_sections as rs
from designspace.errors import DesignSpaceError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# The analysis library's defaults (designspace.analysis._data; a test checks they agree). Spelled
# out here so that validating options does not import pandas and scipy.
GROUP = "space"
METRIC = "val_top1_err"
COMPLEXITY = "flops"
STAGE_COLUMNS = ("depths", "widths", "bottleneck_ratios", "group_widths")
FORMATS = ("png", "svg")
MIN_BOOT = 100
ADJUSTMENTS = ("holm", "bh", "none")


@dataclass(frozen=True)
class AnalysisOptions:
    """Settings of one analysis (report, plot or notebook); validated on construction.

    ``by``: column naming the groups; ``metric``: error column (fractions in [0, 1]);
    ``reference``: group the others are tested against (None: the first in sorted order);
    ``alpha``: test level, 0 < alpha < 1 (intervals at level 1 - alpha); ``complexity``:
    column for normalization (flops = multiply-adds); ``formats``: figure files (png, svg);
    ``n_boot``: bootstrap resamples (at least 100); ``top``: models in width profiles;
    ``seed``: seed of every resampling; ``x``: statistic of the ``param`` plot; ``band``:
    confidence band of the ``edf`` plot (None, "dkw" or "bootstrap"); ``adjust``: multiple-
    testing adjustment of every family of tests ("holm", "bh" or "none"); ``margin``:
    equivalence margin in error units (fractions); ``best``: fraction of the models that are
    "the best" in the preference tests (0 < best < 1).
    """

    by: str = GROUP
    metric: str = METRIC
    reference: str | None = None
    alpha: float = 0.05
    complexity: str = COMPLEXITY
    formats: tuple[str, ...] = FORMATS
    n_boot: int = 10_000
    top: int = 5
    seed: int = 0
    x: str = "depth"
    band: str | None = None
    adjust: str = "holm"
    margin: float = 0.005
    best: float = 0.25

    def __post_init__(self) -> None:
        for name in ("by", "metric", "complexity", "x"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise DesignSpaceError(f"{name} must name a column, got {value!r}")
        if not (isinstance(self.alpha, (int, float)) and 0 < self.alpha < 1):
            raise DesignSpaceError(
                f"alpha is a test level between 0 and 1 (e.g. 0.05), got {self.alpha!r}"
            )
        if not isinstance(self.n_boot, int) or self.n_boot < MIN_BOOT:
            raise DesignSpaceError(
                f"n_boot must be a whole number of at least {MIN_BOOT} bootstrap resamples "
                f"(e.g. 10000), got {self.n_boot!r}"
            )
        if not isinstance(self.top, int) or self.top < 1:
            raise DesignSpaceError(f"top must be at least 1 model, got {self.top!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise DesignSpaceError(f"seed must be a non-negative integer, got {self.seed!r}")
        formats = tuple(self.formats)
        if not formats or sorted(set(formats) - set(FORMATS)):
            raise DesignSpaceError(f"formats take png and/or svg, got {list(formats)}")
        object.__setattr__(self, "formats", formats)
        if self.band not in (None, "dkw", "bootstrap"):
            raise DesignSpaceError(f"band must be dkw or bootstrap, got {self.band!r}")
        if self.adjust not in ADJUSTMENTS:
            raise DesignSpaceError(
                f"adjust must be one of {list(ADJUSTMENTS)} (multiple-testing adjustment), "
                f"got {self.adjust!r}"
            )
        if not (isinstance(self.margin, (int, float)) and 0 < self.margin < 1):
            raise DesignSpaceError(
                f"margin is an error difference between 0 and 1 (e.g. 0.005), got {self.margin!r}"
            )
        if not (isinstance(self.best, (int, float)) and 0 < self.best < 1):
            raise DesignSpaceError(
                f"best is a fraction of the models between 0 and 1 (e.g. 0.25), got {self.best!r}"
            )

    @classmethod
    def with_overrides(
        cls, options: AnalysisOptions | None = None, **overrides: Any
    ) -> AnalysisOptions:
        """``options`` (default: the defaults) with the named fields replaced; an unknown name
        raises DesignSpaceError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise DesignSpaceError(f"unknown analysis option(s) {unknown}; known: {sorted(known)}")
        return replace(options or cls(), **overrides)

    def column(self, name: str) -> str:
        """``name`` with ``{complexity}``, ``{metric}`` and ``{by}`` filled in."""
        return name.format(complexity=self.complexity, metric=self.metric, by=self.by)


@dataclass
class Context:
    """What every section sees: the usable rows, the options, the groups, shared results.

    ``data`` holds one row per model with status "ok" and a finite metric; ``n_total`` counts
    the rows read and ``note`` says what was excluded or averaged (empty when nothing was).
    With seed replicates (an ``arch_id`` trained with several ``cfg_seed``), ``runs`` holds
    every usable run and ``data`` one row per architecture and group with the metric averaged
    over its seeds (column ``n_seeds``), so that no model counts more than once in a test;
    without them ``runs`` is ``data``. ``shared`` carries results one section leaves for later
    ones (the comparison object, the noise floor).
    """

    data: pd.DataFrame
    options: AnalysisOptions
    groups: list[str]
    n_total: int
    note: str = ""
    runs: pd.DataFrame | None = None
    shared: dict[str, Any] = field(default_factory=dict)
    _features: pd.DataFrame | None = None

    def features(self) -> pd.DataFrame:
        """``data`` with the design features and RegNet fits (computed once, then cached)."""
        if self._features is None:
            from designspace.analysis.features import add_features

            self._features = add_features(self.data, fit=True)
        return self._features

    def plot_data(self) -> pd.DataFrame:
        """The rows plots draw from: with features when the per-stage columns exist."""
        return self.features() if not missing_columns(self.data, STAGE_COLUMNS) else self.data


def prepare(data: pd.DataFrame, options: AnalysisOptions | None = None) -> Context:
    """Validate ``data`` against ``options`` and keep the usable rows; raises DesignSpaceError
    when nothing can be analysed (no usable model, no ``by`` column, unknown reference)."""
    from designspace.analysis._data import group_labels, group_order, usable

    opts = options or AnalysisOptions()
    u = usable(data, opts.metric, [opts.by], "analyze")
    groups = group_order(group_labels(u.data, opts.by))
    if opts.reference is not None and opts.reference not in groups:
        raise DesignSpaceError(
            f"reference {opts.reference!r} is not among the groups of '{opts.by}': {groups}"
        )
    models = per_model(u.data, opts)
    notes = [u.note()] if u.note() else []
    if len(models) < len(u.data):
        notes.append(
            f"{len(u.data)} runs of {len(models)} architectures: seed replicates averaged per "
            f"architecture (column n_seeds) so that each model counts once"
        )
    return Context(models, opts, groups, u.n_total, "; ".join(notes), runs=u.data)


def per_model(runs: pd.DataFrame, options: AnalysisOptions) -> pd.DataFrame:
    """One row per (group, arch_id): ``runs`` unchanged when no architecture was trained with
    several ``cfg_seed``; else the metric averaged over each architecture's runs (the other
    columns from its first run) and ``n_seeds`` the number of runs."""
    if "arch_id" not in runs.columns or "cfg_seed" not in runs.columns:
        return runs
    keys = [options.by, "arch_id"]
    if not (runs.groupby(keys, dropna=False)["cfg_seed"].nunique() > 1).any():
        return runs
    grouped = runs.groupby(keys, sort=False, dropna=False)
    first = grouped.head(1).set_index(keys)
    first[options.metric] = grouped[options.metric].mean()
    first["n_seeds"] = grouped.size()
    return first.reset_index()[list(runs.columns) + ["n_seeds"]]


def missing_columns(data: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The ``columns`` that ``data`` lacks or that have no value for some row."""
    return [c for c in columns if c not in data.columns or bool(data[c].isna().any())]


# --- results of a section ---------------------------------------------------------------------


@dataclass
class Table:
    """A table of a section: ``frame`` is written to ``<name>.csv`` (with its index when
    ``index``); ``shown`` is what the report shows (None: nothing, only the CSV)."""

    name: str
    frame: pd.DataFrame
    index: bool = False
    shown: pd.DataFrame | None = None


@dataclass
class FigureResult:
    """A figure of a section: saved as ``<name>.<format>``."""

    name: str
    caption: str
    figure: Figure


@dataclass
class SectionResult:
    """What one section produced, in order: ``blocks`` of ("p", text), ("ul", [items]),
    ("table", Table) and ("figure", FigureResult); plus ``console`` lines for the terminal and
    ``not_done`` (parts skipped, each with its reason). ``skipped`` is the reason the whole
    section was skipped (None when it ran)."""

    name: str
    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    not_done: list[str] = field(default_factory=list)
    skipped: str | None = None

    @property
    def tables(self) -> dict[str, Table]:
        """The tables by name."""
        return {t.name: t for kind, t in self.blocks if kind == "table"}

    @property
    def figures(self) -> dict[str, FigureResult]:
        """The figures by name."""
        return {f.name: f for kind, f in self.blocks if kind == "figure"}

    def text(self, text: str) -> None:
        """Add a paragraph."""
        self.blocks.append(("p", text))

    def bullets(self, items: Sequence[str]) -> None:
        """Add a bullet list (nothing when empty)."""
        if items:
            self.blocks.append(("ul", list(items)))

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
        self.blocks.append(("table", Table(name, frame, index, view)))
        return frame

    def figure(
        self, ctx: Context, name: str, kind: str, caption: str, **params: Any
    ) -> FigureResult | None:
        """Draw plot ``kind`` of the context's data as figure ``name``; when its columns are
        missing or the data cannot support it, record why in ``not_done`` and return None."""
        spec = PLOT_KINDS[kind]
        lacking = missing_columns(ctx.data, [ctx.options.column(c) for c in spec.requires])
        if lacking:
            self.not_done.append(f"plot {name}: needs column(s) {lacking} for every model")
            return None
        from designspace.plots import new_figure

        fig, ax = new_figure()
        try:
            spec.draw(ctx.plot_data(), ctx.options, ax, **params)
        except DesignSpaceError as exc:
            self.not_done.append(f"plot {name}: {exc}")
            return None
        result = FigureResult(name, caption, fig)
        self.blocks.append(("figure", result))
        return result


# --- the plot kinds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlotKind:
    """One figure type: ``draw(data, options, ax, **params) -> Axes``; ``requires`` are the
    columns it needs (``{complexity}`` etc. filled from the options)."""

    name: str
    description: str
    requires: tuple[str, ...]
    draw: Callable[..., Axes]


def _draw_edf(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.plots import edf_plot

    band = p.get("band", o.band)
    return edf_plot(data, o.metric, o.by, band=band, alpha=o.alpha, seed=o.seed, ax=ax)


def _draw_nedf(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.plots import normalized_edf_plot

    return normalized_edf_plot(data, o.metric, o.by, o.complexity, ax=ax)


def _draw_param(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.plots import error_vs_param_plot

    x = p.get("x", o.x)
    return error_vs_param_plot(
        data, x, o.metric, o.by, n_boot=o.n_boot, alpha=o.alpha, seed=o.seed, ax=ax
    )


def _draw_widths(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.plots import width_profile_plot

    return width_profile_plot(data, o.metric, o.top, ax=ax)


def _draw_efit(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.plots import efit_plot

    return efit_plot(data, o.metric, o.by, ax=ax)


def _draw_search(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.plots import search_efficiency_plot

    return search_efficiency_plot(data, o.metric, o.by, alpha=o.alpha, seed=o.seed, ax=ax)


def _draw_flops(data: pd.DataFrame, o: AnalysisOptions, ax: Axes, **p: Any) -> Axes:
    from designspace.plots import error_vs_flops_plot

    return error_vs_flops_plot(data, o.metric, o.by, o.complexity, ax=ax)


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
    )
}


def draw(kind: str, data: pd.DataFrame, options: AnalysisOptions, ax: Axes) -> Axes:
    """Draw plot ``kind`` of ``data`` (all rows; the plot keeps the usable ones) on ``ax``;
    raises DesignSpaceError for an unknown kind or missing columns."""
    if kind not in PLOT_KINDS:
        raise DesignSpaceError(f"unknown plot kind {kind!r}; kinds: {sorted(PLOT_KINDS)}")
    spec = PLOT_KINDS[kind]
    need = [options.column(c) for c in spec.requires]
    lacking = [c for c in need if c not in data.columns]
    if lacking:
        raise DesignSpaceError(
            f"plot {kind} needs column(s) {lacking} that the results do not have"
        )
    return spec.draw(data, options, ax)


# --- the report's sections --------------------------------------------------------------------


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
    lacking = missing_columns(ctx.data, [ctx.options.column(c) for c in sec.requires])
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


def run_sections(ctx: Context, names: Sequence[str] | None = None) -> list[SectionResult]:
    """Run the named sections (default: all, in registry order)."""
    return [run_section(name, ctx) for name in (names or list(SECTIONS))]


def show(result: SectionResult) -> None:
    """Display a section in a Jupyter notebook: its title, text, shown tables and figures, and
    what was not done (needs IPython)."""
    import io

    from IPython.display import Image, Markdown, display

    display(Markdown(f"### {result.title}"))
    if result.skipped:
        display(Markdown(f"Skipped: {result.skipped}."))
        return
    for kind, value in result.blocks:
        if kind == "p":
            display(Markdown(value))
        elif kind == "ul":
            display(Markdown("\n".join(f"- {item}" for item in value)))
        elif kind == "table" and value.shown is not None:
            display(value.shown)
        elif kind == "figure":
            png = io.BytesIO()
            value.figure.savefig(png, format="png", dpi=100)
            display(Image(data=png.getvalue(), format="png"))
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
        Section("sample_size", "Sample-size sensitivity", rs.run_sample_size),
        Section("search", "Random-search efficiency", rs.run_search),
        Section("flops", "Error vs complexity", rs.run_flops, ("{complexity}",)),
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
        Section("good_ranges", "Good ranges (DDS bootstrap)", rs.run_good_ranges, STAGE_COLUMNS),
    )
}
