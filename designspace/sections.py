"""The registry of analyses and plots: what ``designspace analyze``, ``designspace plot`` and
the notebook run.

* A :class:`PlotKind` is one figure type: its name (the ``designspace plot`` kind), a
  description, the columns it needs and a function ``draw(data, options, ax, **params)``.
* A :class:`Section` is one part of the report: its name, title, the columns it needs (with a
  value for every usable model), the least number of groups, and a function ``run(ctx, out)``
  that adds text, tables (written as CSV) and figures (drawn by a plot kind) to ``out``.

A section whose columns are missing, whose data hold too few groups, or whose run raises
DesignSpaceError (the data cannot support it) is skipped and the reason is stated in the
report; the other sections still run. Adding a plot = one draw function + one ``PLOT_KINDS`` entry;
adding an analysis = one run function + one ``SECTIONS`` entry (:func:`sections_table` lists
them in order). Column names in ``requires`` may name the options ``{complexity}``,
``{metric}`` and ``{by}``.

Importing this module is cheap (no pandas, scipy or matplotlib): the command-line parser lists
the plot kinds from it, and arguments are validated (:class:`AnalysisOptions`) before anything
heavy is loaded. Run and draw functions import the analysis library when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

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


def _data(ctx: Context, out: SectionResult) -> None:
    o = ctx.options
    out.text(
        f"{len(ctx.data)} usable models in {len(ctx.groups)} group(s) of '{o.by}' "
        f"({ctx.n_total} rows read). Every family of tests is adjusted for multiplicity "
        f"({_ADJUST_NAMES[o.adjust]}) and verdicts rest on the adjusted p-values at level "
        f"{o.alpha:g}; intervals are adjusted the same way."
    )
    out.bullets([ctx.note] if ctx.note else [])


def _replicated(ctx: Context) -> str | None:
    d = ctx.data if ctx.runs is None else ctx.runs
    if "arch_id" not in d.columns or "cfg_seed" not in d.columns:
        return "needs columns ['arch_id', 'cfg_seed'] (results with seed replicates)"
    if not (d.groupby("arch_id")["cfg_seed"].nunique() >= 2).any():
        return (
            "needs seed replicates: the same arch_id trained with at least two cfg_seed values "
            "(train them with several seeds and analyse all runs together)"
        )
    return None


def _noise(ctx: Context, out: SectionResult) -> None:
    import pandas as pd

    from designspace.analysis.noise import noise_floor, noise_table, seed_agreement

    o = ctx.options
    runs = ctx.data if ctx.runs is None else ctx.runs
    nf = noise_floor(runs, o.metric)
    ctx.shared["noise"] = nf
    out.text(
        f"Seed-to-seed standard deviation of {o.metric}: {nf.sd:.4g} (95% interval "
        f"[{nf.sd_low:.4g}, {nf.sd_high:.4g}]), pooled over {nf.n_archs} architectures trained "
        f"with several seeds ({nf.n_runs} runs, {nf.dof} degrees of freedom). Comparisons and "
        f"rules below quote differences in units of it (diff_over_noise). Seed agreement: rank "
        f"correlation of the same architectures between two seeds, the ceiling of any rank "
        f"agreement."
    )
    floor = pd.DataFrame([{k: getattr(nf, k) for k in nf.__dataclass_fields__}])
    out.table("noise_floor", floor)
    out.table("seed_agreement", seed_agreement(runs, o.metric))
    out.table("noise_by_arch", noise_table(runs, o.metric), shown=False)
    out.console.append(f"noise floor: seed-to-seed sd {nf.sd:.4g} over {nf.n_archs} architectures")


def _summary(ctx: Context, out: SectionResult) -> None:
    from designspace.analysis.compare import summary

    out.table("summary", summary(ctx.data, ctx.options.by, ctx.options.metric), index=True)


_ADJUST_NAMES = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "none"}
_PAIR_VIEW = [
    "a",
    "b",
    "verdict",
    "ks",
    "p_value",
    "p_adjusted",
    "median_diff",
    "median_diff_low",
    "median_diff_high",
    "p_a_beats_b",
    "p_a_beats_b_low",
    "p_a_beats_b_high",
    "p_equivalence_adjusted",
    "diff_over_noise",
]


def _compare(ctx: Context, normalize: bool) -> Any:
    from designspace.analysis.compare import compare

    o = ctx.options
    return compare(
        ctx.data,
        o.by,
        o.metric,
        o.reference,
        o.alpha,
        normalize=normalize,
        complexity=o.complexity,
        adjust=o.adjust,
        margin=o.margin,
        n_boot=o.n_boot,
        seed=o.seed,
        noise=ctx.shared.get("noise"),
    )


_NESTED_CONSOLE = [
    "rule",
    "from_space",
    "to_space",
    "verdict",
    "effect",
    "ci_low",
    "ci_high",
    "p_adjusted",
    "p_equivalence_adjusted",
    "sensitivity",
    "diff_over_noise",
]
_PREFERENCE_CONSOLE = [
    "column",
    "verdict",
    "direction",
    "top_median",
    "all_median",
    "p_adjusted",
    "range_low",
    "range_best",
    "range_high",
    "stable",
]


def _drop_empty(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``table`` without those of ``columns`` that hold no value at all (e.g. diff_over_noise
    when there is no noise floor)."""
    empty = [c for c in columns if c in table.columns and table[c].isna().all()]
    return table.drop(columns=empty)


