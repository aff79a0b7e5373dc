"""Comparing design spaces by their error distributions (NDS): summary, EDF area, KS tests.

Definitions used throughout:

* **area under the EDF** (``auc``): the mean of F(e) over the common error range
  [e_lo, e_hi] = [lowest, highest] error among ALL compared models,
  ``auc = (1 / (e_hi - e_lo)) * integral of F(e) de = (e_hi - mean error) / (e_hi - e_lo)``
  (weighted mean for normalized EDFs). It lies in [0, 1]; higher means more good models.
* **KS** (two-sample Kolmogorov-Smirnov): ``D = max |F_a - F_b|``; unweighted p-values are
  scipy's ``ks_2samp`` (exact for small samples); weighted (normalized) EDFs use the asymptotic
  distribution with Kish effective sample sizes.
* **multiplicity**: :func:`compare` tests every unordered pair of groups (the reference's
  tests are among them) and adjusts the p-values over that family (Holm by default, see
  :mod:`.multiplicity`); verdicts use the adjusted p-values and intervals the adjusted level.
* **deciding test**: Brunner-Munzel on p = P(a random model of a beats one of b)
  (:func:`.effects.superiority`); ``p_value`` / ``p_adjusted`` are its p-values. KS (``ks``,
  ``p_ks``, raw) is kept as the EDF-shape statistic; it decides nothing.
* **verdict** of a against b (:func:`.decide.decide`): "better" / "worse" when the adjusted
  p-value is below alpha AND both printed intervals (P(a beats b), whose interval is the test
  inverted, and the difference of medians) exclude no effect on that side; "equivalent" when
  TOST (adjusted) shows |median(a) - median(b)| < ``margin`` AND the printed median interval
  lies inside +-margin; "indistinguishable" when the test and both intervals show nothing;
  otherwise "inconclusive" (the test and an interval disagree).
* **effect sizes** (:mod:`.effects`): difference of medians (asymptotic interval from the
  order-statistic standard errors of the two medians, :func:`.effects.median_difference`) and
  P(a beats b) (Brunner-Munzel interval), both at the adjusted level. Nothing here
  resamples, so the same data give the same verdicts whatever the seed.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis._data import (
    COMPLEXITY,
    GROUP,
    METRIC,
    group_labels,
    group_order,
    usable,
)
from designspace.analysis.balance import StepLike, step_labels
from designspace.analysis.decide import Bound, decide, inside_margin
from designspace.analysis.edf import max_common_bins, normalized_weights
from designspace.analysis.effects import Superiority, median_difference, superiority
from designspace.analysis.inference import Inference
from designspace.errors import DesignSpaceError


@dataclass(frozen=True)
class KSResult:
    """Two-sample KS: statistic D, p-value, and sign (+1 when F_a is above F_b at the gap)."""

    statistic: float
    pvalue: float
    sign: int


def ks_test(
    a: np.ndarray,
    b: np.ndarray,
    weights_a: np.ndarray | None = None,
    weights_b: np.ndarray | None = None,
) -> KSResult:
    """Two-sample KS test of samples ``a`` and ``b`` (optionally weighted EDFs)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if weights_a is None and weights_b is None:
        r = stats.ks_2samp(a, b)
        return KSResult(float(r.statistic), float(r.pvalue), int(r.statistic_sign))
    wa = np.ones_like(a) if weights_a is None else np.asarray(weights_a, dtype=float)
    wb = np.ones_like(b) if weights_b is None else np.asarray(weights_b, dtype=float)
    ka, kb = wa > 0, wb > 0
    a, wa, b, wb = a[ka], wa[ka], b[kb], wb[kb]
    grid = np.union1d(a, b)
    fa = _weighted_cdf(a, wa, grid)
    fb = _weighted_cdf(b, wb, grid)
    d_plus, d_minus = float(np.max(fa - fb)), float(np.max(fb - fa))
    d = max(d_plus, d_minus, 0.0)
    na = wa.sum() ** 2 / np.sum(wa**2)
    nb = wb.sum() ** 2 / np.sum(wb**2)
    en = max(1, int(np.round(na * nb / (na + nb))))
    p = float(np.clip(stats.kstwo.sf(d, en), 0.0, 1.0))
    return KSResult(d, p, 1 if d_plus >= d_minus else -1)


def _weighted_cdf(v: np.ndarray, w: np.ndarray, grid: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(w[order])]) / w.sum()
    return cum[np.searchsorted(v[order], grid, side="right")]


