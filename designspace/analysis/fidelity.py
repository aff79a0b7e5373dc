"""Checking the method's assumptions: do two result sets rank the same models alike?

The chapter's assumptions 2 and 3 (and NDS) rely on cheap proxies - short schedules, small data,
low resolution - ranking models as the expensive setting would. :func:`rank_agreement` joins
two result sets on ``arch_id`` (repeated evaluations of one architecture are averaged) and
reports Spearman's rho, Kendall's tau and the top-k overlap with percentile-bootstrap intervals
over the joined models.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis._data import METRIC, usable
from designspace.errors import DesignSpaceError


def join_results(
    a: pd.DataFrame,
    b: pd.DataFrame,
    metric: str = METRIC,
    metric_b: str | None = None,
    on: str = "arch_id",
    min_models: int = 5,
) -> pd.DataFrame:
    """Per ``on`` key, the mean ``metric`` in ``a`` (column "a") and ``metric_b`` in ``b``
    (column "b"), for keys present in both (status "ok" rows only); at least ``min_models``
    (>= 3) keys must join."""
    metric_b = metric_b or metric
    ua = usable(a, metric, [on], "rank agreement (first results)").data
    ub = usable(b, metric_b, [on], "rank agreement (second results)").data
    ma = ua.groupby(on)[metric].mean().rename("a")
    mb = ub.groupby(on)[metric_b].mean().rename("b")
    joined = pd.concat([ma, mb], axis=1, join="inner")
    if len(joined) < max(3, min_models):
        raise DesignSpaceError(
            f"rank agreement needs at least {max(3, min_models)} models evaluated in both "
            f"result sets (joined on "
            f"'{on}'), found {len(joined)}; run both settings on the same sampled models"
        )
    return joined


def rank_agreement(
    a: pd.DataFrame,
    b: pd.DataFrame,
    metric: str = METRIC,
    metric_b: str | None = None,
    on: str = "arch_id",
    top_k: Sequence[float] = (0.1, 0.25),
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    min_models: int = 5,
) -> pd.DataFrame:
    """Rank agreement of two result sets over the same models (``min_models``: see
    :func:`join_results`).

    ``top_k`` entries below 1 are fractions of the joined models, others counts; the top-k
    overlap is the fraction of a's k best models that are among b's k best (chance level
    k / n in column "chance"). Returns one row per statistic (spearman, kendall, top_<k>) with
    value, ci_low, ci_high (bootstrap, level 1 - alpha), chance and n.
    """
    j = join_results(a, b, metric, metric_b, on, min_models)
    xa, xb = j["a"].to_numpy(dtype=float), j["b"].to_numpy(dtype=float)
    n = xa.size
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    rows = []

    ra = stats.rankdata(xa[idx], axis=1)
    rb = stats.rankdata(xb[idx], axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot_rho = (ra * rb).sum(1) / np.sqrt((ra**2).sum(1) * (rb**2).sum(1))

    with warnings.catch_warnings():
        # a resample with constant errors has no defined tau; it is dropped below as nan
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        boot_tau = np.array([stats.kendalltau(xa[i], xb[i]).statistic for i in idx])
        tau = stats.kendalltau(xa, xb).statistic
        rho = stats.spearmanr(xa, xb).statistic
    rows.insert(0, ("spearman", rho, boot_rho, np.nan))
    rows.append(("kendall", tau, boot_tau, np.nan))

    for t in top_k:
        k = int(round(t * n)) if t < 1 else int(t)
        if not 1 <= k <= n:
            raise DesignSpaceError(f"top_k {t} gives k = {k}, outside 1..{n} joined models")
        value = _overlap(xa[None, :], xb[None, :], k)[0]
        rows.append((f"top_{k}", value, _overlap(xa[idx], xb[idx], k), k / n))

    out = []
    for name, value, boot, chance in rows:
        boot = boot[np.isfinite(boot)]
        lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2]) if boot.size else (np.nan, np.nan)
        out.append(
            dict(
                statistic=name,
                value=float(value),
                ci_low=float(lo),
                ci_high=float(hi),
                chance=chance,
                n=n,
            )
        )
    return pd.DataFrame(out).set_index("statistic")


def _overlap(xa: np.ndarray, xb: np.ndarray, k: int) -> np.ndarray:
    """Per row: fraction of the k lowest positions by xa that are among the k lowest by xb."""
    rows = np.arange(xa.shape[0])[:, None]
    in_a = np.zeros(xa.shape, dtype=bool)
    in_b = np.zeros(xb.shape, dtype=bool)
    in_a[rows, np.argsort(xa, axis=1, kind="stable")[:, :k]] = True
    in_b[rows, np.argsort(xb, axis=1, kind="stable")[:, :k]] = True
    return (in_a & in_b).sum(axis=1) / k
