"""Deriving the RegNet design principles (DDS sections 3-4) from a population of trained models.

Three kinds of evidence, reported apart:

* **Nested spaces** (:func:`nested_rules`), the paper's own derivation: each constraint is
  tested by the pair of spaces that differ only by it (AnyNetXA -> XB shared b, XB -> XC shared
  g, XC -> XD growing widths, XD -> XE growing depths, XE -> RegNetX near-linear widths). The
  deciding test is Brunner-Munzel on P(a model of the constrained space beats one of the
  other) (:func:`.effects.superiority`; its interval is the test inverted); the difference of
  medians (to - from; negative = the constraint lowers the error) has an asymptotic interval
  (:func:`.effects.median_difference`, order-statistic standard errors; no resampling);
  both at the adjusted level, p-values adjusted over the steps present
  (:mod:`.multiplicity`). A directional verdict needs the test AND both intervals
  (:func:`.decide.decide`); when they disagree the verdict is "inconclusive". KS (``p_ks``)
  is reported as the EDF-shape statistic. Claims: growth and linearity rules "lower the
  error"; sharing rules "cost nothing", shown by equivalence (two one-sided tests of
  |median difference| < ``margin`` at the adjusted level, with the printed median interval
  inside +-margin).
* **Observational, within space** (:func:`observational_rules`): inside one space, models
  that satisfy a property against those that do not (Mann-Whitney), and for near-linear widths
  the Spearman correlation of the error with e_fit. Nothing is controlled for (in particular
  not e_fit, which is computed from the very widths and depths under test), so this is
  association, labelled so.
* **Preferences** (:mod:`.preferences`): b, g, depth, wm.

Sensitivity: every nested verdict is recomputed (a) with the KS test (EDF shape, adjusted,
direction at the largest EDF gap) in place of Brunner-Munzel and (b) without outliers
(errors outside the Tukey fences ``[q1 - k iqr, q3 + k iqr]`` of the compared models,
k = ``outlier_k``); a verdict that changes in either is "fragile". Observational verdicts
are recomputed without outliers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis._data import GROUP, METRIC, group_labels, usable
from designspace.analysis.balance import SMD_THRESHOLD, step_labels
from designspace.analysis.compare import ks_test
from designspace.analysis.decide import Bound, decide, inside_margin
from designspace.analysis.effects import median_difference, superiority
from designspace.analysis.features import STAGE_COLUMNS, add_features
from designspace.analysis.fit import FitGrid
from designspace.analysis.inference import Inference
from designspace.analysis.multiplicity import adjust_pvalues, check_method, interval_alpha
from designspace.analysis.preferences import preferences
from designspace.core.constraints import make_constraint
from designspace.core.spaces import BUILTIN_SPACES, get_space, structure
from designspace.errors import DesignSpaceError


@dataclass(frozen=True)
class Step:
    """One nested step: ``to_space`` = ``from_space`` plus the constraint ``rule``.

    ``constraint`` is the constraint's id (:mod:`designspace.core.constraints`, e.g.
    ``"shared:bottleneck_ratio"``): applied to ``from_space`` it gives a space with the
    structure of ``to_space``; "" for a step defined only by its two spaces.
    """

    rule: str
    from_space: str
    to_space: str
    sharing: bool
    claim: str
    constraint: str = ""


def nested_step(rule: str, from_space: str, constraint: str, claim: str, sharing: bool) -> Step:
    """The step that applies ``constraint`` (an id) to the built-in ``from_space``; its
    ``to_space`` is the built-in space with the refined space's structure (every field but
    name, description and ``refines``, :func:`designspace.core.spaces.structure`).
    :class:`DesignSpaceError` when no built-in space has it."""
    refined = make_constraint(constraint, get_space(from_space)).apply()
    shape = structure(refined)
    matches = [name for name, s in BUILTIN_SPACES.items() if structure(s) == shape]
    if len(matches) != 1:
        raise DesignSpaceError(
            f"nested step {rule}: {from_space} with {constraint} is "
            f"{'no' if not matches else 'more than one'} built-in space ({', '.join(matches)}); "
            f"add it to designspace.core.spaces or define the step with its to_space"
        )
    return Step(rule, from_space, matches[0], sharing, claim, constraint)


# (rule, parent, constraint id, claim, sharing): the DDS progression, one constraint per step
_NESTED = (
    (
        "shared_b",
        "AnyNetXA",
        "shared:bottleneck_ratio",
        "one bottleneck ratio b for all stages costs nothing",
        True,
    ),
    (
        "shared_g",
        "AnyNetXB",
        "shared:group_width",
        "one group width g for all stages costs nothing",
        True,
    ),
    (
        "widths_increase",
        "AnyNetXC",
        "monotone:width:increasing",
        "stage widths that grow lower the error",
        False,
    ),
    (
        "depths_increase",
        "AnyNetXD",
        "monotone:depth:increasing",
        "stage depths that grow lower the error",
        False,
    ),
    (
        "linear_widths",
        "AnyNetXE",
        "linear_widths",
        "near-linear width growth lowers the error",
        False,
    ),
    ("regnet_b1", "NestedRegNetX", "fixed:bottleneck_ratio=1", "b = 1 lowers the error", False),
    ("regnet_wm2", "NestedRegNetX_b1", "range:wm:2..3", "wm >= 2 lowers the error", False),
    (
        "regnet_depth",
        "NestedRegNetX_b1_wm2",
        "range:depth:12..28",
        "limiting the depth to 12..28 costs nothing",
        True,
    ),
)

NESTED_STEPS: tuple[Step, ...] = tuple(nested_step(*row) for row in _NESTED)

NESTED_COLUMNS = [
    "rule",
    "claim",
    "evidence",
    "from_space",
    "to_space",
    "n_from",
    "n_to",
    "verdict",
    "effect",
    "ci_low",
    "ci_high",
    "p_beats",
    "p_beats_low",
    "p_beats_high",
    "p_value",
    "p_adjusted",
    "p_ks",
    "p_equivalence",
    "p_equivalence_adjusted",
    "verdict_ks",
    "verdict_trimmed",
    "sensitivity",
    "confounded",
    "diff_over_noise",
    "ci_se",
    "n",
    "sentence",
]

COLUMNS = [
    "rule",
    "claim",
    "verdict",
    "effect",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "n",
    "sentence",
    "evidence",
    "sensitivity",
    "confounded",
]


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (nan entries are ignored and stay nan)."""
    return adjust_pvalues(p, "holm")