def _pairs_view(pairs: pd.DataFrame) -> pd.DataFrame:
    return _drop_empty(pairs[[c for c in _PAIR_VIEW if c in pairs.columns]], ["diff_over_noise"])


def _comparison(ctx: Context, out: SectionResult) -> None:
    o = ctx.options
    c = _compare(ctx, normalize=False)
    ctx.shared["comparison"] = c
    out.text(
        f"Every pair of groups is tested (two-sample Kolmogorov-Smirnov on the error "
        f"distributions); the {len(c.pairs)} p-values are adjusted ({_ADJUST_NAMES[c.adjust]}) "
        f"and a verdict says 'better' or 'worse' only when the adjusted p-value is below "
        f"{o.alpha:g}. 'equivalent' means two one-sided tests show |difference of medians| < "
        f"{c.margin:g}; 'indistinguishable' means neither a difference nor equivalence is shown. "
        f"Reference {c.reference}; auc = mean of the EDF over the common error range "
        f"[{c.error_range[0]:.4f}, {c.error_range[1]:.4f}] (higher = more good models)."
    )
    out.table("comparison", c.table, index=True)
    out.text(
        f"Effect sizes of every pair (a relative to b): median_diff = median(a) - median(b) "
        f"(negative: a better) and p_a_beats_b = P(a random model of a has a lower error than "
        f"one of b), with {c.n_boot} bootstrap resamples at the adjusted level "
        f"{1 - c.interval_alpha:.4g}; raw and adjusted p-values."
    )
    out.table("pairwise", c.pairs, shown=_pairs_view(c.pairs))
    out.console.append(str(c))
    out.figure(ctx, "edf", "edf", "Error EDFs, legend [n | min | mean]", band="dkw")


def _normalized(ctx: Context, out: SectionResult) -> None:
    try:
        norm = _compare(ctx, normalize=True)
    except DesignSpaceError as exc:
        out.not_done.append(f"normalized comparison: {exc}")
        return
    out.text(
        f"Complexity-normalized (NDS) over the common {ctx.options.complexity} range: every "
        f"group's models reweighted to one complexity distribution; tests and intervals as above."
    )
    out.table("comparison_normalized", norm.table, index=True)
    out.table("pairwise_normalized", norm.pairs, shown=_pairs_view(norm.pairs))
    out.figure(
        ctx, "edf_normalized", "nedf", f"Complexity-normalized EDFs ({ctx.options.complexity})"
    )


def _sample_size(ctx: Context, out: SectionResult) -> None:
    from designspace.analysis.compare import sample_size_sensitivity

    o = ctx.options
    try:
        table = sample_size_sensitivity(ctx.data, o.by, o.metric, seed=o.seed)
    except DesignSpaceError as exc:
        out.not_done.append(str(exc))
        return
    out.text(
        "Sample-size sensitivity (NDS): KS statistic between two disjoint random subsamples of "
        "k models (mean and 5-95% range over repeats); small values mean k models pin the EDF "
        "down."
    )
    out.table("sample_size", table)
    small = sorted(set(ctx.groups) - set(table["group"]))
    if small:
        out.not_done.append(f"sample-size sensitivity: groups with fewer than 4 models: {small}")


def _search(ctx: Context, out: SectionResult) -> None:
    import pandas as pd

    from designspace.analysis.search import search_efficiency

    o = ctx.options
    table = search_efficiency(ctx.data, o.by, o.metric, seed=o.seed)
    keep = []
    for _, t in table.groupby("group"):
        ks = t["k"].to_numpy()
        want = {ks[0], ks[-1], *[k for k in ks if k in (5, 10, 20, 50, 100)]}
        keep.append(t[t["k"].isin(want)])
    digest = pd.concat(keep)[["group", "k", "expected_best", "ci_low", "ci_high", "n"]]
    out.text(
        "Expected best error among k models drawn at random (exact), with a bootstrap interval."
    )
    out.table("search", table, shown=digest)
    out.figure(ctx, "search", "search", "Random-search efficiency")