def verdict(result: KSResult, alpha: float) -> str:
    """ "better" / "worse" / "indistinguishable" of sample a relative to b at level alpha."""
    if result.pvalue >= alpha:
        return "indistinguishable"
    return "better" if result.sign > 0 else "worse"


def area_under_edf(
    values: np.ndarray, lo: float, hi: float, weights: np.ndarray | None = None
) -> float:
    """Mean of F(e) over [lo, hi] = (hi - mean of the clipped errors) / (hi - lo).

    ``nan`` when hi == lo (every compared model has the same error).
    """
    v = np.clip(np.asarray(values, dtype=float), lo, hi)
    if hi <= lo:
        return float("nan")
    mean = np.average(v, weights=weights)
    return float((hi - mean) / (hi - lo))


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`compare`.

    ``table``: one row per group (index = group name) with n, min, q1, median, q3, mean, auc,
    and against the reference: ks_ref, p_ref (raw Brunner-Munzel), p_ref_adjusted,
    verdict_ref, median_diff_ref (group - reference).
    ``pairs``: one row per unordered pair (a, b) with n_a, n_b, ks, p_ks (raw KS p-value,
    descriptive), p_value and p_adjusted (Brunner-Munzel, the deciding test), verdict (a
    relative to b), median_diff (a - b), its standard error median_diff_se and its interval
    median_diff_low / _high, p_a_beats_b and its interval, p_equivalence (TOST, raw) and
    p_equivalence_adjusted, equivalent, diff_over_noise (median_diff / seed-to-seed sd; nan
    without ``noise``).
    Intervals are at level 1 - ``interval_alpha``. Both frames end with ``confounded``
    (:func:`.balance.step_labels`) where a pair (a group and the reference, in ``table``) is
    one of the nested ``steps`` given to :func:`compare`: "confounded by ..." or "" when
    balanced; NaN for a pair that is no step.
    """

    table: pd.DataFrame
    pairs: pd.DataFrame
    metric: str
    by: str | None
    reference: str
    alpha: float
    normalized: bool
    error_range: tuple[float, float]
    n_excluded: int = 0
    notes: list[str] = field(default_factory=list)
    adjust: str = "holm"
    margin: float = 0.005
    interval_alpha: float = 0.05
    noise_sd: float | None = None

    def __str__(self) -> str:
        head = (
            f"{self.metric} by {self.by or 'all'}"
            f"{' (complexity-normalized)' if self.normalized else ''}; reference "
            f"{self.reference}; Brunner-Munzel test of P(a beats b) at level {self.alpha:g} with "
            f"{self.adjust} adjustment over "
            f"{len(self.pairs)} pairs; equivalence margin {self.margin:g}; intervals at "
            f"{1 - self.interval_alpha:.4g}; auc over error range "
            f"[{self.error_range[0]:.4f}, {self.error_range[1]:.4f}]"
        )
        lines = [head, self.table.to_string(float_format=lambda x: f"{x:.4f}")]
        if len(self.pairs):
            lines += [
                "",
                "pairwise:",
                self.pairs.to_string(index=False, float_format=lambda x: f"{x:.4g}"),
            ]
        lines += self.notes
        return "\n".join(lines)


def summary(data: pd.DataFrame, by: str | None = GROUP, metric: str = METRIC) -> pd.DataFrame:
    """Per-group n, min, q1, median, q3, mean and max of ``metric`` (status "ok" rows only)."""
    u = usable(data, metric, what="summary").data
    labels = group_labels(u, by)
    rows = {}
    for name in group_order(labels):
        v = u[metric].to_numpy()[labels == name]
        q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
        rows[name] = dict(
            n=v.size, min=v.min(), q1=q1, median=med, q3=q3, mean=v.mean(), max=v.max()
        )
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = by or "group"
    return out


PAIR_COLUMNS = [
    "a",
    "b",
    "n_a",
    "n_b",
    "ks",
    "p_ks",
    "p_value",
    "p_adjusted",
    "verdict",
    "median_diff",
    "median_diff_se",
    "median_diff_low",
    "median_diff_high",
    "p_a_beats_b",
    "p_a_beats_b_low",
    "p_a_beats_b_high",
    "p_equivalence",
    "p_equivalence_adjusted",
    "equivalent",
    "diff_over_noise",
]


@dataclass(frozen=True)
class Normalization:
    """NDS complexity normalization of a comparison: every group's models reweighted to one
    distribution of ``complexity`` (a column, e.g. flops = multiply-adds) over the common
    range, in ``bins`` equal bins (None: the most bins, up to 10, that leave no bin empty in
    any group). Validated on construction."""

    complexity: str = COMPLEXITY
    bins: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.complexity, str) or not self.complexity.strip():
            raise DesignSpaceError(
                f"normalization needs a complexity column (e.g. flops), got {self.complexity!r}"
            )
        if self.bins is not None and (
            not isinstance(self.bins, numbers.Integral)
            or isinstance(self.bins, bool)
            or self.bins < 1
        ):
            raise DesignSpaceError(
                f"normalization bins must be a whole number >= 1 or None, got {self.bins!r}"
            )


@dataclass(frozen=True)
class _Groups:
    """The usable models of a comparison: error ``values``, NDS ``weights`` (1 unless
    normalized; 0 outside the common complexity range), group ``labels`` and ``names``."""

    values: np.ndarray
    weights: np.ndarray
    labels: np.ndarray
    names: list[str]
    weighted: bool

    @property
    def inside(self) -> np.ndarray:
        return self.weights > 0

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Errors and (normalized only) weights of group ``name`` inside the range."""
        m = (self.labels == name) & self.inside
        return self.values[m], (self.weights[m] if self.weighted else None)


