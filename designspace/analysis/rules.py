"""Deriving the RegNet design principles (DDS sections 3-4) from a population of trained models.

:func:`derive_rules` returns one row of evidence per principle. Two kinds of evidence:

* **Constraints** (shared b, shared g, widths increase, depths increase, near-linear widths):
  one least-squares regression of the error on the indicators ``shared_b``, ``shared_g``,
  ``widths_increase``, ``depths_increase`` and on ``e_fit``, with log2 b, log2 g, total depth,
  its square and log2 flops as controls (each when it varies), pooled over every space in the
  data, so each effect is measured holding the others fixed (the AnyNetX spaces nest their
  constraints, so raw group differences would mix them). ``effect`` is the change in error (a
  fraction) when the rule is followed: the indicator's coefficient, and for linear widths the
  coefficient times the e_fit spread from the 90th to the 10th percentile (negative = following
  the rule lowers the error). Intervals and p-values use heteroscedasticity-robust (HC1)
  standard errors and the t distribution.
* **Good ranges** (best b, g, depth, wm): the DDS bootstrap of :mod:`.bootstrap`. ``effect`` is
  the concentration ``1 - width / null width`` of the 95% interval of the best models'
  statistic; the null comes from ``n_perm`` permutations of the statistic among models of the
  same stratum (same space when a ``space`` column exists, and same pattern of the four
  constraint indicators), which keeps each space's own distribution of the statistic but breaks
  its link to the error. ``p_value`` is the permutation p-value. Widths are measured in log2 for
  b, g and wm. ``ci_low`` / ``ci_high`` are the good range itself.

Verdicts use Holm-adjusted p-values (``p_adjusted``) over all the rules tested together, so the
chance of claiming any rule that does not hold stays at most ``alpha``:

* growth, linearity and range rules: "supported" when significant in the claimed direction,
  "contradicted" when significant the other way (for best b: the best models prefer b != 1),
  "not supported" otherwise;
* sharing rules (their claim is that sharing costs nothing): "contradicted" when sharing is
  significantly worse, "supported" when the upper confidence limit of its cost is below
  ``tolerance``, "inconclusive" otherwise;
* "too little data" when fewer than ``min_models`` models are usable or fewer than
  ``min_group`` fall on one side of an indicator; "not testable" when the data hold no variation
  in it (e.g. a space that fixes shared b).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from designspace.analysis._data import METRIC, stage_lists, usable
from designspace.analysis.bootstrap import best_positions
from designspace.analysis.features import STAGE_COLUMNS, add_features
from designspace.analysis.fit import FitGrid

COLUMNS = [
    "rule",
    "claim",
    "verdict",
    "effect",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "n",
    "sentence",
]

_CONSTRAINTS = {
    "shared_b": ("one bottleneck ratio b for all stages costs nothing", "sharing b"),
    "shared_g": ("one group width g for all stages costs nothing", "sharing g"),
    "widths_increase": ("stage widths that grow (w_i+1 >= w_i) lower the error", "growing widths"),
    "depths_increase": ("stage depths that grow (d_i+1 >= d_i) lower the error", "growing depths"),
    "linear_widths": (
        "near-linear width growth (low e_fit) lowers the error",
        "low e_fit (near-linear widths)",
    ),
}
_INDICATORS = ("shared_b", "shared_g", "widths_increase", "depths_increase")
_RANGES = {
    "best_b": ("b", True, "the best models use b = 1"),
    "good_g": ("g", True, "the best models have group widths in a narrow range"),
    "good_depth": ("depth", False, "the best models have depths in a narrow range"),
    "good_wm": ("wm", True, "the best models have width multipliers wm in a narrow range"),
}
_NULL_BOOT = 2000  # bootstrap picks per permutation: enough to measure an interval's width


def derive_rules(
    data: pd.DataFrame,
    metric: str = METRIC,
    alpha: float = 0.05,
    tolerance: float = 0.005,
    min_models: int = 30,
    min_group: int = 10,
    n_boot: int = 10_000,
    n_perm: int = 1000,
    seed: int = 0,
    grid: FitGrid | None = None,
) -> pd.DataFrame:
    """Evidence for each RegNet principle in ``data`` (one or several spaces' results).

    Returns one row per rule with columns rule, claim, verdict, effect, ci_low, ci_high,
    p_value, p_adjusted, n, sentence (effects in error fractions; see the module docstring).
    ``tolerance`` is the largest error increase (fraction) that still counts as "costs
    nothing". Existing fit columns (fit_w0, fit_wa, fit_wm, e_fit) are reused.
    """
    u = usable(data, metric, STAGE_COLUMNS, "derive_rules")
    n = len(u.data)
    if n < min_models:
        rows = [
            dict(
                rule=rule,
                claim=claim,
                verdict="too little data",
                n=n,
                sentence=f"Too little data: {n} usable models, at least {min_models} needed.",
            )
            for rule, claim in _claims()
        ]
        return pd.DataFrame(rows, columns=COLUMNS)
    d = add_features(u.data, fit=True, grid=grid)
    err = d[metric].to_numpy(dtype=float)
    rows = _constraint_estimates(d, err, alpha, min_group)
    strata = _strata(d)
    for i, (rule, (col, log, claim)) in enumerate(_RANGES.items()):
        values, name = _range_statistic(d, col)
        rows.append(
            _range_estimate(
                rule, claim, name, values, err, strata, log, alpha, n_boot, n_perm, seed + i
            )
        )
    p = np.array([r.get("p_value", np.nan) for r in rows], dtype=float)
    adjusted = holm(p)
    for r, pa in zip(rows, adjusted, strict=True):
        r["p_adjusted"] = pa
        if "verdict" not in r:
            _decide(r, alpha, tolerance)
        r.pop("_say", None)
    return pd.DataFrame(rows, columns=COLUMNS)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (nan entries are ignored and stay nan)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(scaled, 1.0)
    return out


def _claims() -> list[tuple[str, str]]:
    return [(k, v[0]) for k, v in _CONSTRAINTS.items()] + [(k, v[2]) for k, v in _RANGES.items()]


def _untestable(rule: str, claim: str, why: str, n: int) -> dict:
    return dict(
        rule=rule,
        claim=claim,
        verdict=why.split(":")[0],
        n=n,
        sentence=why[0].upper() + why[1:] + ".",
    )


def _constraint_estimates(
    d: pd.DataFrame, err: np.ndarray, alpha: float, min_group: int
) -> list[dict]:
    n = err.size
    columns: list[np.ndarray] = [np.ones(n)]
    names: list[str] = ["intercept"]
    status: dict[str, str] = {}
    spread = 0.0
    for rule in _CONSTRAINTS:
        if rule == "linear_widths":
            x = d["e_fit"].to_numpy(dtype=float)
            spread = float(np.quantile(x, 0.9) - np.quantile(x, 0.1))
            if spread <= 0:
                status[rule] = "not testable: nearly every model has the same e_fit"
                continue
            # coefficient = error change from the 90th to the 10th e_fit percentile
            x = -(x - np.median(x)) / spread
        else:
            x = d[rule].to_numpy(dtype=bool).astype(float)
            k = int(x.sum())
            if k in (0, n):
                which = "satisfies" if k == n else "violates"
                status[rule] = (
                    f"not testable: every model {which} it (its space fixes it); "
                    f"add results of a space where it varies"
                )
                continue
            if min(k, n - k) < min_group:
                status[rule] = (
                    f"too little data: only {min(k, n - k)} models "
                    f"{'satisfy' if k < n - k else 'violate'} it, at least "
                    f"{min_group} needed"
                )
                continue
        if _adds_rank(columns, x):
            columns.append(x)
            names.append(rule)
        else:
            status[rule] = (
                "not testable: in these results it cannot be separated from " + ", ".join(names[1:])
            )
    # controls: the other design choices, so that e.g. a b effect (b also changes how widths
    # round, hence e_fit) is not credited to a rule
    depth = np.array([x.sum() for x in stage_lists(d, "depths")])
    controls = {
        "log2_b": np.log2(d["b"].to_numpy(dtype=float)),
        "log2_g": np.log2(d["g"].to_numpy(dtype=float)),
        "depth": depth,
        "depth^2": (depth - depth.mean()) ** 2,
    }
    if "flops" in d.columns:
        flops = pd.to_numeric(d["flops"], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            controls["log2_flops"] = np.log2(flops)
    for name, x in controls.items():
        if np.all(np.isfinite(x)) and np.std(x) > 0 and _adds_rank(columns, x):
            columns.append(x - x.mean())
            names.append(name)
    coef, lo, hi, p = _ols_hc1(np.column_stack(columns), err, alpha)
    rows = []
    for rule, (claim, label) in _CONSTRAINTS.items():
        if rule in status:
            rows.append(_untestable(rule, claim, status[rule], n))
            continue
        i = names.index(rule)
        say = f"{coef[i]:+.4f} (95% CI {lo[i]:+.4f} to {hi[i]:+.4f}"
        if rule == "linear_widths":
            say = f"{say}; e_fit from the 90th to the 10th percentile, a drop of {spread:.3f}"
        rows.append(
            dict(
                rule=rule,
                claim=claim,
                effect=coef[i],
                ci_low=lo[i],
                ci_high=hi[i],
                p_value=p[i],
                n=n,
                _say=(label, say),
            )
        )
    return rows


def _decide(r: dict, alpha: float, tolerance: float) -> None:
    """Set verdict and sentence of an estimated rule from its adjusted p-value."""
    label, est = r["_say"]
    pa, eff = r["p_adjusted"], r["effect"]
    tail = f", p = {r['p_value']:.2g}, Holm-adjusted {pa:.2g})"
    significant = pa < alpha
    rule = r["rule"]
    if rule.startswith("shared"):
        if significant and eff > 0:
            r["verdict"], say = "contradicted", f"{label} raises the error by {est}{tail}"
        elif r["ci_high"] < tolerance:
            r["verdict"], say = (
                "supported",
                (
                    f"{label} costs nothing: error change {est}{tail}"
                    f", below the tolerance {tolerance:g}"
                ),
            )
        else:
            r["verdict"], say = (
                "inconclusive",
                (
                    f"{label} changes the error by {est}{tail}; too uncertain to rule out a cost "
                    f"of {tolerance:g}"
                ),
            )
        say += ", holding the other properties fixed"
    elif rule in _CONSTRAINTS:
        if significant:
            r["verdict"] = "supported" if eff < 0 else "contradicted"
            verb = "lowers" if eff < 0 else "raises"
            say = f"{label} {verb} the error: change {est}{tail}"
        else:
            r["verdict"], say = "not supported", f"{label} shows no significant effect: {est}{tail}"
        say += ", holding the other properties fixed"
    else:
        name, span = label, est
        if significant and rule == "best_b" and r["best"] != 1:
            r["verdict"] = "contradicted"
            say = f"The best models prefer b = {r['best']:.3g}, not 1: 95% of them lie in {span}"
        elif significant:
            r["verdict"], say = "supported", f"The best models concentrate at {name} in {span}"
        else:
            r["verdict"] = "not supported"
            say = f"No preferred {name}: the best models spread over {span} as chance would"
        say += (
            f"; concentration {eff:.2f} vs chance (permutation p = {r['p_value']:.2g}, "
            f"Holm-adjusted {pa:.2g}, {r['n']} models)"
        )
    r["sentence"] = say[0].upper() + say[1:] + "."
    r.pop("best", None)


def _adds_rank(columns: list[np.ndarray], x: np.ndarray) -> bool:
    a = np.column_stack(columns)
    return np.linalg.matrix_rank(np.column_stack([a, x])) > np.linalg.matrix_rank(a)


def _ols_hc1(
    x: np.ndarray, y: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """OLS coefficients with HC1 robust confidence intervals and two-sided t p-values."""
    n, k = x.shape
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    bread = np.linalg.pinv(x.T @ x)
    meat = (x * resid[:, None] ** 2).T @ x
    dof = max(n - k, 1)
    se = np.sqrt(np.maximum(np.diag(bread @ meat @ bread * n / dof), 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, coef / se, np.inf * np.sign(coef))
    p = np.where(np.isnan(t), 1.0, 2 * stats.t.sf(np.abs(t), dof))
    q = stats.t.ppf(1 - alpha / 2, dof)
    return coef, coef - q * se, coef + q * se, p


def _strata(d: pd.DataFrame) -> np.ndarray:
    """Stratum id per model: space (when present) x pattern of the constraint indicators."""
    keys = [d[c].astype(str).to_numpy() for c in ("space", *_INDICATORS) if c in d.columns]
    joined = np.array(["|".join(parts) for parts in zip(*keys, strict=True)])
    return np.unique(joined, return_inverse=True)[1]


def _range_statistic(d: pd.DataFrame, col: str) -> tuple[np.ndarray, str]:
    """The statistic's values per model and its name in sentences."""
    if col == "wm":
        # a RegNet space's own wm when the results carry it, else the fitted one
        if "wm" in d.columns:
            return pd.to_numeric(d["wm"], errors="coerce").to_numpy(dtype=float), "wm"
        return d["fit_wm"].to_numpy(dtype=float), "wm (fitted)"
    if col == "depth" and "depth" not in d.columns:
        return np.array([x.sum() for x in stage_lists(d, "depths")]), col
    return pd.to_numeric(d[col], errors="coerce").to_numpy(dtype=float), col


def _permute_within(strata: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` permutations (rows) of 0..n-1 that move models only within their stratum."""
    n = strata.size
    out = np.broadcast_to(np.arange(n), (count, n)).copy()
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        if members.size > 1:
            shuffled = rng.permuted(np.broadcast_to(members, (count, members.size)), axis=1)
            out[:, members] = shuffled
    return out


def _range_estimate(
    rule: str,
    claim: str,
    col: str,
    stat: np.ndarray,
    err: np.ndarray,
    strata: np.ndarray,
    log: bool,
    alpha: float,
    n_boot: int,
    n_perm: int,
    seed: int,
) -> dict:
    ok = np.isfinite(stat) & np.isfinite(err) & ((stat > 0) if log else True)
    s, e, st = stat[ok], err[ok], strata[ok]
    n = int(s.size)
    if n == 0 or np.all(s == s[0]):
        what = "no model has it" if n == 0 else f"every model has {col} = {s[0]:g}"
        return _untestable(rule, claim, f"not testable: {what}; add results where {col} varies", n)
    t = np.log2(s) if log else s
    pick = best_positions(e, n_boot, 0.25, seed)
    lo, best, hi = np.quantile(s[pick], [alpha / 2, 0.5, 1 - alpha / 2], method="inverted_cdf")
    # the test statistic: width of the interval of the best models' statistic, observed vs
    # permuted within strata (the bootstrap picks depend on the errors only, so they are reused)
    sub = pick[:_NULL_BOOT]
    width = _widths(t[sub][None, :], alpha)[0]
    rng = np.random.default_rng(seed + 1)
    null = np.concatenate(
        [
            _widths(t[_permute_within(st, min(250, n_perm - i), rng)[:, sub]], alpha)
            for i in range(0, n_perm, 250)
        ]
    )
    null_med = float(np.median(null))
    effect = 1.0 - width / null_med if null_med > 0 else 0.0
    p = float((1 + np.sum(null <= width)) / (1 + n_perm))
    span = f"[{lo:.3g}, {hi:.3g}] (best {best:.3g})"
    return dict(
        rule=rule,
        claim=claim,
        effect=effect,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        n=n,
        best=best,
        _say=(col, span),
    )


def _widths(values: np.ndarray, alpha: float) -> np.ndarray:
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2], axis=1, method="inverted_cdf")
    return hi - lo
