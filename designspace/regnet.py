"""The RegNet quantized linear rule (DDS section 3.3 and appendix D).

Widths are channel counts; every ``round`` below rounds half to even (numpy's and Python 3's
rule), as the reference implementation does. Half-up rounding gives wrong widths for several
published models.
"""

from __future__ import annotations

import numpy as np

from designspace.arch import Architecture, Stage
from designspace.errors import DesignSpaceError

QUANTUM = 8


def regnet_widths(d: int, w0: float, wa: float, wm: float, q: int = QUANTUM) -> np.ndarray:
    """Per-block widths of the quantized linear rule, shape ``(d,)``, ints (channels).

    ``u_j = w0 + wa * j``; ``s_j = round(log(u_j / w0) / log(wm))``;
    ``w_j = round(w0 * wm ** s_j / q) * q`` for blocks ``j = 0..d-1``.
    """
    if d < 1 or w0 <= 0 or wa < 0 or wm <= 1 or q < 1:
        raise DesignSpaceError(
            f"RegNet needs d >= 1, w0 > 0, wa >= 0, wm > 1 and q >= 1; got d={d}, w0={w0}, "
            f"wa={wa}, wm={wm}, q={q}"
        )
    u = w0 + wa * np.arange(d)
    s = np.round(np.log(u / w0) / np.log(wm))
    return (np.round(w0 * np.power(wm, s) / q) * q).astype(int)


def widths_to_stages(block_widths: np.ndarray) -> tuple[list[int], list[int]]:
    """Collapse per-block widths into stages: (distinct widths in increasing order, depths)."""
    widths, depths = np.unique(np.asarray(block_widths), return_counts=True)
    return [int(w) for w in widths], [int(d) for d in depths]


def adjust_compatibility(
    widths: list[int], bottleneck_ratios: list[float], group_widths: list[int]
) -> tuple[list[int], list[int]]:
    """Make (w, b, g) compatible per stage (DDS appendix D); returns (widths, group_widths).

    ``w_b = max(1, int(w / b))``; ``g = min(g, w_b)``; ``w_b = max(g, round(w_b / g) * g)``;
    ``w = w_b * b``. Stages are not merged again if two widths become equal.
    """
    out_w: list[int] = []
    out_g: list[int] = []
    for w, b, g in zip(widths, bottleneck_ratios, group_widths, strict=True):
        w_b = max(1, int(w / b))
        g = min(int(g), w_b)
        w_b = max(g, int(round(w_b / g)) * g)
        out_w.append(int(round(w_b * b)))
        out_g.append(g)
    return out_w, out_g


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
        block="y" if se_ratio > 0 else "x",
        stem=stem,
        stem_width=stem_width,
        in_channels=in_channels,
        num_classes=num_classes,
        se_ratio=se_ratio,
        name=name,
    )
