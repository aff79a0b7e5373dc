"""Effect sizes of one group against another, with percentile-bootstrap distributions.

Two effect sizes, both from the same resamples (each group resampled with replacement,
weights travelling with their models):

* ``median_diff`` = median(a) - median(b) (errors: negative means a is better);
* ``p_beats`` = P(a random model of a has a lower error than a random model of b), ties
  counting 1/2 (= Mann-Whitney U / (n_a n_b)); 0.5 means no tendency.

Medians are numpy's default (average of the middle two) without weights and the weighted
"inverted_cdf" quantile with weights, as in :func:`designspace.analysis.compare.summary`.

Monte-Carlo error. A percentile endpoint is the order statistic of rank ~ q B of B resamples;
the rank is Binomial(B, q), so its standard error is read off the order statistics
sqrt(B q (1 - q)) ranks either side (:func:`quantile_mcse`). A resampling p-value
(1 + k) / (B + 1) has standard error sqrt(p (1 - p) / B) (:func:`pvalue_mcse`). Keyed resamples
(:func:`resample_keyed`) come from :meth:`.inference.Inference.stream`: they depend only on the
seed and the comparison's key, and the first B of 2B are the B.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import ceil, comb, sqrt

import numpy as np
from scipy import stats

from designspace.analysis.inference import BLOCK
from designspace.errors import DesignSpaceError


@dataclass(frozen=True)
class Resampled:
    """One group's values (sorted), weights, and ``n_boot`` resamples as counts per model."""

    values: np.ndarray
    weights: np.ndarray
    counts: np.ndarray  # (n_boot, n): how often each (sorted) model is drawn
    weighted: bool

    @property
    def median(self) -> float:
        """Point estimate of the (weighted) median."""
        return float(_median_from_counts(self.values, self.weights[None, :], self.weighted)[0])

    def boot_medians(self) -> np.ndarray:
        """Median of every resample, shape (n_boot,)."""
        return _median_from_counts(self.values, self.counts * self.weights, self.weighted)


def resample(
    values: np.ndarray, weights: np.ndarray | None, n_boot: int, rng: np.random.Generator
) -> Resampled:
    """Draw ``n_boot`` bootstrap resamples of a group (models with replacement)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise DesignSpaceError("an effect size needs at least one model in each group")
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    flat = (np.arange(n_boot)[:, None] * v.size + idx).ravel()
    counts = np.bincount(flat, minlength=n_boot * v.size).reshape(n_boot, v.size).astype(float)
    return Resampled(v, w, counts, weights is not None)


def keyed_rows(
    draw: Callable[[np.random.Generator, int], np.ndarray],
    n_rows: int,
    stream: Callable[[int], np.random.Generator],
) -> np.ndarray:
    """``n_rows`` rows of random draws made in blocks of ``BLOCK`` rows: block j is
    ``draw(stream(j), BLOCK)``, so the first k rows do not depend on ``n_rows`` (nested)."""
    blocks = [draw(stream(j), BLOCK) for j in range(ceil(n_rows / BLOCK))]
    return np.concatenate(blocks, axis=0)[:n_rows]


def resample_keyed(
    values: np.ndarray,
    weights: np.ndarray | None,
    n_boot: int,
    stream: Callable[[int], np.random.Generator],
) -> Resampled:
    """Like :func:`resample`, with the draws of block j (``BLOCK`` resamples) taken from
    ``stream(j)`` (e.g. ``lambda j: inference.stream(key, j)``): nested and reproducible."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise DesignSpaceError("an effect size needs at least one model in each group")
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    n = v.size
    idx = keyed_rows(lambda g, k: g.integers(0, n, size=(k, n)), n_boot, stream)
    flat = (np.arange(n_boot)[:, None] * n + idx).ravel()
    counts = np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(float)
    return Resampled(v, w, counts, weights is not None)


def quantile_mcse(boot: np.ndarray, q: float) -> float:
    """Monte-Carlo standard error of the ``q`` quantile (numpy's linear rule) of the ``B``
    resamples ``boot``: half the spread of the order statistics sqrt(B q (1 - q)) ranks
    either side of rank q (B - 1) (the binomial law of the rank; same units as ``boot``).
    0 when those order statistics are equal (the endpoint cannot move)."""
    x = np.sort(np.asarray(boot, dtype=float))
    b = x.size
    if b < 2:
        return float("inf")
    h = q * (b - 1)
    j = max(1, int(ceil(sqrt(b * q * (1 - q)))))
    lo = x[max(0, int(np.floor(h)) - j)]
    hi = x[min(b - 1, int(np.ceil(h)) + j)]
    return float((hi - lo) / 2)


def pvalue_mcse(p: float, n: int) -> float:
    """Monte-Carlo standard error sqrt(p (1 - p) / n) of a p-value from ``n`` resamples."""
    p = float(np.clip(p, 0.0, 1.0))
    return float(sqrt(p * (1 - p) / max(int(n), 1)))


def interval_mcse(boot: np.ndarray, level_alpha: float) -> tuple[float, float]:
    """Monte-Carlo standard errors of the two endpoints of :func:`interval`."""
    return quantile_mcse(boot, level_alpha / 2), quantile_mcse(boot, 1 - level_alpha / 2)


def _median_from_counts(v: np.ndarray, mass: np.ndarray, weighted: bool) -> np.ndarray:
    """Per row of ``mass`` (sorted-order weights x counts): the median of ``v``."""
    cum = np.cumsum(mass, axis=1)
    total = cum[:, -1:]
    lower = np.argmax(cum >= 0.5 * total - 1e-12 * total, axis=1)
    if weighted:
        return v[lower]
    # unweighted: average of the two middle order statistics, as np.median
    upper = np.argmax(cum > 0.5 * total + 1e-12 * total, axis=1)
    odd = np.abs(cum[np.arange(cum.shape[0]), lower] - 0.5 * total[:, 0]) > 1e-9 * total[:, 0]
    return np.where(odd, v[lower], 0.5 * (v[lower] + v[upper]))


def beats_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """M[i, j] = 1 if a_i < b_j, 1/2 if equal, else 0 (a model of a beats one of b)."""
    return (a[:, None] < b[None, :]) + 0.5 * (a[:, None] == b[None, :])


def p_beats(a: Resampled, b: Resampled) -> tuple[float, np.ndarray]:
    """Point estimate and bootstrap values of P(model of a beats model of b)."""
    m = beats_matrix(a.values, b.values)
    point = float(a.weights @ m @ b.weights / (a.weights.sum() * b.weights.sum()))
    ma, mb = a.counts * a.weights, b.counts * b.weights
    boot = np.einsum("ri,ij,rj->r", ma, m, mb) / (ma.sum(1) * mb.sum(1))
    return point, boot


def interval(boot: np.ndarray, level_alpha: float) -> tuple[float, float]:
    """Percentile interval of ``boot`` at level 1 - level_alpha."""
    lo, hi = np.quantile(boot, [level_alpha / 2, 1 - level_alpha / 2])
    return float(lo), float(hi)


def tost_pvalue(boot_diff: np.ndarray, margin: float) -> float:
    """Bootstrap TOST p-value of |diff| < margin: the larger of the two one-sided p-values."""
    n = boot_diff.size
    p_low = (1 + np.sum(boot_diff <= -margin)) / (n + 1)
    p_high = (1 + np.sum(boot_diff >= margin)) / (n + 1)
    return float(min(1.0, max(p_low, p_high)))


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
