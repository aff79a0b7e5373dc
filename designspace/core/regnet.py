"""The RegNet quantized linear rule (DDS section 3.3 and appendix D).

Widths are channel counts; every ``round`` below rounds half to even (numpy's and Python 3's
rule), as the reference implementation does. Half-up rounding gives wrong widths for several
published models.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from designspace.core.arch import Architecture, Stage
from designspace.core.blocks import block_with
from designspace.errors import DesignSpaceError

QUANTUM = 8


def quantized_widths(
    d: int, w0: ArrayLike, wa: ArrayLike, wm: ArrayLike, q: int = QUANTUM
) -> np.ndarray:
    """Per-block widths of the quantized linear rule, vectorized over (w0, wa, wm).

    ``w0``, ``wa`` and ``wm`` broadcast together to a shape ``S``; the result has shape
    ``S + (d,)``, dtype float64, and holds whole multiples of ``q`` (channels) for blocks
    ``j = 0..d-1``: ``u_j = w0 + wa * j``; ``s_j = round(log(u_j / w0) / log(wm))``;
    ``w_j = round(w0 * wm ** s_j / q) * q`` (round = half to even). This is the one
    implementation of the rule; :func:`regnet_widths` is its scalar form.
    Raises DesignSpaceError unless d >= 1, q >= 1, w0 > 0, wa >= 0 and wm > 1 everywhere.
    """
    w0 = np.asarray(w0, dtype=float)
    wa = np.asarray(wa, dtype=float)
    wm = np.asarray(wm, dtype=float)
    if (
        not isinstance(d, (int, np.integer))
        or d < 1
        or q < 1
        or not (w0 > 0).all()
        or not (wa >= 0).all()
        or not (wm > 1).all()
    ):
        raise DesignSpaceError(
            f"RegNet needs d >= 1, w0 > 0, wa >= 0, wm > 1 and q >= 1; got d={d}, "
            f"w0={_span(w0)}, wa={_span(wa)}, wm={_span(wm)}, q={q}"
        )
    w0, wa, wm = (x[..., None] for x in (w0, wa, wm))
    u = w0 + wa * np.arange(d)
    s = np.round(np.log(u / w0) / np.log(wm))
    return np.round(w0 * np.power(wm, s) / q) * q


def _span(x: np.ndarray) -> str:
    """A parameter for an error message: its value, or its range when it is an array."""
    if x.size == 1:
        return f"{x.item():g}"
    if x.size == 0:
        return "[]"
    return f"{np.nanmin(x):g}..{np.nanmax(x):g}"


def regnet_widths(d: int, w0: float, wa: float, wm: float, q: int = QUANTUM) -> np.ndarray:
    """Per-block widths of the quantized linear rule for one network, shape ``(d,)``, ints.

    The scalar form of :func:`quantized_widths` (same rule, same rounding); widths are
    channels.
    """
    for name, value in (("w0", w0), ("wa", wa), ("wm", wm)):
        if np.ndim(value) != 0:
            raise DesignSpaceError(
                f"regnet_widths takes a single {name}; use quantized_widths for arrays"
            )
    return quantized_widths(d, w0, wa, wm, q).astype(int)


def widths_to_stages(block_widths: np.ndarray) -> tuple[list[int], list[int]]:
    """Collapse per-block widths into stages: (distinct widths in increasing order, depths)."""
    widths, depths = np.unique(np.asarray(block_widths), return_counts=True)
    return [int(w) for w in widths], [int(d) for d in depths]


def compatible_widths(
    widths: ArrayLike, bottleneck_ratios: ArrayLike, group_widths: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Make (w, b, g) compatible elementwise (DDS appendix D); returns int64 (widths, g).

    ``w_b = max(1, floor(w / b))``; ``g = min(g, w_b)``; ``w_b = max(g, round(w_b / g) * g)``;
    ``w = round(w_b * b)`` (round = half to even). Arguments broadcast together; widths and
    group widths are channels, b is DDS's bottleneck ratio (inner width = w / b). This is the
    one implementation of the step; :func:`adjust_compatibility` is its list form.
    """
    w = np.asarray(widths)
    b = np.asarray(bottleneck_ratios)
    w_b = np.maximum(1, np.floor(w / b)).astype(np.int64)
    g = np.minimum(group_widths, w_b).astype(np.int64)
    w_b = np.maximum(g, np.round(w_b / g).astype(np.int64) * g)
    return np.rint(w_b * b).astype(np.int64), g


def adjust_compatibility(
    widths: list[int], bottleneck_ratios: list[float], group_widths: list[int]
) -> tuple[list[int], list[int]]:
    """Make (w, b, g) compatible per stage (DDS appendix D); returns (widths, group_widths).

    The list form of :func:`compatible_widths`: equal-length per-stage lists in, Python ints
    out. Stages are not merged again if two widths become equal.
    """
    if not len(widths) == len(bottleneck_ratios) == len(group_widths):
        raise DesignSpaceError(
            "adjust_compatibility needs one width, bottleneck ratio and group width per stage"
        )
    w, g = compatible_widths(
        np.asarray(widths, dtype=float),
        np.asarray(bottleneck_ratios, dtype=float),
        np.asarray(group_widths, dtype=float),
    )
    return [int(x) for x in w], [int(x) for x in g]


def regnet_architecture(
    d: int,
    w0: float,
    wa: float,
    wm: float,
    g: int,
    b: float = 1,
    se_ratio: float = 0.0,
    *,
    stem_width: int = 32,
    stem: str = "simple",
    in_channels: int = 3,
    num_classes: int = 1000,
    q: int = QUANTUM,
    name: str | None = None,
) -> Architecture:
    """The network that the RegNet rule generates (X blocks, or Y blocks when se_ratio > 0).

    Every stage has stride 2 and shares the group width ``g`` and bottleneck ratio ``b``
    (after the compatibility step).
    """
    widths, depths = widths_to_stages(regnet_widths(d, w0, wa, wm, q))
    n = len(widths)
    widths, gs = adjust_compatibility(widths, [b] * n, [g] * n)
    stages = tuple(
        Stage(depth=dd, width=w, bottleneck_ratio=b, group_width=gg, stride=2)
        for dd, w, gg in zip(depths, widths, gs, strict=True)
    )
    return Architecture(
        stages=stages,
        block=block_with(bottleneck=True, se=se_ratio > 0),
        stem=stem,
        stem_width=stem_width,
        in_channels=in_channels,
        num_classes=num_classes,
        se_ratio=se_ratio,
        name=name,
    )
