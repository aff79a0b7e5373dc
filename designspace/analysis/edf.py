"""Error EDFs (NDS): plain, complexity-normalized, with DKW and bootstrap confidence bands.

Conventions: errors are fractions in [0, 1]; ``F(e)`` is the (weighted) fraction of models with
error <= e, a right-continuous step function. Weights are normalized to sum to 1 per EDF.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from designspace.analysis._data import COMPLEXITY, GROUP, METRIC, group_labels, usable
from designspace.errors import DesignSpaceError


@dataclass(frozen=True)
class EDF:
    """A step function: ``y[i]`` = F at ``x[i]`` (sorted distinct values), F = 0 below x[0].

    ``n`` is the number of models, ``n_eff`` the effective sample size (Kish:
    (sum w)^2 / sum w^2; equal to n without weights) used by the DKW band and the KS p-value.
    """

    x: np.ndarray
    y: np.ndarray
    n: int
    n_eff: float

    def __call__(self, e: float | np.ndarray) -> np.ndarray:
        """F(e) for a scalar or an array of errors."""
        idx = np.searchsorted(self.x, np.asarray(e, dtype=float), side="right")
        return np.concatenate([[0.0], self.y])[idx]


def edf(values: np.ndarray | pd.Series, weights: np.ndarray | None = None) -> EDF:
    """The (weighted) empirical distribution function of ``values``.

    Models with weight 0 do not count (e.g. outside the normalized EDF's complexity range).
    """
    v = np.asarray(values, dtype=float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    if v.shape != w.shape:
        raise DesignSpaceError("edf: values and weights differ in length")
    keep = np.isfinite(v) & (w > 0)
    v, w = v[keep], w[keep]
    if v.size == 0:
        raise DesignSpaceError("edf: no values with positive weight; nothing to build an EDF of")
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()
    x = np.unique(v)
    # F at each distinct value = cumulative weight at its last occurrence
    last = np.searchsorted(v, x, side="right") - 1
    y = np.minimum(cum[last], 1.0)
    y[-1] = 1.0
    return EDF(x, y, int(v.size), float(w.sum() ** 2 / np.sum(w**2)))


def dkw_epsilon(n: float, alpha: float = 0.05) -> float:
    """Half-width of the DKW simultaneous band: sqrt(ln(2 / alpha) / (2 n)).

    With probability >= 1 - alpha the true CDF lies within +-epsilon of the EDF everywhere.
    """
    if n <= 0:
        raise DesignSpaceError("dkw_epsilon needs a positive sample size")
    if not 0 < alpha < 1:
        raise DesignSpaceError(f"alpha must be in (0, 1), got {alpha}")
    return float(np.sqrt(np.log(2.0 / alpha) / (2.0 * n)))


def dkw_band(f: EDF, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper DKW band at ``f.x`` (clipped to [0, 1]); uses ``f.n_eff``."""
    eps = dkw_epsilon(f.n_eff, alpha)
    return np.clip(f.y - eps, 0.0, 1.0), np.clip(f.y + eps, 0.0, 1.0)


def bootstrap_band(
    values: np.ndarray | pd.Series,
    grid: np.ndarray,
    weights: np.ndarray | None = None,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise (1 - alpha) percentile bootstrap band of the EDF evaluated at ``grid``.

    Each of ``n_boot`` resamples draws the models with replacement (weights travel with their
    models and are renormalized). Returns (lower, upper) arrays shaped like ``grid``.
    """
    v = np.asarray(values, dtype=float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(v) & (w > 0)
    v, w = v[keep], w[keep]
    if v.size == 0:
        raise DesignSpaceError("bootstrap_band: no values to resample")
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    g = np.asarray(grid, dtype=float)
    # sorted position i counts at grid point k iff i < counts[k]; so position i first counts
    # at grid index first[i], and F(grid) is a cumulative sum of a per-row histogram of first.
    counts = np.searchsorted(v, g, side="right")
    k = g.size
    first = np.searchsorted(counts, np.arange(v.size), side="right")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    rows = np.repeat(np.arange(n_boot), v.size)
    flat = rows * (k + 1) + first[idx].ravel()
    hist = np.bincount(flat, weights=w[idx].ravel(), minlength=n_boot * (k + 1))
    hist = hist.reshape(n_boot, k + 1)[:, :k]
    f = np.cumsum(hist, axis=1) / w[idx].sum(axis=1, keepdims=True)
    lo, hi = np.quantile(f, [alpha / 2, 1 - alpha / 2], axis=0)
    return lo, hi


def common_range(
    complexity: np.ndarray, groups: np.ndarray, log: bool = False
) -> tuple[float, float]:
    """The complexity range every group covers: [max of the groups' minima, min of maxima]."""
    c = np.asarray(complexity, dtype=float)
    lows, highs = [], []
    for name in np.unique(groups):
        cg = c[(groups == name) & np.isfinite(c)]
        if cg.size == 0:
            raise DesignSpaceError(f"group {name!r} has no finite complexity values")
        lows.append(cg.min())
        highs.append(cg.max())
    lo, hi = max(lows), min(highs)
    if lo > hi:
        raise DesignSpaceError(
            f"the groups' complexity ranges do not overlap (common range would be [{lo:g}, "
            f"{hi:g}]); a complexity-normalized EDF needs overlapping ranges"
        )
    if log and lo <= 0:
        raise DesignSpaceError("log-spaced complexity bins need positive complexity values")
    return float(lo), float(hi)


def _bin_index(
    c: np.ndarray, lo: float, hi: float, bins: int, log: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Bin of every value among ``bins`` equal bins of [lo, hi] (hi in the last) and the mask
    of values inside the range."""
    t = np.log(c) if log else c
    tlo, thi = (np.log(lo), np.log(hi)) if log else (lo, hi)
    inside = np.isfinite(t) & (c >= lo) & (c <= hi)
    if thi > tlo:
        b = np.floor((t - tlo) / (thi - tlo) * bins)
        b = np.clip(np.nan_to_num(b, nan=0.0), 0, bins - 1).astype(int)
    else:
        b = np.zeros(c.size, dtype=int)
    return b, inside


def _groups(complexity: np.ndarray, groups: object) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(complexity, dtype=float)
    gr = np.zeros(c.size, dtype=object) if groups is None else np.asarray(groups, dtype=object)
    if gr.size != c.size:
        raise DesignSpaceError("normalized_weights: complexity and groups differ in length")
    return c, gr


def max_common_bins(
    complexity: np.ndarray | pd.Series,
    groups: np.ndarray | pd.Series | None = None,
    log: bool = False,
    upper: int = 10,
    range: tuple[float, float] | None = None,
) -> int:
    """The largest number of equal bins (<= ``upper``) of the common complexity range in which
    no group has an empty bin (1 always works: every group has a model in the common range)."""
    c, gr = _groups(complexity, groups)
    lo, hi = range if range is not None else common_range(c, gr, log)
    for bins in np.arange(upper, 0, -1):
        b, inside = _bin_index(c, lo, hi, int(bins), log)
        if all(
            np.all(np.bincount(b[(gr == g) & inside], minlength=bins) > 0) for g in np.unique(gr)
        ):
            return int(bins)
    raise DesignSpaceError(
        f"a group has no model inside the common complexity range [{lo:g}, {hi:g}]"
    )


def normalized_weights(
    complexity: np.ndarray | pd.Series,
    groups: np.ndarray | pd.Series | None = None,
    bins: int = 10,
    log: bool = False,
    range: tuple[float, float] | None = None,
) -> np.ndarray:
    """NDS complexity-normalization weights, one per model (0 outside the common range).

    The common complexity range of all groups (or ``range``) is split into ``bins`` equal-width
    bins (equal width in log space when ``log``), the same bins for every group. A model in a
    bin holding ``c`` models of its group gets the NDS weight ``1 / (c * bins)``: every bin
    carries 1 / bins, so all groups get the same (uniform) complexity distribution and each
    group's weights sum to 1. A bin that is empty in some group would break that; it raises
    DesignSpaceError naming the group and the bin and the bin count that would work
    (:func:`max_common_bins`).
    """
    c, gr = _groups(complexity, groups)
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise DesignSpaceError(f"bins must be an integer >= 1, got {bins}")
    lo, hi = range if range is not None else common_range(c, gr, log)
    b, inside = _bin_index(c, lo, hi, int(bins), log)
    w = np.zeros(c.size)
    for name in np.unique(gr):
        m = (gr == name) & inside
        if not m.any():
            raise DesignSpaceError(
                f"group {name!r} has no model inside the common complexity range [{lo:g}, {hi:g}]"
            )
        counts = np.bincount(b[m], minlength=bins)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            edges = np.geomspace(lo, hi, bins + 1) if log else np.linspace(lo, hi, bins + 1)
            k = empty[0]
            fits = max_common_bins(c, gr, log, upper=int(bins), range=(lo, hi))
            raise DesignSpaceError(
                f"complexity bin {k + 1} of {bins} [{edges[k]:.4g}, {edges[k + 1]:.4g}] holds no "
                f"model of group {name!r} ({empty.size} empty bin(s)); NDS normalization needs "
                f"every bin populated in every group: use {fits} bins or fewer"
            )
        w[m] = 1.0 / (counts[b[m]] * bins)
    return w


def edfs(
    data: pd.DataFrame,
    by: str | None = GROUP,
    metric: str = METRIC,
    normalize: bool = False,
    complexity: str = COMPLEXITY,
    bins: int | None = None,
    log: bool = False,
) -> dict[str, EDF]:
    """One EDF of ``metric`` per group of ``by`` (status != "ok" rows excluded).

    With ``normalize`` the EDFs are NDS complexity-normalized over the groups' common range of
    ``complexity`` (see :func:`normalized_weights`) in ``bins`` bins (None: the most, up to
    10, that leave no bin empty in any group).
    """
    u = usable(data, metric, [complexity] if normalize else [], "EDF").data
    labels = group_labels(u, by)
    w = None
    if normalize:
        c = u[complexity].to_numpy(dtype=float)
        if bins is None:
            bins = max_common_bins(c, labels, log=log, upper=10)
        w = normalized_weights(c, labels, bins=bins, log=log)
    out = {}
    for name in sorted(set(labels)):
        m = labels == name
        out[name] = edf(u[metric].to_numpy()[m], None if w is None else w[m])
    return out
