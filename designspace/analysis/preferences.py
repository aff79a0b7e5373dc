"""Which values of a design statistic do the best models prefer? A test with power, plus the
DDS good range as the description.

For each statistic column (b, g, depth, wm, or any numeric column):

* **test**: do the best ``top`` fraction of models (by error, chosen within each stratum -
  each design space when ``by`` is given, so a space's own distribution of the statistic
  cannot masquerade as a preference) differ in the statistic from the rest of their stratum?
  Statistic ``shift`` = mean over the best models of the centred within-stratum rank of the
  statistic, ``(rank - (n_s + 1) / 2) / n_s`` (mid-ranks for ties), in [-0.5, 0.5]; 0 = no
  preference, < 0 = the best models have lower values. Two-sided p-value of the
  within-stratum permutation test (labels permuted within strata) from the normal
  approximation with the permutation distribution's exact mean 0 and variance
  ``sum_s k_s (n_s - k_s) / (n_s (n_s - 1)) sum_i c_i^2 / K^2`` (k_s best of n_s models in
  stratum s, c_i their centred ranks, K = sum k_s; the van Elteren construction), adjusted over
  the columns (:mod:`.multiplicity`). The shift's interval (``shift_low`` / ``shift_high``,
  at the adjusted level) is that test inverted, shift -+ z se, so the verdict ("supported"
  when the adjusted p-value is below alpha AND the interval excludes 0; "not supported" when
  neither; "inconclusive" when they disagree, :mod:`.decide`) cannot depend on a resampling
  seed. ``experiments/preference_test.py`` checks the p-value against the exact permutation
  test and the interval's coverage on planted preferences.
* **description**: the DDS bootstrap good range (:func:`.bootstrap.good_range`, 25% subsamples,
  level 1 - alpha) over all models, and its stability: the range recomputed with every seed of
  ``seeds`` (best_min / best_max, low_min / high_max, ``stable`` when all seeds agree).

Columns ``b`` / ``g`` are the geometric means over stages, ``depth`` the total depth and ``wm``
the fitted width multiplier (``fit_wm``) unless the results carry a ``wm`` value for the row
(see :mod:`.features`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis._data import GROUP, METRIC, group_labels, require_columns, usable
from designspace.analysis.bootstrap import good_range
from designspace.analysis.decide import Bound, decide
from designspace.analysis.features import STAGE_COLUMNS, add_features
from designspace.analysis.multiplicity import adjust_pvalues, check_method, interval_alpha
from designspace.errors import DesignSpaceError

COLUMNS = [
    "column",
    "n",
    "n_top",
    "top_median",
    "all_median",
    "shift",
    "shift_low",
    "shift_high",
    "p_value",
    "p_adjusted",
    "verdict",
    "direction",
    "range_low",
    "range_best",
    "range_high",
    "best_min",
    "best_max",
    "low_min",
    "high_max",
    "stable",
    "shift_se",
    "sentence",
]


def statistic_values(data: pd.DataFrame, column: str) -> np.ndarray:
    """The per-model values of ``column`` (see the module docstring for b, g, depth, wm)."""
    if column == "wm":
        fitted = data["fit_wm"].to_numpy(dtype=float)
        if "wm" in data.columns:
            own = pd.to_numeric(data["wm"], errors="coerce").to_numpy(dtype=float)
            return np.where(np.isfinite(own), own, fitted)
        return fitted
    if column == "depth" and "depth" not in data.columns:
        return np.array([float(np.sum(x)) for x in data["depths"]])
    return pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)


def top_mask(error: np.ndarray, strata: np.ndarray, top: float) -> np.ndarray:
    """True for the ``max(1, round(top * n_s))`` lowest-error models of every stratum."""
    mask = np.zeros(error.size, dtype=bool)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        k = max(1, int(round(top * idx.size)))
        mask[idx[np.argsort(error[idx], kind="stable")[:k]]] = True
    return mask


def centred_ranks(values: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """(mid-rank - (n_s + 1) / 2) / n_s of every value within its stratum."""
    out = np.zeros(values.size)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        out[idx] = (stats.rankdata(values[idx]) - (idx.size + 1) / 2) / idx.size
    return out


def preference_test(
    values: np.ndarray, error: np.ndarray, strata: np.ndarray, top: float = 0.25
) -> tuple[float, float, float, np.ndarray]:
    """(shift, two-sided p-value, its standard error under the permutation null, top mask)
    of one statistic (module docstring); deterministic."""
    mask = top_mask(error, strata, top)
    r = centred_ranks(values, strata)
    shift = float(r[mask].mean())
    var = 0.0
    for s in np.unique(strata):
        members = strata == s
        n, k = int(members.sum()), int((mask & members).sum())
        if n > 1:
            var += k * (n - k) / (n * (n - 1)) * float(np.sum(r[members] ** 2))
    se = float(np.sqrt(var)) / int(mask.sum())
    if se == 0:
        return shift, 1.0, 0.0, mask
    return shift, float(2 * stats.norm.sf(abs(shift) / se)), se, mask


def preferences(
    data: pd.DataFrame,
    columns: Sequence[str] = ("b", "g", "depth", "wm"),
    metric: str = METRIC,
    by: str | None = GROUP,
    top: float = 0.25,
    alpha: float = 0.05,
    adjust: str = "holm",
    n_boot: int = 10_000,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    others: Sequence[float] = (),
) -> pd.DataFrame:
    """Preference of the best models for each statistic column; one row per column.

    ``others``: raw p-values of the other members of these columns' family (e.g. the nested
    steps of a study's confirmatory family, :mod:`.family`; nan = not a test): the adjustment
    and the interval level run over the columns' p-values plus these.

    ``by`` None (or a column absent from the data) pools all models in one stratum. Columns
    b, g, depth and wm are derived from the per-stage lists when missing. See the module
    docstring for the test and columns; ``verdict`` is "supported" when the adjusted p-value
    is below ``alpha`` and the shift interval excludes 0, "not supported" when neither,
    "inconclusive" when they disagree ("not testable" when the column never varies within a
    stratum).
    """
    check_method(adjust)
    if not 0 < top < 1:
        raise DesignSpaceError(f"top must be a fraction in (0, 1), got {top}")
    u = usable(data, metric, what="preferences").data
    derived = {"b", "g", "wm"} | ({"depth"} if "depth" not in u.columns else set())
    if derived & set(columns) - set(u.columns) or "wm" in columns:
        require_columns(u, STAGE_COLUMNS, "preferences of b, g, depth or wm")
        u = add_features(u, fit="wm" in columns)
    require_columns(u, [c for c in columns if c not in ("wm", "depth")], "preferences")
    strata_all = group_labels(u, by if by in u.columns else None)
    err_all = u[metric].to_numpy(dtype=float)
    rows = []
    for col in columns:
        x = statistic_values(u, col)
        ok = np.isfinite(x)
        x, err, strata = x[ok], err_all[ok], strata_all[ok]
        row: dict = dict(column=col, n=int(x.size))
        varies = any(np.ptp(x[strata == s]) > 0 for s in np.unique(strata)) if x.size else False
        if not varies:
            row.update(
                verdict="not testable",
                direction="",
                sentence=f"Not testable: {col} does not vary within any stratum.",
            )
            rows.append(row)
            continue
        shift, p, se, mask = preference_test(x, err, strata, top)
        ranges = [good_range(x, err, n_boot, 0.25, alpha, s) for s in seeds]
        r0 = ranges[0]
        row.update(
            n_top=int(mask.sum()),
            top_median=float(np.median(x[mask])),
            all_median=float(np.median(x)),
            shift=shift,
            shift_se=se,
            p_value=p,
            direction="lower" if shift < 0 else "higher",
            range_low=r0.low,
            range_best=r0.best,
            range_high=r0.high,
            best_min=min(r.best for r in ranges),
            best_max=max(r.best for r in ranges),
            low_min=min(r.low for r in ranges),
            high_max=max(r.high for r in ranges),
            stable=len({(r.low, r.best, r.high) for r in ranges}) == 1,
        )
        rows.append(row)
    extra = [float(p) for p in others if np.isfinite(p)]
    joint = adjust_pvalues([r.get("p_value", np.nan) for r in rows] + extra, adjust)
    adjusted, tested = joint[: len(rows)], np.isfinite(joint)
    level = interval_alpha(alpha, int(tested.sum()), adjust, int(np.sum(joint[tested] < alpha)))
    z = float(stats.norm.ppf(1 - level / 2))
    for r, pa in zip(rows, adjusted, strict=True):
        r["p_adjusted"] = pa
        if "verdict" in r:
            continue
        lo, hi = r["shift"] - z * r["shift_se"], r["shift"] + z * r["shift_se"]
        r["shift_low"], r["shift_high"] = lo, hi
        decision = decide(pa, alpha, r["shift"] < 0, [Bound(lo, hi, 0.0, False)])
        significant = decision in ("better", "worse")
        r["verdict"] = _verdict(decision)
        within = f" within each {by}" if by in u.columns else ""
        lead = (
            f"The best {top:.0%} of models{within} have {r['direction']} {r['column']} than "
            f"the rest"
            if significant
            else f"No preference shown: the best {top:.0%} of models{within} have {r['column']} "
            f"like the rest"
        )
        r["sentence"] = (
            f"{lead} (median {r['top_median']:.3g} vs {r['all_median']:.3g}; shift "
            f"{r['shift']:+.3f}, {1 - level:.3g} interval {lo:+.3f} to {hi:+.3f}; "
            f"within-stratum permutation test p = {r['p_value']:.2g}, {adjust}-adjusted "
            f"{pa:.2g}, {r['n']} models"
            + (
                "; the test and the interval disagree, so nothing is claimed"
                if r["verdict"] == "inconclusive"
                else ""
            )
            + f"). DDS good range [{r['range_low']:.3g}, "
            f"{r['range_high']:.3g}] (best {r['range_best']:.3g}); over {len(seeds)} bootstrap "
            f"seeds the best value spans {r['best_min']:.3g}-{r['best_max']:.3g}"
            f"{' (stable)' if r['stable'] else ''}."
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _verdict(decision: str) -> str:
    """A preference verdict from :func:`.decide.decide`'s decision."""
    return {"none": "not supported", "disagree": "inconclusive"}.get(decision, "supported")