def compare(
    data: pd.DataFrame,
    by: str = GROUP,
    metric: str = METRIC,
    reference: str | None = None,
    *,
    normalize: Normalization | None = None,
    inference: Inference | None = None,
    steps: Sequence[StepLike] = (),
) -> Comparison:
    """Compare the ``metric`` distributions of the groups of ``by`` (default: design spaces).

    ``reference`` defaults to the first group in sorted order. Every unordered pair is tested
    (Brunner-Munzel; KS descriptive) and the p-values are adjusted over the pairs by
    ``inference.adjust``; equivalence (TOST on the difference of medians, ``inference.margin``
    in error units) is a second family adjusted the same way. Effect-size intervals are at the
    adjusted level; ``inference.noise`` (seed-to-seed sd) adds diff_over_noise. ``inference``
    defaults to ``Inference()``. With ``normalize`` all statistics use NDS complexity-normalized
    weights (:class:`Normalization`); models outside the common complexity range are dropped.
    Raises DesignSpaceError with fewer than two groups. ``steps`` (e.g. ``rules.NESTED_STEPS``):
    pairs that are one of these nested steps get the step's balance label in column
    ``confounded`` (over the compared models, unweighted), see :class:`Comparison`.
    """
    inference = inference or Inference()
    if normalize is not None and not isinstance(normalize, Normalization):
        raise TypeError(f"normalize takes a Normalization or None, got {normalize!r}")
    needed = [by] + ([normalize.complexity] if normalize else [])
    u = usable(data, metric, needed, "compare")
    notes = [u.note()] if u.n_excluded else []
    groups = _groups(u.data, by, metric, normalize, notes)
    reference = _reference(groups.names, by, reference)
    inside = groups.inside
    lo, hi = float(groups.values[inside].min()), float(groups.values[inside].max())
    table = _group_table(groups, lo, hi, by)
    pairs, sups = _pair_tests(groups, table)
    pairs, level = _decide_pairs(pairs, groups, sups, inference)
    _add_reference_columns(table, pairs, reference)
    _add_confounded(table, pairs, u.data[inside], by, steps, reference, inference.alpha)
    return Comparison(
        table,
        pairs,
        metric,
        by,
        reference,
        inference.alpha,
        normalize is not None,
        (lo, hi),
        u.n_excluded,
        notes,
        inference.adjust,
        inference.margin,
        level,
        inference.noise_sd,
    )


def _groups(
    d: pd.DataFrame, by: str, metric: str, normalize: Normalization | None, notes: list[str]
) -> _Groups:
    """The groups of ``d`` (at least two) with their NDS weights; appends to ``notes`` the
    chosen bin count (when ``normalize.bins`` is None) and how many models fell outside."""
    labels = group_labels(d, by)
    names = group_order(labels)
    if len(names) < 2:
        raise DesignSpaceError(
            f"compare needs at least two groups in column '{by}' but the results hold only "
            f"{names}; add results of another {by} or group by another column"
        )
    values = d[metric].to_numpy(dtype=float)
    weights = np.ones(values.size)
    if normalize:
        c = d[normalize.complexity].to_numpy(dtype=float)
        bins = normalize.bins
        if bins is None:
            bins = max_common_bins(c, labels, upper=10)
            notes.append(f"{bins} complexity bins (the most, up to 10, with no empty bin)")
        weights = normalized_weights(c, labels, bins=bins)
        if (weights <= 0).any():
            notes.append(
                f"{int((weights <= 0).sum())} models outside the common {normalize.complexity} "
                f"range were left out of the normalized comparison"
            )
    return _Groups(values, weights, labels, names, normalize is not None)