def tukey_keep(values: np.ndarray, k: float) -> np.ndarray:
    """True for values inside the Tukey fences [q1 - k iqr, q3 + k iqr]."""
    q1, q3 = np.quantile(values, [0.25, 0.75])
    return (values >= q1 - k * (q3 - q1)) & (values <= q3 + k * (q3 - q1))


def _decide(sharing: bool, decision: str, equivalent: bool) -> str:
    """A step's verdict from :func:`.decide.decide`'s decision (to-space relative to
    from-space) and the equivalence flag."""
    if decision == "better":
        return "supported"
    if decision == "worse":
        return "contradicted"
    if sharing:
        return "supported" if equivalent else "inconclusive"
    return "not supported" if decision == "none" else "inconclusive"


def _step_tests(a: np.ndarray, b: np.ndarray) -> dict:
    """The tests of to-space errors ``b`` against from-space errors ``a``; the median
    interval and the verdicts are added by :func:`_decide_steps`."""
    ks = ks_test(b, a)
    sup = superiority(b, a)
    return dict(
        a=a,
        b=b,
        p_value=sup.p_value,
        better=sup.better,
        sup=sup,
        p_ks=ks.pvalue,
        better_ks=ks.sign > 0,
        effect=float(np.median(b) - np.median(a)),
        p_beats=sup.p_hat,
    )


