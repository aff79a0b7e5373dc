"""Deriving the RegNet design principles (DDS sections 3-4) from a population of trained models.

Three kinds of evidence, reported apart:

* **Nested spaces** (:func:`nested_rules`), the paper's own derivation: each constraint is
  tested by the pair of spaces that differ only by it (AnyNetXA -> XB shared b, XB -> XC shared
  g, XC -> XD growing widths, XD -> XE growing depths, XE -> RegNetX near-linear widths) as an
  EDF comparison: KS test of the two error distributions, the difference of medians
  (to - from; negative = the constraint lowers the error) and P(a model of the constrained
  space beats one of the other), with bootstrap intervals; p-values and intervals adjusted over
  the steps present (:mod:`.multiplicity`). Claims: growth and linearity rules "lower the
  error"; sharing rules "cost nothing", shown by equivalence (two one-sided tests of
  |median difference| < ``margin``).
* **Observational, within space** (:func:`observational_rules`): inside one space, models
  that satisfy a property against those that do not (Mann-Whitney), and for near-linear widths
  the Spearman correlation of the error with e_fit. Nothing is controlled for (in particular
  not e_fit, which is computed from the very widths and depths under test), so this is
  association, labelled so.
* **Preferences** (:mod:`.preferences`): b, g, depth, wm.

Sensitivity: every nested and observational verdict is recomputed (a) with a rank test
(Mann-Whitney U) in place of KS and (b) without outliers (errors outside the Tukey fences
``[q1 - k iqr, q3 + k iqr]`` of the compared models, k = ``outlier_k``); a verdict that
changes in either is "fragile".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis._data import GROUP, METRIC, group_labels, usable
from designspace.analysis.compare import ks_test, noise_sd_of
from designspace.analysis.effects import interval, p_beats, resample, tost_pvalue
from designspace.analysis.features import STAGE_COLUMNS, add_features
from designspace.analysis.fit import FitGrid
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
    "p_equivalence",
    "p_equivalence_adjusted",
    "verdict_ranks",
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


def _decide(sharing: bool, p_adj: float, better: bool, p_eq_adj: float, alpha: float) -> str:
    significant = p_adj < alpha
    if sharing:
        if significant:
            return "supported" if better else "contradicted"
        return "supported" if p_eq_adj < alpha else "inconclusive"
    if significant:
        return "supported" if better else "contradicted"
    return "not supported"


def _step_tests(
    a: np.ndarray, b: np.ndarray, n_boot: int, margin: float, rng: np.random.Generator
) -> dict:
    """Tests of to-space errors ``b`` against from-space errors ``a``."""
    ks = ks_test(b, a)
    mw = stats.mannwhitneyu(b, a, alternative="two-sided")
    ra, rb = resample(a, None, n_boot, rng), resample(b, None, n_boot, rng)
    diff = rb.boot_medians() - ra.boot_medians()
    beats, beats_boot = p_beats(rb, ra)
    return dict(
        p_value=ks.pvalue,
        better=ks.sign > 0,
        p_rank=float(mw.pvalue),
        better_rank=beats > 0.5,
        effect=float(np.median(b) - np.median(a)),
        diff_boot=diff,
        p_beats=beats,
        beats_boot=beats_boot,
        p_equivalence=tost_pvalue(diff, margin),
    )


def nested_rules(
    data: pd.DataFrame,
    metric: str = METRIC,
    by: str = GROUP,
    steps: Sequence[Step] = NESTED_STEPS,
    alpha: float = 0.05,
    adjust: str = "holm",
    margin: float = 0.005,
    n_boot: int = 2000,
    seed: int = 0,
    noise: float | object | None = None,
    outlier_k: float = 1.5,
    min_models: int = 10,
) -> pd.DataFrame:
    """Evidence for each constraint from its nested pair of spaces (module docstring).

    One row per step (columns NESTED_COLUMNS); steps whose two spaces are not both in the
    data (with at least ``min_models`` usable models each) are "not testable". ``margin``
    is the equivalence margin in error units; ``noise`` (seed-to-seed sd or a NoiseFloor)
    adds diff_over_noise = effect / sd.
    """
    check_method(adjust)
    noise_sd = noise_sd_of(noise)
    u = usable(data, metric, [by], "nested_rules").data
    labels = group_labels(u, by)
    err = u[metric].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    rows, tests, trimmed = [], [], []
    for st in steps:
        a, b = err[labels == st.from_space], err[labels == st.to_space]
        row = dict(
            rule=st.rule,
            claim=st.claim,
            evidence="nested spaces",
            from_space=st.from_space,
            to_space=st.to_space,
            n_from=a.size,
            n_to=b.size,
            n=a.size + b.size,
        )
        if min(a.size, b.size) < min_models:
            missing = [s for s, v in ((st.from_space, a), (st.to_space, b)) if v.size < min_models]
            row.update(
                verdict="not testable",
                sentence=(
                    f"Not testable: needs at least {min_models} models of each of "
                    f"{st.from_space} and {st.to_space} (short: {', '.join(missing)})."
                ),
            )
            rows.append(row)
            tests.append(None)
            trimmed.append(None)
            continue
        t = _step_tests(a, b, n_boot, margin, rng)
        keep = tukey_keep(np.concatenate([a, b]), outlier_k)
        ka, kb = keep[: a.size], keep[a.size :]
        trimmed.append(
            _step_tests(a[ka], b[kb], n_boot, margin, rng) | {"dropped": int((~keep).sum())}
        )
        tests.append(t)
        rows.append(row)
    idx = [i for i, t in enumerate(tests) if t is not None]

    def adjusted(key: str, source: list) -> np.ndarray:
        out = np.full(len(rows), np.nan)
        if idx:
            out[idx] = adjust_pvalues([source[i][key] for i in idx], adjust)
        return out

    p_adj, p_rank, p_eq = (
        adjusted("p_value", tests),
        adjusted("p_rank", tests),
        adjusted("p_equivalence", tests),
    )
    tp_adj, tp_eq = adjusted("p_value", trimmed), adjusted("p_equivalence", trimmed)
    n_claims = int(np.sum(p_adj[idx] < alpha)) if idx else 0
    level = interval_alpha(alpha, len(idx), adjust, n_claims)
    for i in idx:
        t, tt, r, st = tests[i], trimmed[i], rows[i], steps[i]
        lo, hi = interval(t["diff_boot"], level)
        blo, bhi = interval(t["beats_boot"], level)
        verdict = _decide(st.sharing, p_adj[i], t["better"], p_eq[i], alpha)
        v_rank = _decide(st.sharing, p_rank[i], t["better_rank"], p_eq[i], alpha)
        v_trim = _decide(st.sharing, tp_adj[i], tt["better"], tp_eq[i], alpha)
        fragile = v_rank != verdict or v_trim != verdict
        r.update(
            verdict=verdict,
            effect=t["effect"],
            ci_low=lo,
            ci_high=hi,
            p_beats=t["p_beats"],
            p_beats_low=blo,
            p_beats_high=bhi,
            p_value=t["p_value"],
            p_adjusted=p_adj[i],
            p_equivalence=t["p_equivalence"],
            p_equivalence_adjusted=p_eq[i],
            verdict_ranks=v_rank,
            verdict_trimmed=v_trim,
            sensitivity="fragile" if fragile else "robust",
            diff_over_noise=t["effect"] / noise_sd if noise_sd else np.nan,
        )
        noise_say = (
            f"; {abs(t['effect']) / noise_sd:.1f} x the seed-to-seed sd {noise_sd:.4f}"
            if noise_sd
            else ""
        )
        r["sentence"] = (
            f"{st.from_space} -> {st.to_space} ({st.rule}): {verdict}. Median error change "
            f"{t['effect']:+.4f} ({1 - level:.3g} interval {lo:+.4f} to {hi:+.4f}{noise_say}); "
            f"P(a {st.to_space} model beats a {st.from_space} model) {t['p_beats']:.2f} "
            f"[{blo:.2f}, {bhi:.2f}]; KS p = {t['p_value']:.2g}, {adjust}-adjusted "
            f"{p_adj[i]:.2g}"
            + (
                f"; equivalence within +-{margin:g}: adjusted p = {p_eq[i]:.2g}"
                if st.sharing
                else ""
            )
            + f"; n = {r['n_from']} + {r['n_to']}. "
            + (
                f"Fragile: on ranks {v_rank}, without {tt['dropped']} outliers {v_trim}."
                if fragile
                else f"Robust to ranks and to dropping {tt['dropped']} outliers."
            )
        )
    return pd.DataFrame(rows, columns=NESTED_COLUMNS)


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
    "p_value",
    "p_adjusted",
    "verdict_trimmed",
    "sensitivity",
    "sentence",
]
_PROPERTIES = ("shared_b", "shared_g", "widths_increase", "depths_increase")


def _association(p_adj: float, lowers: bool, alpha: float) -> str:
    if p_adj < alpha:
        return "association" if lowers else "reverse association"
    return "no association"


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
    ``min_group`` models on one side gives "too little data". ``effect``: median error with
    the property minus without (negative = the property goes with lower errors); for
    linear_widths Spearman's rho of error and e_fit (positive = near-linear widths go with
    lower errors), interval by Fisher's z. Adjusted over all rows with a test.
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
        v = _association(pa, t["lowers"], alpha)
        vt = _association(pta, tt["lowers"], alpha)
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
    p = float(stats.mannwhitneyu(with_, without, alternative="two-sided").pvalue)
    rw, ro = resample(with_, None, n_boot, rng), resample(without, None, n_boot, rng)
    diff = rw.boot_medians() - ro.boot_medians()
    effect = float(np.median(with_) - np.median(without))
    beats, _ = p_beats(rw, ro)
    return dict(p=p, effect=effect, lowers=beats > 0.5, interval=lambda a: interval(diff, a))


def _spearman(x: np.ndarray, e: np.ndarray) -> dict:
    r = stats.spearmanr(x, e)
    rho, n = float(r.statistic), x.size

    def ci(a: float) -> tuple[float, float]:
        z = np.arctanh(np.clip(rho, -0.999999, 0.999999))
        h = stats.norm.ppf(1 - a / 2) / np.sqrt(max(n - 3, 1))
        return float(np.tanh(z - h)), float(np.tanh(z + h))

    return dict(p=float(r.pvalue), effect=rho, lowers=rho > 0, interval=ci)


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
    and ci_low / ci_high = the DDS good range. Fewer than ``min_models`` usable models gives
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
    nested = nested_rules(
        d,
        metric,
        by,
        alpha=alpha,
        adjust=adjust,
        margin=tolerance,
        n_boot=min(n_boot, 4000),
        seed=seed,
        min_models=min_group,
    )
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
                ci_low=p.range_low,
                ci_high=p.range_high,
                p_value=p.p_value,
                p_adjusted=p.p_adjusted,
                n=p.n,
                sentence=p.sentence,
                evidence="preference of the best models",
                sensitivity="rank-based",
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)
