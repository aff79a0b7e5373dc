"""Fitting the RegNet quantized linear rule to any model's per-block widths (DDS section 4).

For a model with per-block widths ``w_j`` (j = 0..d-1, d fixed by the model), search
(w0, wa, wm) so that the quantized rule

    u_j = w0 + wa * j;  s_j = round(log(u_j / w0) / log(wm));  w_pred_j = round(w0 * wm^s_j / q) * q

(numpy rounding, half to even; the one implementation is
:func:`designspace.core.regnet.quantized_widths`) matches best, measured by the fit error
``e_fit = mean_j |log w_j - log w_pred_j|`` (natural log). Widths are channels; e_fit is
unitless.

**A range that provably suffices** (per model). Let ``T = ceil(max_j w_j / q) * q`` (the
smallest multiple of q that is at least every width): a prediction >= T is >= every width, so
among predictions >= T the smallest fits best. Then

1. ``w0 <= T``: with w0 >= T every prediction is >= w0 >= T, and (w0 = T, wa = 0) predicts T
   everywhere, no worse.
2. ``wm <= W = 1.01 * max(T / q, x_d)``, x_d the root of ``x + sqrt(x) + 1 = d - 1`` (1 when
   d <= 4): take a candidate with wm > W > T / w0. Its blocks with s_j = 0 (j < j1) predict w0; the
   others predict at least round(w0 * wm / q) * q >= T. The candidate (same w0, wm' = W,
   wa = w0 * c with c just above (sqrt(W) - 1) / j1) gives s = 0 for j < j1 and s = 1 for
   every j >= j1 (the last block stays below level 1.5 because (d - 1) / j1 < W + sqrt(W) + 1),
   so its blocks j >= j1 predict round(w0 * W / q) * q, between T and the candidate's
   predictions: no worse, block by block.
3. ``wa <= T * sqrt(wm)``: for given (w0, wm) let L be the first level with
   round(w0 * wm^L / q) * q >= T; once wa > w0 * (wm^(L - 1/2) - 1) every block j >= 1 sits at
   level >= L, and lowering wa to just above that bound lowers no level below L and raises
   none, so no prediction moves away from its width. As w0 * wm^(L - 1) < T, that bound is
   below T * sqrt(wm).

4. Per w0, ``wm <= U(w0) = min_m max(1.01 z_m, wm_T)^m`` over the m with
   max(1.01 z_m, wm_T) >= wm_lo (else W), where wm_T = (T - q / 2) / w0 is the smallest wm
   whose level 1 predicts >= T and z_m the root of (d - 1)(sqrt(x) - 1) = x^(m + 1/2) - 1 (1
   when there is none above 1): take wm >= p^m with p = max(1.01 z_m, wm_T). Every block of a
   candidate at wm is at level 0 (predicting w0, j < j1) or predicts at least
   round(w0 wm / q) q >= round(w0 p^m / q) q >= T. At wm' = p with c just above
   (sqrt(p) - 1) / j1 the same blocks are at level 0 and the others at levels 1..m (the last
   block stays below level m + 1/2 by the choice of z_m), predicting between T and
   round(w0 p^m / q) q: no worse, block by block. The scan (below) skips w0 x wm beyond U.

So no e_fit outside [q, T] x [0, T sqrt(W)] x [wm_lo, W] beats the best inside it: the upper
limits never stop a fit, and ``fit_at_edge`` flags only fits that a wm below the lower limit
``wm_lo`` (1.05) would improve (:func:`at_edge`).

**The slope is solved exactly** (:func:`best_slopes`): for fixed (w0, wm) the levels depend
on c = wa / w0 only, block j moves up one level at c = (wm^(k - 1/2) - 1) / j, and a sweep
through the sorted breakpoints gives e_fit on every interval of c (item 3 ends the sweep).

**The search over (w0, wm).** With the slope exact, e_fit is a piecewise-constant function of
(w0, wm) whose cells can be narrow (a cell ends where some w0 * wm^k / q crosses a half-integer,
i.e. where a predicted width changes, or where two slope breakpoints swap). Block 0 always
predicts w0, and the optimum typically predicts some of the model's own widths exactly, so

1. *scan*: w0 at each of the model's own widths (rounded to q) +- ``offsets`` q and at
   q .. ``small`` q, x wm over [wm_lo, U(w0)] in steps of ``ratio`` (2%);
2. *beam*: the ``beam`` best cells of the scan (distinct wm) are searched again with
   ``fine`` wm values across the cell's two neighbouring scan steps (61: 30x finer), w0 +- q;
3. *polish*: around the best, w0 +- 2q x wm within a factor 1.08 (33 values).

Every e_fit returned is recomputed from its (w0, wa, wm) with :func:`quantized_widths`. The
search is not proven global in (w0, wm); ``tests/test_analysis_fit.py`` compares it with a
brute force over every w0 <= T and 1500 wm values (exact slopes, :func:`dense_search`),
``benchmarks/bench_analysis.py`` times both, and ``experiments/fit_check.py`` counts the
committed studies' architectures on which the brute force does better.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from designspace.analysis._data import block_widths as _block_widths
from designspace.core.regnet import quantized_widths
from designspace.errors import DesignSpaceError

__all__ = [
    "FitGrid",
    "RegNetFit",
    "at_edge",
    "best_slopes",
    "dense_search",
    "fit_block_widths",
    "fit_regnet",
    "fit_widths",
    "quantized_widths",
    "search_bounds",
]

# the polish step's window around the best of the beam: wm within a factor 1.08 (33 values),
# w0 within 2 q
_POLISH_SPAN = 1.08


@dataclass(frozen=True)
class FitGrid:
    """Settings of the (w0, wm) search (module docstring); the slope is always exact.

    ``q``: the width quantum (channels). ``wm_lo``: the lower limit of wm (> 1; the upper
    limits are provable, see :func:`search_bounds`). ``ratio``: the wm step of the scan.
    ``offsets``: w0 is tried at each of the model's own widths +- 0..offsets x q; ``small``:
    and at q .. small x q. ``beam``: scan cells searched again on a grid ``fine`` points per
    2 x ``ratio`` span. Coarser settings (e.g. ``FitGrid(ratio=1.06, beam=2, fine=21)``)
    are faster and may miss narrow optima.
    """

    q: int = 8
    wm_lo: float = 1.05
    ratio: float = 1.02
    offsets: int = 2
    small: int = 4
    beam: int = 8
    fine: int = 61

    def __post_init__(self) -> None:
        if self.q < 1 or not self.wm_lo > 1 or not self.ratio > 1:
            raise DesignSpaceError("FitGrid needs q >= 1, wm_lo > 1 and ratio > 1")
        if self.offsets < 0 or self.small < 0 or self.beam < 0 or self.fine < 3:
            raise DesignSpaceError("FitGrid needs offsets, small, beam >= 0 and fine >= 3")


@dataclass(frozen=True)
class RegNetFit:
    """Best (w0, wa, wm) for one model (w0 and wa in channels), its fit error, the predicted
    per-block widths, and whether a wm below the search's lower limit fits better
    (``at_edge``)."""

    w0: float
    wa: float
    wm: float
    e_fit: float
    widths: np.ndarray
    at_edge: bool = False


def search_bounds(widths: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per model (rows of ``widths``, shape (M, d)): T (the smallest multiple of q >= every
    width; w0 never needs to exceed it), the wm limit W = 1.01 max(T / q, x_d) and the wa limit
    T sqrt(W) beyond which no fit improves (module docstring, items 1-3)."""
    widths = np.asarray(widths, dtype=float)
    d = widths.shape[1]
    t = np.ceil(widths.max(axis=1) / q) * q
    # x + sqrt(x) + 1 = d - 1, solved for y = sqrt(x): y^2 + y + 2 - d = 0
    x_d = ((-1 + np.sqrt(1 + 4 * (d - 2))) / 2) ** 2 if d > 4 else 1.0
    wm_hi = 1.01 * np.maximum(t / q, x_d)
    return t, wm_hi, t * np.sqrt(wm_hi)


