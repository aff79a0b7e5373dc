"""In-sample evidence for refine candidates: which constraint makes good models more likely?

The first stage of ``designspace refine`` (issue 21, item 2). Every candidate constraint of the
catalog (:mod:`designspace.core.constraints`) gives each model of a population a graded score
in [0, 1] (1.0 exactly when the model satisfies it: the share of stage steps where widths
grow, the share of stages with b = 1, ...). :func:`rank_candidates` asks, per candidate,
whether models that score higher have lower error *at the same complexity*:

* the statistic is the partial Spearman correlation ``rho`` between the score and the error,
  controlling for log flops: the three variables are ranked (average ranks for ties), the flops
  rank is regressed out of the score rank and of the error rank (least squares with an
  intercept), and ``rho`` is the Pearson correlation of the two residuals. Negative ``rho``:
  models closer to satisfying the constraint have lower error. Controlling for flops matters
  because inside a complexity band many constraints move flops (and flops move error), so a
  constraint must help beyond what its flops explain;
* the p-value is two-sided, from the t distribution with ``n - 3`` degrees of freedom
  (``t = rho * sqrt((n - 3) / (1 - rho^2))``); the family is every testable candidate, adjusted
  by Holm (:func:`designspace.analysis.multiplicity.adjust_pvalues`);
* the interval is Fisher's z with the Bonett & Wright (2000) standard error for Spearman's rho,
  ``sqrt((1 + rho^2 / 2) / (n - 3))``, at the Holm-consistent (Bonferroni) level
  ``1 - alpha / m`` for ``m`` testable candidates (column ``interval_level``), so an interval
  that excludes 0 is at least as strict as the test. It is an approximation: its end can sit
  close to 0 when the t test's p is close to the threshold.

Everything is deterministic (no resampling): a verdict cannot depend on a seed. Only
``share_kept`` (from :func:`shares_kept`, which samples the parent) uses one.

Verdicts: ``supported`` (rho < 0 and Holm p < alpha), ``harmful`` (rho > 0 and Holm p <
alpha), ``inconclusive``, or ``not testable`` - fewer than ``min_side`` models have a score
other than the most common one (this covers a constant score and a pass/fail score with fewer
than ``min_side`` models on either side), the score is a function of the flops rank, or there
are fewer than 4 models. At most one candidate is ``adopted``: the best supported one (the
smallest Holm p, then the most negative rho); none when nothing is supported. Selecting among
many candidates overstates the winner, which is why a refine round confirms the adopted one on
fresh samples.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis._data import COMPLEXITY, METRIC, usable
from designspace.analysis.multiplicity import adjust_pvalues, interval_alpha
from designspace.core.arch import Architecture
from designspace.core.regimes import Regime
from designspace.core.spaces import Space
from designspace.errors import DesignSpaceError

if TYPE_CHECKING:  # the catalog module; only its protocol is used here
    from designspace.core.constraints import Constraint

__all__ = [
    "COLUMNS",
    "VERDICTS",
    "candidate_scores",
    "partial_spearman",
    "rank_candidates",
    "shares_kept",
]

#: The verdicts of :func:`rank_candidates`.
VERDICTS = ("supported", "harmful", "inconclusive", "not testable")
#: The columns of :func:`rank_candidates`' frame, in order.
COLUMNS = (
    "rank",
    "constraint",
    "kind",
    "feature",
    "sentence",
    "syntax",
    "verdict",
    "adopted",
    "n",
    "n_satisfied",
    "share_population",
    "share_kept",
    "median_satisfied",
    "median_rest",
    "diff_median",
    "rho",
    "rho_low",
    "rho_high",
    "interval_level",
    "p_value",
    "p_adjusted",
    "evidence",
)
_RHO_CLIP = 1 - 1e-12  # |rho| = 1 gives an infinite t and Fisher z


# ----------------------------------------------------------------------------- scores
def candidate_scores(archs: Sequence[Architecture], candidates: Sequence[Constraint]) -> np.ndarray:
    """Each candidate's graded score of each architecture: shape (models, candidates), float.

    ``score`` is in [0, 1] and 1.0 exactly when the architecture satisfies the candidate (see
    :class:`designspace.core.constraints.Constraint`). A score outside [0, 1] or not finite is
    a bug in the candidate and raises DesignSpaceError naming it.
    """
    out = np.empty((len(archs), len(candidates)), dtype=float)
    for j, cand in enumerate(candidates):
        for i, arch in enumerate(archs):
            out[i, j] = float(cand.score(arch))
        bad = ~np.isfinite(out[:, j]) | (out[:, j] < 0) | (out[:, j] > 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DesignSpaceError(
                f"candidate {cand.id} scored model {i} {out[i, j]!r}; a score must lie in "
                f"[0, 1] - fix the constraint's score()"
            )
    return out


def shares_kept(
    parent: Space,
    candidates: Sequence[Constraint],
    regime: Regime | str,
    *,
    n: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """The share of the parent space each candidate keeps: of ``n`` distinct draws of
    ``parent`` in ``regime``'s complexity band (:func:`designspace.core.sampling.sample`
    with ``seed``), the fraction that satisfy it (0..1), by candidate id in the given order.

    A Monte-Carlo estimate (standard error at most ``0.5 / sqrt(n)``): the only number of the
    refine evidence that depends on a seed.
    """
    from designspace.core.sampling import sample  # the sampler is heavier than the rest

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DesignSpaceError(f"shares_kept needs n >= 1 draws, got {n!r}")
    draws = sample(parent, n, seed, regime).archs
    return {c.id: float(np.mean([bool(c.satisfied(a)) for a in draws])) for c in candidates}


# ----------------------------------------------------------------------------- statistic
def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks of every column (ties share their mean rank)."""
    return stats.rankdata(values, axis=0)