def _reference(names: list[str], by: str, reference: str | None) -> str:
    """``reference``, or the first group when None; DesignSpaceError if it is no group."""
    if reference is None:
        return names[0]
    if reference not in names:
        raise DesignSpaceError(
            f"reference {reference!r} is not among the groups of '{by}': {names}"
        )
    return reference


def _group_table(groups: _Groups, lo: float, hi: float, by: str) -> pd.DataFrame:
    """One row per group: n, min, quartiles, mean and the area under the EDF on [lo, hi]."""
    rows = {}
    for name in groups.names:
        v, w = groups.part(name)
        q1, med, q3 = _quantiles(v, w, [0.25, 0.5, 0.75])
        rows[name] = dict(
            n=v.size,
            min=v.min(),
            q1=q1,
            median=med,
            q3=q3,
            mean=np.average(v, weights=w),
            auc=area_under_edf(v, lo, hi, w),
        )
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = by
    return table


def _pair_tests(groups: _Groups, table: pd.DataFrame) -> tuple[pd.DataFrame, list[Superiority]]:
    """The raw tests of every unordered pair (a, b) that need no resampling: KS,
    Brunner-Munzel, median difference; also the superiority results, in pair order."""
    pair_rows, sups = [], []
    for a, b in combinations(groups.names, 2):
        (va, wa), (vb, wb) = groups.part(a), groups.part(b)
        r = ks_test(va, vb, wa, wb)
        sup = superiority(va, vb, wa, wb)
        sups.append(sup)
        pair_rows.append(
            dict(
                a=a,
                b=b,
                n_a=va.size,
                n_b=vb.size,
                ks=r.statistic,
                p_ks=r.pvalue,
                p_value=sup.p_value,
                median_diff=table.loc[a, "median"] - table.loc[b, "median"],
                p_a_beats_b=sup.p_hat,
            )
        )
    return pd.DataFrame(pair_rows), sups


def _decide_pairs(
    pairs: pd.DataFrame,
    groups: _Groups,
    sups: list[Superiority],
    inference: Inference,
) -> tuple[pd.DataFrame, float]:
    """``pairs`` with adjusted p-values, intervals at the adjusted level, equivalence and
    verdicts (columns PAIR_COLUMNS); also that interval level. Deterministic: the median
    interval and TOST are asymptotic (:func:`.effects.median_difference`)."""
    alpha, margin = inference.alpha, inference.margin
    p_adj = inference.adjusted(pairs["p_value"].to_numpy())
    pairs["p_adjusted"] = p_adj
    level = inference.level(len(pairs), int(np.sum(p_adj < alpha)))
    pb = np.array([s.interval(level) for s in sups])
    diffs = []
    for a, b in zip(pairs["a"], pairs["b"], strict=True):
        (va, wa), (vb, wb) = groups.part(a), groups.part(b)
        diffs.append(median_difference(va, vb, wa, wb))
    ci = np.array([d.interval(level) for d in diffs])
    p_eq = np.array([d.tost_pvalue(margin) for d in diffs])
    p_eq_adj = inference.adjusted(p_eq)
    equivalent = (p_eq_adj < alpha) & np.array(
        [inside_margin(lo, hi, margin) for lo, hi in ci], dtype=bool
    )
    verdicts = []
    for i, sup in enumerate(sups):
        bounds = [Bound(*pb[i], 0.5, True), Bound(*ci[i], 0.0, False)]
        verdicts.append(pair_verdict(decide(p_adj[i], alpha, sup.better, bounds), equivalent[i]))
    pairs["median_diff_se"] = [d.se for d in diffs]
    pairs["median_diff_low"], pairs["median_diff_high"] = ci[:, 0], ci[:, 1]
    pairs["p_a_beats_b_low"], pairs["p_a_beats_b_high"] = pb[:, 0], pb[:, 1]
    pairs["p_equivalence"] = p_eq
    pairs["p_equivalence_adjusted"] = p_eq_adj
    pairs["equivalent"] = equivalent
    pairs["verdict"] = verdicts
    noise_sd = inference.noise_sd
    pairs["diff_over_noise"] = pairs["median_diff"] / noise_sd if noise_sd else np.nan
    return pairs[PAIR_COLUMNS].copy(), level


