"""The run functions of the report's sections (registered in
:data:`designspace.reporting.sections.SECTIONS`).

Each ``run_<name>(ctx, out)`` calls the analysis library on ``ctx.data`` (one row per usable
model; errors are fractions in [0, 1], flops multiply-adds) with ``ctx.options`` and adds text,
tables (``out.table``: written as ``<name>.csv``) and figures (``out.figure``: a plot kind of
the registry) to ``out``. A DesignSpaceError raised here skips the section with its message as
the reason. The library is imported inside each function, so that importing the registry stays
cheap for the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from designspace.errors import DesignSpaceError

if TYPE_CHECKING:
    import pandas as pd

    from designspace.analysis.family import Family
    from designspace.analysis.inference import Inference
    from designspace.reporting.context import Context
    from designspace.reporting.document import SectionResult


# more groups than this: the EDF figure draws no bands (they would hide the curves)
MAX_BANDS = 3


def _n_models(ctx: Context) -> str:
    """ "288 models in 6 groups" (the n behind a figure)."""
    return f"{len(ctx.data)} models in {len(ctx.groups)} group(s)"


def run_data(ctx: Context, out: SectionResult) -> None:
    """The data: usable models, groups, what was excluded or averaged."""
    o = ctx.options
    out.text(
        f"{len(ctx.data)} usable models in {len(ctx.groups)} group(s) of '{o.by}' "
        f"({ctx.n_total} rows read). Every family of tests is adjusted for multiplicity "
        f"({_ADJUST_NAMES[o.adjust]}) and verdicts rest on the adjusted p-values at level "
        f"{o.alpha:g}; intervals are adjusted the same way. One error budget: the "
        f"{_family(ctx).describe()}, adjusted together once; every other verdict (column "
        f"family) is exploratory and is not among the findings (section Findings)."
    )
    out.bullets([ctx.note] if ctx.note else [])


def _noise_runs(ctx: Context) -> pd.DataFrame:
    """The runs the noise floor comes from: the separate replicates (``--noise``) if given,
    else the analysed runs."""
    if ctx.noise_runs is not None:
        return ctx.noise_runs
    return ctx.data if ctx.runs is None else ctx.runs


def replicated(ctx: Context) -> str | None:
    """None when the runs hold seed replicates, else why the noise section cannot run."""
    d = _noise_runs(ctx)
    if "arch_id" not in d.columns or "cfg_seed" not in d.columns:
        return "needs columns ['arch_id', 'cfg_seed'] (results with seed replicates)"
    if not (d.groupby("arch_id")["cfg_seed"].nunique() >= 2).any():
        return (
            "needs seed replicates: the same arch_id trained with at least two cfg_seed values "
            "(train them with several seeds and analyse all runs together)"
        )
    return None


def run_noise(ctx: Context, out: SectionResult) -> None:
    """Noise floor from seed replicates (left in ``ctx.shared["noise"]`` for later sections)."""
    import pandas as pd

    from designspace.analysis.noise import noise_floor, noise_table, seed_agreement

    o = ctx.options
    runs = _noise_runs(ctx)
    nf = noise_floor(runs, o.metric)
    ctx.shared["noise"] = nf
    apart = (
        " (seed replicates given apart with --noise: they enter no comparison)"
        if ctx.noise_runs is not None
        else ""
    )
    out.text(
        f"Seed-to-seed standard deviation of {o.metric}: {nf.sd:.4g} (95% interval "
        f"[{nf.sd_low:.4g}, {nf.sd_high:.4g}]), pooled over {nf.n_archs} architectures trained "
        f"with several seeds ({nf.n_runs} runs, {nf.dof} degrees of freedom){apart}. "
        f"Comparisons and "
        f"rules below quote differences in units of it (diff_over_noise). Seed agreement: rank "
        f"correlation of the same architectures between two seeds, the ceiling of any rank "
        f"agreement."
    )
    floor = pd.DataFrame([{k: getattr(nf, k) for k in nf.__dataclass_fields__}])
    out.table("noise_floor", floor)
    try:
        out.table("seed_agreement", seed_agreement(runs, o.metric))
    except DesignSpaceError as exc:  # e.g. two architectures: the noise floor still stands
        out.text(f"Seed agreement not computed: {exc}.")
    out.table("noise_by_arch", noise_table(runs, o.metric), shown=False)
    out.console.append(f"noise floor: seed-to-seed sd {nf.sd:.4g} over {nf.n_archs} architectures")


def run_summary(ctx: Context, out: SectionResult) -> None:
    """Per-group summary of the error."""
    from designspace.analysis.compare import summary

    out.table("summary", summary(ctx.data, ctx.options.by, ctx.options.metric), index=True)


_ADJUST_NAMES = {"holm": "Holm", "bh": "Benjamini-Hochberg", "none": "none"}
_PAIR_VIEW = [
    "a",
    "b",
    "verdict",
    "ks",
    "p_ks",
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
    "confounded",
    "family",
]


def _family(ctx: Context) -> Family:
    """The analysis' confirmatory family (:func:`designspace.analysis.family.resolve` of the
    options' ``confirmatory`` and the groups), resolved once per analysis."""
    from designspace.analysis.family import resolve

    if "family" not in ctx.shared:
        ctx.shared["family"] = resolve(ctx.options.confirmatory, ctx.groups)
    return ctx.shared["family"]