def _decide_steps(
    tests: list,
    idx: list[int],
    steps: Sequence[Step],
    inference: Inference,
    with_ks: bool,
) -> None:
    """The median-difference interval and TOST of every testable step (asymptotic,
    :func:`.effects.median_difference`) and its verdicts; adds to each ``tests[i]``: ci_low /
    ci_high, ci_se, p_equivalence and ``verdicts`` (the verdict and, ``with_ks``, the
    KS-sensitivity verdict)."""
    alpha, margin = inference.alpha, inference.margin
    p_adj = inference.adjusted([tests[i]["p_value"] for i in idx])
    p_ks = inference.adjusted([tests[i]["p_ks"] for i in idx])
    level = inference.level(len(idx), int(np.sum(p_adj < alpha)))
    diffs = [median_difference(tests[i]["b"], tests[i]["a"]) for i in idx]
    p_eq = inference.adjusted([d.tost_pvalue(margin) for d in diffs])
    for k, (i, d) in enumerate(zip(idx, diffs, strict=True)):
        t, sharing = tests[i], steps[i].sharing
        lo, hi = d.interval(level)
        bounds = [Bound(*t["sup"].interval(level), 0.5, True), Bound(lo, hi, 0.0, False)]
        eq = bool(p_eq[k] < alpha and inside_margin(lo, hi, margin))
        verdicts = [_decide(sharing, decide(p_adj[k], alpha, t["better"], bounds), eq)]
        if with_ks:
            verdicts.append(_decide(sharing, decide(p_ks[k], alpha, t["better_ks"], bounds), eq))
        t.update(
            ci_low=lo,
            ci_high=hi,
            ci_se=d.se,
            p_equivalence=d.tost_pvalue(margin),
            verdicts=tuple(verdicts),
        )


def nested_rules(
    data: pd.DataFrame,
    metric: str = METRIC,
    by: str = GROUP,
    steps: Sequence[Step] = NESTED_STEPS,
    *,
    inference: Inference | None = None,
    outlier_k: float = 1.5,
    min_models: int = 10,
    smd_threshold: float = SMD_THRESHOLD,
) -> pd.DataFrame:
    """Evidence for each constraint from its nested pair of spaces (module docstring).

    One row per step (columns NESTED_COLUMNS); steps whose two spaces are not both in the
    data (with at least ``min_models`` usable models each) are "not testable". ``inference``
    (default ``Inference()``) gives the level, the adjustment over the steps, the equivalence
    margin in error units; its ``noise`` (seed-to-seed sd) adds
    diff_over_noise = effect / sd. ``outlier_k``: Tukey fence of the outlier sensitivity.
    ``confounded`` of a tested step: "confounded by <features>" when its two populations
    differ in a structural feature the step is not meant to change (|SMD| >
    ``smd_threshold`` beyond sampling noise at ``inference.alpha``, :mod:`.balance`), ""
    when balanced, "not assessed (...)" without the per-stage columns; the sentence says so.
    """
    inference = inference or Inference()
    u = usable(data, metric, [by], "nested_rules").data
    labels = group_labels(u, by)
    err = u[metric].to_numpy(dtype=float)
    rows, tests, trimmed = [], [], []
    for st in steps:
        a, b = err[labels == st.from_space], err[labels == st.to_space]
        rows.append(_step_row(st, a, b))
        if min(a.size, b.size) < min_models:
            rows[-1].update(_not_testable(st, a, b, min_models))
            tests.append(None)
            trimmed.append(None)
            continue
        tests.append(_step_tests(a, b))
        trimmed.append(_trimmed_step_tests(a, b, outlier_k))
    idx = [i for i, t in enumerate(tests) if t is not None]
    _decide_steps(tests, idx, steps, inference, with_ks=True)
    _decide_steps(trimmed, idx, steps, inference, with_ks=False)
    p = _AdjustedSteps.of(tests, trimmed, idx, inference)
    confounded = step_labels(
        u, [steps[i] for i in idx], by, threshold=smd_threshold, alpha=inference.alpha
    )
    for i in idx:
        rows[i]["confounded"] = confounded.get((steps[i].from_space, steps[i].to_space), "")
        _fill_step(rows[i], steps[i], tests[i], trimmed[i], p.at(i), inference)
    return pd.DataFrame(rows, columns=NESTED_COLUMNS)


def _step_row(st: Step, a: np.ndarray, b: np.ndarray) -> dict:
    """The descriptive part of a step's row (``a``: from-space errors, ``b``: to-space)."""
    return dict(
        rule=st.rule,
        claim=st.claim,
        evidence="nested spaces",
        from_space=st.from_space,
        to_space=st.to_space,
        n_from=a.size,
        n_to=b.size,
        n=a.size + b.size,
    )


def _not_testable(st: Step, a: np.ndarray, b: np.ndarray, min_models: int) -> dict:
    """Verdict and sentence of a step with fewer than ``min_models`` models in a space."""
    missing = [s for s, v in ((st.from_space, a), (st.to_space, b)) if v.size < min_models]
    return dict(
        verdict="not testable",
        sentence=(
            f"Not testable: needs at least {min_models} models of each of "
            f"{st.from_space} and {st.to_space} (short: {', '.join(missing)})."
        ),
    )


