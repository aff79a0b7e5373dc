"""Multiple-testing control: adjusted p-values and the matching level of confidence intervals.

* ``holm`` (Holm-Bonferroni): controls the family-wise error rate (the chance of any false
  claim among the family) at alpha under any dependence.
* ``bh`` (Benjamini-Hochberg): controls the false discovery rate (the expected fraction of
  false claims among the claims) for independent or positively dependent tests.
* ``none``: raw p-values.

Intervals reported next to adjusted p-values are widened to match: Bonferroni-level
(``alpha / m``, simultaneous coverage) for Holm, the false-coverage-rate level
``alpha * R / m`` (Benjamini and Yekutieli 2005; R = number of claims) for BH.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from designspace.errors import DesignSpaceError

METHODS = ("holm", "bh", "none")


def check_method(method: str) -> str:
    """``method`` if it is a known adjustment, else DesignSpaceError."""
    if method not in METHODS:
        raise DesignSpaceError(
            f"unknown p-value adjustment {method!r}; choose one of {', '.join(METHODS)}"
        )
    return method


def adjust_pvalues(p: ArrayLike, method: str = "holm") -> np.ndarray:
    """Adjusted p-values of the family ``p`` (nan entries are not tests and stay nan).

    Holm: ``p_(i) * (m - i + 1)``, made monotone from the smallest up; BH:
    ``p_(i) * m / i``, made monotone from the largest down; both capped at 1.
    """
    check_method(method)
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise DesignSpaceError("p-values must lie in [0, 1]")
    if method == "none":
        out[ok] = p[ok]
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    rank = np.arange(1, m + 1)
    if method == "holm":
        scaled = np.maximum.accumulate((m - rank + 1) * p[order])
    else:
        scaled = np.minimum.accumulate((p[order] * m / rank)[::-1])[::-1]
    out[order] = np.minimum(scaled, 1.0)
    return out


def interval_alpha(alpha: float, m: int, method: str, n_rejected: int = 0) -> float:
    """Level alpha' of confidence intervals reported next to ``method``-adjusted p-values.

    ``m`` tests in the family; ``n_rejected`` claims (used by BH only). The intervals are
    (1 - alpha') intervals.
    """
    check_method(method)
    if not 0 < alpha < 1:
        raise DesignSpaceError(f"alpha must be in (0, 1), got {alpha}")
    m = max(int(m), 1)
    if method == "holm":
        return alpha / m
    if method == "bh":
        return alpha * max(int(n_rejected), 1) / m
    return alpha