def _flops(ctx: Context, out: SectionResult) -> None:
    out.figure(ctx, "error_vs_flops", "flops", f"Error vs {ctx.options.complexity}")


def _fits(ctx: Context, out: SectionResult) -> None:
    o = ctx.options
    feats = ctx.features()
    wanted = ("arch_id", o.by, o.metric, "fit_w0", "fit_wa", "fit_wm", "e_fit", "fit_at_edge")
    out.text(
        "Every model's widths fitted by the RegNet rule (w0, wa, wm); e_fit = mean |log w - "
        "log w_fit| over blocks; fit_at_edge marks fits at a limit of the search grid (fits.csv)."
    )
    table = out.table("fits", feats[[c for c in wanted if c in feats.columns]], shown=False)
    if "fit_at_edge" in table.columns and table["fit_at_edge"].any():
        out.bullets([f"{int(table['fit_at_edge'].sum())} fit(s) sit at the edge of the grid"])
    out.figure(ctx, "widths", "widths", f"Width profiles of the top {o.top} models with fits")
    out.figure(ctx, "efit", "efit", "e_fit vs error")


def _nested_applies(ctx: Context) -> str | None:
    from designspace.analysis.rules import NESTED_STEPS

    pairs = [(s.from_space, s.to_space) for s in NESTED_STEPS]
    if any(a in ctx.groups and b in ctx.groups for a, b in pairs):
        return None
    return (
        f"needs a nested pair of spaces in column '{ctx.options.by}' (one of "
        f"{[f'{a}->{b}' for a, b in pairs]}); these results hold {ctx.groups}"
    )


def _nested(ctx: Context, out: SectionResult) -> None:
    from designspace.analysis.rules import nested_rules

    o = ctx.options
    table = nested_rules(
        ctx.data,
        o.metric,
        o.by,
        alpha=o.alpha,
        adjust=o.adjust,
        margin=o.margin,
        n_boot=o.n_boot,
        seed=o.seed,
        noise=ctx.shared.get("noise"),
    )
    out.text(
        "Each RegNet constraint tested as DDS derives it: by the nested pair of spaces that "
        "differ only by that constraint, as a comparison of their error distributions (effect = "
        "median error of the constrained space minus the other's; negative = lower error), "
        f"adjusted ({_ADJUST_NAMES[o.adjust]}) over the steps. A sharing rule claims the "
        f"constraint costs nothing: 'supported' only when equivalence within {o.margin:g} (or "
        "an improvement) is shown. Each verdict is recomputed on ranks (Mann-Whitney) and "
        "without outliers; a verdict that changes is 'fragile'."
    )
    out.bullets([r.sentence for r in table.itertuples()])
    shown = _drop_empty(table.drop(columns=["sentence", "claim", "evidence"]), ["diff_over_noise"])
    out.table("rules_nested", table, shown=shown)
    view = shown[[c for c in _NESTED_CONSOLE if c in shown.columns]]
    out.console.append(
        f"RegNet principles from nested spaces ({o.adjust}-adjusted, effect = median error "
        f"change, interval at the adjusted level):\n"
        + view.to_string(index=False, float_format=lambda x: f"{x:.4g}")
    )


def _observational(ctx: Context, out: SectionResult) -> None:
    from designspace.analysis.rules import observational_rules

    o = ctx.options
    table = observational_rules(
        ctx.features(),
        o.metric,
        o.by,
        alpha=o.alpha,
        adjust=o.adjust,
        n_boot=o.n_boot,
        seed=o.seed,
    )
    out.text(
        "OBSERVATIONAL evidence, within each space: models that have a property against those "
        "that lack it (effect = median error with minus without; for linear_widths Spearman's "
        "rho of error and e_fit). Models differ in more than the property, so an association "
        "is not a cause; nothing derived from the property is controlled for. Adjusted over "
        "all rows; recomputed without outliers (sensitivity)."
    )
    out.table("rules_observational", table, shown=table.drop(columns=["sentence", "evidence"]))
    found = table[table["verdict"].isin(["association", "reverse association"])]
    out.console.append(
        f"within-space evidence (observational, not causal): {len(found)} of {len(table)} "
        f"(rule, space) rows show an association"
        + "".join(f"\n  {r.rule} in {r.space}: {r.verdict}" for r in found.itertuples())
    )