def _trimmed_step_tests(a: np.ndarray, b: np.ndarray, outlier_k: float) -> dict:
    """:func:`_step_tests` without the models outside the Tukey fences of ``a`` and ``b``
    pooled; ``dropped`` counts them."""
    keep = tukey_keep(np.concatenate([a, b]), outlier_k)
    ka, kb = keep[: a.size], keep[a.size :]
    tests = _step_tests(a[ka], b[kb])
    return tests | {"dropped": int((~keep).sum())}


@dataclass(frozen=True)
class _StepP:
    """The adjusted p-values of one step (Brunner-Munzel, KS, TOST; and without outliers)
    and the interval level of the family."""

    adjusted: float
    ks: float
    equivalence: float
    trimmed: float
    trimmed_equivalence: float
    level: float


@dataclass(frozen=True)
class _AdjustedSteps:
    """Every family of the nested steps adjusted over the testable steps (nan elsewhere)."""

    adjusted: np.ndarray
    ks: np.ndarray
    equivalence: np.ndarray
    trimmed: np.ndarray
    trimmed_equivalence: np.ndarray
    level: float

    @classmethod
    def of(cls, tests: list, trimmed: list, idx: list[int], inference: Inference) -> _AdjustedSteps:
        def adjusted(key: str, source: list) -> np.ndarray:
            out = np.full(len(tests), np.nan)
            if idx:
                out[idx] = inference.adjusted([source[i][key] for i in idx])
            return out

        p_adj = adjusted("p_value", tests)
        n_claims = int(np.sum(p_adj[idx] < inference.alpha)) if idx else 0
        return cls(
            adjusted=p_adj,
            ks=adjusted("p_ks", tests),
            equivalence=adjusted("p_equivalence", tests),
            trimmed=adjusted("p_value", trimmed),
            trimmed_equivalence=adjusted("p_equivalence", trimmed),
            level=inference.level(len(idx), n_claims),
        )

    def at(self, i: int) -> _StepP:
        """The p-values of step ``i``."""
        return _StepP(
            float(self.adjusted[i]),
            float(self.ks[i]),
            float(self.equivalence[i]),
            float(self.trimmed[i]),
            float(self.trimmed_equivalence[i]),
            self.level,
        )


def _fill_step(r: dict, st: Step, t: dict, tt: dict, p: _StepP, inference: Inference) -> None:
    """Complete the row ``r`` of a testable step: verdict, its KS and outlier sensitivity,
    effect and intervals at the adjusted level, p-values and the sentence."""
    level = p.level
    lo, hi = t["ci_low"], t["ci_high"]
    blo, bhi = t["sup"].interval(level)
    verdict, v_ks = t["verdicts"]
    v_trim = tt["verdicts"][0]
    fragile = v_ks != verdict or v_trim != verdict
    noise_sd = inference.noise_sd
    r.update(
        verdict=verdict,
        effect=t["effect"],
        ci_low=lo,
        ci_high=hi,
        p_beats=t["p_beats"],
        p_beats_low=blo,
        p_beats_high=bhi,
        p_value=t["p_value"],
        p_adjusted=p.adjusted,
        p_ks=t["p_ks"],
        p_equivalence=t["p_equivalence"],
        p_equivalence_adjusted=p.equivalence,
        verdict_ks=v_ks,
        verdict_trimmed=v_trim,
        sensitivity="fragile" if fragile else "robust",
        diff_over_noise=t["effect"] / noise_sd if noise_sd else np.nan,
        ci_se=t["ci_se"],
    )
    r["sentence"] = _step_sentence(r, st, t, tt, p, inference)


