"""Which values of a design statistic do the best models prefer? A test with power, plus the
DDS good range as the description.

For each statistic column (b, g, depth, wm, or any numeric column):

* **test**: do the best ``top`` fraction of models (by error, chosen within each stratum -
  each design space when ``by`` is given, so a space's own distribution of the statistic
  cannot masquerade as a preference) differ in the statistic from the rest of their stratum?
  Statistic ``shift`` = mean over the best models of the centred within-stratum rank of the
  statistic, ``(rank - (n_s + 1) / 2) / n_s`` (mid-ranks for ties), in [-0.5, 0.5]; 0 = no
  preference, < 0 = the best models have lower values. Two-sided permutation p-value (labels
  permuted within strata), adjusted over the columns (:mod:`.multiplicity`). The shift's
  interval (``shift_low`` / ``shift_high``, percentile bootstrap with models resampled within
  strata, at the adjusted level) is printed with the verdict, so the verdict needs both:
  "supported" when the adjusted p-value is below alpha AND the interval excludes 0;
  "not supported" when neither; "inconclusive" when they disagree (:mod:`.decide`).
* **description**: the DDS bootstrap good range (:func:`.bootstrap.good_range`, 25% subsamples,
  level 1 - alpha) over all models, and its stability: the range recomputed with every seed of
  ``seeds`` (best_min / best_max, low_min / high_max, ``stable`` when all seeds agree).

Resampling precision: the permutations and bootstrap resamples of a column depend only on
the seed and the column's identity (metric, column, strata) and are nested; the permutation
p-value and the interval endpoints carry Monte-Carlo standard errors (``p_value_mcse``,
``shift_low_mcse``, ``shift_high_mcse``), and a column whose verdict is not the same within 3 of
them gets twice the permutations and resamples, up to 16x (``growth``); then its verdict is
"undecided at this resampling precision" (:func:`.decide.settle`).

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
from designspace.analysis.decide import MC, UNDECIDED, Bound, decide, settle
from designspace.analysis.effects import interval_mcse, keyed_rows, pvalue_mcse
from designspace.analysis.features import STAGE_COLUMNS, add_features
from designspace.analysis.inference import MAX_GROWTH, MC_Z, block_rng
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
    "growth",
    "p_value_mcse",
    "shift_low_mcse",
    "shift_high_mcse",
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


def permute_within(strata: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` permutations (rows) of 0..n-1 that move positions only within a stratum."""
    n = strata.size
    out = np.broadcast_to(np.arange(n), (count, n)).copy()
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        if members.size > 1:
            out[:, members] = rng.permuted(np.broadcast_to(members, (count, members.size)), axis=1)
    return out


def preference_test(
    values: np.ndarray,
    error: np.ndarray,
    strata: np.ndarray,
    top: float = 0.25,
    n_perm: int = 2000,
    seed: int = 0,
    key: str = "preference",
) -> tuple[float, float, np.ndarray]:
    """(shift, two-sided permutation p-value, top mask) of one statistic (module docstring).
    The permutations depend only on ``seed`` and ``key`` and are nested (the first k of
    ``n_perm`` are the permutations of ``n_perm = k``)."""
    mask = top_mask(error, strata, top)
    r = centred_ranks(values, strata)
    shift = float(r[mask].mean())
    null = keyed_rows(
        lambda g, k: r[permute_within(strata, k, g)][:, mask].mean(axis=1),
        n_perm,
        lambda j: block_rng(seed, key, j),
    )
    p = float((1 + np.sum(np.abs(null) >= abs(shift) - 1e-12)) / (1 + n_perm))
    return shift, p, mask


def shift_bootstrap(
    values: np.ndarray,
    error: np.ndarray,
    strata: np.ndarray,
    top: float = 0.25,
    n_boot: int = 2000,
    seed: int = 0,
    key: str = "preference",
) -> np.ndarray:
    """``n_boot`` bootstrap values of the shift: models resampled with replacement within each
    stratum, the top mask and the centred ranks recomputed on every resample. The resamples
    depend only on ``seed``, ``key`` and the stratum, and are nested."""
    total = np.zeros(n_boot)
    n_top = 0
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        n_s = members.size
        k = max(1, int(round(top * n_s)))
        draws = keyed_rows(
            lambda g, m, n_s=n_s: g.integers(0, n_s, size=(m, n_s)),
            n_boot,
            lambda j, s=s: block_rng(seed, f"{key}|boot|{s}", j),
        )
        idx = members[draws]
        ranks = (stats.rankdata(values[idx], axis=1) - (n_s + 1) / 2) / n_s
        best = np.argsort(error[idx], axis=1, kind="stable")[:, :k]
        total += np.take_along_axis(ranks, best, axis=1).sum(axis=1)
        n_top += k
    return total / n_top