def _preferences(ctx: Context, out: SectionResult) -> None:
    from designspace.analysis.preferences import preferences

    o = ctx.options
    table = preferences(
        ctx.features(),
        metric=o.metric,
        by=o.by,
        top=o.best,
        alpha=o.alpha,
        adjust=o.adjust,
        n_boot=o.n_boot,
        seed=o.seed,
    )
    out.text(
        f"Do the best {o.best:.0%} of the models (within each {o.by}) differ from the rest in "
        f"b, g, depth and wm? Stratified permutation test of the mean centred rank of the best "
        f"models (shift < 0: the best have lower values), adjusted ({_ADJUST_NAMES[o.adjust]}) "
        f"over the statistics. The DDS bootstrap good range (range_low, range_best, range_high) "
        f"describes where the best models sit; 'stable' says whether it is the same for five "
        f"bootstrap seeds (best_min..best_max, low_min..high_max)."
    )
    out.bullets([r.sentence for r in table.itertuples() if isinstance(r.sentence, str)])
    out.table("preferences", table, shown=table.drop(columns=["sentence"]))
    view = table[[c for c in _PREFERENCE_CONSOLE if c in table.columns]]
    out.console.append(
        f"preferences of the best {o.best:.0%} ({o.adjust}-adjusted permutation tests; DDS "
        f"good range):\n" + view.to_string(index=False, float_format=lambda x: f"{x:.4g}")
    )


def _rules(ctx: Context, out: SectionResult) -> None:
    from designspace.analysis.rules import derive_rules

    o = ctx.options
    rules = derive_rules(
        ctx.features(),
        o.metric,
        o.alpha,
        tolerance=o.margin,
        n_boot=o.n_boot,
        seed=o.seed,
        adjust=o.adjust,
        by=o.by,
    )
    out.text(
        "One verdict per RegNet principle: the nested-space steps and the preferences of the "
        "best models (details in the sections above)."
    )
    out.bullets([f"{r.rule}: {r.verdict} ({r.sensitivity}). {r.claim}" for r in rules.itertuples()])
    out.table("rules", rules, shown=False)


def _good_ranges(ctx: Context, out: SectionResult) -> None:
    from designspace.analysis.bootstrap import good_ranges

    o = ctx.options
    feats = ctx.features()
    wanted = ("depth", "b", "g", "fit_w0", "fit_wa", "fit_wm", "e_fit", o.complexity, "params")
    stats = [c for c in wanted if c in feats.columns and not feats[c].isna().any()]
    table = good_ranges(feats, stats, o.metric, o.by, n_boot=o.n_boot, alpha=o.alpha, seed=o.seed)
    out.text(
        f"DDS good ranges: {o.n_boot} resamples of 25% of the models, the statistic of the best "
        f"model of each; interval at level {1 - o.alpha:g} (a description, not a test)."
    )
    out.table("good_ranges", table)
    for stat in ("depth", "b", "g", "fit_wm"):
        if stat in feats.columns:
            out.figure(
                ctx, f"error_vs_{stat}", "param", f"Error vs {stat} with the good range", x=stat
            )


SECTIONS: dict[str, Section] = {
    s.name: s
    for s in (
        Section("data", "Data", _data),
        Section("noise", "Training noise (seed replicates)", _noise, applies=_replicated),
        Section("summary", "Summary", _summary),
        Section("comparison", "Comparison", _comparison, min_groups=2),
        Section(
            "comparison_normalized",
            "Complexity-normalized comparison",
            _normalized,
            ("{complexity}",),
            min_groups=2,
        ),
        Section("sample_size", "Sample-size sensitivity", _sample_size),
        Section("search", "Random-search efficiency", _search),
        Section("flops", "Error vs complexity", _flops, ("{complexity}",)),
        Section("fits", "RegNet fits", _fits, STAGE_COLUMNS),
        Section(
            "rules_nested",
            "RegNet principles: nested spaces",
            _nested,
            min_groups=2,
            applies=_nested_applies,
        ),
        Section(
            "rules_observational",
            "RegNet principles: within-space evidence (observational)",
            _observational,
            STAGE_COLUMNS,
        ),
        Section(
            "preferences",
            "Preferences of the best models (top vs all)",
            _preferences,
            STAGE_COLUMNS,
        ),
        Section("rules", "RegNet principles: verdicts", _rules, STAGE_COLUMNS),
        Section("good_ranges", "Good ranges (DDS bootstrap)", _good_ranges, STAGE_COLUMNS),
    )
}