def _step_sentence(r: dict, st: Step, t: dict, tt: dict, p: _StepP, inference: Inference) -> str:
    """One sentence of a tested step: verdict, effect with interval, tests, sensitivity."""
    noise_sd = inference.noise_sd
    noise_say = (
        f"; {abs(t['effect']) / noise_sd:.1f} x the seed-to-seed sd {noise_sd:.4f}"
        if noise_sd
        else ""
    )
    verdict = r["verdict"]
    label = str(r.get("confounded") or "")
    confounded = f", {label}" if label.startswith("confounded") else ""
    return (
        f"{st.from_space} -> {st.to_space} ({st.rule}): {verdict}{confounded}. Median error change "
        f"{t['effect']:+.4f} ({1 - p.level:.3g} interval {r['ci_low']:+.4f} to "
        f"{r['ci_high']:+.4f}{noise_say}); "
        f"P(a {st.to_space} model beats a {st.from_space} model) {t['p_beats']:.2f} "
        f"[{r['p_beats_low']:.2f}, {r['p_beats_high']:.2f}]; Brunner-Munzel p = "
        f"{t['p_value']:.2g}, {inference.adjust}-adjusted "
        f"{p.adjusted:.2g} (KS p = {t['p_ks']:.2g})"
        + (
            f"; equivalence within +-{inference.margin:g}: adjusted p = {p.equivalence:.2g}"
            if st.sharing
            else ""
        )
        + f"; n = {r['n_from']} + {r['n_to']}. "
        + (
            "The test and an interval disagree, so nothing is claimed. "
            if verdict == "inconclusive" and not st.sharing
            else ""
        )
        + (
            f"Fragile: with KS {r['verdict_ks']}, without {tt['dropped']} outliers "
            f"{r['verdict_trimmed']}."
            if r["sensitivity"] == "fragile"
            else f"Robust to KS and to dropping {tt['dropped']} outliers."
        )
    )


OBSERVATIONAL_COLUMNS = [
    "rule",
    "space",
    "evidence",
    "n_with",
    "n_without",
    "verdict",
    "effect",
    "ci_low",
    "ci_high",
    "p_beats",
    "p_beats_low",
    "p_beats_high",
    "p_value",
    "p_adjusted",
    "verdict_trimmed",
    "sensitivity",
    "sentence",
]
_PROPERTIES = ("shared_b", "shared_g", "widths_increase", "depths_increase")


def _association(p_adj: float, t: dict, level: float, alpha: float) -> str:
    """Verdict of one observational row: the test and its intervals must agree
    (:func:`.decide.decide`); "better" here means the property goes with lower errors."""
    decision = decide(p_adj, alpha, t["lowers"], t["bounds"](level))
    return {
        "better": "association",
        "worse": "reverse association",
        "none": "no association",
    }.get(decision, "inconclusive")


