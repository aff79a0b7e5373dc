"""Deriving the RegNet design principles (DDS sections 3-4) from a population of trained models.

Three kinds of evidence, reported apart:

* **Nested spaces** (:func:`nested_rules`), the paper's own derivation: each constraint is
  tested by the pair of spaces that differ only by it (AnyNetXA -> XB shared b, XB -> XC shared
  g, XC -> XD growing widths, XD -> XE growing depths, XE -> RegNetX near-linear widths). The
  deciding test is Brunner-Munzel on P(a model of the constrained space beats one of the
  other) (:func:`.effects.superiority`; its interval is the test inverted); the difference of
  medians (to - from; negative = the constraint lowers the error) has a bootstrap interval;
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
from designspace.analysis.compare import ks_test
from designspace.analysis.decide import Bound, decide, inside_margin
from designspace.analysis.effects import interval, resample, superiority, tost_pvalue
from designspace.analysis.features import STAGE_COLUMNS, add_features
from designspace.analysis.fit import FitGrid
from designspace.analysis.inference import Inference
from designspace.analysis.multiplicity import adjust_pvalues, check_method, interval_alpha
from designspace.analysis.preferences import preferences


@dataclass(frozen=True)
class Step:
    """One nested step: ``to_space`` = ``from_space`` plus the constraint ``rule``."""

    rule: str
    from_space: str
    to_space: str
    sharing: bool
    claim: str


NESTED_STEPS: tuple[Step, ...] = (
    Step(
        "shared_b",
        "AnyNetXA",
        "AnyNetXB",
        True,
        "one bottleneck ratio b for all stages costs nothing",
    ),
    Step(
        "shared_g", "AnyNetXB", "AnyNetXC", True, "one group width g for all stages costs nothing"
    ),
    Step(
        "widths_increase", "AnyNetXC", "AnyNetXD", False, "stage widths that grow lower the error"
    ),
    Step(
        "depths_increase", "AnyNetXD", "AnyNetXE", False, "stage depths that grow lower the error"
    ),
    Step(
        "linear_widths", "AnyNetXE", "RegNetX", False, "near-linear width growth lowers the error"
    ),
)

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
    "diff_over_noise",
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


def _step_tests(
    a: np.ndarray, b: np.ndarray, n_boot: int, margin: float, rng: np.random.Generator
) -> dict:
    """Tests of to-space errors ``b`` against from-space errors ``a``."""
    ks = ks_test(b, a)
    sup = superiority(b, a)
    ra, rb = resample(a, None, n_boot, rng), resample(b, None, n_boot, rng)
    diff = rb.boot_medians() - ra.boot_medians()
    return dict(
        p_value=sup.p_value,
        better=sup.better,
        sup=sup,
        p_ks=ks.pvalue,
        better_ks=ks.sign > 0,
        effect=float(np.median(b) - np.median(a)),
        diff_boot=diff,
        p_beats=sup.p_hat,
        p_equivalence=tost_pvalue(diff, margin),
    )


def _step_verdict(
    t: dict,
    p_adj: float,
    p_eq_adj: float,
    level: float,
    inference: Inference,
    sharing: bool,
    ks: bool = False,
) -> str:
    lo, hi = interval(t["diff_boot"], level)
    bounds = [Bound(*t["sup"].interval(level), 0.5, True), Bound(lo, hi, 0.0, False)]
    better = t["better_ks"] if ks else t["better"]
    alpha = inference.alpha
    equivalent = p_eq_adj < alpha and inside_margin(lo, hi, inference.margin)
    return _decide(sharing, decide(p_adj, alpha, better, bounds), equivalent)


def nested_rules(
    data: pd.DataFrame,
    metric: str = METRIC,
    by: str = GROUP,
    steps: Sequence[Step] = NESTED_STEPS,
    *,
    inference: Inference | None = None,
    outlier_k: float = 1.5,
    min_models: int = 10,
) -> pd.DataFrame:
    """Evidence for each constraint from its nested pair of spaces (module docstring).

    One row per step (columns NESTED_COLUMNS); steps whose two spaces are not both in the
    data (with at least ``min_models`` usable models each) are "not testable". ``inference``
    (default ``Inference()``) gives the level, the adjustment over the steps, the equivalence
    margin in error units, the bootstrap size and seed; its ``noise`` (seed-to-seed sd) adds
    diff_over_noise = effect / sd. ``outlier_k``: Tukey fence of the outlier sensitivity.
    """
    inference = inference or Inference()
    u = usable(data, metric, [by], "nested_rules").data
    labels = group_labels(u, by)
    err = u[metric].to_numpy(dtype=float)
    rng = inference.rng()
    rows, tests, trimmed = [], [], []
    for st in steps:
        a, b = err[labels == st.from_space], err[labels == st.to_space]
        rows.append(_step_row(st, a, b))
        if min(a.size, b.size) < min_models:
            rows[-1].update(_not_testable(st, a, b, min_models))
            tests.append(None)
            trimmed.append(None)
            continue
        tests.append(_step_tests(a, b, inference.n_boot, inference.margin, rng))
        trimmed.append(_trimmed_step_tests(a, b, outlier_k, inference, rng))
    idx = [i for i, t in enumerate(tests) if t is not None]
    p = _AdjustedSteps.of(tests, trimmed, idx, inference)
    for i in idx:
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


def _trimmed_step_tests(
    a: np.ndarray, b: np.ndarray, outlier_k: float, inference: Inference, rng: np.random.Generator
) -> dict:
    """:func:`_step_tests` without the models outside the Tukey fences of ``a`` and ``b``
    pooled; ``dropped`` counts them."""
    keep = tukey_keep(np.concatenate([a, b]), outlier_k)
    ka, kb = keep[: a.size], keep[a.size :]
    tests = _step_tests(a[ka], b[kb], inference.n_boot, inference.margin, rng)
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
    lo, hi = interval(t["diff_boot"], level)
    blo, bhi = t["sup"].interval(level)
    verdict = _step_verdict(t, p.adjusted, p.equivalence, level, inference, st.sharing)
    v_ks = _step_verdict(t, p.ks, p.equivalence, level, inference, st.sharing, ks=True)
    v_trim = _step_verdict(tt, p.trimmed, p.trimmed_equivalence, level, inference, st.sharing)
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
    return (
        f"{st.from_space} -> {st.to_space} ({st.rule}): {verdict}. Median error change "
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
    n_boot: int = 2000,
    seed: int = 0,
    outlier_k: float = 1.5,
    grid: FitGrid | None = None,
) -> pd.DataFrame:
    """Within-space association of each property with the error (module docstring).

    One row per (rule, space) where the property varies in the space; fewer than
    ``min_group`` models on one side gives "too little data". Binary properties: deciding test
    Brunner-Munzel on p_beats = P(a model with the property beats one without) (interval: the
    test inverted); ``effect`` = median error with minus without (negative = the property goes
    with lower errors; bootstrap interval). linear_widths: ``effect`` = Spearman's rho of
    e_fit and error (positive = near-linear widths go with lower errors); p-value and interval
    both from Fisher's z with the Bonett-Wright standard error, so they agree. Adjusted over
    all rows with a test; intervals at the adjusted level; a verdict needs the test and its
    intervals to agree ("inconclusive" otherwise).
    """
    check_method(adjust)
    u = usable(data, metric, STAGE_COLUMNS, "observational_rules").data
    d = add_features(u, fit=True, grid=grid)
    labels = group_labels(d, by if by in d.columns else None)
    err = d[metric].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
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
                    _mw(e[has], e[~has], n_boot, rng),
                    _mw(e[has & keep], e[~has & keep], n_boot, rng),
                )
            )
            rows.append(row)
    p_adj = adjust_pvalues([t[1]["p"] for t in tests], adjust) if tests else np.array([])
    pt_adj = adjust_pvalues([t[2]["p"] for t in tests], adjust) if tests else np.array([])
    level = interval_alpha(alpha, len(tests), adjust, int(np.sum(p_adj < alpha)))
    for (i, t, tt), pa, pta in zip(tests, p_adj, pt_adj, strict=True):
        r = rows[i]
        lo, hi = t["interval"](level)
        v = _association(pa, t, level, alpha)
        vt = _association(pta, tt, level, alpha)
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


def _mw(with_: np.ndarray, without: np.ndarray, n_boot: int, rng: np.random.Generator) -> dict:
    """Brunner-Munzel of with- against without-models, and the median difference."""
    sup = superiority(with_, without)
    rw, ro = resample(with_, None, n_boot, rng), resample(without, None, n_boot, rng)
    diff = rw.boot_medians() - ro.boot_medians()
    effect = float(np.median(with_) - np.median(without))

    def bounds(a: float) -> list[Bound]:
        return [Bound(*sup.interval(a), 0.5, True), Bound(*interval(diff, a), 0.0, False)]

    return dict(
        p=sup.p_value,
        effect=effect,
        lowers=sup.better,
        sup=sup,
        interval=lambda a: interval(diff, a),
        bounds=bounds,
    )


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
    n_perm: int = 1000,
    seed: int = 0,
    grid: FitGrid | None = None,
    adjust: str = "holm",
    by: str = GROUP,
) -> pd.DataFrame:
    """One verdict per RegNet principle: :func:`nested_rules` rows and the preference rows
    (best_b, good_g, good_depth, good_wm from :func:`.preferences.preferences`).

    Columns COLUMNS (rule, claim, verdict, effect, ci_low, ci_high, p_value, p_adjusted, n,
    sentence, evidence, sensitivity). Each family (nested steps; preferences) is adjusted by
    ``adjust`` on its own. ``tolerance`` is the equivalence margin (error units) of the
    sharing rules. For preference rows effect = shift (mean centred rank of the best models)
    and ci_low / ci_high = its interval at the adjusted level (the DDS good range is in the
    sentence). Fewer than ``min_models`` usable models gives
    "too little data" everywhere.
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
    inference = Inference(
        alpha=alpha, adjust=adjust, margin=tolerance, n_boot=min(n_boot, 4000), seed=seed
    )
    nested = nested_rules(d, metric, by, inference=inference, min_models=min_group)
    prefs = preferences(
        d,
        [v[0] for v in _PREFERENCE_RULES.values()],
        metric,
        by,
        alpha=alpha,
        adjust=adjust,
        n_perm=max(n_perm, 100),
        n_boot=n_boot,
        seed=seed,
    )
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
