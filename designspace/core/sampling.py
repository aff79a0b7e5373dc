"""Seeded rejection sampling of a space into a complexity band.

Candidates are drawn in fixed-size batches from ``numpy.random.default_rng([seed,
crc32(space name)])`` and counted with the vectorized analytic counter; those inside the band
are kept in draw order, skipping duplicates. The batch size does not depend on ``n``, so the
same seed gives the same configurations on any machine, and the first k of a sample of n are a
sample of k.

Three more rejections, per candidate and so with the same properties: a RegNet space with
``num_stages`` keeps only networks with that many stages, a space with ``require`` keeps only
networks whose statistics (:mod:`designspace.core.statistics`) lie in its ranges, and a space
that ``refines`` another keeps only networks inside the parent's support
(:func:`designspace.core.support.inside`), so that the two are nested by construction.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from designspace.core.arch import MAX_CHANNELS, Architecture, Stage
from designspace.core.blocks import get_block
from designspace.core.complexity import complexity_arrays
from designspace.core.regimes import Band, Regime, get_regime
from designspace.core.regnet import compatible_widths, quantized_widths
from designspace.core.spaces import AnyNetSpace, RegNetSpace, Space, get_space
from designspace.core.statistics import get_statistic
from designspace.core.support import support_filter
from designspace.errors import DesignSpaceError

BATCH = 4096
DEFAULT_MAX_DRAWS = 1_000_000
HOPELESS_DRAWS = 100_000  # stop early when not one candidate of this many is in the band


@dataclass
class SampleSet:
    """Accepted configurations of one space in one regime, with their complexity.

    ``flops`` are multiply-adds at ``regime.resolution``; ``draws`` counts every candidate
    drawn (accepted, rejected or duplicate).
    """

    space: str
    regime: Regime
    seed: int
    archs: list[Architecture]
    flops: np.ndarray
    params: np.ndarray
    acts: np.ndarray
    draws: int
    duplicates: int = 0
    band: dict[str, Band] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.archs)

    @property
    def acceptance_rate(self) -> float:
        """Accepted / drawn (a fraction)."""
        return len(self.archs) / self.draws if self.draws else 0.0

    def to_frame(self):  # -> pandas.DataFrame (pandas imported lazily: sampling stays light)
        """One row per configuration: space, regime, resolution, sample_seed, sample_index,
        arch_json, flops, params, acts and every column of :meth:`Architecture.to_row`."""
        import pandas as pd

        rows = []
        for i, arch in enumerate(self.archs):
            row = {
                "space": self.space,
                "regime": self.regime.name,
                "resolution": self.regime.resolution,
                "sample_seed": self.seed,
                "sample_index": i,
                "flops": int(self.flops[i]),
                "params": int(self.params[i]),
                "acts": int(self.acts[i]),
            }
            row.update(arch.to_row())
            row["arch_json"] = arch.to_json(sort_keys=True)
            rows.append(row)
        return pd.DataFrame(rows)


def _rng(seed: int, space: Space) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(space.name.encode())])


def _draw_anynet(space: AnyNetSpace, rng: np.random.Generator, m: int) -> dict[str, np.ndarray]:
    s = space.num_stages
    vals = {}
    for p in space.STAGE_PARAMS:
        dist = getattr(space, p)
        vals[p] = (
            np.broadcast_to(dist.sample(rng, (m, 1)), (m, s)).copy()
            if p in space.shared
            else dist.sample(rng, (m, s))
        )
    order = dict(space.monotone)
    for p, direction in order.items():
        vals[p] = np.sort(vals[p], axis=1)
        if direction == "decreasing":
            vals[p] = vals[p][:, ::-1]
    d = vals["depth"].astype(np.int64)
    if not get_block(space.block).bottleneck:  # b = 1 and dense convs
        w = vals["width"].astype(np.int64)
        b = np.ones_like(w)
        g = w.copy()
    else:
        b = vals["bottleneck_ratio"]
        w, g = compatible_widths(vals["width"], b, vals["group_width"])
    # a user space can make compatible widths exceed what an Architecture accepts
    ok = (w <= MAX_CHANNELS).all(axis=1) & (np.rint(w / b) <= MAX_CHANNELS).all(axis=1)
    diffs = {"width": np.diff(w, axis=1), "depth": np.diff(d, axis=1)}
    for p, direction in order.items():
        if p in diffs:
            ok &= (
                (diffs[p] >= 0).all(axis=1)
                if direction == "increasing"
                else (diffs[p] <= 0).all(axis=1)
            )
    return {"d": d, "w": w, "b": b, "g": g, "valid": ok}


def _network(space: Space, regime: Regime, stages: tuple[Stage, ...]) -> Architecture:
    """A sampled network: the space's block type, the regime's stem and input/output."""
    return Architecture(
        stages=stages,
        block=space.block,
        stem=regime.stem,
        stem_width=regime.stem_width,
        in_channels=regime.in_channels,
        num_classes=regime.num_classes,
        se_ratio=space.se_ratio,
    )


def _anynet_archs(space: AnyNetSpace, regime: Regime, c: dict[str, np.ndarray], idx) -> list:
    out = []
    for i in idx:
        stages = tuple(
            Stage(int(c["d"][i, j]), int(c["w"][i, j]), float(c["b"][i, j]), int(c["g"][i, j]), 2)
            for j in range(c["d"].shape[1])
        )
        out.append(_network(space, regime, stages))
    return out


def _regnet_blocks(space: RegNetSpace, rng: np.random.Generator, m: int):
    """Per-block widths (m, dmax) of RegNet draws, with stage starts, validity mask and the
    number of stages of each draw. With ``space.num_stages`` set, ``ok`` also requires that
    stage count, and only those draws are made compatible (the others keep the quantized
    widths)."""
    d = space.depth.sample(rng, (m,)).astype(np.int64)
    w0 = space.w0.sample(rng, (m,)).astype(float)
    wa = space.wa.sample(rng, (m,)).astype(float)
    wm = space.wm.sample(rng, (m,)).astype(float)
    g = space.group_width.sample(rng, (m,)).astype(np.int64)
    b = space.bottleneck_ratio.sample(rng, (m,)).astype(float)
    j = np.arange(int(d.max()))
    w = quantized_widths(len(j), w0, wa, wm, space.q).astype(np.int64)
    valid = j[None, :] < d[:, None]
    starts = np.ones_like(valid)
    starts[:, 1:] = w[:, 1:] != w[:, :-1]
    stages = (starts & valid).sum(axis=1)
    if space.num_stages is None:
        w, gg = compatible_widths(w, b[:, None], np.broadcast_to(g[:, None], w.shape))
        rows = np.ones(m, dtype=bool)
    else:
        rows = stages == space.num_stages
        gg = np.broadcast_to(g[:, None], w.shape).copy()
        w[rows], gg[rows] = compatible_widths(w[rows], b[rows, None], g[rows, None])
    inner = np.rint(w / b[:, None])
    ok = rows & ((w <= MAX_CHANNELS) & (inner <= MAX_CHANNELS) | ~valid).all(axis=1)
    return {
        "ok": ok,
        "stages": stages,
        "w": w,
        "g": gg,
        "b": np.broadcast_to(b[:, None], w.shape),
        "starts": starts,
        "valid": valid,
        "d": d,
    }


def _regnet_costs(
    space: RegNetSpace, regime: Regime, c: dict, rows: np.ndarray | None = None
) -> np.ndarray:
    """Complexity (3, m) of RegNet draws, costed block by block (stages vary in number).

    ``rows`` (a boolean mask of the m draws) limits the count to those draws; the others get
    zeros, so the caller must reject them.
    """
    if rows is not None:
        out = np.zeros((3, rows.size), dtype=np.int64)
        idx = np.flatnonzero(rows)
        if idx.size and space.num_stages is not None:
            out[:, idx] = _regnet_stage_costs(space, regime, c, idx)
        elif idx.size:
            dmax = int(c["d"][idx].max())
            sub = {k: c[k][idx, :dmax] for k in ("w", "g", "b", "starts", "valid")}
            sub["d"] = c["d"][idx]
            out[:, idx] = _regnet_costs(space, regime, sub)
        return out
    from designspace.core.complexity import block_cost, head_cost, stem_cost

    w, g, b, starts, valid = c["w"], c["g"], c["b"], c["starts"], c["valid"]
    m, dmax = w.shape
    total, h0 = stem_cost(regime.resolution, regime.in_channels, regime.stem_width, regime.stem)
    total = np.broadcast_to(total[:, None], (3, m)).astype(np.int64)
    sides = [h0]
    for _ in range(dmax):
        sides.append((sides[-1] - 1) // 2 + 1)
    sides = np.asarray(sides)
    n_starts_before = np.cumsum(starts, axis=1) - starts
    h_in = sides[n_starts_before]
    w_in = np.concatenate([np.full((m, 1), regime.stem_width), w[:, :-1]], axis=1)
    stride = np.where(starts, 2, 1)
    cost, _ = block_cost(space.block, h_in, w_in, w, stride, b, g, space.se_ratio)
    total = total + (cost * valid).sum(axis=2)
    last = w[np.arange(m), c["d"] - 1]
    return total + head_cost(last, regime.num_classes)


def _regnet_stage_costs(space: RegNetSpace, regime: Regime, c: dict, idx: np.ndarray) -> np.ndarray:
    """Complexity (3, len(idx)) of the draws ``idx``, which all have ``space.num_stages``
    stages: costed stage by stage (the same count as block by block, far fewer operations)."""
    s = space.num_stages
    _, col = np.nonzero(c["starts"][idx] & c["valid"][idx])  # row-major: s starts a row
    col = col.reshape(-1, s)
    depth = np.concatenate([col[:, 1:], c["d"][idx, None]], axis=1) - col

    def per_stage(key: str) -> np.ndarray:
        return np.take_along_axis(c[key][idx], col, axis=1)

    return _stage_costs(space, regime, depth, per_stage("w"), per_stage("b"), per_stage("g"))


def _stage_costs(
    space: Space, regime: Regime, d: np.ndarray, w: np.ndarray, b: np.ndarray, g: np.ndarray
) -> np.ndarray:
    """Complexity (3, m) of m networks given per-stage (m, stages) depths, widths, bottleneck
    ratios and group widths (every stage stride 2), in ``regime``."""
    return complexity_arrays(
        d,
        w,
        b,
        g,
        np.full_like(d, 2),
        resolution=regime.resolution,
        block=space.block,
        stem=regime.stem,
        stem_width=regime.stem_width,
        in_channels=regime.in_channels,
        num_classes=regime.num_classes,
        se_ratio=space.se_ratio,
    ).reshape(3, -1)


def _regnet_archs(space: RegNetSpace, regime: Regime, c: dict, idx) -> list:
    out = []
    for i in idx:
        d = int(c["d"][i])
        w, g, b, starts = c["w"][i, :d], c["g"][i, :d], c["b"][i, :d], c["starts"][i, :d]
        bounds = list(np.flatnonzero(starts)) + [d]
        stages = tuple(
            Stage(
                int(bounds[k + 1] - bounds[k]),
                int(w[bounds[k]]),
                float(b[bounds[k]]),
                int(g[bounds[k]]),
                2,
            )
            for k in range(len(bounds) - 1)
        )
        out.append(_network(space, regime, stages))
    return out


def _in_band(values: np.ndarray, band: Band | None) -> np.ndarray:
    if band is None:
        return np.ones(values.shape, dtype=bool)
    return (values >= band[0]) & (values <= band[1])


def sample(
    space: Space | str,
    n: int,
    seed: int = 0,
    regime: Regime | str = "imagenet",
    *,
    flops: Band | None = None,
    params: Band | None = None,
    acts: Band | None = None,
    max_draws: int = DEFAULT_MAX_DRAWS,
) -> SampleSet:
    """Draw ``n`` distinct configurations of ``space`` whose complexity lies in the band.

    Bands are inclusive ``(lo, hi)``; ``flops`` (multiply-adds at the regime's resolution)
    defaults to the regime's band, ``params``/``acts`` to the regime's (usually none). Raises
    :class:`DesignSpaceError` when fewer than ``n`` are found in ``max_draws`` candidates.
    Only networks that run at the regime's resolution are kept (every stride-2 layer sees at
    least 2 x 2 px, :attr:`Architecture.min_resolution`): at 28 px this limits RegNets to at
    most 4 stages.
    """
    space = get_space(space) if isinstance(space, str) else space
    regime = get_regime(regime) if isinstance(regime, str) else regime
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise DesignSpaceError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DesignSpaceError(f"the seed must be a whole number >= 0, got {seed!r}")
    if isinstance(max_draws, bool) or not isinstance(max_draws, int) or max_draws < n:
        raise DesignSpaceError(
            f"max_draws (--max-draws) must be a whole number >= n: {max_draws!r} draws cannot "
            f"give {n} configurations; raise --max-draws or ask for fewer"
        )
    bands = {
        "flops": flops or regime.flops,
        "params": params or regime.params,
        "acts": acts or regime.acts,
    }
    for key, band in bands.items():
        if band is not None and not 0 <= band[0] < band[1]:
            raise DesignSpaceError(f"{key} band {band} is empty or reversed: need 0 <= LO < HI")
    rng = _rng(seed, space)
    in_parent = support_filter(space)
    required = [(get_statistic(stat), lo, hi) for stat, lo, hi in space.require]
    archs: list[Architecture] = []
    costs: list[np.ndarray] = []
    seen: set = set()
    draws = dups = wrong_stages = outside_parent = 0
    outside_require = dict.fromkeys((stat.name for stat, _, _ in required), 0)
    while len(archs) < n and draws < max_draws and (archs or draws < HOPELESS_DRAWS):
        if isinstance(space, AnyNetSpace):
            cand = _draw_anynet(space, rng, BATCH)
            cost = _stage_costs(space, regime, cand["d"], cand["w"], cand["b"], cand["g"])
            build = _anynet_archs
            ok_shape = cand["valid"]
        else:
            cand = _regnet_blocks(space, rng, BATCH)
            ok_shape = cand["ok"]
            if space.num_stages is not None:
                wrong_stages += int((cand["stages"] != space.num_stages).sum())
            cost = _regnet_costs(space, regime, cand, ok_shape)  # only what can be kept
            build = _regnet_archs
        ok = (
            _in_band(cost[0], bands["flops"])
            & _in_band(cost[1], bands["params"])
            & _in_band(cost[2], bands["acts"])
            & ok_shape
        )
        consumed = BATCH
        hits = np.flatnonzero(ok)
        for i, arch in zip(hits, build(space, regime, cand, hits), strict=True):
            if arch.min_resolution > regime.resolution:
                # e.g. a 5-stage RegNet at 28 px: a stride-2 layer would see one pixel.
                continue
            missed = next((st for st, lo, hi in required if not lo <= st(arch) <= hi), None)
            if missed is not None:
                outside_require[missed.name] += 1
                continue
            key = (arch.stages, arch.block)
            if key in seen:
                dups += 1
                continue
            if in_parent is not None and not in_parent(arch):
                outside_parent += 1
                continue
            seen.add(key)
            archs.append(arch)
            costs.append(cost[:, i])
            if len(archs) == n:
                consumed = int(i) + 1
                break
        draws += consumed
    if len(archs) < n:
        lo, hi = bands["flops"]
        rejected = []
        if wrong_stages:
            rejected.append(f"{wrong_stages} draws had not {space.num_stages} stages")
        for (stat, lo, hi), count in zip(space.require, outside_require.values(), strict=True):
            if count:
                rejected.append(f"{count} had {stat} outside {lo:g}..{hi:g}")
        if outside_parent:
            rejected.append(f"{outside_parent} lay outside {space.refines.name}'s support")
        why = f"; {', '.join(rejected)}" if rejected else ""
        raise DesignSpaceError(
            f"only {len(archs)} of {n} distinct {space.name} configurations fall in the band "
            f"(flops {lo:.4g}..{hi:.4g} at {regime.resolution} px) after {draws} draws "
            f"(acceptance {len(archs) / draws:.4%}{why}); widen the band with --flops LO:HI or "
            f"ask for fewer"
        )
    c = np.asarray(costs, dtype=np.int64).reshape(-1, 3)
    return SampleSet(
        space=space.name,
        regime=regime,
        seed=seed,
        archs=archs,
        flops=c[:, 0],
        params=c[:, 1],
        acts=c[:, 2],
        draws=draws,
        duplicates=dups,
        band={k: v for k, v in bands.items() if v is not None},
    )