def _confirmatory_preferences(ctx: Context) -> pd.DataFrame | None:
    """The preferences of the confirmatory family (None when it declares none or the data
    lack the per-stage columns), computed once with the family's nested steps' raw p-values
    as ``others``, so that the preferences and the nested steps share one adjustment."""
    from designspace.analysis.family import CONFIRMATORY, step_pvalues
    from designspace.analysis.preferences import preferences
    from designspace.analysis.rules import NESTED_STEPS
    from designspace.reporting.context import missing_columns
    from designspace.reporting.options import STAGE_COLUMNS

    if "preferences_confirmatory" in ctx.shared:
        return ctx.shared["preferences_confirmatory"]
    o, fam = ctx.options, _family(ctx)
    table = None
    if fam.preference_columns and not missing_columns(ctx.data, STAGE_COLUMNS):
        steps = [s for s in NESTED_STEPS if s.rule in fam.steps]
        table = preferences(
            ctx.features(),
            fam.preference_columns,
            **_preference_options(ctx),
            others=step_pvalues(ctx.data, steps, o.metric, o.by),
        )
        table["family"] = CONFIRMATORY
    ctx.shared["preferences_confirmatory"] = table
    return table


def _preference_options(ctx: Context) -> dict[str, Any]:
    """The keyword arguments of :func:`~designspace.analysis.preferences.preferences` that the
    analysis options set (both the confirmatory and the exploratory call)."""
    o = ctx.options
    return {
        "metric": o.metric,
        "by": o.by,
        "top": o.best,
        "alpha": o.alpha,
        "adjust": o.adjust,
        "n_boot": o.n_boot,
    }


def _inference(ctx: Context) -> Inference:
    """The :class:`~designspace.analysis.inference.Inference` of the options, with the noise
    floor of the noise section when it ran."""
    from designspace.analysis.inference import Inference

    o = ctx.options
    return Inference(alpha=o.alpha, adjust=o.adjust, margin=o.margin, noise=ctx.shared.get("noise"))