def preferences(
    data: pd.DataFrame,
    columns: Sequence[str] = ("b", "g", "depth", "wm"),
    metric: str = METRIC,
    by: str | None = GROUP,
    top: float = 0.25,
    alpha: float = 0.05,
    adjust: str = "holm",
    n_perm: int = 2000,
    n_boot: int = 10_000,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    seed: int = 0,
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
    if n_perm < 100:
        raise DesignSpaceError(f"n_perm must be at least 100, got {n_perm}")
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
        key = f"preference|{metric}|{col}|{by if by in u.columns else ''}"
        shift, p, mask = preference_test(x, err, strata, top, n_perm, seed, key)
        row["_data"] = (x, err, strata, key)
        ranges = [good_range(x, err, n_boot, 0.25, alpha, s) for s in seeds]
        r0 = ranges[0]
        row.update(
            n_top=int(mask.sum()),
            top_median=float(np.median(x[mask])),
            all_median=float(np.median(x)),
            shift=shift,
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
    done = _settle(rows, top, n_perm, min(n_boot, 4000), seed, alpha, adjust, extra)
    joint = adjust_pvalues([r.get("p_value", np.nan) for r in rows] + extra, adjust)
    adjusted, tested = joint[: len(rows)], np.isfinite(joint)
    level = interval_alpha(alpha, int(tested.sum()), adjust, int(np.sum(joint[tested] < alpha)))
    for r, pa in zip(rows, adjusted, strict=True):
        r["p_adjusted"] = pa
        if "verdict" in r:
            continue
        lo, hi = r["shift_low"], r["shift_high"]
        decision = decide(pa, alpha, r["shift"] < 0, [Bound(lo, hi, 0.0, False)])
        significant = decision in ("better", "worse")
        r["verdict"] = done[r["column"]]
        if r["verdict"] == UNDECIDED:
            significant = False
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
            f"{r['shift']:+.3f}, {1 - level:.3g} interval {lo:+.3f} to {hi:+.3f}; permutation "
            f"p = {r['p_value']:.2g}, {adjust}-adjusted {pa:.2g}, {r['n']} models"
            + (
                "; the test and the interval disagree, so nothing is claimed"
                if r["verdict"] == "inconclusive"
                else ""
            )
            + (
                f"; the p-value or the interval stays within {MC_Z:g} Monte-Carlo standard "
                f"errors of its boundary at {r['growth']}x the permutations, so nothing is "
                f"claimed"
                if r["verdict"] == UNDECIDED
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


def _settle(
    rows: list[dict],
    top: float,
    n_perm: int,
    n_boot: int,
    seed: int,
    alpha: float,
    adjust: str,
    others: Sequence[float] = (),
) -> dict[str, str]:
    """Settle the tested rows (those with ``_data``): permutation p-value and shift interval
    from ``growth`` x ``n_perm`` permutations and x ``n_boot`` resamples, ``growth`` doubled
    from 1 while the verdict is not decided (:func:`.decide.settle`), up to ``MAX_GROWTH``.
    Fills p_value, shift_low / shift_high at the final adjusted level, their MC errors and
    growth in each row; returns the verdict of every tested column. ``others``: p-values
    of the family outside these rows (in the adjustment and the interval level). With BH
    the interval level depends on the number of claims, so the settling is repeated until
    it is stable."""
    tested = [r for r in rows if "_data" in r]
    if not tested:
        return {}
    boots: dict[tuple[int, int], np.ndarray] = {}

    def boot(i: int, growth: int) -> np.ndarray:
        if (i, growth) not in boots:
            x, err, strata, key = tested[i]["_data"]
            boots[i, growth] = shift_bootstrap(x, err, strata, top, n_boot * growth, seed, key)
        return boots[i, growth]

    def p_value(i: int, growth: int) -> float:
        x, err, strata, key = tested[i]["_data"]
        return preference_test(x, err, strata, top, n_perm * growth, seed, key)[1]

    def level_of(ps: list[float]) -> float:
        ps = list(ps) + list(others)
        pa = adjust_pvalues(ps, adjust)
        return interval_alpha(alpha, len(ps), adjust, int(np.sum(pa < alpha)))

    level = level_of([r["p_value"] for r in tested])
    for _ in range(3):

        def draw(i: int, growth: int, level: float = level) -> dict[str, MC]:
            b = boot(i, growth)
            lo, hi = np.quantile(b, [level / 2, 1 - level / 2])
            se_lo, se_hi = interval_mcse(b, level)
            p = tested[i]["p_value"] if growth == 1 else p_value(i, growth)
            return dict(
                p=MC(p, pvalue_mcse(p, n_perm * growth)),
                lo=MC(float(lo), se_lo),
                hi=MC(float(hi), se_hi),
            )

        def outcome(i: int, points: Sequence[dict[str, float]]) -> tuple[str]:
            own = list(np.clip([q["p"] for q in points], 0.0, 1.0))
            pa = adjust_pvalues(own + list(others), adjust)[i]
            bound = Bound(points[i]["lo"], points[i]["hi"], 0.0, False)
            return (_verdict(decide(pa, alpha, tested[i]["shift"] < 0, [bound])),)

        done = settle(len(tested), draw, outcome, 1, lambda _i: MAX_GROWTH)
        new_level = level_of([q["p"].value for q in done.quantities])
        if new_level == level:
            break
        level = new_level
    verdicts = {}
    for r, q, growth, out in zip(tested, done.quantities, done.n_boot, done.outcomes, strict=True):
        r.pop("_data")
        r.update(
            p_value=q["p"].value,
            p_value_mcse=q["p"].se,
            shift_low=q["lo"].value,
            shift_high=q["hi"].value,
            shift_low_mcse=q["lo"].se,
            shift_high_mcse=q["hi"].se,
            growth=growth,
        )
        verdicts[r["column"]] = out[0]
    return verdicts