def best_slopes(
    log_w: np.ndarray, w0: np.ndarray, wm: np.ndarray, t: float, q: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact minimum of e_fit over the slope for every pair of ``w0`` (A,) x ``wm`` (B,) of
    one model (log widths ``log_w``, natural log of channels); returns (wa, e_fit) arrays of
    shape (A, B), wa in channels per block.

    With w0 and wm fixed, the levels s_j depend on c = wa / w0 only and block j moves up one
    level at c = (wm^(k - 1/2) - 1) / j; sweeping c through the sorted breakpoints changes
    one block at a time, so a cumulative sum of the error changes gives e_fit on every
    interval of c. The sweep stops once block 1 reaches the first level whose width is >= t
    (module docstring, item 3).
    """
    d = log_w.size
    w0 = np.asarray(w0, dtype=float)[:, None]  # (A, 1)
    wm = np.asarray(wm, dtype=float)[None, :]  # (1, B)
    lw = np.log(wm)
    base = np.abs(log_w[None, None, :] - np.log(w0)[..., None]).sum(-1) + 0 * wm  # (A, B)
    if d == 1:
        return np.zeros_like(base), base
    lvl = np.maximum(1, np.ceil(np.log(np.maximum(t - q / 2, w0) / w0) / lw)).astype(int)
    while True:
        short = np.round(w0 * wm**lvl / q) * q < t
        if not short.any():
            break
        lvl = lvl + short
    c_stop = wm ** (lvl - 0.5) - 1  # (A, B)
    n_lvl = int((lvl + np.ceil(np.log(d - 1) / lw) + 1).max())
    k = np.arange(1, n_lvl + 1)
    # the error of a block at a level depends on its width only: computed per distinct width
    widths, width_id = np.unique(log_w[1:], return_inverse=True)
    # levels far past a column's sweep end can overflow when one call mixes small and large
    # wm: widths are capped (finite steps, never reached) and breakpoints become inf (last)
    with np.errstate(over="ignore"):
        grow = np.minimum(w0[..., None] * wm[..., None] ** np.arange(n_lvl + 1), 1e300)
        bp = (wm[0, :, None, None] ** (k[None, None, :] - 0.5) - 1) / np.arange(1, d)[None, :, None]
    v = np.log(np.round(grow / q) * q)
    err = np.abs(widths[None, None, :, None] - v[:, :, None, :])  # (A, B, U, levels + 1)
    step = np.diff(err, axis=-1).reshape(*base.shape, -1)  # block of width u moves to level k
    # the breakpoints and their order depend on wm only: sorted once per wm
    bp = bp.reshape(wm.shape[1], -1)
    source = (width_id[:, None] * n_lvl + (k - 1)[None, :]).ravel()
    order = np.argsort(bp, axis=1, kind="stable")
    bp = np.take_along_axis(bp, order, axis=1)  # (B, n)
    # breakpoints past every row's sweep end are never needed: cut them before the sums
    cut = max(
        int(np.searchsorted(bp[b], c_stop[:, b].max() * (1 + 1e-12), side="right"))
        for b in range(bp.shape[0])
    )
    cut = min(cut + 1, bp.shape[1])
    bp, order = bp[:, :cut], order[:, :cut]
    index = np.broadcast_to(source[order][None], (step.shape[0], *order.shape))
    total = np.cumsum(np.take_along_axis(step, index, axis=2), axis=2)
    nxt = np.concatenate([bp[:, 1:], np.full((bp.shape[0], 1), np.inf)], axis=1)
    # a state exists on (bp_i, bp_i+1) only when that interval is not empty (tied breakpoints
    # move blocks together). States past a row's sweep end are kept: they exist and are no
    # better than the one just after the end (module docstring, item 3), so the minimum holds.
    total += base[..., None]
    total += np.where(nxt > bp * (1 + 1e-12), 0.0, np.inf)[None]
    i = np.argmin(total, axis=2)
    e = np.take_along_axis(total, i[..., None], axis=2)[..., 0]
    cols = np.arange(bp.shape[0])[None, :]
    lo, hi = bp[cols, i], nxt[cols, i]
    c = np.where(np.isfinite(hi), 0.5 * (lo + hi), lo * 1.001)
    zero = base <= e
    return np.where(zero, 0.0, w0 * c), np.where(zero, base, e) / d


def _exact_errors(
    log_w: np.ndarray, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray, q: int
) -> np.ndarray:
    """e_fit of each row's own (w0, wa, wm), computed with :func:`quantized_widths`."""
    pred = quantized_widths(log_w.shape[-1], w0, wa, wm, q)
    return np.abs(log_w - np.log(pred)).mean(axis=-1)


class _Best:
    """The best (w0, wa, wm, e_fit) of one model seen so far."""

    def __init__(self, log_w: np.ndarray, q: int) -> None:
        self.log_w, self.q = log_w, q
        self.w0, self.wa, self.wm, self.e = float(q), 0.0, 2.0, np.inf

    def offer(self, w0: np.ndarray, wm: np.ndarray, wa: np.ndarray, e: np.ndarray) -> None:
        """Take the best cell of an (A, B) evaluation of :func:`best_slopes` if it is better."""
        a, b = np.unravel_index(int(np.argmin(e)), e.shape)
        if e[a, b] < self.e - 1e-12:
            self.w0, self.wa, self.wm = float(w0[a]), float(wa[a, b]), float(wm[b])
            self.e = float(_exact_errors(self.log_w, self.w0, self.wa, self.wm, self.q))


@lru_cache(maxsize=256)
def _z_levels(d: int, levels: int = 64) -> np.ndarray:
    """z_m, m = 1..levels: the root above 1 of (d - 1)(sqrt(x) - 1) = x^(m + 1/2) - 1, or 1
    when the left side never exceeds the right (module docstring, item 4)."""
    m = np.arange(1, levels + 1, dtype=float)
    lo, hi = np.zeros(levels), np.full(levels, np.log(1e6))  # bisection on log x
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        x = np.exp(mid)
        above = (d - 1) * (np.sqrt(x) - 1) > x ** (m + 0.5) - 1
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return np.exp(hi)


def _wm_upper(w0: np.ndarray, d: int, t: float, q: int, wm_lo: float, wm_hi: float) -> np.ndarray:
    """U(w0) (module docstring, item 4), at most ``wm_hi``: for each w0, no wm above it fits
    better than some wm in [wm_lo, U]."""
    pivot = np.maximum(1.01 * _z_levels(d)[None, :], (t - q / 2) / w0[:, None] * (1 + 1e-9))
    power = pivot ** np.arange(1, pivot.shape[1] + 1)[None, :]
    bound = np.where(pivot >= wm_lo, power, np.inf).min(axis=1)
    return np.minimum(bound, wm_hi)


def _chunks(wm: np.ndarray, spread: float = 1.3, most: int = 32) -> list[slice]:
    """Consecutive slices of the sorted ``wm`` values for one :func:`best_slopes` call each.
    Its cost follows the largest level count, about 1 / log(wm), so a slice spans at most a
    factor ``spread`` in log(wm) (and ``most`` values)."""
    out, lo = [], 0
    lw = np.log(wm)
    while lo < wm.size:
        hi = lo + 1
        while hi < wm.size and hi - lo < most and lw[hi] <= spread * lw[lo]:
            hi += 1
        out.append(slice(lo, hi))
        lo = hi
    return out


def _fit_one(log_w: np.ndarray, grid: FitGrid) -> tuple[float, float, float, float]:
    """Search (w0, wm) for one model (module docstring: scan, beam, polish); returns
    (w0, wa, wm, e_fit)."""
    q = grid.q
    t, wm_hi, _ = (float(x[0]) for x in search_bounds(np.exp(log_w)[None, :], q))
    best = _Best(log_w, q)
    if log_w.size == 1 or wm_hi <= grid.wm_lo:
        w0 = np.clip(np.round(np.exp(log_w[:1]) / q) * q, q, t)
        best.offer(w0, np.array([2.0]), *best_slopes(log_w, w0, np.array([2.0]), t, q))
        return best.w0, best.wa, best.wm, best.e
    own = np.unique(np.round(np.exp(log_w) / q) * q)
    near = (own[:, None] + q * np.arange(-grid.offsets, grid.offsets + 1)[None, :]).ravel()
    w0 = np.unique(np.clip(np.concatenate([near, q * np.arange(1, grid.small + 1)]), q, t))
    n = max(2, int(np.ceil(np.log(wm_hi / grid.wm_lo) / np.log(grid.ratio))) + 1)
    wm = np.geomspace(grid.wm_lo, wm_hi, n)
    # rows by their wm bound, largest first: a chunk of wm evaluates the rows that reach it
    upper = _wm_upper(w0, log_w.size, t, q, grid.wm_lo, wm_hi)
    rank = np.argsort(-upper, kind="stable")
    w0, upper = w0[rank], upper[rank]
    scan = np.full((w0.size, n), np.inf)
    for part in _chunks(wm):
        rows = int(np.sum(upper >= wm[part.start]))
        if rows == 0:
            break
        wa, e = best_slopes(log_w, w0[:rows], wm[part], t, q)
        scan[:rows, part] = e
        best.offer(w0[:rows], wm[part], wa, e)
    # the beam: best scan cells with distinct wm (a cell's neighbours in wm are skipped); e_fit
    # is piecewise constant, so ties are common: the larger wm goes first (fewer levels, so
    # cheaper to search again, and the next pick is not the neighbour on the same plateau)
    taken = np.zeros(n, dtype=bool)
    cells = []
    column = np.broadcast_to(np.arange(n), scan.shape).ravel()
    for flat in np.lexsort((-column, scan.ravel())):
        if len(cells) == grid.beam:
            break
        a, b = divmod(int(flat), n)
        if not taken[b]:
            taken[max(b - 1, 0) : b + 2] = True
            cells.append((w0[a], wm[b]))
    offsets = np.linspace(-1, 1, grid.fine)
    for c0, cm in cells:
        f0 = np.unique(np.clip(c0 + q * np.arange(-1, 2), q, t))
        fm = np.clip(cm * grid.ratio**offsets, grid.wm_lo, wm_hi)
        best.offer(f0, fm, *best_slopes(log_w, f0, fm, t, q))
    f0 = np.unique(np.clip(best.w0 + q * np.arange(-2, 3), q, t))
    fm = np.clip(best.wm * _POLISH_SPAN ** np.linspace(-1, 1, 33), grid.wm_lo, wm_hi)
    best.offer(f0, fm, *best_slopes(log_w, f0, fm, t, q))
    return best.w0, best.wa, best.wm, best.e


def dense_search(
    widths: Sequence[float], n_wm: int = 1500, q: int = 8, wm_lo: float = 1.05
) -> tuple[float, float, float, float]:
    """The reference the search stands in for: every w0 <= T (multiples of q) x ``n_wm`` wm
    values from ``wm_lo`` to the model's bound W (geometric), the slope solved exactly by
    :func:`best_slopes`. Returns (w0, wa, wm, e_fit). Slow (seconds per deep model): for
    tests, benchmarks and ``experiments/fit_check.py``."""
    w = np.asarray(widths, dtype=float)
    _check(w, "dense_search")
    log_w = np.log(w)
    t, wm_hi, _ = (float(x[0]) for x in search_bounds(w[None, :], q))
    w0 = np.arange(q, t + 1, q, dtype=float)
    best = _Best(log_w, q)
    for wm in np.array_split(np.geomspace(wm_lo, max(wm_hi, wm_lo * 1.001), n_wm), -(-n_wm // 25)):
        best.offer(w0, wm, *best_slopes(log_w, w0, wm, t, q))
    return best.w0, best.wa, best.wm, best.e


def at_edge(
    widths: np.ndarray,
    w0: np.ndarray,
    wa: np.ndarray,
    wm: np.ndarray,
    e_fit: np.ndarray,
    grid: FitGrid,
) -> np.ndarray:
    """True where the search range, not the data, stopped a fit (``widths`` (M, d)). The
    upper limits of wm and wa are provably never binding (module docstring), so only the
    lower wm limit can be: a fit is flagged when its wm lies within one scan step of that
    limit AND a wm below it (8 values from 1.01 to the limit, w0 within 2 q of the fit's,
    the slope solved exactly by :func:`best_slopes`) fits strictly better. A fit whose
    predictions do not depend on wm (e.g. constant widths, wa = 0) is not flagged."""
    widths = np.asarray(widths, dtype=float)
    w0, wa, wm, e_fit = (np.asarray(x, dtype=float) for x in (w0, wa, wm, e_fit))
    log_w = np.log(widths)
    d = widths.shape[1]
    u = 1 + (wa / w0)[:, None] * np.arange(d)[None, :]
    free = np.all(np.round(np.log(u) / np.log(wm)[:, None]) == 0, axis=1)
    edge = np.zeros(w0.size, dtype=bool)
    lo = grid.wm_lo
    if lo <= 1.01:
        return edge
    probe = np.geomspace(1.01, lo, 9)[:-1]
    t = search_bounds(widths, grid.q)[0]
    for i in np.flatnonzero((wm <= lo * grid.ratio) & ~free):
        c0 = np.maximum(w0[i] + grid.q * np.arange(-2, 3), grid.q)
        _, e = best_slopes(log_w[i], c0, probe, float(t[i]), grid.q)
        edge[i] = e.min() < e_fit[i] - 1e-12
    return edge


def _check(widths: np.ndarray, what: str) -> None:
    if widths.ndim != 1 or widths.size == 0 or np.any(~np.isfinite(widths)) or np.any(widths <= 0):
        raise DesignSpaceError(f"{what}: block widths must be a non-empty list of positive numbers")


def fit_widths(widths: Sequence[float], grid: FitGrid | None = None) -> RegNetFit:
    """Fit the quantized linear rule to one model's per-block widths (channels)."""
    w = np.asarray(widths, dtype=float)
    _check(w, "fit_widths")
    grid = grid or FitGrid()
    w0, wa, wm, e = _fit_one(np.log(w), grid)
    pred = quantized_widths(w.size, w0, wa, wm, grid.q).astype(int)
    edge = bool(at_edge(w[None, :], [w0], [wa], [wm], [e], grid)[0])
    return RegNetFit(w0, wa, wm, e, pred, edge)


def _cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def fit_block_widths(
    widths: Sequence[Sequence[float]], grid: FitGrid | None = None, workers: int | None = None
) -> pd.DataFrame:
    """Fit many models' per-block widths (channels), one search per model.

    Returns columns fit_w0, fit_wa, fit_wm, e_fit, fit_at_edge (bool, see :func:`at_edge`),
    one row per input model in order. ``workers`` threads share the models (default: the
    CPUs this process may use, at most 8; 1 = no threads). numpy's sums and sorts release the
    GIL, so threads help (1.35x with 2 on 2 cores); the result does not depend on them.
    """
    grid = grid or FitGrid()
    columns = ["fit_w0", "fit_wa", "fit_wm", "e_fit"]
    arrays = [np.asarray(w, dtype=float) for w in widths]
    for i, w in enumerate(arrays):
        _check(w, f"model {i}")
    workers = min(8, _cpus()) if workers is None else workers
    if workers < 1:
        raise DesignSpaceError(f"fit_block_widths: workers must be >= 1, got {workers}")
    logs = [np.log(w) for w in arrays]
    if workers > 1 and len(arrays) >= 2 * workers:
        with ThreadPoolExecutor(workers) as pool:
            found = list(pool.map(_fit_one, logs, [grid] * len(logs)))
    else:
        found = [_fit_one(x, grid) for x in logs]
    out = np.array(found).reshape(-1, 4)
    frame = pd.DataFrame(out, columns=columns)
    edge = np.zeros(len(arrays), dtype=bool)
    by_depth: dict[int, list[int]] = {}
    for i, w in enumerate(arrays):
        by_depth.setdefault(w.size, []).append(i)
    for idx in by_depth.values():
        edge[idx] = at_edge(np.stack([arrays[i] for i in idx]), *out[idx].T, grid)
    frame["fit_at_edge"] = edge
    return frame


def fit_regnet(data: pd.DataFrame, grid: FitGrid | None = None) -> pd.DataFrame:
    """Fit the RegNet rule to every row of a results table (uses its depths/widths lists).

    Returns a DataFrame indexed like ``data`` with fit_w0, fit_wa, fit_wm, e_fit and
    fit_at_edge. All rows are fitted (the status filter is the caller's business: the fit is
    about architectures).
    """
    if len(data) == 0:
        raise DesignSpaceError("fit_regnet: the results are empty")
    out = fit_block_widths(_block_widths(data), grid)
    out.index = data.index
    return out
