"""Good ranges of a design statistic by the empirical bootstrap of DDS (section 3).

Repeat ``n_boot`` times (10^4 in DDS): draw ``frac`` (25%) of the (statistic, error) pairs with
replacement and keep the statistic of the lowest-error pair. The (1 - alpha) percentile
interval of the kept values is the likely range of the best models; their median is the best
value. Percentiles use numpy's "inverted_cdf" rule, so every reported value is one that some
model has. Ties in error go to the first drawn pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from designspace.analysis._data import METRIC, group_labels, group_order, usable
from designspace.errors import DesignSpaceError


@dataclass(frozen=True)
class GoodRange:
    """The bootstrap good range of one statistic: [low, high] at level 1 - alpha, best value."""

    low: float
    best: float
    high: float
    n: int
    n_boot: int
    frac: float
    alpha: float


def best_of_subsamples(
    statistic: np.ndarray | pd.Series,
    error: np.ndarray | pd.Series,
    n_boot: int = 10_000,
    frac: float = 0.25,
    seed: int = 0,
) -> np.ndarray:
    """The ``n_boot`` bootstrap values: statistic of the lowest-error pair of each subsample.

    Each subsample has max(1, round(frac * n)) pairs drawn with replacement.
    """
    s = np.asarray(statistic, dtype=float)
    e = np.asarray(error, dtype=float)
    if s.shape != e.shape or s.ndim != 1:
        raise DesignSpaceError("statistic and error must be 1-d arrays of the same length")
    keep = np.isfinite(s) & np.isfinite(e)
    s, e = s[keep], e[keep]
    if s.size == 0:
        raise DesignSpaceError("good range: no model has both a finite statistic and an error")
    return s[best_positions(e, n_boot, frac, seed)]


def best_positions(
    error: np.ndarray, n_boot: int = 10_000, frac: float = 0.25, seed: int = 0
) -> np.ndarray:
    """Index of the lowest-error pair of each of ``n_boot`` subsamples (see module docstring).

    The positions depend on the errors only, so a permutation test can reuse them with
    shuffled statistics.
    """
    e = np.asarray(error, dtype=float)
    if not 0 < frac <= 1:
        raise DesignSpaceError(f"frac must be in (0, 1], got {frac}")
    if e.size == 0:
        raise DesignSpaceError("good range: no models to resample")
    m = max(1, int(round(frac * e.size)))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, e.size, size=(n_boot, m))
    return idx[np.arange(n_boot), np.argmin(e[idx], axis=1)]


def good_range(
    statistic: np.ndarray | pd.Series,
    error: np.ndarray | pd.Series,
    n_boot: int = 10_000,
    frac: float = 0.25,
    alpha: float = 0.05,
    seed: int = 0,
) -> GoodRange:
    """DDS good range of ``statistic`` given each model's ``error`` (fractions)."""
    best = best_of_subsamples(statistic, error, n_boot, frac, seed)
    lo, med, hi = np.quantile(best, [alpha / 2, 0.5, 1 - alpha / 2], method="inverted_cdf")
    n = int(np.sum(np.isfinite(np.asarray(statistic, float)) & np.isfinite(np.asarray(error))))
    return GoodRange(float(lo), float(med), float(hi), n, n_boot, frac, alpha)


def good_ranges(
    data: pd.DataFrame,
    statistics: Sequence[str],
    metric: str = METRIC,
    by: str | None = None,
    n_boot: int = 10_000,
    frac: float = 0.25,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Good ranges of several statistic columns, per group of ``by`` (or over all rows).

    Returns one row per (group, statistic): n, low, best, high, data_min, data_max.
    """
    u = usable(data, metric, statistics, "good ranges").data
    labels = group_labels(u, by)
    rows = []
    for name in group_order(labels):
        m = labels == name
        for col in statistics:
            s = pd.to_numeric(u[col], errors="coerce").to_numpy(dtype=float)[m]
            if not np.isfinite(s).any():
                raise DesignSpaceError(f"good ranges: column '{col}' has no numeric values")
            r = good_range(s, u[metric].to_numpy()[m], n_boot, frac, alpha, seed)
            rows.append(
                dict(
                    group=name,
                    statistic=col,
                    n=r.n,
                    low=r.low,
                    best=r.best,
                    high=r.high,
                    data_min=np.nanmin(s),
                    data_max=np.nanmax(s),
                )
            )
    return pd.DataFrame(rows)
