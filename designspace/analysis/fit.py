"""Fitting the RegNet quantized linear rule to any model's per-block widths (DDS section 4).

For a model with per-block widths ``w_j`` (j = 0..d-1, d fixed by the model), search
(w0, wa, wm) so that the quantized rule

    u_j = w0 + wa * j;  s_j = round(log(u_j / w0) / log(wm));  w_pred_j = round(w0 * wm^s_j / q) * q

(numpy rounding, half to even; the one implementation is
:func:`designspace.regnet.quantized_widths`) matches best, measured by the fit error
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

So no e_fit outside [q, T] x [0, T sqrt(W)] x (1, W] beats the best inside it, and a fit
cannot be stopped by these upper limits: ``fit_at_edge`` flags only fits that a wm below
the lower limit (1.05) would improve (:func:`at_edge`). ``tests/test_analysis_fit.py`` checks
the statement against an exhaustive search over a far larger range.

The search: one coarse grid for all models of a call (:class:`FitGrid`: w0 multiples of q, wa
>= 0 down to the smallest slope that matters, wm from 1.05; wm, wa and w0 extended
geometrically to the largest bounds of the models; a shallower model uses the rule's first d
blocks), then ``refine`` rounds of a finer local grid in (w0, c = wa / w0, wm), clipped to
each model's own bounds, around the model's best coarse points in each wm band (<= 3, 3-8,
> 8) and at the w0 nearest its first width. The old fixed-grid search (``extend=False``) runs
as well and each model keeps the better of the two, so the wide fit is never worse than the
fixed grid's. Then a scan of each model's whole wm range (steps of 2%, from the lower
limit to W) at w0 equal to each of its distinct widths (+- q), with the slope solved exactly
(:func:`best_slopes`): block 0 always predicts w0, so the best w0 usually sits at one of the
model's own widths, and this scan finds optima whose basins the coarse grid's starts miss.
Last, a local search in (w0, wm) with the slope solved exactly. The search is not proven
global in (w0, wm): the tests compare it with a brute force over every w0 <= T, 1500 wm
values and the exact slope (equal on every random 4-stage model tried). Known misses (a
brute force with 2000 wm values does better on 1 of 70 fmnist-small-progression and 5 of 120
fmnist-exercises models, by up to 0.015): an optimum with w0 not near any of the model's
widths (only block 0 at level 0), or a wm window narrower than the 2% scan step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from designspace.analysis._data import block_widths as _block_widths
from designspace.errors import DesignSpaceError
from designspace.regnet import quantized_widths

__all__ = [
    "FitGrid",
    "RegNetFit",
    "fit_block_widths",
    "fit_regnet",
    "fit_widths",
    "quantized_widths",
    "search_bounds",
]


def _default_w0() -> tuple[float, ...]:
    return tuple(range(8, 257, 8)) + (320, 384, 448, 512, 640, 768, 1024)


def _default_wa() -> tuple[float, ...]:
    return (0.0, *np.geomspace(1.0, 512.0, 24).round(3).tolist())


def _default_wm() -> tuple[float, ...]:
    return tuple(np.geomspace(1.05, 8.0, 28).round(4).tolist())


@dataclass(frozen=True)
class FitGrid:
    """The coarse search grid (w0 in channels, wa in channels per block, wm > 1) and quantum q.

    Defaults cover DDS's RegNet space (w0 < 256, wa < 256, 1.5 <= wm <= 3) and beyond it
    (w0 to 1024, wa to 512, wm from 1.05 to 8); with ``extend`` (default) the wm, wa and w0
    values are extended geometrically (same ratio) up to the provable bounds of the models
    fitted together (:func:`search_bounds`, module docstring), so the upper limits never
    decide a fit. The ``starts`` best
    grid points of each model are refined by ``refine`` rounds of a local grid (w0 in steps of
    q, wa and wm 4x finer each round, staying inside the grid's wa and wm ranges).
    """

    w0: tuple[float, ...] = field(default_factory=_default_w0)
    wa: tuple[float, ...] = field(default_factory=_default_wa)
    wm: tuple[float, ...] = field(default_factory=_default_wm)
    q: int = 8
    starts: int = 8
    refine: int = 6
    keep_starts: int = 3
    extend: bool = True

    def __post_init__(self) -> None:
        if min(self.w0) <= 0 or min(self.wa) < 0 or min(self.wm) <= 1 or self.q < 1:
            raise DesignSpaceError("FitGrid needs w0 > 0, wa >= 0, wm > 1 and q >= 1")
        if self.starts < 1 or self.refine < 0:
            raise DesignSpaceError("FitGrid needs starts >= 1 and refine >= 0")


@dataclass(frozen=True)
class RegNetFit:
    """Best (w0, wa, wm) for one model, its fit error, the predicted per-block widths, and
    whether wm or wa sits at the search grid's limit (``at_edge``)."""

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


def _extend(values: Sequence[float], upper: float, ratio: float | None = None) -> np.ndarray:
    """The positive grid ``values`` continued geometrically to ``upper`` (by ``ratio``,
    default the grid's largest ratio)."""
    v = np.sort(np.asarray(values, dtype=float))
    top = v[-1]
    if top >= upper:
        return v
    ratio = ratio or _ratio_step(v)
    n = int(np.ceil(np.log(upper / top) / np.log(ratio)))
    return np.concatenate([v, top * ratio ** np.arange(1, n + 1)])


def _log_widths_grid(d: int, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray, q: int) -> np.ndarray:
    """log of the rule's widths (:func:`designspace.regnet.quantized_widths`) on arrays that
    broadcast together; the block axis is appended last."""
    return np.log(quantized_widths(d, w0, wa, wm, q))


def _coarse_grid(
    grid: FitGrid, d: int, t: np.ndarray, wm_cap: np.ndarray, wa_cap: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coarse points (w0, wa, wm, c = wa / w0), flattened, for models up to depth ``d``.

    The grid's own (w0, wa, wm) values, and with ``extend``: wm continued geometrically to
    the largest wm bound (ratio at least 1.2 beyond the base grid: refinement settles wm),
    wa continued to the largest wa bound and down to the smallest slope that moves any block
    off level 0 (q (sqrt(min wm) - 1) / (d - 1)), w0 continued to the largest T."""
    g0, ga, gm = (np.asarray(v, dtype=float) for v in (grid.w0, grid.wa, grid.wm))
    if grid.extend:
        gm = _extend(gm, float(wm_cap.max()), max(_ratio_step(gm), 1.2))
        g0 = np.unique(np.round(_extend(g0, float(t.max())) / grid.q) * grid.q)
        g0 = g0[g0 <= max(t.max(), grid.q)]
        pos = ga[ga > 0]
        if d > 1 and pos.size:
            wa_lo = grid.q * (np.sqrt(gm.min()) - 1) / (d - 1)
            if wa_lo < pos.min():
                n = int(np.ceil(np.log(pos.min() / wa_lo) / np.log(2.0)))
                pos = np.concatenate([pos.min() * 0.5 ** np.arange(n, 0, -1), pos])
            pos = _extend(pos, float(wa_cap.max()))
        ga = np.concatenate([[0.0], pos])
    p0, pa, pm = (v.ravel() for v in np.meshgrid(g0, ga, gm, indexing="ij"))
    return p0, pa, pm, pa / p0


@dataclass(frozen=True)
class _Coarse:
    """The coarse grid shared by all models of one call: points (w0, wa, wm, c) and the log
    widths of the rule at them for the largest depth (a shallower model uses a prefix)."""

    p0: np.ndarray
    pa: np.ndarray
    pm: np.ndarray
    pc: np.ndarray
    log_p: np.ndarray  # (G, d_max), float32


def _make_coarse(arrays: list[np.ndarray], grid: FitGrid) -> _Coarse:
    d_max = max(w.size for w in arrays)
    bounds = [search_bounds(w[None, :], grid.q) for w in arrays]
    t, wm_cap, wa_cap = (np.array([b[i][0] for b in bounds]) for i in range(3))
    p0, pa, pm, pc = _coarse_grid(grid, d_max, t, wm_cap, wa_cap)
    log_p = _log_widths_grid(d_max, p0, pa, pm, grid.q).astype(np.float32)
    return _Coarse(p0, pa, pm, pc, log_p)


def _fit_same_depth(
    widths: np.ndarray, grid: FitGrid, coarse: _Coarse
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit every row of ``widths`` (M, d); returns w0, wa, wm, e_fit arrays of length M."""
    m, d = widths.shape
    log_w = np.log(widths)
    t, wm_cap, wa_cap = search_bounds(widths, grid.q)
    if not grid.extend:
        wm_cap = np.full(m, float(max(grid.wm)))
        wa_cap = np.full(m, float(max(grid.wa)))
    p0, pm, pc = coarse.p0, coarse.pm, coarse.pc
    log_p = np.ascontiguousarray(coarse.log_p[:, :d])  # (G, d): the rule's first d blocks
    # starts: the best coarse points in each wm band (small, DDS-like, large wm), so that a
    # large extended range cannot crowd out the others, plus the best points at the w0
    # nearest the model's first width (the rule reproduces w0 as the first block width)
    bands = [b for b in (pm <= 3.0, (pm > 3.0) & (pm <= 8.0), pm > 8.0) if b.any()]
    g0 = np.unique(p0)
    near = g0[np.argmin(np.abs(widths[:, :1] - g0[None, :]), axis=1)]
    k_own = min(max(1, grid.starts // 2), int(np.sum(p0 == g0[0])))
    sizes = [min(grid.starts if i == 0 else k_own, int(b.sum())) for i, b in enumerate(bands)]
    sizes.append(k_own)
    k = sum(sizes)
    starts = np.empty((m, k), dtype=int)
    chunk = max(1, int(4e6 // log_p.size))
    lw32 = log_w.astype(np.float32)
    for lo in range(0, m, chunk):
        e = np.abs(lw32[lo : lo + chunk, None, :] - log_p[None]).mean(axis=-1)
        masks = [*bands, p0[None, :] == near[lo : lo + chunk, None]]
        col = 0
        for mask, size in zip(masks, sizes, strict=True):
            part = np.where(mask, e, np.inf)
            starts[lo : lo + chunk, col : col + size] = np.argpartition(part, size - 1, axis=1)[
                :, :size
            ]
            col += size
    # refine the k best coarse points of every model: rows are (model, start) pairs; the
    # slope is refined as c = wa / w0, so a step in w0 keeps the level pattern
    owner = np.repeat(np.arange(m), k)
    w0, c, wm = p0[starts.ravel()], pc[starts.ravel()], pm[starts.ravel()]
    c_ratio, wm_ratio = _ratio_step(grid.wa), _ratio_step(grid.wm)
    wm_lo = min(grid.wm)
    c_small = (np.sqrt(wm_lo) - 1) / max(d - 1, 1)
    small = np.concatenate([[0.0], np.geomspace(c_small / 2, c_small * c_ratio, 8)])
    for round_ in range(grid.refine):
        if round_ == grid.keep_starts:
            # after keep_starts rounds only each model's best start goes on
            e = _exact_errors(log_w[owner], w0, w0 * c, wm, grid.q)
            pick = np.argmin(e.reshape(m, k), axis=1) + np.arange(m) * k
            w0, c, wm, owner, k = w0[pick], c[pick], wm[pick], np.arange(m), 1
        # w0 stays a multiple of q (as in DDS); c and wm steps shrink 4x per round
        c0 = np.maximum(w0[:, None] + grid.q * np.arange(-2, 3)[None, :], grid.q)
        oc = np.geomspace(1 / c_ratio, c_ratio, 9)
        # c = 0 (constant widths) has no scale to multiply: explore small slopes instead
        cc = np.where(c[:, None] > 0, c[:, None] * oc[None, :], small[None, :])
        cm = np.clip(
            wm[:, None] * wm_ratio ** np.linspace(-1, 1, 9)[None, :],
            wm_lo,
            wm_cap[owner][:, None],
        )
        rows = w0.size
        best = np.empty(rows, dtype=int)
        step = max(1, int(4e6 // (c0.shape[1] * 81 * d)))
        for lo in range(0, rows, step):
            sl = slice(lo, lo + step)
            wa_sl = np.minimum(c0[sl, :, None] * cc[sl, None, :], wa_cap[owner[sl]][:, None, None])
            lp = _log_widths_grid(
                d, c0[sl, :, None, None], wa_sl[..., None], cm[sl, None, None, :], grid.q
            )
            e = np.abs(log_w[owner[sl]][:, None, None, None, :] - lp).mean(axis=-1)
            best[sl] = np.argmin(e.reshape(e.shape[0], -1), axis=1)
        i0, ic, im = np.unravel_index(best, (c0.shape[1], 9, 9))
        idx = np.arange(rows)
        w0, wm = c0[idx, i0], cm[idx, im]
        c = np.minimum(cc[idx, ic], wa_cap[owner] / w0)
        c_ratio = c_ratio**0.25
        wm_ratio = wm_ratio**0.25
    e_fit = _exact_errors(log_w[owner], w0, w0 * c, wm, grid.q)
    pick = np.argmin(e_fit.reshape(m, k), axis=1) + np.arange(m) * k
    return w0[pick], w0[pick] * c[pick], wm[pick], e_fit[pick]


def _fixed(grid: FitGrid) -> FitGrid:
    """The same grid without extension: the old fixed-grid search."""
    return FitGrid(
        grid.w0, grid.wa, grid.wm, grid.q, grid.starts, grid.refine, grid.keep_starts, False
    )


def _fit_group(
    widths: np.ndarray, grid: FitGrid, coarse: _Coarse, coarse_fixed: _Coarse | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit every row of ``widths`` (M, d). With ``extend``: the wide search and the old
    fixed-grid search (``coarse_fixed``) both run, each model keeps the better of the two, and
    :func:`_polish` searches around it with the slope solved exactly, so the result is never
    worse than the fixed grid's."""
    w0, wa, wm, e_fit = _fit_same_depth(widths, grid, coarse)
    if not grid.extend:
        return w0, wa, wm, e_fit
    if coarse_fixed is not None:
        f0, fa, fm, fe = _fit_same_depth(widths, _fixed(grid), coarse_fixed)
        take = fe < e_fit
        w0, wa, wm, e_fit = (
            np.where(take, b, a) for a, b in ((w0, f0), (wa, fa), (wm, fm), (e_fit, fe))
        )
    t, wm_cap, _ = search_bounds(widths, grid.q)
    log_w = np.log(widths)
    w0, wa, wm, e_fit = _own_widths(log_w, w0, wa, wm, e_fit, t, min(grid.wm), wm_cap, grid.q)
    return _polish(log_w, w0, wa, wm, e_fit, t, min(grid.wm), wm_cap, grid)


def _own_widths(
    log_w: np.ndarray,
    w0: np.ndarray,
    wa: np.ndarray,
    wm: np.ndarray,
    e_fit: np.ndarray,
    t: np.ndarray,
    wm_lo: float,
    wm_cap: np.ndarray,
    q: int,
    ratio: float = 1.02,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A further start for every model: w0 at each of its distinct widths (+- q), wm over
    its whole range in steps of ``ratio``, the slope solved exactly (:func:`best_slopes`).
    Block 0 always predicts w0, so w0 usually sits at one of the model's own widths; this
    catches optima that the coarse grid's starts miss."""
    for i in range(w0.size):
        own = np.unique(np.round(np.exp(log_w[i]) / q) * q)
        c0 = np.unique(np.clip((own[:, None] + q * np.arange(-1, 2)).ravel(), q, t[i]))
        n = max(2, int(np.ceil(np.log(wm_cap[i] / wm_lo) / np.log(ratio))) + 1)
        cm = np.geomspace(wm_lo, wm_cap[i], n)
        for lo in range(0, n, 8):
            pa, pe = best_slopes(log_w[i], c0, cm[lo : lo + 8], float(t[i]), q)
            a, b = np.unravel_index(int(np.argmin(pe)), pe.shape)
            if pe[a, b] < e_fit[i] - 1e-12:
                w0[i], wa[i], wm[i] = c0[a], pa[a, b], cm[lo + b]
                e_fit[i] = _exact_errors(
                    log_w[i : i + 1], w0[i : i + 1], wa[i : i + 1], wm[i : i + 1], q
                )[0]
    return w0, wa, wm, e_fit


def best_slopes(
    log_w: np.ndarray, w0: np.ndarray, wm: np.ndarray, t: float, q: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact minimum of e_fit over the slope for every pair of ``w0`` (A,) x ``wm`` (B,) of
    one model (log widths ``log_w``); returns (wa, e_fit) arrays of shape (A, B).

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
    v = np.log(np.round(w0[..., None] * wm[..., None] ** np.arange(n_lvl + 1) / q) * q)
    err = np.abs(log_w[None, None, 1:, None] - v[:, :, None, :])  # (A, B, d - 1, levels + 1)
    delta = (err[..., 1:] - err[..., :-1]).reshape(*base.shape, -1)
    j = np.arange(1, d)
    # the breakpoints and their order depend on wm only: sorted once per wm
    bp = ((wm[0, :, None, None] ** (k[None, None, :] - 0.5) - 1) / j[None, :, None]).reshape(
        wm.shape[1], -1
    )
    order = np.argsort(bp, axis=1, kind="stable")
    bp = np.take_along_axis(bp, order, axis=1)  # (B, n)
    delta = delta[:, np.arange(order.shape[0])[:, None], order]
    total = base[..., None] + np.cumsum(delta, axis=2)
    nxt = np.concatenate([bp[:, 1:], np.full((bp.shape[0], 1), np.inf)], axis=1)
    # a state exists on (bp_i, bp_i+1) when that interval is not empty; states past the
    # sweep's end are no better than the one just after it
    ok = (nxt > bp * (1 + 1e-12))[None] & (bp[None] <= c_stop[..., None] * (1 + 1e-12))
    total = np.where(ok, total, np.inf)
    i = np.argmin(total, axis=2)
    e = np.take_along_axis(total, i[..., None], axis=2)[..., 0]
    lo = np.take_along_axis(np.broadcast_to(bp, total.shape), i[..., None], axis=2)[..., 0]
    hi = np.take_along_axis(np.broadcast_to(nxt, total.shape), i[..., None], axis=2)[..., 0]
    c = np.where(np.isfinite(hi), 0.5 * (lo + hi), lo * 1.001)
    zero = base <= e
    return np.where(zero, 0.0, w0 * c), np.where(zero, base, e) / d


def _polish(
    log_w: np.ndarray,
    w0: np.ndarray,
    wa: np.ndarray,
    wm: np.ndarray,
    e_fit: np.ndarray,
    t: np.ndarray,
    wm_lo: float,
    wm_cap: np.ndarray,
    grid: FitGrid,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Local search in (w0, wm) around each model's fit with the slope solved exactly."""
    step = _ratio_step(grid.wm)
    for span in (step, step**0.25):
        for i in range(w0.size):
            c0 = np.maximum(w0[i] + grid.q * np.arange(-2, 3), grid.q)
            cm = np.clip(wm[i] * span ** np.linspace(-1, 1, 33), wm_lo, wm_cap[i])
            pa, pe = best_slopes(log_w[i], c0, cm, float(t[i]), grid.q)
            a, b = np.unravel_index(int(np.argmin(pe)), pe.shape)
            if pe[a, b] < e_fit[i] - 1e-12:
                w0[i], wa[i], wm[i] = c0[a], pa[a, b], cm[b]
                e_fit[i] = _exact_errors(
                    log_w[i : i + 1], w0[i : i + 1], wa[i : i + 1], wm[i : i + 1], grid.q
                )[0]
    return w0, wa, wm, e_fit


def _exact_errors(
    log_w: np.ndarray, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray, q: int
) -> np.ndarray:
    """e_fit of each row's own (w0, wa, wm), computed with :func:`quantized_widths`."""
    pred = quantized_widths(log_w.shape[1], w0, wa, wm, q)
    return np.abs(log_w - np.log(pred)).mean(axis=-1)


def _ratio_step(values: Sequence[float]) -> float:
    v = np.sort(np.asarray([x for x in values if x > 0], dtype=float))
    return float(np.max(v[1:] / v[:-1])) if v.size > 1 else 2.0


def fit_widths(widths: Sequence[float], grid: FitGrid | None = None) -> RegNetFit:
    """Fit the quantized linear rule to one model's per-block widths (channels)."""
    w = np.asarray(widths, dtype=float)
    if w.ndim != 1 or w.size == 0 or np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise DesignSpaceError("fit_widths needs a non-empty list of positive block widths")
    grid = grid or FitGrid()
    fixed = _make_coarse([w], _fixed(grid)) if grid.extend else None
    w0, wa, wm, e = _fit_group(w[None, :], grid, _make_coarse([w], grid), fixed)
    pred = quantized_widths(w.size, w0[0], wa[0], wm[0], grid.q).astype(int)
    edge = bool(at_edge(w[None, :], w0, wa, wm, e, grid)[0])
    return RegNetFit(float(w0[0]), float(wa[0]), float(wm[0]), float(e[0]), pred, edge)


def at_edge(
    widths: np.ndarray,
    w0: np.ndarray,
    wa: np.ndarray,
    wm: np.ndarray,
    e_fit: np.ndarray,
    grid: FitGrid,
) -> np.ndarray:
    """True where the search range, not the data, stopped a fit. With ``grid.extend``
    (default) the upper limits of wm and wa are provably never binding (module docstring), so
    only the lower wm limit can: a fit is flagged when its wm lies within one coarse step of
    that limit AND a wm below the limit (8 values from 1.01 to it, w0 within 2 q of the
    fit's, the slope solved exactly by :func:`best_slopes`) fits strictly better. A fit whose
    plateau merely reaches the limit, or whose predictions do not depend on wm at all (e.g.
    constant widths, wa = 0), is not flagged: there the range decided nothing. Without
    ``extend`` the old rule applies to both limits of the fixed grid: wm within half a coarse
    step of a limit, or moving wm to a limit (or wa to its upper limit) fits as well.
    ``widths`` (M, d)."""
    widths = np.asarray(widths, dtype=float)
    w0, wa, wm, e_fit = (np.asarray(x, dtype=float) for x in (w0, wa, wm, e_fit))
    log_w = np.log(widths)
    d = widths.shape[1]
    lo = min(grid.wm)
    step = _ratio_step(grid.wm)
    u = 1 + (wa / w0)[:, None] * np.arange(d)[None, :]
    free = np.all(np.round(np.log(u) / np.log(wm)[:, None]) == 0, axis=1)
    if not grid.extend:
        half, hi = np.sqrt(step), max(grid.wm)
        edge = (wm <= lo * half) | (wm >= hi / half)
        for alt_wa, alt_wm in (
            (wa, np.full_like(wm, lo)),
            (wa, np.full_like(wm, hi)),
            (np.full_like(wa, max(grid.wa)), wm),
        ):
            edge |= _exact_errors(log_w, w0, alt_wa, alt_wm, grid.q) <= e_fit + 1e-12
        return edge & ~free
    edge = np.zeros(w0.size, dtype=bool)
    probe = np.geomspace(1.01, lo, 9)[:-1] if lo > 1.01 else np.array([])
    t = search_bounds(widths, grid.q)[0]
    for i in np.flatnonzero((wm <= lo * step) & ~free):
        if probe.size == 0:
            break
        c0 = np.maximum(w0[i] + grid.q * np.arange(-2, 3), grid.q)
        _, e = best_slopes(log_w[i], c0, probe, float(t[i]), grid.q)
        edge[i] = e.min() < e_fit[i] - 1e-12
    return edge


def fit_block_widths(
    widths: Sequence[Sequence[float]], grid: FitGrid | None = None
) -> pd.DataFrame:
    """Fit many models' per-block widths at once (all share one coarse grid).

    Returns columns fit_w0, fit_wa, fit_wm, e_fit, fit_at_edge (bool, see :func:`at_edge`),
    one row per input model in order.
    """
    grid = grid or FitGrid()
    arrays = [np.asarray(w, dtype=float) for w in widths]
    out = np.full((len(arrays), 4), np.nan)
    edge = np.zeros(len(arrays), dtype=bool)
    by_depth: dict[int, list[int]] = {}
    for i, w in enumerate(arrays):
        if w.ndim != 1 or w.size == 0 or np.any(~np.isfinite(w)) or np.any(w <= 0):
            raise DesignSpaceError(f"model {i}: block widths must be positive numbers")
        by_depth.setdefault(w.size, []).append(i)
    if not arrays:
        return pd.DataFrame(columns=["fit_w0", "fit_wa", "fit_wm", "e_fit", "fit_at_edge"])
    coarse = _make_coarse(arrays, grid)
    fixed = _make_coarse(arrays, _fixed(grid)) if grid.extend else None
    for idx in by_depth.values():
        stacked = np.stack([arrays[i] for i in idx])
        w0, wa, wm, e = _fit_group(stacked, grid, coarse, fixed)
        out[idx] = np.column_stack([w0, wa, wm, e])
        edge[idx] = at_edge(stacked, w0, wa, wm, e, grid)
    frame = pd.DataFrame(out, columns=["fit_w0", "fit_wa", "fit_wm", "e_fit"])
    frame["fit_at_edge"] = edge
    return frame


def fit_regnet(data: pd.DataFrame, grid: FitGrid | None = None) -> pd.DataFrame:
    """Fit the RegNet rule to every row of a results table (uses its depths/widths lists).

    Returns a DataFrame indexed like ``data`` with fit_w0, fit_wa, fit_wm, e_fit and
    fit_at_edge. All rows
    are fitted (the status filter is the caller's business: the fit is about architectures).
    """
    if len(data) == 0:
        raise DesignSpaceError("fit_regnet: the results are empty")
    out = fit_block_widths(_block_widths(data), grid)
    out.index = data.index
    return out
