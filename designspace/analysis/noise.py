"""Training noise: how much a model's error moves when only the training seed changes.

Results with seed replicates hold several rows per architecture (same ``arch_id``, different
``cfg_seed``; see :mod:`designspace.studies.replicate`). From them:

* :func:`noise_floor`: the pooled within-architecture standard deviation
  ``sd = sqrt(sum_i sum_s (e_is - mean_i)^2 / sum_i (n_i - 1))`` over architectures with at
  least two seeds, with a chi-square 95% interval (dof = sum (n_i - 1)). A difference between
  spaces or models is quoted against it ("the median difference 0.012 is 2.1 x the
  seed-to-seed sd"). The sd of a mean of k seeds is sd / sqrt(k).
* :func:`seed_agreement`: rank agreement between seeds over the same architectures - the
  noise ceiling for any rank agreement (e.g. short vs long schedule), which cannot beat the
  agreement of a setting with itself.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis._data import METRIC, usable
from designspace.errors import DesignSpaceError


@dataclass(frozen=True)
class NoiseFloor:
    """Seed-to-seed sd of ``metric`` (fraction), its 95% interval, and what it rests on."""

    sd: float
    sd_low: float
    sd_high: float
    n_archs: int
    n_runs: int
    dof: int
    metric: str = METRIC

    def ratio(self, diff: float) -> float:
        """|diff| in units of the seed-to-seed sd."""
        return abs(float(diff)) / self.sd if self.sd > 0 else float("inf")

    def describe(self, diff: float, what: str = "the median difference") -> str:
        """One phrase: "the median difference 0.012 is 2.1 x the seed-to-seed sd 0.0057"."""
        return f"{what} {diff:.3g} is {self.ratio(diff):.1f} x the seed-to-seed sd {self.sd:.2g}"


def noise_table(
    data: pd.DataFrame, metric: str = METRIC, on: str = "arch_id", seed_column: str = "cfg_seed"
) -> pd.DataFrame:
    """Per architecture: arch_id, n_seeds, mean, sd (ddof 1; nan with one seed)."""
    u = usable(data, metric, [on, seed_column], "noise floor").data
    g = u.groupby(on)[metric]
    out = pd.DataFrame({"n_seeds": g.size(), "mean": g.mean(), "sd": g.std(ddof=1)})
    out.index.name = on
    return out.reset_index()


def noise_floor(
    data: pd.DataFrame, metric: str = METRIC, on: str = "arch_id", seed_column: str = "cfg_seed"
) -> NoiseFloor:
    """Pooled within-architecture sd over seed replicates (module docstring).

    Raises DesignSpaceError when no architecture was trained with two or more seeds.
    """
    u = usable(data, metric, [on, seed_column], "noise floor").data
    dup = u.duplicated([on, seed_column])
    if dup.any():
        raise DesignSpaceError(
            f"{int(dup.sum())} rows repeat an ({on}, {seed_column}) pair; a noise floor needs "
            f"one run per architecture and seed (load each replicate once)"
        )
    g = u.groupby(on)[metric]
    n = g.size()
    ss = g.apply(lambda v: float(np.sum((v - v.mean()) ** 2)))
    multi = n >= 2
    dof = int((n[multi] - 1).sum())
    if dof == 0:
        raise DesignSpaceError(
            f"no architecture has two or more seeds ({seed_column}); train replicates first "
            f"(designspace replicate)"
        )
    var = float(ss[multi].sum() / dof)
    lo = np.sqrt(dof * var / stats.chi2.ppf(0.975, dof))
    hi = np.sqrt(dof * var / stats.chi2.ppf(0.025, dof))
    return NoiseFloor(
        float(np.sqrt(var)),
        float(lo),
        float(hi),
        int(multi.sum()),
        int(n[multi].sum()),
        dof,
        metric,
    )


def seed_agreement(
    data: pd.DataFrame, metric: str = METRIC, on: str = "arch_id", seed_column: str = "cfg_seed"
) -> pd.DataFrame:
    """Spearman and Kendall correlation between every pair of seeds over the architectures
    both trained: columns seed_a, seed_b, spearman, kendall, n."""
    u = usable(data, metric, [on, seed_column], "seed agreement").data
    wide = u.pivot_table(index=on, columns=seed_column, values=metric, aggfunc="mean")
    rows = []
    with warnings.catch_warnings():
        # constant errors have no rank correlation: nan, kept
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        for a, b in combinations(sorted(wide.columns), 2):
            pair = wide[[a, b]].dropna()
            if len(pair) < 3:
                continue
            rows.append(
                dict(
                    seed_a=a,
                    seed_b=b,
                    spearman=float(stats.spearmanr(pair[a], pair[b]).statistic),
                    kendall=float(stats.kendalltau(pair[a], pair[b]).statistic),
                    n=len(pair),
                )
            )
    if not rows:
        raise DesignSpaceError(
            f"seed agreement needs at least two seeds ({seed_column}) of 3 or more common "
            f"architectures"
        )
    return pd.DataFrame(rows)
