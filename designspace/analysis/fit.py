"""Fitting the RegNet quantized linear rule to any model's per-block widths (DDS section 4).

For a model with per-block widths ``w_j`` (j = 0..d-1, d fixed by the model), search
(w0, wa, wm) so that the quantized rule

    u_j = w0 + wa * j;  s_j = round(log(u_j / w0) / log(wm));  w_pred_j = round(w0 * wm^s_j / q) * q

(numpy rounding, half to even; the one implementation is
:func:`designspace.regnet.quantized_widths`) matches best, measured by the fit error
``e_fit = mean_j |log w_j - log w_pred_j|`` (natural log). The search: a coarse grid
(:class:`FitGrid`: w0 multiples of q, wa >= 0, wm from 1.05 to 8) evaluated for all models of
the same depth at once, then ``refine`` rounds of a finer local grid around each of the
model's ``starts`` best grid points (plus the best point at the w0 nearest the model's first
width); the best refined point wins. Fits whose wm or wa ends at the grid's limit are flagged
(``fit_at_edge``): there the range, not the data, decided the fit. Widths are channels; e_fit
is unitless.
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

    Defaults cover DDS's RegNet space (w0 < 256, wa < 256, 1.5 <= wm <= 3) and well beyond it
    (w0 to 1024, wa to 512, wm from 1.05 to 8) for fitting AnyNet models. The ``starts`` best
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


def _log_widths_grid(d: int, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray, q: int) -> np.ndarray:
    """log of the rule's widths on per-row product grids: w0 (R, A), wa (R, B), wm (R, C) ->
    (R, A, B, C, d), computed by :func:`designspace.regnet.quantized_widths`."""
    return np.log(
        quantized_widths(
            d,
            w0[:, :, None, None],
            wa[:, None, :, None],
            wm[:, None, None, :],
            q,
        )
    )


def _fit_same_depth(
    widths: np.ndarray, grid: FitGrid
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit every row of ``widths`` (M, d); returns w0, wa, wm, e_fit arrays of length M."""
    m, d = widths.shape
    log_w = np.log(widths)
    g0, ga, gm = (np.asarray(v, dtype=float) for v in (grid.w0, grid.wa, grid.wm))
    log_p = _log_widths_grid(d, g0[None], ga[None], gm[None], grid.q)
    log_p = log_p.reshape(-1, d).astype(np.float32)  # (G, d), G ordered as (w0, wa, wm)
    p0, pa, pm = (v.ravel() for v in np.meshgrid(g0, ga, gm, indexing="ij"))
    k = min(grid.starts, p0.size)
    k_own = min(max(1, grid.starts // 2), ga.size * gm.size)
    starts = np.empty((m, k + k_own), dtype=int)
    chunk = max(1, int(4e6 // log_p.size))
    lw32 = log_w.astype(np.float32)
    # the rule reproduces w0 as the first block width, so the best grid points whose w0 is
    # nearest the model's first width are always among the starts
    near = g0[np.argmin(np.abs(widths[:, :1] - g0[None, :]), axis=1)]
    for lo in range(0, m, chunk):
        e = np.abs(lw32[lo : lo + chunk, None, :] - log_p[None]).mean(axis=-1)
        starts[lo : lo + chunk, :k] = np.argpartition(e, k - 1, axis=1)[:, :k]
        own = p0[None, :] == near[lo : lo + chunk, None]
        starts[lo : lo + chunk, k:] = np.argpartition(np.where(own, e, np.inf), k_own - 1, axis=1)[
            :, :k_own
        ]
    k += k_own
    # refine the k best coarse points of every model: rows are (model, start) pairs
    owner = np.repeat(np.arange(m), k)
    w0, wa, wm = p0[starts.ravel()], pa[starts.ravel()], pm[starts.ravel()]
    wa_ratio, wm_ratio = _ratio_step(grid.wa), _ratio_step(grid.wm)
    wa_max, wm_lo, wm_hi = max(grid.wa), min(grid.wm), max(grid.wm)
    small = np.concatenate([[0.0], np.geomspace(0.05, 1.0, 8)])
    for round_ in range(grid.refine):
        if round_ == grid.keep_starts:
            # after keep_starts rounds only each model's best start goes on
            e = _exact_errors(log_w[owner], w0, wa, wm, grid.q)
            pick = np.argmin(e.reshape(m, k), axis=1) + np.arange(m) * k
            w0, wa, wm, owner, k = w0[pick], wa[pick], wm[pick], np.arange(m), 1
        # w0 stays a multiple of q (as in DDS); wa and wm steps shrink 4x per round
        c0 = np.maximum(w0[:, None] + grid.q * np.arange(-2, 3)[None, :], grid.q)
        oa = np.geomspace(1 / wa_ratio, wa_ratio, 9)
        # wa = 0 (constant widths) has no scale to multiply: explore small slopes instead
        ca = np.where(wa[:, None] > 0, wa[:, None] * oa[None, :], small[None, :])
        ca = np.minimum(ca, wa_max)
        cm = np.clip(wm[:, None] * wm_ratio ** np.linspace(-1, 1, 9)[None, :], wm_lo, wm_hi)
        rows = w0.size
        best = np.empty(rows, dtype=int)
        step = max(1, int(4e6 // (c0.shape[1] * 81 * d)))
        for lo in range(0, rows, step):
            sl = slice(lo, lo + step)
            lp = _log_widths_grid(d, c0[sl], ca[sl], cm[sl], grid.q)
            e = np.abs(log_w[owner[sl]][:, None, None, None, :] - lp).mean(axis=-1)
            best[sl] = np.argmin(e.reshape(e.shape[0], -1), axis=1)
        i0, ia, im = np.unravel_index(best, (c0.shape[1], 9, 9))
        idx = np.arange(rows)
        w0, wa, wm = c0[idx, i0], ca[idx, ia], cm[idx, im]
        wa_ratio = wa_ratio**0.25
        wm_ratio = wm_ratio**0.25
    e_fit = _exact_errors(log_w[owner], w0, wa, wm, grid.q)
    pick = np.argmin(e_fit.reshape(m, k), axis=1) + np.arange(m) * k
    return w0[pick], wa[pick], wm[pick], e_fit[pick]


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
    w0, wa, wm, e = _fit_same_depth(w[None, :], grid)
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
    """True where the search range, not the data, may have stopped a fit: wm lies within half
    a coarse grid step (a factor sqrt of the grid's wm ratio) of the grid's lower or upper
    limit, or moving wm to a limit (or wa to its upper limit) fits as well as the best point
    (e_fit is piecewise constant, so the optimum's plateau reaches the limit). The latter
    also flags fits whose wm the widths do not determine (e.g. constant widths, wa = 0): their
    reported wm is arbitrary. ``widths`` (M, d)."""
    log_w = np.log(np.asarray(widths, dtype=float))
    lo, hi = min(grid.wm), max(grid.wm)
    half = np.sqrt(_ratio_step(grid.wm))
    edge = (np.asarray(wm) <= lo * half) | (np.asarray(wm) >= hi / half)
    for alt_wa, alt_wm in (
        (wa, np.full_like(wm, lo)),
        (wa, np.full_like(wm, hi)),
        (np.full_like(wa, max(grid.wa)), wm),
    ):
        edge |= _exact_errors(log_w, w0, alt_wa, alt_wm, grid.q) <= e_fit + 1e-12
    return edge


def fit_block_widths(
    widths: Sequence[Sequence[float]], grid: FitGrid | None = None
) -> pd.DataFrame:
    """Fit many models' per-block widths at once (models of equal depth share the grid).

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
    for idx in by_depth.values():
        stacked = np.stack([arrays[i] for i in idx])
        w0, wa, wm, e = _fit_same_depth(stacked, grid)
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