def _residuals(y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Least-squares residuals of every column of ``y`` (n, k) on ``z`` (n,) with an intercept."""
    zc = z - z.mean()
    yc = y - y.mean(axis=0)
    slope = (zc @ yc) / (zc @ zc) if zc @ zc > 0 else np.zeros(y.shape[1])
    return yc - np.outer(zc, slope)


def partial_spearman(
    x: np.ndarray, y: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Partial Spearman correlation of each column of ``x`` with ``y``, given ``z``.

    ``x``: (n,) or (n, k) scores; ``y``: (n,) errors; ``z``: (n,) the control (log flops; any
    monotone transform gives the same ranks). Returns ``(rho, p, df)``: rho (k,) with NaN where
    a residual has no variance, two-sided p (k,) from the t distribution with ``df = n - 3``
    degrees of freedom.
    """
    x = np.asarray(x, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    y = np.asarray(y, dtype=float)
    z = np.asarray(z, dtype=float)
    n = x.shape[0]
    if y.shape != (n,) or z.shape != (n,):
        raise DesignSpaceError(
            f"partial_spearman needs x, y and z with the same number of rows, got {x.shape[0]}, "
            f"{y.shape} and {z.shape}"
        )
    rz = _ranks(z)
    ex = _residuals(_ranks(x), rz)
    ey = _residuals(_ranks(y)[:, None], rz)[:, 0]
    sxx = (ex**2).sum(axis=0)
    syy = float(ey @ ey)
    scale = np.sqrt(sxx * syy)
    # a residual that is zero up to rounding (a score that is a function of the flops rank)
    tiny = 1e-9 * n**3  # rank sums of squares are of order n^3
    ok = (sxx > tiny) & (syy > tiny)
    rho = np.full(x.shape[1], np.nan)
    rho[ok] = (ex[:, ok].T @ ey) / scale[ok]
    rho = np.clip(rho, -1.0, 1.0)
    df = n - 3
    p = np.full(x.shape[1], np.nan)
    if df >= 1:
        r = np.clip(rho[ok], -_RHO_CLIP, _RHO_CLIP)
        t = r * np.sqrt(df / (1 - r**2))
        p[ok] = 2 * stats.t.sf(np.abs(t), df)
    return rho, p, df


def _fisher_interval(rho: float, n: int, a: float) -> tuple[float, float]:
    """Fisher-z interval of a Spearman rho at level 1 - a, Bonett & Wright's standard error."""
    r = float(np.clip(rho, -_RHO_CLIP, _RHO_CLIP))
    se = math.sqrt((1 + r**2 / 2) / (n - 3))
    h = float(stats.norm.ppf(1 - a / 2)) * se
    z = math.atanh(r)
    return math.tanh(z - h), math.tanh(z + h)


# ----------------------------------------------------------------------------- ranking
def _population(
    frame: pd.DataFrame, parent: Space, metric: str, need_archs: bool
) -> tuple[pd.DataFrame, np.ndarray]:
    """The usable rows of the parent's population and their positions in ``frame``."""
    if not isinstance(frame, pd.DataFrame):
        raise DesignSpaceError(
            f"rank_candidates needs a results DataFrame, got {type(frame).__name__}"
        )
    work = frame.reset_index(drop=True)
    columns = [COMPLEXITY, *(["arch_json"] if need_archs else [])]
    data = usable(work, metric, columns, what="refine evidence").data
    if "space" in data.columns:
        names = data["space"].astype(str)
        if names.nunique() > 1:
            if not (names == parent.name).any():
                raise DesignSpaceError(
                    f"the results hold spaces {sorted(names.unique())[:6]} but not "
                    f"{parent.name}; pass the parent's population (or filter the frame)"
                )
            data = data[names == parent.name]
    flops = pd.to_numeric(data[COMPLEXITY], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(flops) | (flops <= 0)
    if bad.any():
        raise DesignSpaceError(
            f"refine evidence needs positive flops in every usable row; {int(bad.sum())} rows "
            f"have none (e.g. row {int(data.index[np.flatnonzero(bad)[0]])}): recount them "
            f"with designspace sample or drop them"
        )
    return data, data.index.to_numpy()


def _check_candidates(parent: Space, candidates: Sequence[Constraint]) -> None:
    if len(candidates) == 0:
        raise DesignSpaceError(
            "rank_candidates needs at least one candidate; build them with "
            "designspace.core.constraints.catalog(parent, archs)"
        )
    ids = [c.id for c in candidates]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise DesignSpaceError(f"candidate ids must be unique; repeated: {dup[:5]}")
    for c in candidates:
        made_for = getattr(c.parent, "name", None)
        if made_for != parent.name:
            raise DesignSpaceError(
                f"candidate {c.id} was made for space {made_for}, not {parent.name}; build the "
                f"catalog for {parent.name}"
            )


def _p_text(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


def _evidence(r: dict, graded: bool, m: int, min_side: int) -> str:
    """One sentence with the numbers of one candidate's row."""
    quoted = f'"{r["sentence"]}"'
    if r["verdict"] == "not testable":
        return (
            f"not testable: {r['_off_mode']} of {r['n']} models score other than the most "
            f"common value (need {min_side}) or the score follows flops; {r['n_satisfied']} "
            f"satisfy {quoted}"
        )
    subject = "models closer to satisfying it" if graded else "models that satisfy it"
    if r["verdict"] == "supported":
        head = f"{subject} have lower error"
    elif r["verdict"] == "harmful":
        head = f"{subject} have higher error"
    else:
        head = f"no clear relation between {'closeness to ' if graded else ''}{quoted} and error"
    level = f"{100 * r['interval_level']:.3g}%"
    stat = (
        f"partial Spearman rho {r['rho']:+.2f} [{r['rho_low']:+.2f}, {r['rho_high']:+.2f}] "
        f"({level} interval) given flops, Holm p {_p_text(r['p_adjusted'])} over {m} "
        f"candidates, n {r['n']}"
    )
    k = r["n_satisfied"]
    verb = "satisfies" if k == 1 else "satisfy"
    if k == 0:
        tail = "none satisfy it"
    elif np.isfinite(r["diff_median"]):
        tail = f"{k} {verb} it (median error {r['median_satisfied']:.3f} vs {r['median_rest']:.3f})"
    else:
        tail = f"{k} {verb} it (too few on one side to compare medians)"
    return f"{head}: {stat}; {tail}"


def rank_candidates(
    frame: pd.DataFrame,
    parent: Space,
    candidates: Sequence[Constraint],
    *,
    metric: str = METRIC,
    alpha: float = 0.05,
    shares: Mapping[str, float] | None = None,
    scores: np.ndarray | None = None,
    min_side: int = 5,
) -> pd.DataFrame:
    """Rank every candidate constraint by the in-sample evidence of ``frame``, the parent's
    population (see the module docstring for the statistic, the interval and the verdicts).

    ``frame``: results in the sweep's schema (``metric`` an error fraction, ``flops``
    multiply-adds, ``arch_json`` unless ``scores`` is given); rows with status != "ok" or no
    metric are dropped, and when the frame holds several spaces only ``parent.name``'s rows
    are used. ``scores``: precomputed :func:`candidate_scores` of ``frame``'s rows (one row per
    row of ``frame`` as passed, one column per candidate), to rank many error columns over the
    same architectures without rescoring. ``shares``: candidate id -> share of the parent kept
    (:func:`shares_kept`), shown as ``share_kept`` (NaN where not given); it never changes a
    verdict. ``min_side``: the fewest models that must score other than the most common value
    for a candidate to be testable, and the fewest on each side for ``diff_median``.

    Returns one row per candidate, best first (``rank`` 1): candidates with rho < 0 by Holm p
    then rho, then those with rho >= 0 by descending Holm p (least harmful first), then the
    untestable ones. Columns :data:`COLUMNS`: ``n`` models used, ``n_satisfied`` with score
    1, ``share_population`` = n_satisfied / n, median errors of the satisfying models and the
    rest and their difference (satisfied - rest; NaN when a side has fewer than ``min_side``),
    ``rho`` with its interval (``rho_low``, ``rho_high`` at ``interval_level``), ``p_value``,
    ``p_adjusted`` (Holm over the testable candidates), ``verdict``, ``adopted`` (True for at
    most one row) and ``evidence``, one sentence with the numbers.
    """
    if not (isinstance(alpha, float | int) and not isinstance(alpha, bool) and 0 < alpha < 1):
        raise DesignSpaceError(f"alpha must be in (0, 1), got {alpha!r}")
    if isinstance(min_side, bool) or not isinstance(min_side, int) or min_side < 1:
        raise DesignSpaceError(f"min_side must be a whole number >= 1, got {min_side!r}")
    _check_candidates(parent, candidates)
    data, rows = _population(frame, parent, metric, need_archs=scores is None)
    k = len(candidates)
    if scores is None:
        archs = [Architecture.from_json(str(j)) for j in data["arch_json"]]
        s = candidate_scores(archs, candidates)
    else:
        full = np.asarray(scores, dtype=float)
        if full.shape != (len(frame), k):
            raise DesignSpaceError(
                f"scores must have one row per row of the frame and one column per candidate, "
                f"shape ({len(frame)}, {k}); got {full.shape}"
            )
        s = full[rows]
        if not (np.isfinite(s).all() and (s >= 0).all() and (s <= 1).all()):
            raise DesignSpaceError("scores must be finite and lie in [0, 1]; recompute them")
    err = data[metric].to_numpy(dtype=float)
    log_flops = np.log(pd.to_numeric(data[COMPLEXITY]).to_numpy(dtype=float))
    n = err.size

    satisfied = s == 1.0
    off_mode = np.array([n - np.unique(col, return_counts=True)[1].max() for col in s.T])
    graded = np.array([np.unique(col).size > 2 for col in s.T])
    if n >= 4:
        rho, p, _ = partial_spearman(s, err, log_flops)
    else:
        rho, p = np.full(k, np.nan), np.full(k, np.nan)
    testable = (off_mode >= min_side) & np.isfinite(p)
    p = np.where(testable, p, np.nan)
    rho = np.where(testable, rho, np.nan)
    p_adj = adjust_pvalues(p, "holm")
    m = int(testable.sum())
    a_int = interval_alpha(alpha, m, "holm")

    records = []
    for j, cand in enumerate(candidates):
        sat = satisfied[:, j]
        n_sat = int(sat.sum())
        med_s = float(np.median(err[sat])) if n_sat else math.nan
        med_r = float(np.median(err[~sat])) if n_sat < n else math.nan
        diff = med_s - med_r if min(n_sat, n - n_sat) >= min_side else math.nan
        lo = hi = math.nan
        if testable[j]:
            lo, hi = _fisher_interval(float(rho[j]), n, a_int)
            sig = p_adj[j] < alpha
            verdict = "supported" if sig and rho[j] < 0 else "harmful" if sig else "inconclusive"
        else:
            verdict = "not testable"
        records.append(
            {
                "constraint": cand.id,
                "kind": cand.kind,
                "feature": cand.feature,
                "sentence": cand.sentence(),
                "syntax": cand.syntax(),
                "verdict": verdict,
                "adopted": False,
                "n": n,
                "n_satisfied": n_sat,
                "share_population": n_sat / n,
                "share_kept": float(shares[cand.id])
                if shares is not None and cand.id in shares
                else math.nan,
                "median_satisfied": med_s,
                "median_rest": med_r,
                "diff_median": diff,
                "rho": float(rho[j]),
                "rho_low": lo,
                "rho_high": hi,
                "interval_level": 1 - a_int if testable[j] else math.nan,
                "p_value": float(p[j]),
                "p_adjusted": float(p_adj[j]),
                "_off_mode": int(off_mode[j]),
                "_graded": bool(graded[j]),
            }
        )

    def order(r: dict) -> tuple:
        if r["verdict"] == "not testable":
            return (2, 0.0, 0.0, r["constraint"])
        if r["rho"] < 0:
            return (0, r["p_adjusted"], r["rho"], r["constraint"])
        return (1, -r["p_adjusted"], r["rho"], r["constraint"])

    records.sort(key=order)
    supported = [r for r in records if r["verdict"] == "supported"]
    if supported:
        min(supported, key=lambda r: (r["p_adjusted"], r["rho"], r["constraint"]))["adopted"] = True
    for i, r in enumerate(records, start=1):
        r["rank"] = i
        r["evidence"] = _evidence(r, r["_graded"], m, min_side)
    out = pd.DataFrame.from_records(records)
    return out[list(COLUMNS)]
