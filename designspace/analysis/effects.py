"""Effect sizes of one group against another, with percentile-bootstrap distributions.

Two effect sizes, both from the same resamples (each group resampled with replacement,
weights travelling with their models):

* ``median_diff`` = median(a) - median(b) (errors: negative means a is better);
* ``p_beats`` = P(a random model of a has a lower error than a random model of b), ties
  counting 1/2 (= Mann-Whitney U / (n_a n_b)); 0.5 means no tendency.

Medians are numpy's default (average of the middle two) without weights and the weighted
"inverted_cdf" quantile with weights, as in :func:`designspace.analysis.compare.summary`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