def observational_rules(
    data: pd.DataFrame,
    metric: str = METRIC,
    by: str = GROUP,
    alpha: float = 0.05,
    adjust: str = "holm",
    min_group: int = 10,
    outlier_k: float = 1.5,
    grid: FitGrid | None = None,
) -> pd.DataFrame:
    """Within-space association of each property with the error (module docstring).

    One row per (rule, space) where the property varies in the space; fewer than ``min_group``
    models on one side gives "too little data". Binary properties: deciding test Brunner-Munzel
    on p_beats = P(a model with the property beats one without) (interval: the test inverted);
    ``effect`` = median error with minus without (negative = the property goes with lower
    errors; asymptotic interval, :func:`.effects.median_difference`). linear_widths: ``effect``
    = Spearman's rho of e_fit and error (positive = near-linear widths go with lower errors);
    p-value and interval both from Fisher's z with the Bonett-Wright standard error, so they
    agree. Adjusted over all rows with a test; intervals at the adjusted level; a verdict needs
    the test and its intervals to agree ("inconclusive" otherwise).
    """
    check_method(adjust)
    if not 0 < alpha < 1:
        raise DesignSpaceError(f"alpha must be in (0, 1), got {alpha}")
    u = usable(data, metric, STAGE_COLUMNS, "observational_rules").data
    d = add_features(u, fit=True, grid=grid)
    labels = group_labels(d, by if by in d.columns else None)
    err = d[metric].to_numpy(dtype=float)
    rows, tests = [], []
    for space in sorted(set(labels)):
        m = labels == space
        e = err[m]
        for rule in (*_PROPERTIES, "linear_widths"):
            row = dict(rule=rule, space=space, evidence="observational (within space)")
            if rule == "linear_widths":
                x = d["e_fit"].to_numpy(dtype=float)[m]
                row.update(n_with=int(e.size), n_without=0)
                if e.size < 2 * min_group or np.ptp(x) == 0:
                    continue
                tests.append(
                    (
                        len(rows),
                        _spearman(x, e),
                        _spearman(x[_trim(e, outlier_k)], e[_trim(e, outlier_k)]),
                    )
                )
                rows.append(row)
                continue
            has = d[rule].to_numpy(dtype=bool)[m]
            k = int(has.sum())
            if k in (0, e.size):
                continue  # the space fixes it: nothing to observe
            row.update(n_with=k, n_without=int(e.size - k))
            if min(k, e.size - k) < min_group:
                row.update(
                    verdict="too little data",
                    sentence=(
                        f"Too little data in {space}: {k} models with {rule}, "
                        f"{e.size - k} without; at least {min_group} on each side needed."
                    ),
                )
                rows.append(row)
                continue
            keep = _trim(e, outlier_k)
            tests.append(
                (
                    len(rows),
                    _mw(e[has], e[~has]),
                    _mw(e[has & keep], e[~has & keep]),
                )
            )
            rows.append(row)
    p_adj = adjust_pvalues([t[1]["p"] for t in tests], adjust) if tests else np.array([])
    pt_adj = adjust_pvalues([t[2]["p"] for t in tests], adjust) if tests else np.array([])
    level = interval_alpha(alpha, len(tests), adjust, int(np.sum(p_adj < alpha)))
    _mw_intervals([t[1] for t in tests], p_adj, level, alpha)
    _mw_intervals([t[2] for t in tests], pt_adj, level, alpha)
    for (i, t, tt), pa, pta in zip(tests, p_adj, pt_adj, strict=True):
        r = rows[i]
        lo, hi = t["interval"](level)
        v = t.get("verdict") or _association(pa, t, level, alpha)
        vt = tt.get("verdict") or _association(pta, tt, level, alpha)
        if "sup" in t:
            blo, bhi = t["sup"].interval(level)
            r.update(p_beats=t["sup"].p_hat, p_beats_low=blo, p_beats_high=bhi)
        r.update(
            verdict=v,
            effect=t["effect"],
            ci_low=lo,
            ci_high=hi,
            p_value=t["p"],
            p_adjusted=pa,
            verdict_trimmed=vt,
            sensitivity="fragile" if vt != v else "robust",
        )
        what = (
            "Spearman rho(e_fit, error)"
            if r["rule"] == "linear_widths"
            else "median error with - without"
        )
        r["sentence"] = (
            f"Observational, within {r['space']} ({r['rule']}): {v}; {what} {t['effect']:+.4f} "
            f"({1 - level:.3g} interval {lo:+.4f} to {hi:+.4f}), p = {t['p']:.2g}, "
            f"{adjust}-adjusted {pa:.2g}; {r['sensitivity']} (without outliers: {vt})."
        )
    return pd.DataFrame(rows, columns=OBSERVATIONAL_COLUMNS)


def _trim(e: np.ndarray, k: float) -> np.ndarray:
    return tukey_keep(e, k)


def _mw(with_: np.ndarray, without: np.ndarray) -> dict:
    """Brunner-Munzel of with- against without-models and the median difference; its
    interval is added by :func:`_mw_intervals`."""
    sup = superiority(with_, without)
    effect = float(np.median(with_) - np.median(without))
    return dict(p=sup.p_value, effect=effect, lowers=sup.better, sup=sup, a=with_, b=without)


def _mw_intervals(tests: list[dict], p_adj: np.ndarray, level: float, alpha: float) -> None:
    """The median-difference interval (asymptotic, :func:`.effects.median_difference`) of
    every Brunner-Munzel row of ``tests`` and its verdict: adds ``interval``, ``bounds`` and
    ``verdict`` to each."""
    for k, t in enumerate(tests):
        if "sup" not in t:
            continue
        lo, hi = median_difference(t["a"], t["b"]).interval(level)
        b = [Bound(*t["sup"].interval(level), 0.5, True), Bound(lo, hi, 0.0, False)]
        t.update(
            interval=lambda _a, lo=lo, hi=hi: (lo, hi),
            bounds=lambda _a, b=b: b,
        )
        t["verdict"] = _association(p_adj[k], t, level, alpha)


