"""Effect sizes of one group against another, with asymptotic inference (no resampling).

* ``median_diff`` = median(a) - median(b) (errors: negative means a is better), with the
  Price-Bonett standard error from each median's order statistics (:func:`median_difference`);
* ``p_beats`` = P(a random model of a has a lower error than a random model of b), ties
  counting 1/2 (= Mann-Whitney U / (n_a n_b)); 0.5 means no tendency; Brunner-Munzel
  inference (:func:`superiority`).

Medians are numpy's default (average of the middle two) without weights and the weighted
"inverted_cdf" quantile with weights, as in :func:`designspace.analysis.compare.summary`.
Weights (NDS complexity normalization) enter through Kish's effective sample size.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb, sqrt

import numpy as np
from scipy import stats

from designspace.errors import DesignSpaceError


def beats_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """M[i, j] = 1 if a_i < b_j, 1/2 if equal, else 0 (a model of a beats one of b)."""
    return (a[:, None] < b[None, :]) + 0.5 * (a[:, None] == b[None, :])


#: Half-width, in normal quantiles, of the order-statistic bracket whose spread estimates the
#: standard error of a median (:func:`median_se`): the quantiles 1/2 -+ Z_BRACKET / (2 sqrt(n)).
Z_BRACKET = 2.0


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight share reaches ``q`` (numpy's
    "inverted_cdf"; order statistic ceil(q n) without weights), q in [0, 1]."""
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.cumsum(weights[order])
    k = int(np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left"))
    return float(v[min(max(k, 0), v.size - 1)])


def median_se(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Standard error of the (weighted) sample median, same units as ``values``, without
    resampling: Woodruff's (1952) inversion of the EDF's standard error, with Kish's
    effective size ``n_eff`` when weighted.

    At the median the EDF has standard error 1 / (2 sqrt(n_eff)). The bracket
    [L, U] = the values at the EDF quantiles 1/2 -+ Z_BRACKET / (2 sqrt(n_eff)) holds an EDF
    share s (the mean of the shares in [L, U] and in (L, U), a continuity correction), i.e.
    ``z = s sqrt(n_eff)`` median standard errors either side, so ``se = (U - L) / (2 z)``.
    Without weights the bracket is the order statistics c and n - c + 1 with c about
    n/2 - sqrt(n), and z = (n - 2c + 1) / sqrt(n): the estimate of Price and Bonett (2001)
    with the normal approximation of the order statistics' binomial coverage.
    Distribution-free and deterministic; 0 when the bracket holds one value (ties).
    """
    v = np.asarray(values, dtype=float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    total = w.sum()
    n_eff = total**2 / np.sum(w**2)
    d = min(0.5, Z_BRACKET / (2 * sqrt(n_eff)))
    lower = weighted_quantile(v, w, 0.5 - d)
    upper = weighted_quantile(v, w, 0.5 + d)
    if upper <= lower:
        return 0.0
    inclusive = w[(v >= lower) & (v <= upper)].sum() / total
    exclusive = w[(v > lower) & (v < upper)].sum() / total
    z = 0.5 * (inclusive + exclusive) * sqrt(n_eff)
    return float((upper - lower) / (2 * z))


@dataclass(frozen=True)
class MedianDifference:
    """Asymptotic inference on the difference of two medians (Price and Bonett 2002):
    ``diff`` = median(a) - median(b) and its standard error ``se`` = sqrt(se_a^2 + se_b^2)
    from :func:`median_se` of each independent group. The interval is diff -+ z se and the
    equivalence test two one-sided z tests; no resampling, so no Monte-Carlo error."""

    diff: float
    se: float

    def interval(self, level_alpha: float) -> tuple[float, float]:
        """(1 - level_alpha) interval of the difference of medians."""
        h = stats.norm.ppf(1 - level_alpha / 2) * self.se
        return self.diff - h, self.diff + h

    def tost_pvalue(self, margin: float) -> float:
        """TOST p-value of |difference| < ``margin``: the larger of the two one-sided z
        tests' p-values (with se = 0: 0 inside the margin, 1 outside)."""
        if self.se == 0:
            return 0.0 if abs(self.diff) < margin else 1.0
        p_low = stats.norm.sf((self.diff + margin) / self.se)
        p_high = stats.norm.cdf((self.diff - margin) / self.se)
        return float(min(1.0, max(p_low, p_high)))


def median_difference(
    a: np.ndarray,
    b: np.ndarray,
    weights_a: np.ndarray | None = None,
    weights_b: np.ndarray | None = None,
) -> MedianDifference:
    """median(a) - median(b) with its asymptotic standard error (:class:`MedianDifference`).
    Medians as in :func:`designspace.analysis.compare.summary`: numpy's default without
    weights, the weighted "inverted_cdf" quantile with weights."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        raise DesignSpaceError("a difference of medians needs at least one model in each group")

    def median(v: np.ndarray, w: np.ndarray | None) -> float:
        return float(np.median(v)) if w is None else weighted_quantile(v, np.asarray(w), 0.5)

    diff = median(a, weights_a) - median(b, weights_b)
    se = sqrt(median_se(a, weights_a) ** 2 + median_se(b, weights_b) ** 2)
    return MedianDifference(float(diff), float(se))


@dataclass(frozen=True)
class Superiority:
    """Brunner-Munzel inference on p = P(a random model of a beats one of b) (ties 1/2).

    ``p_hat`` is the (weighted) estimate, ``se`` its standard error from the placements
    (``se^2 = var(F_b(a)) / n_a + var(F_a(b)) / n_b``, sample variances, Kish effective sizes
    with weights) and ``df`` the Welch-Satterthwaite degrees of freedom. The test of p = 1/2 and
    the interval come from the same t statistic ``(p_hat - 1/2) / se``, so the (1 - level)
    interval excludes 1/2 exactly when the p-value is below ``level``. Unweighted, p_value is
    scipy's ``brunnermunzel`` (t distribution). Under complete separation (se = 0) the
    interval is the point p_hat and the p-value the exact permutation one, 2 / C(n_a + n_b,
    n_a) (with very small groups that can exceed the level: then the verdict says the test
    and the interval disagree).
    """

    p_hat: float
    se: float
    df: float
    p_value: float

    def interval(self, level_alpha: float) -> tuple[float, float]:
        """(1 - level_alpha) interval of p, clipped to [0, 1]."""
        if self.se == 0 or not np.isfinite(self.se):
            return self.p_hat, self.p_hat
        h = stats.t.ppf(1 - level_alpha / 2, self.df) * self.se
        return max(0.0, self.p_hat - h), min(1.0, self.p_hat + h)

    @property
    def better(self) -> bool:
        """True when a tends to beat b (p_hat > 1/2)."""
        return self.p_hat > 0.5


def superiority(
    a: np.ndarray,
    b: np.ndarray,
    weights_a: np.ndarray | None = None,
    weights_b: np.ndarray | None = None,
) -> Superiority:
    """Brunner-Munzel test and interval of P(a beats b) for errors ``a`` and ``b`` (see
    :class:`Superiority`); lower error beats. Needs at least two models in each group."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size < 2 or b.size < 2:
        raise DesignSpaceError("the superiority test needs at least two models in each group")
    wa = np.ones_like(a) if weights_a is None else np.asarray(weights_a, dtype=float)
    wb = np.ones_like(b) if weights_b is None else np.asarray(weights_b, dtype=float)
    m = beats_matrix(a, b)
    pa = m @ wb / wb.sum()  # placement of each a: the share of b it beats
    pb = wa @ m / wa.sum()  # placement of each b: the share of a that beats it
    p_hat = float(wa @ pa / wa.sum())
    va, na = _weighted_var(pa, wa)
    vb, nb = _weighted_var(pb, wb)
    ta, tb = va / na, vb / nb
    se = float(np.sqrt(ta + tb))
    if se == 0:
        # no spread of placements: all equal (p_hat 1/2) or complete separation, where the
        # t statistic is infinite; the exact permutation p-value of complete separation,
        # 2 / C(n_a + n_b, n_a), is the smallest p-value the data can support
        p = 1.0 if p_hat == 0.5 else min(1.0, 2.0 / float(comb(a.size + b.size, a.size)))
        return Superiority(p_hat, 0.0, float("inf"), p)
    df = float((ta + tb) ** 2 / (ta**2 / (na - 1) + tb**2 / (nb - 1)))
    t = (p_hat - 0.5) / se
    return Superiority(p_hat, se, df, float(2 * stats.t.sf(abs(t), df)))


def _weighted_var(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Unbiased-style weighted variance and Kish effective size of ``x``."""
    n_eff = w.sum() ** 2 / np.sum(w**2)
    mean = np.average(x, weights=w)
    var = float(np.average((x - mean) ** 2, weights=w) * n_eff / max(n_eff - 1, 1e-12))
    return var, float(n_eff)
