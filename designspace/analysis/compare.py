"""Comparing design spaces by their error distributions (NDS): summary, EDF area, KS tests.

Definitions used throughout:

* **area under the EDF** (``auc``): the mean of F(e) over the common error range
  [e_lo, e_hi] = [lowest, highest] error among ALL compared models,
  ``auc = (1 / (e_hi - e_lo)) * integral of F(e) de = (e_hi - mean error) / (e_hi - e_lo)``
  (weighted mean for normalized EDFs). It lies in [0, 1]; higher means more good models.
* **KS** (two-sample Kolmogorov-Smirnov): ``D = max |F_a - F_b|``; unweighted p-values are
  scipy's ``ks_2samp`` (exact for small samples); weighted (normalized) EDFs use the asymptotic
  distribution with Kish effective sample sizes.
* **verdict** of a against b at level ``alpha``: "indistinguishable" when p >= alpha, else
  "better" when a's EDF lies above b's at the largest gap (a has more low-error models), else
  "worse".
"""

from __future__ import annotations

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
from designspace.analysis.edf import normalized_weights
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
    and KS statistic / p-value / verdict against the reference (errors as fractions).
    ``pairs``: one row per unordered pair (a, b) with ks, p_value, verdict (a relative to b),
    median_diff (a - b).
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

    def __str__(self) -> str:
        head = (
            f"{self.metric} by {self.by or 'all'}"
            f"{' (complexity-normalized)' if self.normalized else ''}; reference "
            f"{self.reference}; KS level {self.alpha:g}; auc over error range "
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


def compare(
    data: pd.DataFrame,
    by: str = GROUP,
    metric: str = METRIC,
    reference: str | None = None,
    alpha: float = 0.05,
    normalize: bool = False,
    complexity: str = COMPLEXITY,
    bins: int = 10,
) -> Comparison:
    """Compare the ``metric`` distributions of the groups of ``by`` (default: design spaces).

    ``reference`` defaults to the first group in sorted order. With ``normalize`` all
    statistics use NDS complexity-normalized weights over the common ``complexity`` range (models
    outside it are dropped). Raises DesignSpaceError with fewer than two groups.
    """
    if not 0 < alpha < 1:
        raise DesignSpaceError(f"alpha must be in (0, 1), got {alpha}")
    u = usable(data, metric, [by] + ([complexity] if normalize else []), "compare")
    d = u.data
    labels = group_labels(d, by)
    names = group_order(labels)
    if len(names) < 2:
        raise DesignSpaceError(
            f"compare needs at least two groups in column '{by}' but the results hold only "
            f"{names}; add results of another {by} or group by another column"
        )
    if reference is None:
        reference = names[0]
    if reference not in names:
        raise DesignSpaceError(
            f"reference {reference!r} is not among the groups of '{by}': {names}"
        )
    values = d[metric].to_numpy(dtype=float)
    weights = np.ones(values.size)
    if normalize:
        weights = normalized_weights(d[complexity].to_numpy(dtype=float), labels, bins=bins)
    inside = weights > 0
    lo, hi = float(values[inside].min()), float(values[inside].max())

    def part(name: str) -> tuple[np.ndarray, np.ndarray | None]:
        m = (labels == name) & inside
        return values[m], (weights[m] if normalize else None)

    rows = {}
    for name in names:
        v, w = part(name)
        q1, med, q3 = _quantiles(v, w, [0.25, 0.5, 0.75])
        row = dict(
            n=v.size,
            min=v.min(),
            q1=q1,
            median=med,
            q3=q3,
            mean=np.average(v, weights=w),
            auc=area_under_edf(v, lo, hi, w),
        )
        if name == reference:
            row.update(ks_ref=0.0, p_ref=1.0, verdict_ref="reference")
        else:
            r = ks_test(v, part(reference)[0], w, part(reference)[1])
            row.update(ks_ref=r.statistic, p_ref=r.pvalue, verdict_ref=verdict(r, alpha))
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = by

    pair_rows = []
    for a, b in combinations(names, 2):
        (va, wa), (vb, wb) = part(a), part(b)
        r = ks_test(va, vb, wa, wb)
        pair_rows.append(
            dict(
                a=a,
                b=b,
                ks=r.statistic,
                p_value=r.pvalue,
                verdict=verdict(r, alpha),
                median_diff=table.at[a, "median"] - table.at[b, "median"],
            )
        )
    pairs = pd.DataFrame(pair_rows, columns=["a", "b", "ks", "p_value", "verdict", "median_diff"])
    notes = [u.note()] if u.n_excluded else []
    if normalize and (~inside).any():
        notes.append(
            f"{int((~inside).sum())} models outside the common {complexity} range "
            f"were left out of the normalized comparison"
        )
    return Comparison(
        table, pairs, metric, by, reference, alpha, normalize, (lo, hi), u.n_excluded, notes
    )


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