def _spearman(x: np.ndarray, e: np.ndarray) -> dict:
    """Spearman rho of e_fit ``x`` and error ``e``; p-value and interval from one Fisher z."""
    rho, n = float(stats.spearmanr(x, e).statistic), x.size
    z = float(np.arctanh(np.clip(rho, -0.999999, 0.999999)))
    se = float(np.sqrt((1 + rho**2 / 2) / max(n - 3, 1)))

    def ci(a: float) -> tuple[float, float]:
        h = stats.norm.ppf(1 - a / 2) * se
        return float(np.tanh(z - h)), float(np.tanh(z + h))

    return dict(
        p=float(2 * stats.norm.sf(abs(z) / se)),
        effect=rho,
        lowers=rho > 0,
        interval=ci,
        bounds=lambda a: [Bound(*ci(a), 0.0, True)],
    )


_PREFERENCE_RULES = {
    "best_b": ("b", "the best models use b = 1 (lower b than the rest)"),
    "good_g": ("g", "the best models prefer particular group widths g"),
    "good_depth": ("depth", "the best models prefer particular depths"),
    "good_wm": ("wm", "the best models prefer particular width multipliers wm"),
}


def derive_rules(
    data: pd.DataFrame,
    metric: str = METRIC,
    alpha: float = 0.05,
    tolerance: float = 0.005,
    min_models: int = 30,
    min_group: int = 10,
    n_boot: int = 10_000,
    grid: FitGrid | None = None,
    adjust: str = "holm",
    by: str = GROUP,
    *,
    nested: pd.DataFrame | None = None,
    prefs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One verdict per RegNet principle: :func:`nested_rules` rows and the preference rows
    (best_b, good_g, good_depth, good_wm from :func:`.preferences.preferences`).

    Columns COLUMNS (rule, claim, verdict, effect, ci_low, ci_high, p_value, p_adjusted, n,
    sentence, evidence, sensitivity). Each family (nested steps; preferences) is adjusted by
    ``adjust`` on its own. ``tolerance`` is the equivalence margin (error units) of the
    sharing rules. For preference rows effect = shift (mean centred rank of the best models)
    and ci_low / ci_high = its interval at the adjusted level (the DDS good range is in the
    sentence). Fewer than ``min_models`` usable models gives
    "too little data" everywhere. ``nested`` (a :func:`nested_rules` table) and ``prefs`` (a
    :func:`.preferences.preferences` table), when given, are used as they are, so that this
    table is a view of those (one computation per claim, the same numbers everywhere);
    otherwise they are computed here with the same settings.
    """
    u = usable(data, metric, STAGE_COLUMNS, "derive_rules")
    n = len(u.data)
    if n < min_models:
        claims = [(s.rule, s.claim) for s in NESTED_STEPS] + [
            (k, v[1]) for k, v in _PREFERENCE_RULES.items()
        ]
        rows = [
            dict(
                rule=rule,
                claim=claim,
                verdict="too little data",
                n=n,
                sentence=f"Too little data: {n} usable models, at least {min_models} needed.",
            )
            for rule, claim in claims
        ]
        return pd.DataFrame(rows, columns=COLUMNS)
    d = add_features(u.data, fit=True, grid=grid)
    if nested is None:
        inference = Inference(alpha=alpha, adjust=adjust, margin=tolerance)
        nested = nested_rules(d, metric, by, inference=inference, min_models=min_group)
    if prefs is None:
        prefs = preferences(
            d,
            [v[0] for v in _PREFERENCE_RULES.values()],
            metric,
            by,
            alpha=alpha,
            adjust=adjust,
            n_boot=n_boot,
        )
    prefs = prefs.set_index("column").loc[[v[0] for v in _PREFERENCE_RULES.values()]]
    prefs = prefs.reset_index()
    rows = nested.reindex(columns=COLUMNS).to_dict("records")
    for (rule, (_col, claim)), p in zip(_PREFERENCE_RULES.items(), prefs.itertuples(), strict=True):
        verdict = p.verdict
        if rule == "best_b" and verdict == "supported" and p.direction == "higher":
            verdict = "contradicted"
        rows.append(
            dict(
                rule=rule,
                claim=claim,
                verdict=verdict,
                effect=p.shift,
                ci_low=p.shift_low,
                ci_high=p.shift_high,
                p_value=p.p_value,
                p_adjusted=p.p_adjusted,
                n=p.n,
                sentence=p.sentence,
                evidence="preference of the best models",
                sensitivity="rank-based",
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)
