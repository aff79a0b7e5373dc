"""The support of a design space: whether a space can draw a given architecture, and why not.

:func:`inside` lists the reasons an :class:`~designspace.core.arch.Architecture` lies outside
a space's support (empty when it lies inside): the networks the space's sampler
(:mod:`designspace.core.sampling`) can produce, before the complexity band, which is checked
too when a regime or band is given. A space that ``refines`` another must stay inside its
parent's support, so the support of a refining space is its own and every ancestor's; each
reason names the space that refuses the network. :func:`check_step` applies the test to a
results frame: the share of a nested step's child rows outside the parent's support.

What is checked, following the sampler's construction:

* every space: the block type and SE ratio, and its ``require`` ranges on statistics
  (:mod:`designspace.core.statistics`; reason kind "require");
* AnyNet spaces (exact for distributions with finitely many values, e.g. all built-ins;
  continuous width or group-width distributions are checked on whole channel counts): the
  stage count; per stage the depth and b in their distributions; per stage a drawn
  (width, g) pair that the compatibility step (DDS appendix D) turns into the stage's width
  and group width, with one pair for all stages when shared and drawn pairs in order when
  monotone (the sampler sorts the drawn values); shared depth and b equal in every stage;
  monotone depths and compatible widths in order (the sampler rejects the others);
* RegNet spaces (necessary conditions of the rule): the stage count when ``num_stages`` is
  set; the total depth d; one b for all stages in its distribution; one shared g in its
  distribution that the compatibility step turns into every stage's group width; and stage
  widths that are the compatible widths of ``round(w0 * wm^k / q) * q`` for one w0 and one wm
  of their distributions (the first stage k = 0, every later stage some k >= 1). Not checked:
  wa, which sets how the d blocks split among the stages, so a network with the right widths
  but stage depths that no (w0, wa, wm) gives passes. Tie-breaking of ``round`` at exact
  halves is treated leniently (both neighbours accepted).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from designspace.core.arch import MAX_CHANNELS, Architecture
from designspace.core.blocks import get_block
from designspace.core.complexity import complexity
from designspace.core.regimes import Band, Regime, format_quantity, get_regime
from designspace.core.regnet import compatible_widths
from designspace.core.spaces import (
    AnyNetSpace,
    Choice,
    Fixed,
    IntUniform,
    LogUniform,
    RegNetSpace,
    Space,
    get_space,
    refinement_chain,
)
from designspace.core.statistics import describe_range, get_statistic
from designspace.errors import DesignSpaceError

__all__ = [
    "StepLike",
    "StepSupport",
    "can_draw",
    "check_step",
    "inside",
    "reasons_by_kind",
    "support_filter",
]

_TOL = 1e-9
_MAX_CANDIDATES = 1 << 16  # whole-number candidates of a continuous distribution, at most
_MAX_POWER = 512  # highest k of wm^k tried; a space with wm this close to 1 is not checked


# ----------------------------------------------------------------------------- distributions
def _values(dist: Any, lo: float = -math.inf, hi: float = math.inf) -> np.ndarray:
    """The values ``dist`` can draw inside ``[lo, hi]``, sorted (float64).

    Exact for the built-in distributions with finitely many values (Fixed, Choice, IntUniform,
    LogUniform with q > 0, as the sampler rounds and clips); a continuous or unknown
    distribution gives the whole numbers inside its bounds (channel counts), at most
    ``_MAX_CANDIDATES`` of them.
    """
    if isinstance(dist, Fixed):
        vals = np.array([dist.value], dtype=float)
    elif isinstance(dist, Choice):
        vals = np.unique(np.asarray(dist.values, dtype=float))
    elif isinstance(dist, IntUniform):
        first, last = math.ceil(max(dist.lo, lo)), math.floor(min(dist.hi, hi))
        vals = np.arange(first, max(first, last + 1), dtype=float)
    elif isinstance(dist, LogUniform) and dist.q:
        q = dist.q
        first = math.ceil(max(dist.lo, lo) / q - _TOL)
        last = math.floor(min(dist.hi, hi) / q + _TOL)
        n = np.arange(first, max(first, last + 1), dtype=float)[:_MAX_CANDIDATES]
        vals = n * q if float(q).is_integer() else np.round(n * q, 10)
        # the sampler clips rounded draws into [lo, hi]: lo or hi themselves when off the grid
        ends = [x for x in (dist.lo, dist.hi) if abs(round(x / q) * q - x) > _TOL]
        if float(q).is_integer():
            ends = [float(int(x)) for x in ends]
        if ends:
            vals = np.unique(np.concatenate([vals, np.asarray(ends, dtype=float)]))
    else:
        bounds = getattr(dist, "bounds", None)
        b_lo, b_hi = bounds() if bounds is not None else (1, MAX_CHANNELS)
        first, last = math.ceil(max(b_lo, lo)), math.floor(min(b_hi, hi))
        vals = np.arange(first, max(first, min(last, first + _MAX_CANDIDATES - 1) + 1.0))
    return vals[(vals >= lo - _TOL) & (vals <= hi + _TOL)]


def _hits(dist: Any, lo: float, hi: float) -> bool:
    """Whether ``dist`` can draw a value in ``[lo, hi]`` (a small tolerance at the ends)."""
    lo, hi = lo - _TOL * max(1.0, abs(lo)), hi + _TOL * max(1.0, abs(hi))
    if lo > hi:
        return False
    if isinstance(dist, (Fixed, Choice, IntUniform)) or (isinstance(dist, LogUniform) and dist.q):
        return _values(dist, lo, hi).size > 0
    bounds = getattr(dist, "bounds", None)
    if bounds is None:
        return True  # a user distribution without bounds: nothing to check against
    b_lo, b_hi = bounds()
    return max(lo, b_lo) <= min(hi, b_hi)


def _member(dist: Any, x: float) -> bool:
    """Whether ``dist`` can draw ``x``."""
    return _hits(dist, float(x), float(x))


def can_draw(dist: Any, x: float) -> bool:
    """Whether the distribution ``dist`` (of a space's parameter) can draw the value ``x``:
    exact for the built-in distributions with finitely many values, by bounds otherwise."""
    return _member(dist, x)


def _describe(dist: Any) -> str:
    describe = getattr(dist, "describe", None)
    return describe() if describe is not None else type(dist).__name__


# ----------------------------------------------------------------------------- intervals
Intervals = list[tuple[float, float]]


def _union(spans: Intervals) -> Intervals:
    """Sorted, disjoint closed intervals covering ``spans``."""
    out: Intervals = []
    for lo, hi in sorted(s for s in spans if s[0] <= s[1]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _intersect(a: Intervals, b: Intervals) -> Intervals:
    """Intersection of two sorted, disjoint interval lists."""
    out: Intervals = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


# ----------------------------------------------------------------------------- AnyNet
Reason = tuple[str, str]  # (kind, text): kind is what a summary counts


def _explanations(w: int, g: int, b: float, space: AnyNetSpace) -> tuple[np.ndarray, np.ndarray]:
    """The drawn (width, group width) pairs that the compatibility step turns into a stage of
    width ``w`` and group width ``g`` with bottleneck ratio ``b``."""
    gs = _values(space.group_width, g, math.inf)[:4096]  # compatibility only lowers g
    if gs.size == 0:
        return np.empty(0), np.empty(0)
    reach = b * (gs.max() / 2 + 1) + 1  # how far rounding to a multiple of g moves a width
    ws = _values(space.width, w - reach, w + reach)
    if ws.size == 0:
        return np.empty(0), np.empty(0)
    ww, gg = np.meshgrid(ws, gs, indexing="ij")
    w2, g2 = compatible_widths(ww, b, gg)
    ok = (w2 == w) & (g2 == g)
    return ww[ok], gg[ok]


def _related(rule: str | None, prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Pairwise (prev x cur) test of consecutive stages' drawn values under ``rule``."""
    a, b = prev[:, None], cur[None, :]
    if rule == "shared":
        return np.abs(a - b) <= _TOL
    if rule == "increasing":
        return a <= b + _TOL
    if rule == "decreasing":
        return a >= b - _TOL
    return np.ones((a.size, b.size), dtype=bool)


def _rule(space: AnyNetSpace, param: str) -> str | None:
    if param in space.shared:
        return "shared"
    return dict(space.monotone).get(param)


def _in_order(values: list, direction: str | None) -> bool:
    if direction == "increasing":
        return all(x <= y for x, y in zip(values, values[1:], strict=False))
    if direction == "decreasing":
        return all(x >= y for x, y in zip(values, values[1:], strict=False))
    return True


def _anynet_reasons(arch: Architecture, space: AnyNetSpace) -> list[Reason]:
    n = len(arch.stages)
    if n != space.num_stages:
        return [("stages", f"{n} stages; the space has {space.num_stages}")]
    out: list[Reason] = []
    order = dict(space.monotone)
    for param, values, kind in (
        ("depth", arch.depths, "depth"),
        ("bottleneck_ratio", arch.bottleneck_ratios, "bottleneck_ratio"),
    ):
        if param == "bottleneck_ratio" and not get_block(space.block).bottleneck:
            continue
        dist = getattr(space, param)
        for i, v in enumerate(values, start=1):
            if not _member(dist, v):
                out.append((kind, f"stage {i} {param} {v:g} is not in {_describe(dist)}"))
        if param in space.shared and len(set(values)) > 1:
            out.append(("shared", f"{param}s {values} differ; the space shares one"))
        if not _in_order(values, order.get(param)):
            out.append(("monotone", f"{param}s {values} are not {order[param]}"))
    if not _in_order(arch.widths, order.get("width")):
        out.append(("monotone", f"widths {arch.widths} are not {order['width']}"))
    if not get_block(space.block).bottleneck:
        return out + _dense_width_reasons(arch, space)
    return out + _compatible_reasons(arch, space)


def _dense_width_reasons(arch: Architecture, space: AnyNetSpace) -> list[Reason]:
    """Widths of blocks without a bottleneck: drawn as they are (no compatibility step)."""
    out: list[Reason] = []
    for i, w in enumerate(arch.widths, start=1):
        if not _member(space.width, w):
            out.append(("width", f"stage {i} width {w} is not in {_describe(space.width)}"))
    if "width" in space.shared and len(set(arch.widths)) > 1:
        out.append(("shared", f"widths {arch.widths} differ; the space shares one"))
    return out


def _compatible_reasons(arch: Architecture, space: AnyNetSpace) -> list[Reason]:
    """Per stage, a drawn (width, g) that the compatibility step maps to the stage; then one
    chain of such draws that obeys the space's sharing and order of widths and of g."""
    pairs = []
    out: list[Reason] = []
    for i, st in enumerate(arch.stages, start=1):
        pw, pg = _explanations(st.width, st.group_width, st.bottleneck_ratio, space)
        if pw.size:
            pairs.append((pw, pg))
            continue
        g = st.group_width
        lowered = g == st.inner_width and _values(space.group_width, g + 0.5, math.inf).size
        if not (_member(space.group_width, g) or lowered):
            out.append(
                (
                    "group_width",
                    f"stage {i} group width {g} is not in {_describe(space.group_width)} (nor "
                    f"a larger g lowered to the inner width {st.inner_width})",
                )
            )
        else:
            out.append(
                (
                    "width",
                    f"stage {i} width {st.width} (b {st.bottleneck_ratio:g}, g "
                    f"{st.group_width}) is not the compatible width of any drawn width of "
                    f"{_describe(space.width)} and g of {_describe(space.group_width)}",
                )
            )
    if out:
        return out
    w_rule, g_rule = _rule(space, "width"), _rule(space, "group_width")
    if w_rule is None and g_rule is None:
        return []
    fw, fg = pairs[0]
    for pw, pg in pairs[1:]:
        keep = (_related(w_rule, fw, pw) & _related(g_rule, fg, pg)).any(axis=0)
        fw, fg = pw[keep], pg[keep]
        if not fw.size:
            rules = ", ".join(f"{p} {r}" for p, r in (("width", w_rule), ("g", g_rule)) if r)
            return [
                (
                    "shared" if "shared" in (w_rule, g_rule) else "monotone",
                    f"no draws with {rules} give widths {arch.widths} and group widths "
                    f"{arch.group_widths}",
                )
            ]
    return []


# ----------------------------------------------------------------------------- RegNet
def _regnet_reasons(arch: Architecture, space: RegNetSpace) -> list[Reason]:
    out: list[Reason] = []
    n = len(arch.stages)
    if space.num_stages is not None and n != space.num_stages:
        out.append(("stages", f"{n} stages; the space keeps {space.num_stages}"))
    if not _member(space.depth, arch.depth):
        out.append(("depth", f"depth {arch.depth} is not in {_describe(space.depth)}"))
    bs = sorted(set(arch.bottleneck_ratios))
    if len(bs) > 1:
        out.append(("shared", f"bottleneck ratios {arch.bottleneck_ratios} differ; b is shared"))
        return out
    if not _member(space.bottleneck_ratio, bs[0]):
        out.append(
            (
                "bottleneck_ratio",
                f"bottleneck ratio {bs[0]:g} is not in {_describe(space.bottleneck_ratio)}",
            )
        )
        return out
    return out + _rule_reasons(arch, space, float(bs[0]))


def _shared_gs(arch: Architecture, space: RegNetSpace) -> np.ndarray:
    """The drawn shared g that give every stage's group width (the compatibility step lowers
    g to a stage's inner width where g is larger)."""
    gs = np.asarray(arch.group_widths, dtype=float)
    inner = np.asarray([st.inner_width for st in arch.stages], dtype=float)
    cand = _values(space.group_width, gs.max(), math.inf)[:4096]
    ok = ((cand[:, None] == gs) | ((gs < cand[:, None]) & (gs == inner))).all(axis=1)
    return cand[ok]


def _pre_widths(w: int, g_out: int, b: float, g: float, q: int) -> np.ndarray:
    """The quantized widths (multiples of q) that the compatibility step with ``b`` and the
    drawn ``g`` turns into width ``w`` and group width ``g_out``."""
    reach = b * (g / 2 + 1) + q
    first, last = max(0, math.ceil((w - reach) / q)), math.floor((w + reach) / q)
    v = np.arange(first, last + 1, dtype=float) * q
    w2, g2 = compatible_widths(v, b, g)
    return v[(w2 == w) & (g2 == g_out)]


def _w0_spans(space: RegNetSpace, v0: np.ndarray) -> Intervals:
    """The w0 of the space (points, or spans of a continuous distribution) whose first stage
    ``round(w0 / q) * q`` is one of ``v0``."""
    q = space.q
    out: Intervals = []
    for v in v0:
        lo, hi = v - q / 2, v + q / 2
        if isinstance(space.w0, (Fixed, Choice, IntUniform)) or (
            isinstance(space.w0, LogUniform) and space.w0.q
        ):
            vals = _values(space.w0, lo, hi)
            out += [(x, x) for x in vals if np.round(x / q) * q == v]
        else:
            bounds = getattr(space.w0, "bounds", lambda: (0.0, math.inf))()
            if max(lo, bounds[0]) <= min(hi, bounds[1]):
                out.append((max(lo, bounds[0]), min(hi, bounds[1])))
    return out


def _wm_spans(pre: list[np.ndarray], w0: tuple[float, float], q: int, wm_lo: float) -> Intervals:
    """The wm for which every later stage's quantized width ``round(w0 * wm^k / q) * q`` (some
    k >= 1) is one of its candidates ``pre[i]``, for w0 in the span ``w0``; [wm_lo, inf) when
    a stage needs more powers than ``_MAX_POWER``."""
    a, c = w0
    allowed: Intervals = [(wm_lo, math.inf)]
    for cands in pre[1:]:
        top = (cands.max() + q / 2) / a
        k_max = math.floor(math.log(top) / math.log(wm_lo)) if top > 1 else 0
        if k_max > _MAX_POWER:
            continue
        lo, hi = np.maximum(cands - q / 2, 0) / c, (cands + q / 2) / a
        spans: Intervals = []
        for k in range(1, k_max + 1):
            spans += list(zip((lo ** (1 / k)).tolist(), (hi ** (1 / k)).tolist(), strict=True))
        allowed = _intersect(allowed, _union(spans))
        if not allowed:
            break
    return allowed


def _rule_reasons(arch: Architecture, space: RegNetSpace, b: float) -> list[Reason]:
    """Stage widths and group widths against the quantized linear rule (module docstring)."""
    q = space.q
    gs = _shared_gs(arch, space)
    if not gs.size:
        return [
            (
                "group_width",
                f"group widths {arch.group_widths} do not come from one g of "
                f"{_describe(space.group_width)}",
            )
        ]
    wm_lo = space.wm.bounds()[0] if hasattr(space.wm, "bounds") else 1 + 1e-6
    failures: list[tuple[int, Reason]] = []  # (how far the check got, why it stopped)
    for g in gs:
        pre = [_pre_widths(st.width, st.group_width, b, g, q) for st in arch.stages]
        empty = [i for i, v in enumerate(pre) if not v.size]
        if empty:
            i = empty[0]
            why = f"stage {i + 1} width {arch.widths[i]} is not the compatible width (b {b:g}, "
            failures.append((0, ("width", why + f"g {g:g}) of a multiple of q = {q}")))
            continue
        spans = _w0_spans(space, pre[0])
        if not spans:
            near = ", ".join(f"{v:g}" for v in pre[0])
            why = f"first stage width {arch.widths[0]} needs w0 near {near}, not in "
            failures.append((1, ("rule", why + _describe(space.w0))))
            continue
        for span in spans:
            for lo, hi in _wm_spans(pre, span, q, wm_lo):
                if _hits(space.wm, lo, hi):
                    return []
        why = f"stage widths {arch.widths} are not round(w0 * wm^k / {q}) * {q} for any w0 of "
        failures.append(
            (2, ("rule", why + f"{_describe(space.w0)} and wm of {_describe(space.wm)}"))
        )
    return [max(failures, key=lambda f: f[0])[1]]


# ----------------------------------------------------------------------------- public
def _own_reasons(arch: Architecture, space: Space) -> list[Reason]:
    if (arch.block, arch.se_ratio) != (space.block, space.se_ratio):
        return [
            (
                "block",
                f"{arch.block!r} blocks (se_ratio {arch.se_ratio:g}); the space draws "
                f"{space.block!r} (se_ratio {space.se_ratio:g})",
            )
        ]
    out = _require_reasons(arch, space)
    if isinstance(space, AnyNetSpace):
        return out + _anynet_reasons(arch, space)
    return out + _regnet_reasons(arch, space)


def _require_reasons(arch: Architecture, space: Space) -> list[Reason]:
    """The space's ``require`` ranges on statistics that ``arch`` misses."""
    out: list[Reason] = []
    for stat, lo, hi in space.require:
        value = get_statistic(stat)(arch)
        if not lo <= value <= hi:
            out.append(("require", f"{stat} {value:g} is outside {describe_range(stat, lo, hi)}"))
    return out


def _band_reasons(
    arch: Architecture, regime: Regime | None, bands: dict[str, Band | None]
) -> list[Reason]:
    if regime is None:
        if any(bands.values()):
            raise DesignSpaceError(
                "a complexity band needs a regime (its resolution): pass regime=..."
            )
        return []
    out: list[Reason] = []
    if arch.min_resolution > regime.resolution:
        out.append(
            (
                "band",
                f"needs inputs of at least {arch.min_resolution} px; the regime has "
                f"{regime.resolution} px",
            )
        )
        return out
    cost = complexity(arch, regime.resolution).as_dict()
    for key, band in bands.items():
        band = band or getattr(regime, key)
        if band is not None and not band[0] <= cost[key] <= band[1]:
            out.append(
                (
                    "band",
                    f"{key} {format_quantity(cost[key])} outside {format_quantity(band[0])}.."
                    f"{format_quantity(band[1])} at {regime.resolution} px",
                )
            )
    return out


def _reasons(
    arch: Architecture,
    space: Space | str,
    regime: Regime | str | None = None,
    *,
    flops: Band | None = None,
    params: Band | None = None,
    acts: Band | None = None,
) -> list[tuple[str, str, str]]:
    """(space name, kind, text) of every reason ``arch`` lies outside ``space``'s support."""
    space = get_space(space) if isinstance(space, str) else space
    if not isinstance(arch, Architecture):
        raise DesignSpaceError(f"inside() needs an Architecture, got {type(arch).__name__}")
    regime = get_regime(regime) if isinstance(regime, str) else regime
    out = [
        (s.name, kind, text)
        for s in (space, *refinement_chain(space))
        for kind, text in _own_reasons(arch, s)
    ]
    bands = {"flops": flops, "params": params, "acts": acts}
    return out + [("regime", kind, text) for kind, text in _band_reasons(arch, regime, bands)]


def inside(
    arch: Architecture,
    space: Space | str,
    regime: Regime | str | None = None,
    *,
    flops: Band | None = None,
    params: Band | None = None,
    acts: Band | None = None,
) -> list[str]:
    """The reasons ``arch`` lies outside the support of ``space`` (and of every space it
    refines); an empty list when it lies inside.

    Each reason is one line that starts with the refusing space's name ("AnyNetXE: 5 stages;
    the space has 4"). ``space`` is a space or its name (or space file). Without ``regime``
    the complexity band is not checked; with one, flops (multiply-adds), params and acts are
    counted at its resolution and checked against ``flops``/``params``/``acts`` (inclusive
    (lo, hi); each defaults to the regime's band), and the network must run at that
    resolution, as the sampler requires. What is checked for each kind of space is in the
    module docstring.
    """
    return [
        f"{name}: {text}"
        for name, _kind, text in _reasons(
            arch, space, regime, flops=flops, params=params, acts=acts
        )
    ]


def reasons_by_kind(
    arch: Architecture, space: Space | str, regime: Regime | str | None = None
) -> list[str]:
    """The reasons of :func:`inside` as short labels ``"<space>: <kind>"`` (kind one of block,
    require, stages, depth, width, bottleneck_ratio, group_width, shared, monotone, rule,
    band), for
    counting over many networks."""
    return [f"{name}: {kind}" for name, kind, _ in _reasons(arch, space, regime)]


def support_filter(space: Space) -> Callable[[Architecture], bool] | None:
    """A test "``arch`` lies inside the support of every space ``space`` refines", or None when
    it refines none; what the sampler applies to each draw of a refining space."""
    parent = space.refines
    if parent is None:
        return None

    def inside_parent(arch: Architecture) -> bool:
        return not _reasons(arch, parent)

    return inside_parent


class StepLike(Protocol):
    """A nested step (e.g. :class:`designspace.analysis.rules.Step`): the child space
    ``to_space`` should lie inside the parent ``from_space``."""

    @property
    def from_space(self) -> str: ...

    @property
    def to_space(self) -> str: ...


@dataclass(frozen=True)
class StepSupport:
    """How many of a data set's child rows lie outside the parent's support.

    ``n``: rows of ``to_space``; ``outside``: those outside ``from_space``'s support;
    ``reasons``: ``("<space>: <kind>", rows)`` most frequent first (a row can count under
    several kinds).
    """

    from_space: str
    to_space: str
    n: int
    outside: int
    reasons: tuple[tuple[str, int], ...]

    @property
    def share(self) -> float:
        """Fraction of the child's rows outside the parent's support (nan when n = 0)."""
        return self.outside / self.n if self.n else float("nan")


def check_step(frame: Any, step: StepLike, *, by: str = "space") -> StepSupport:
    """Check a results frame against a nested step: which rows of ``step.to_space`` (in
    column ``by``) lie outside the support of ``step.from_space`` (a built-in name or a space
    file), judged from each row's ``arch_json``. The complexity band is not checked (rows
    come from the study's regime). Pure; ``frame`` is a pandas DataFrame.
    """
    missing = [c for c in (by, "arch_json") if c not in getattr(frame, "columns", ())]
    if missing:
        raise DesignSpaceError(
            f"check_step needs a results frame with columns {by!r} and 'arch_json'; missing "
            f"{missing}"
        )
    parent = get_space(step.from_space)
    rows = frame.loc[frame[by].astype(str) == str(step.to_space), "arch_json"]
    counts: Counter[str] = Counter()
    outside = 0
    for text in rows:
        labels = reasons_by_kind(Architecture.from_json(text), parent)
        if labels:
            outside += 1
            counts.update(set(labels))
    return StepSupport(
        from_space=str(step.from_space),
        to_space=str(step.to_space),
        n=len(rows),
        outside=outside,
        reasons=tuple(counts.most_common()),
    )
