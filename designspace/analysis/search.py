"""Random-search efficiency (NDS): the expected best error among k random models of a space.

For a pool of n evaluated models with errors sorted ascending e_(1) <= ... <= e_(n), drawing k
of them uniformly without replacement gives P(best = e_(i)) = C(n - i, k - 1) / C(n, k), so
the expected best error is exact, with no simulation. Bands: a percentile bootstrap over the
pool (uncertainty of the curve) and the 25th / 75th percentiles of the best error itself
(spread of one search of size k). Errors are fractions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import gammaln

from designspace.analysis._data import GROUP, METRIC, group_labels, group_order, usable
from designspace.errors import DesignSpaceError


def _log_comb(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        out = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    return np.where((k >= 0) & (k <= n), out, -np.inf)


def min_of_k_probabilities(n: int, ks: Sequence[int]) -> np.ndarray:
    """Matrix P (n, len(ks)): P[i, j] = probability that the best of ks[j] draws is the
    (i+1)-th smallest of n (draws without replacement); columns sum to 1."""
    ks = np.asarray(ks, dtype=float)
    if np.any(ks < 1) or np.any(ks > n):
        raise DesignSpaceError(f"every k must be in 1..{n} (the number of models)")
    i = np.arange(1, n + 1, dtype=float)[:, None]
    return np.exp(_log_comb(n - i, ks[None, :] - 1) - _log_comb(float(n), ks)[None, :])


def expected_best(errors: np.ndarray | pd.Series, ks: Sequence[int]) -> np.ndarray:
    """Exact expected lowest error among k models drawn without replacement, per k."""
    e = np.sort(np.asarray(errors, dtype=float))
    return e @ min_of_k_probabilities(e.size, ks)


def search_efficiency(
    data: pd.DataFrame,
    by: str | None = GROUP,
    metric: str = METRIC,
    ks: Sequence[int] | None = None,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Expected best ``metric`` of a random search of k models, per group of ``by``.

    ``ks`` defaults to about 12 sizes from 1 to n, log-spaced (sizes above a group's n are
    skipped). Returns columns group, k, expected_best, ci_low, ci_high (bootstrap, level
    1 - alpha), q25, q75 (of the best error of one search) and n.
    """
    u = usable(data, metric, what="random-search efficiency").data
    labels = group_labels(u, by)
    rng = np.random.default_rng(seed)
    rows = []
    for name in group_order(labels):
        e = np.sort(u[metric].to_numpy(dtype=float)[labels == name])
        n = e.size
        sizes = sorted({int(k) for k in (ks or np.geomspace(1, n, 12).round()) if 1 <= k <= n})
        if not sizes:
            raise DesignSpaceError(f"no search size k fits in group {name!r} ({n} models)")
        p = min_of_k_probabilities(n, sizes)
        mean = e @ p
        boot = np.sort(e[rng.integers(0, n, size=(n_boot, n))], axis=1) @ p
        lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=0)
        cdf = np.cumsum(p, axis=0)
        q25 = e[np.argmax(cdf >= 0.25 - 1e-12, axis=0)]
        q75 = e[np.argmax(cdf >= 0.75 - 1e-12, axis=0)]
        for j, k in enumerate(sizes):
            rows.append(
                dict(
                    group=name,
                    k=k,
                    expected_best=mean[j],
                    ci_low=lo[j],
                    ci_high=hi[j],
                    q25=q25[j],
                    q75=q75[j],
                    n=n,
                )
            )
    return pd.DataFrame(rows)