def _add_reference_columns(table: pd.DataFrame, pairs: pd.DataFrame, reference: str) -> None:
    """Add ks_ref, p_ref, p_ref_adjusted, verdict_ref and median_diff_ref (group relative to
    the reference, from the pair rows) to ``table`` in place."""
    ref = {}
    flip = {"better": "worse", "worse": "better"}
    for p in pairs.itertuples():
        if p.a == reference:
            ref[p.b] = (
                p.ks,
                p.p_value,
                p.p_adjusted,
                flip.get(p.verdict, p.verdict),
                -p.median_diff,
            )
        elif p.b == reference:
            ref[p.a] = (p.ks, p.p_value, p.p_adjusted, p.verdict, p.median_diff)
    ref[reference] = (0.0, 1.0, 1.0, "reference", 0.0)
    for i, col in enumerate(
        ("ks_ref", "p_ref", "p_ref_adjusted", "verdict_ref", "median_diff_ref")
    ):
        table[col] = [ref[name][i] for name in table.index]


def _add_confounded(
    table: pd.DataFrame,
    pairs: pd.DataFrame,
    data: pd.DataFrame,
    by: str,
    steps: Sequence[StepLike],
    reference: str,
    alpha: float,
) -> None:
    """Add ``confounded`` to ``pairs`` and ``table`` in place: the balance label of a pair
    that is one of ``steps`` (either order), NaN for the others."""
    labels = step_labels(data, steps, by, alpha=alpha)

    def of(a: str, b: str) -> object:
        return labels.get((a, b), labels.get((b, a), np.nan))

    pairs["confounded"] = [of(a, b) for a, b in zip(pairs["a"], pairs["b"], strict=True)]
    table["confounded"] = [np.nan if g == reference else of(g, reference) for g in table.index]


def pair_verdict(decision: str, equivalent: bool) -> str:
    """compare()'s verdict from :func:`.decide.decide`'s decision and the equivalence flag."""
    if decision in ("better", "worse"):
        return decision
    if equivalent:
        return "equivalent"
    return "indistinguishable" if decision == "none" else "inconclusive"


def _quantiles(v: np.ndarray, w: np.ndarray | None, qs: list[float]) -> list[float]:
    if w is None:
        return [float(x) for x in np.quantile(v, qs)]
    return [float(x) for x in np.quantile(v, qs, weights=w, method="inverted_cdf")]


def sample_size_sensitivity(
    data: pd.DataFrame,
    by: str | None = GROUP,
    metric: str = METRIC,
    sizes: list[int] | None = None,
    n_rep: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """How much an EDF from k models varies (NDS): KS between two disjoint random subsamples.

    For every group of at least 4 models and size k (default: about 8 sizes from 2 to n/2,
    k <= n/2), ``n_rep`` times draw two disjoint subsamples of k models and compute their KS
    statistic. Returns
    columns group, k, ks_mean, ks_lo, ks_hi (5th / 95th percentiles), n_rep. Small KS at k
    means k models suffice to pin down the EDF.
    """
    u = usable(data, metric, what="sample-size sensitivity").data
    labels = group_labels(u, by)
    rng = np.random.default_rng(seed)
    rows = []
    for name in group_order(labels):
        v = u[metric].to_numpy(dtype=float)[labels == name]
        n = v.size
        if n < 4:
            continue  # two disjoint subsamples of 2 need 4 models; the group is left out
        ks = sizes or sorted({int(x) for x in np.geomspace(2, n // 2, 8).round()})
        for k in ks:
            if k < 1 or 2 * k > n:
                continue
            d = np.empty(n_rep)
            for i in range(n_rep):
                perm = rng.permutation(n)
                d[i] = _ks_stat(v[perm[:k]], v[perm[k : 2 * k]])
            rows.append(
                dict(
                    group=name,
                    k=k,
                    ks_mean=d.mean(),
                    ks_lo=np.quantile(d, 0.05),
                    ks_hi=np.quantile(d, 0.95),
                    n_rep=n_rep,
                )
            )
    if not rows:
        raise DesignSpaceError(
            "sample-size sensitivity needs a group with at least 4 models and sizes k with 2k <= n"
        )
    return pd.DataFrame(rows)


def _ks_stat(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))