def _compare(ctx: Context, normalize: bool) -> Any:
    from designspace.analysis.compare import Normalization, compare
    from designspace.analysis.rules import NESTED_STEPS

    o = ctx.options
    return compare(
        ctx.data,
        o.by,
        o.metric,
        o.reference,
        normalize=Normalization(o.complexity) if normalize else None,
        inference=_inference(ctx),
        steps=NESTED_STEPS,
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
    "shift",
    "shift_low",
    "shift_high",
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
    view = pairs[[c for c in _PAIR_VIEW if c in pairs.columns]]
    return _drop_empty(view, ["diff_over_noise", "confounded"])


def run_comparison(ctx: Context, out: SectionResult) -> None:
    """Adjusted comparisons of every pair, effect sizes with intervals, equivalence."""
    o = ctx.options
    c = _compare(ctx, normalize=False)
    _exploratory(c.table, c.pairs)
    ctx.shared["comparison"] = c
    out.text(
        f"Every pair of groups is tested (Brunner-Munzel test of P(a random model of a beats one "
        f"of b) = 1/2; the KS p-value p_ks describes the EDF shapes and decides nothing); the "
        f"{len(c.pairs)} p-values are adjusted ({_ADJUST_NAMES[c.adjust]}) and a verdict says "
        f"'better' or 'worse' only when the adjusted p-value is below {o.alpha:g} AND both "
        f"printed intervals (P(a beats b), difference of medians) exclude no effect. "
        f"'equivalent' means two one-sided tests show |difference of medians| < {c.margin:g} and "
        f"the median interval lies inside that margin; 'indistinguishable' means the test and "
        f"both intervals show nothing; 'inconclusive' means the test and an interval disagree. "
        f"Reference {c.reference}; auc = mean of the EDF over the common error range "
        f"[{c.error_range[0]:.4f}, {c.error_range[1]:.4f}] (higher = more good models). A pair "
        f"that is a nested step carries the step's balance in 'confounded' (empty: balanced; "
        f"section Balance). Every verdict here is exploratory (column family): the study's "
        f"claims are the confirmatory family (section Findings)."
    )
    out.table("comparison", c.table, index=True, shown=_drop_empty(c.table, ["confounded"]))
    out.text(
        f"Effect sizes of every pair (a relative to b): median_diff = median(a) - median(b) "
        f"(negative: a better) and p_a_beats_b = P(a random model of a has a lower error than "
        f"one of b), with intervals (median: from the order-statistic standard errors of the two "
        f"medians, Price and Bonett; P(beats): the Brunner-Munzel test inverted) at the adjusted "
        f"level "
        f"{1 - c.interval_alpha:.4g}; raw and adjusted p-values."
    )
    out.table("pairwise", c.pairs, shown=_pairs_view(c.pairs))
    out.console.append(str(c))
    bands = len(ctx.groups) <= MAX_BANDS
    out.figure(
        ctx,
        "edf",
        "edf",
        f"Error EDFs of {_n_models(ctx)}; legend: n | min | mean error (%)"
        + (f"; light bands: {1 - ctx.options.alpha:g} DKW bands" if bands else "")
        + ". Look for: a curve above and left of another has more good models; curves that "
        "cross mean neither space dominates; the comparison table says which gaps are real.",
        band="dkw" if bands else None,
    )


def run_normalized(ctx: Context, out: SectionResult) -> None:
    """The comparison with NDS complexity-normalized EDFs."""
    try:
        norm = _compare(ctx, normalize=True)
    except DesignSpaceError as exc:
        out.not_done.append(f"normalized comparison: {exc}")
        return
    _exploratory(norm.table, norm.pairs)
    out.text(
        f"Complexity-normalized (NDS) over the common {ctx.options.complexity} range: every "
        f"group's models reweighted to one complexity distribution; tests and intervals as above."
    )
    out.table("comparison_normalized", norm.table, index=True)
    out.table("pairwise_normalized", norm.pairs, shown=_pairs_view(norm.pairs))
    out.figure(
        ctx,
        "edf_normalized",
        "nedf",
        f"Complexity-normalized EDFs of {_n_models(ctx)} ({ctx.options.complexity}; the bins "
        f"and range in the title). Look for: a gap that shrinks against the plain EDF came "
        f"partly from complexity, not from design.",
    )


def _exploratory(*tables: pd.DataFrame) -> None:
    """Label every row of ``tables`` exploratory (column ``family``), in place."""
    from designspace.analysis.family import EXPLORATORY

    for t in tables:
        t["family"] = EXPLORATORY


def run_sample_size(ctx: Context, out: SectionResult) -> None:
    """NDS sample-size sensitivity of the EDFs."""
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


def run_search(ctx: Context, out: SectionResult) -> None:
    """Random-search efficiency: expected best error of k random models."""
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
    out.figure(
        ctx,
        "search",
        "search",
        f"Random-search efficiency of {_n_models(ctx)}: expected best error of k random models "
        f"with its bootstrap band. Look for: the lowest curve finds a good model with the fewest "
        f"samples; curves that meet at large k differ only in their worse models.",
    )


def run_curves(ctx: Context, out: SectionResult) -> None:
    """Learning curves: validation error per epoch, median and quartiles per group."""
    out.figure(
        ctx,
        "learning_curves",
        "curves",
        f"Validation error after each epoch of {_n_models(ctx)}: median (line) and quartiles "
        f"(band) per {ctx.options.by}. Look for: curves still falling at the last epoch mean the "
        f"short schedule ranks spaces by how fast they learn; curves that cross mean the ranking "
        f"could change with a longer schedule.",
    )


def several_epochs(ctx: Context) -> str | None:
    """None when some model has validation errors of more than one epoch, else why not."""
    from designspace.analysis._data import as_list

    column = f"epoch_{ctx.options.metric}"
    try:
        longest = max((len(as_list(v)) for v in ctx.data[column]), default=0)
    except DesignSpaceError as exc:  # e.g. lists written to CSV as Python reprs
        return f"cannot read the per-epoch errors: {exc}"
    if longest < 2:
        return f"every model was trained for one epoch ({column} holds one value): no curve"
    return None


def run_flops(ctx: Context, out: SectionResult) -> None:
    """Error vs complexity (figure only)."""
    out.figure(
        ctx,
        "error_vs_flops",
        "flops",
        f"Error vs {ctx.options.complexity} of {_n_models(ctx)}. Look for: a trend inside the "
        f"band means complexity, not design, explains part of the differences (then trust the "
        f"normalized comparison).",
    )


def run_fits(ctx: Context, out: SectionResult) -> None:
    """RegNet fits of every model (fits.csv), width profiles and e_fit figures."""
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
    out.figure(
        ctx,
        "widths",
        "widths",
        f"Per-block widths of the {o.top} best of {_n_models(ctx)} with their fitted RegNet rules "
        f"(solid: widths; dashed: quantized fit; dotted: linear fit). Look for: good models whose "
        f"widths grow roughly linearly (small e_fit), the DDS observation.",
    )
    out.figure(
        ctx,
        "efit",
        "efit",
        f"RegNet fit error e_fit vs error of {_n_models(ctx)}. Look for: errors rising with e_fit "
        f"mean that models near the linear width rule are better (DDS); a flat cloud means the "
        f"rule does not matter here.",
    )


def nested_pair_present(ctx: Context) -> str | None:
    """None when the groups hold a nested pair of spaces, else why not."""
    from designspace.analysis.rules import NESTED_STEPS

    pairs = [(s.from_space, s.to_space) for s in NESTED_STEPS]
    if any(a in ctx.groups and b in ctx.groups for a, b in pairs):
        return None
    return (
        f"needs a nested pair of spaces in column '{ctx.options.by}' (one of "
        f"{[f'{a}->{b}' for a, b in pairs]}); these results hold {ctx.groups}"
    )


def run_nested(ctx: Context, out: SectionResult) -> None:
    """Each RegNet constraint tested by its nested pair of spaces, with sensitivity."""
    import pandas as pd

    from designspace.analysis.family import with_others
    from designspace.analysis.rules import NESTED_STEPS, nested_rules

    o, fam = ctx.options, _family(ctx)
    prefs = _confirmatory_preferences(ctx)
    others = () if prefs is None else tuple(prefs["p_value"].to_numpy(dtype=float))
    family_inference = with_others(_inference(ctx), others)
    parts = [
        nested_rules(ctx.data, o.metric, o.by, steps, inference=inference)
        for steps, inference in (
            ([s for s in NESTED_STEPS if s.rule in fam.steps], family_inference),
            ([s for s in NESTED_STEPS if s.rule not in fam.steps], _inference(ctx)),
        )
        if steps
    ]
    order = {s.rule: i for i, s in enumerate(NESTED_STEPS)}
    table = pd.concat(parts, ignore_index=True)
    table = table.sort_values("rule", key=lambda r: r.map(order), ignore_index=True)
    table["family"] = fam.labels(table["rule"])
    ctx.shared["rules_nested"] = table  # the rules section is a view of this table
    out.text(
        "Each RegNet constraint tested as DDS derives it: by the nested pair of spaces that "
        "differ only by that constraint, as a comparison of their error distributions (effect = "
        "median error of the constrained space minus the other's; negative = lower error), "
        f"adjusted ({_ADJUST_NAMES[o.adjust]}) once over the {fam.describe()} (with the "
        f"declared preferences); the other steps are exploratory, adjusted among themselves "
        f"(column family). A sharing rule claims the "
        f"constraint costs nothing: 'supported' only when equivalence within {o.margin:g} (or "
        "an improvement) is shown. The deciding test is Brunner-Munzel on P(a constrained model "
        "beats one of the other); a verdict needs the test and both intervals to agree, else "
        "it is 'inconclusive'. Each verdict is recomputed with KS in place of Brunner-Munzel "
        "and without outliers; a verdict that changes is 'fragile'. A step whose two spaces "
        "differ in a structural feature it is not meant to change is 'confounded by' that "
        "feature (section Balance): its verdict measures that difference too."
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


def run_balance(ctx: Context, out: SectionResult) -> None:
    """Balance of the structural features of every nested step present (else of every group
    against the reference), the confounders and the stratified re-comparison."""
    from designspace.analysis.balance import (
        INTENDED,
        MIN_STRATUM,
        SMD_THRESHOLD,
        balance_frame,
        step_balance,
        strata_frame,
    )
    from designspace.analysis.rules import NESTED_STEPS

    o = ctx.options
    steps = [s for s in NESTED_STEPS if s.from_space in ctx.groups and s.to_space in ctx.groups]
    if steps:
        pairs = [(s.from_space, s.to_space, s.rule) for s in steps]
        covered = {(s.from_space, s.to_space) for s in steps}
        # Neighbours in the study's order that no step joins (e.g. AnyNetXE -> the
        # reference sweep's RegNetX, which is not nested in XE) are compared too.
        pairs += [
            (frm, to, None)
            for frm, to in zip(ctx.groups, ctx.groups[1:], strict=False)
            if (frm, to) not in covered
        ]
        scope = (
            "nested step (the features it is meant to change are 'intended'), and per pair of "
            "neighbouring groups that no step joins (nothing intended)"
        )
    else:
        ref = o.reference or ctx.groups[0]
        pairs = [(ref, g, None) for g in ctx.groups if g != ref]
        scope = (
            f"{o.by} against the reference {ref} (no nested step is present, so nothing is "
            f"intended: every structural difference is listed)"
        )
    out.text(
        f"Is a comparison of two {o.by}s a comparison of one property? One table per {scope}: "
        f"per structural feature (stage count, total and per-stage depth, per-stage width, b "
        f"and g, flops, params, last-stage resolution in px) the two means, the standardized "
        f"mean difference SMD = (mean of B - mean of A) / sqrt((var of A + var of B) / 2) "
        f"for a pair A -> B (per-stage features among the models that have the stage; 'inf' "
        f"when a feature is constant in both but differs), and a test "
        f"(stage count: Fisher exact or chi-square; the rest: Mann-Whitney U) with its "
        f"p-value, Holm-adjusted over the table. A feature is 'imbalanced' when |SMD| > "
        f"{SMD_THRESHOLD:g} AND the adjusted p-value is below {o.alpha:g} (a systematic "
        f"difference, not sampling noise) and the step is not meant to change it; flops and "
        f"params are never intended. When stage count or last-stage resolution is a "
        f"confounder, the errors are compared again within its strata (at least "
        f"{MIN_STRATUM} models of each {o.by}; van Elteren's stratified Wilcoxon test, the "
        f"weighted difference of medians with its {1 - o.alpha:g} asymptotic interval)."
    )
    results = []
    for frm, to, rule in pairs:
        if rule is not None and rule not in INTENDED:
            out.not_done.append(
                f"balance of {frm} -> {to}: no intended features are known for step {rule}"
            )
            continue
        r = step_balance(
            ctx.data, frm, to, rule, by=o.by, metric=o.metric, inference=_inference(ctx)
        )
        results.append(r)
        out.text(r.sentence())
        out.table(_balance_name(rule or to), r.table, shown=_balance_view(r.table, frm, to))
        if r.stratified is not None:
            s = r.stratified
            out.text(s.sentence())
            out.bullets(
                [
                    f"{t.stratum}: n = {t.n_a} {to} + {t.n_b} {frm}"
                    + (
                        f", median {t.median_a:.4f} vs {t.median_b:.4f} (difference "
                        f"{t.median_diff:+.4f}, Mann-Whitney p = {t.p_value:.2g})"
                        if t.n_a and t.n_b
                        else ""
                    )
                    + ("" if t.used else f" - not used (fewer than {s.min_stratum} of each)")
                    for t in s.table.itertuples()
                ]
            )
        out.console.append(
            f"balance {frm} -> {to}: {r.label or 'balanced'}"
            + (f"; within strata: {r.stratified.sentence()}" if r.stratified else "")
        )
    out.table("balance", balance_frame(results), shown=False)
    if any(r.stratified is not None for r in results):
        out.table("balance_strata", strata_frame(results), shown=False)


def _balance_name(key: str) -> str:
    """A table name (file balance_<key>.csv) with only letters, digits, - and _."""
    import re

    return "balance_" + re.sub(r"[^A-Za-z0-9_-]+", "_", key)


def _balance_view(table: pd.DataFrame, frm: str, to: str) -> pd.DataFrame:
    """What the report shows of a balance table (a = ``to``, b = ``from``)."""
    import numpy as np
    import pandas as pd

    def signed(x: float) -> str:
        return "" if np.isnan(x) else ("+inf" if x > 0 else "-inf") if np.isinf(x) else f"{x:+.3f}"

    flag = np.where(table["imbalanced"], "imbalanced", np.where(table["intended"], "intended", ""))
    return pd.DataFrame(
        {
            "feature": table["label"],
            f"n {to}": table["n_a"],
            f"n {frm}": table["n_b"],
            f"mean {to}": table["mean_a"],
            f"mean {frm}": table["mean_b"],
            "SMD": [signed(x) for x in table["smd"]],
            "test": table["test"],
            "p": table["p_value"],
            "p (Holm)": table["p_adjusted"],
            "flag": flag,
            "note": table["note"],
        }
    )


def run_observational(ctx: Context, out: SectionResult) -> None:
    """Within-space (observational) association of each property with the error."""
    from designspace.analysis.rules import observational_rules

    o = ctx.options
    table = observational_rules(
        ctx.features(),
        o.metric,
        o.by,
        alpha=o.alpha,
        adjust=o.adjust,
    )
    _exploratory(table)
    out.text(
        "OBSERVATIONAL evidence, within each space: models that have a property against those "
        "that lack it (effect = median error with minus without; for linear_widths Spearman's "
        "rho of error and e_fit). Models differ in more than the property, so an association "
        "is not a cause; nothing derived from the property is controlled for. Adjusted over "
        "all rows; a verdict needs the test and its interval(s) to agree ('inconclusive' "
        "otherwise); recomputed without outliers (sensitivity)."
    )
    out.table("rules_observational", table, shown=table.drop(columns=["sentence", "evidence"]))
    found = table[table["verdict"].isin(["association", "reverse association"])]
    out.console.append(
        f"within-space evidence (observational, not causal): {len(found)} of {len(table)} "
        f"(rule, space) rows show an association"
        + "".join(f"\n  {r.rule} in {r.space}: {r.verdict}" for r in found.itertuples())
    )


def run_preferences(ctx: Context, out: SectionResult) -> None:
    """Do the best models prefer values of b, g, depth, wm? With the DDS interval."""
    import pandas as pd

    from designspace.analysis.family import PREFERENCE_CLAIMS
    from designspace.analysis.preferences import preferences

    o, fam = ctx.options, _family(ctx)
    parts = [] if (conf := _confirmatory_preferences(ctx)) is None else [conf]
    columns = [c for c in PREFERENCE_CLAIMS.values() if c not in fam.preference_columns]
    if columns:
        rest = preferences(ctx.features(), columns, **_preference_options(ctx))
        _exploratory(rest)
        parts.append(rest)
    order = {c: i for i, c in enumerate(PREFERENCE_CLAIMS.values())}
    table = pd.concat(parts, ignore_index=True)
    table = table.sort_values("column", key=lambda c: c.map(order), ignore_index=True)
    ctx.shared["preferences"] = table  # the rules section is a view of this table
    out.text(
        f"Do the best {o.best:.0%} of the models (within each {o.by}) differ from the rest in "
        f"b, g, depth and wm? Within-stratum permutation test of the mean centred rank of the "
        f"best models (shift < 0: the best have lower values; normal approximation with the "
        f"permutation distribution's exact mean and variance, no resampling), adjusted "
        f"({_ADJUST_NAMES[o.adjust]}) over the statistics (a declared preference: over the "
        f"confirmatory family; the others are exploratory, column family); 'supported' needs "
        f"the adjusted p-value below {o.alpha:g} AND the shift's interval (the test inverted: "
        f"shift_low, shift_high, adjusted level) excluding 0, 'inconclusive' when they "
        f"disagree. The DDS bootstrap good range (range_low, "
        f"range_best, range_high) "
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


def run_rules(ctx: Context, out: SectionResult) -> None:
    """One verdict per RegNet principle (nested steps and preferences)."""
    from designspace.analysis.rules import derive_rules

    o = ctx.options
    rules = derive_rules(
        ctx.features(),
        o.metric,
        o.alpha,
        tolerance=o.margin,
        n_boot=o.n_boot,
        adjust=o.adjust,
        by=o.by,
        nested=ctx.shared.get("rules_nested"),
        prefs=ctx.shared.get("preferences"),
    )
    rules["family"] = _family(ctx).labels(rules["rule"])
    out.text(
        "One verdict per RegNet principle: the nested-space steps and the preferences of the "
        "best models (details in the sections above); [exploratory] marks a verdict outside "
        "the confirmatory family."
    )
    out.bullets(
        [
            f"{r.rule}: {r.verdict} [{r.family}] ({r.sensitivity}"
            + (f"; {r.confounded}" if str(r.confounded).startswith("confounded") else "")
            + f"). {r.claim}"
            for r in rules.itertuples()
        ]
    )
    out.table("rules", rules, shown=False)


def run_findings(ctx: Context, out: SectionResult) -> None:
    """The study's findings: the verdicts of its confirmatory family, and nothing else."""
    from designspace.analysis.family import findings

    o, fam = ctx.options, _family(ctx)
    table = findings(ctx.shared.get("rules_nested"), ctx.shared.get("preferences"), fam)
    tested = int(table["p_value"].notna().sum())
    out.text(
        f"The findings of this analysis are the verdicts of its {fam.describe()}. Their "
        f"{tested} deciding p-values are adjusted together, once "
        f"({_ADJUST_NAMES[o.adjust]}), so the chance of any false claim among them is at most "
        f"{o.alpha:g}; each claim's adjusted p-value is the one every table shows. Every other "
        f"verdict of this report (pairwise and normalized comparisons, observational rules, "
        f"steps and preferences outside the family) is exploratory: it suggests what to test "
        f"next and is no finding."
    )
    out.bullets([str(s) for s in table["sentence"] if isinstance(s, str)])
    out.table("findings", table, shown=table.drop(columns=["sentence"]))
    out.console.append(
        f"findings ({fam.describe()}): "
        + "; ".join(f"{r.rule} {r.verdict}" for r in table.itertuples())
    )


def run_good_ranges(ctx: Context, out: SectionResult) -> None:
    """DDS good ranges of the design statistics and error-vs-statistic figures."""
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
                ctx,
                f"error_vs_{stat}",
                "param",
                f"Error vs {stat} of {_n_models(ctx)}; grey: the DDS good range of all models "
                f"(interval at level {1 - o.alpha:g}), dashed: its best value. Look for: where "
                f"the low errors gather; a good range much narrower than the values sampled is a "
                f"candidate constraint for the space.",
                x=stat,
            )
