"""Fitting the RegNet quantized linear rule to any model's per-block widths (DDS section 4).

For a model with per-block widths ``w_j`` (j = 0..d-1, d fixed by the model), search
(w0, wa, wm) so that the quantized rule

    u_j = w0 + wa * j;  s_j = round(log(u_j / w0) / log(wm));  w_pred_j = round(w0 * wm^s_j / q) * q

(numpy rounding, half to even) matches best, measured by the fit error
``e_fit = mean_j |log w_j - log w_pred_j|`` (natural log). The search is a coarse grid
(:class:`FitGrid`) evaluated for all models of the same depth at once, then ``refine`` rounds of
a finer local grid around each model's best point. Widths are channels; e_fit is unitless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from designspace.analysis._data import block_widths as _block_widths
from designspace.errors import DesignSpaceError


def _default_w0() -> tuple[float, ...]:
    return tuple(range(8, 257, 8)) + (320, 384, 448, 512, 640, 768, 1024)


def _default_wa() -> tuple[float, ...]:
    return (0.0, *np.geomspace(1.0, 512.0, 24).round(3).tolist())


def _default_wm() -> tuple[float, ...]:
    return tuple(np.linspace(1.5, 3.0, 11).round(4).tolist())


@dataclass(frozen=True)
class FitGrid:
    """The coarse search grid (w0 in channels, wa in channels per block, wm > 1) and quantum q.

        Defaults cover DDS's RegNet space (w0 < 256, wa < 256, 1.5 <= wm <= 3) plus wider first
        widths and slopes for fitting AnyNet models. The ``starts`` best grid points of each model
    are refined by ``refine`` rounds of a local grid (w0 in steps of q, wa and wm 4x finer each
    round, staying inside the grid's wa and wm ranges).
    """

    w0: tuple[float, ...] = field(default_factory=_default_w0)
    wa: tuple[float, ...] = field(default_factory=_default_wa)
    wm: tuple[float, ...] = field(default_factory=_default_wm)
    q: int = 8
    starts: int = 4
    refine: int = 6
    keep_starts: int = 2

    def __post_init__(self) -> None:
        if min(self.w0) <= 0 or min(self.wa) < 0 or min(self.wm) <= 1 or self.q < 1:
            raise DesignSpaceError("FitGrid needs w0 > 0, wa >= 0, wm > 1 and q >= 1")
        if self.starts < 1 or self.refine < 0:
            raise DesignSpaceError("FitGrid needs starts >= 1 and refine >= 0")


@dataclass(frozen=True)
class RegNetFit:
    """Best (w0, wa, wm) for one model, its fit error and the predicted per-block widths."""

    w0: float
    wa: float
    wm: float
    e_fit: float
    widths: np.ndarray


def quantized_widths(
    d: int,
    w0: float | np.ndarray,
    wa: float | np.ndarray,
    wm: float | np.ndarray,
    q: int = 8,
) -> np.ndarray:
    """Per-block widths of the quantized linear rule, broadcast over (w0, wa, wm).

    Returns float array of shape ``broadcast(w0, wa, wm).shape + (d,)`` holding whole
    multiples of ``q`` (same rule as ``designspace.regnet.regnet_widths``).
    """
    w0 = np.asarray(w0, dtype=float)[..., None]
    wa = np.asarray(wa, dtype=float)[..., None]
    wm = np.asarray(wm, dtype=float)[..., None]
    u = w0 + wa * np.arange(d)
    s = np.round(np.log(u / w0) / np.log(wm))
    return np.round(w0 * np.power(wm, s) / q) * q


def _log_widths_grid(d: int, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray, q: int) -> np.ndarray:
    """log of the quantized widths for per-row product grids, shape (R, A, B, C, d).

    ``w0`` (R, A), ``wa`` (R, B), ``wm`` (R, C). Bit-identical to :func:`quantized_widths` on
    every grid point, but the logs of u_j / w0 are taken once per (w0, wa) and the quantized
    widths once per (w0, wm, s): the expensive functions run on small tables, and the full
    grid only divides, rounds and gathers.
    """
    r, a, c = w0.shape[0], w0.shape[1], wm.shape[1]
    j = np.arange(d)
    u = w0[:, :, None, None] + wa[:, None, :, None] * j  # (R, A, B, d)
    log_ratio = np.log(u / w0[:, :, None, None])
    s = np.round(log_ratio[:, :, :, None, :] / np.log(wm)[:, None, None, :, None])
    k = int(s.max()) + 1
    power = np.power(wm[:, :, None], np.arange(k, dtype=float))  # (R, C, K)
    table = np.log(np.round(w0[:, :, None, None] * power[:, None, :, :] / q) * q)  # (R,A,C,K)
    flat = (
        (np.arange(r)[:, None, None] * a + np.arange(a)[None, :, None]) * c
        + np.arange(c)[None, None, :]
    ) * k  # (R, A, C) offsets into the table
    idx = flat[:, :, None, :, None] + s.astype(np.intp)  # (R, A, B, C, d)
    return table.ravel()[idx]


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
    starts = np.empty((m, k + 1), dtype=int)
    chunk = max(1, int(4e6 // log_p.size))
    lw32 = log_w.astype(np.float32)
    # the rule reproduces w0 as the first block width, so the best grid point whose w0 is
    # nearest the model's first width is always one of the starts
    near = g0[np.argmin(np.abs(widths[:, :1] - g0[None, :]), axis=1)]
    for lo in range(0, m, chunk):
        e = np.abs(lw32[lo : lo + chunk, None, :] - log_p[None]).mean(axis=-1)
        starts[lo : lo + chunk, :k] = np.argpartition(e, k - 1, axis=1)[:, :k]
        own = p0[None, :] == near[lo : lo + chunk, None]
        starts[lo : lo + chunk, k] = np.argmin(np.where(own, e, np.inf), axis=1)
    k += 1
    # refine the k best coarse points of every model: rows are (model, start) pairs
    owner = np.repeat(np.arange(m), k)
    w0, wa, wm = p0[starts.ravel()], pa[starts.ravel()], pm[starts.ravel()]
    wa_ratio, wm_step = _ratio_step(grid.wa), _lin_step(grid.wm)
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
        cm = np.clip(wm[:, None] + wm_step * np.linspace(-1, 1, 9)[None, :], wm_lo, wm_hi)
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
        wm_step /= 4
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


def _lin_step(values: Sequence[float]) -> float:
    v = np.sort(np.asarray(values, dtype=float))
    return float(np.max(np.diff(v))) if v.size > 1 else 0.1


def fit_widths(widths: Sequence[float], grid: FitGrid | None = None) -> RegNetFit:
    """Fit the quantized linear rule to one model's per-block widths (channels)."""
    w = np.asarray(widths, dtype=float)
    if w.ndim != 1 or w.size == 0 or np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise DesignSpaceError("fit_widths needs a non-empty list of positive block widths")
    grid = grid or FitGrid()
    w0, wa, wm, e = _fit_same_depth(w[None, :], grid)
    pred = quantized_widths(w.size, w0[0], wa[0], wm[0], grid.q).astype(int)
    return RegNetFit(float(w0[0]), float(wa[0]), float(wm[0]), float(e[0]), pred)


def fit_block_widths(
    widths: Sequence[Sequence[float]], grid: FitGrid | None = None
) -> pd.DataFrame:
    """Fit many models' per-block widths at once (models of equal depth share the grid).

    Returns columns fit_w0, fit_wa, fit_wm, e_fit, one row per input model in order.
    """
    grid = grid or FitGrid()
    arrays = [np.asarray(w, dtype=float) for w in widths]
    out = np.full((len(arrays), 4), np.nan)
    by_depth: dict[int, list[int]] = {}
    for i, w in enumerate(arrays):
        if w.ndim != 1 or w.size == 0 or np.any(~np.isfinite(w)) or np.any(w <= 0):
            raise DesignSpaceError(f"model {i}: block widths must be positive numbers")
        by_depth.setdefault(w.size, []).append(i)
    for idx in by_depth.values():
        w0, wa, wm, e = _fit_same_depth(np.stack([arrays[i] for i in idx]), grid)
        out[idx] = np.column_stack([w0, wa, wm, e])
    return pd.DataFrame(out, columns=["fit_w0", "fit_wa", "fit_wm", "e_fit"])


def fit_regnet(data: pd.DataFrame, grid: FitGrid | None = None) -> pd.DataFrame:
    """Fit the RegNet rule to every row of a results table (uses its depths/widths lists).

    Returns a DataFrame indexed like ``data`` with fit_w0, fit_wa, fit_wm and e_fit. All rows
    are fitted (the status filter is the caller's business: the fit is about architectures).
    """
    if len(data) == 0:
        raise DesignSpaceError("fit_regnet: the results are empty")
    out = fit_block_widths(_block_widths(data), grid)
    out.index = data.index
    return out
