"""Analytic complexity under the papers' convention, pure numpy and vectorized over batches.

Conventions (NDS/DDS, pycls):

* **flops are multiply-adds.** A k x k conv from c_in to c_out channels with G groups and an
  output of h' x w' costs ``k*k*c_in*c_out*h'*w'/G``, plus ``c_out*h'*w'`` when it has a bias;
  a linear layer costs ``c_in*c_out`` plus ``c_out`` for its bias. ``h' = (h - 1) // s + 1``
  (padding k // 2). BN, activations, pooling, the residual add and the SE multiply cost 0.
* **params** are all weights and biases, BN's gamma and beta included (2C per BN).
* **acts** are the output elements of every conv and linear layer.
* Inputs are square: ``resolution`` is the side in pixels.

The walk below follows :mod:`designspace.training.models` layer by layer (stem, each block type's
cost function from its spec in :mod:`designspace.core.blocks`, head), and a test holds the two equal
through fvcore for every named model and hundreds of sampled ones. Every function takes numpy arrays
(or ints) and broadcasts, so one code path counts a single network and a batch of a million
candidates alike: within a stage all blocks after the first cost the same, so a stage is ``first +
(d - 1) * rest``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designspace.core.arch import STEM_STRIDES, Architecture
from designspace.core.blocks import basic_block_cost, bottleneck_block_cost, get_block
from designspace.core.layercost import Cost, bn_cost, conv_cost, linear_cost
from designspace.errors import DesignSpaceError

__all__ = [
    "Complexity",
    "Cost",
    "basic_block_cost",
    "block_cost",
    "bottleneck_block_cost",
    "check_countable",
    "complexity",
    "complexity_arrays",
    "head_cost",
    "stage_cost",
    "stage_summary",
    "stem_cost",
]


@dataclass(frozen=True)
class Complexity:
    """Complexity of one network: ``flops`` (multiply-adds), ``params``, ``acts`` (elements)."""

    flops: int
    params: int
    acts: int

    def as_dict(self) -> dict[str, int]:
        """``{"flops": .., "params": .., "acts": ..}``."""
        return {"flops": self.flops, "params": self.params, "acts": self.acts}


def stem_cost(h, in_channels, width, stem: str):
    """Stem: 3x3 conv (stride 2 for "simple", 1 for "small") + BN + ReLU."""
    cost, h = conv_cost(h, in_channels, width, 3, STEM_STRIDES[stem])
    return cost + bn_cost(width), h


def block_cost(block: str, h, w_in, w_out, stride, b, g, se_ratio: float = 0.0):
    """Cost of one block of the registered type ``block``; returns (cost, output side).

    The cost function is the block's spec in :mod:`designspace.core.blocks`; an unknown name raises
    DesignSpaceError.
    """
    return get_block(block).cost(h, w_in, w_out, stride, b, g, se_ratio)


def stage_cost(block: str, h, w_in, depth, width, stride, b, g, se_ratio: float = 0.0):
    """A stage: its first block (stride, maybe projection) + (depth - 1) identical blocks."""
    first, h_out = block_cost(block, h, w_in, width, stride, b, g, se_ratio)
    rest, _ = block_cost(block, h_out, width, width, 1, b, g, se_ratio)
    return first + (np.asarray(depth) - 1) * rest, h_out


def head_cost(width, num_classes):
    """Head: global average pool (free) + linear layer with bias."""
    return linear_cost(width, num_classes)


def complexity_arrays(
    depths: np.ndarray,
    widths: np.ndarray,
    bottleneck_ratios: np.ndarray,
    group_widths: np.ndarray,
    strides: np.ndarray,
    *,
    resolution: int,
    block: str = "x",
    stem: str = "simple",
    stem_width: int = 32,
    in_channels: int = 3,
    num_classes: int = 1000,
    se_ratio: float = 0.0,
) -> np.ndarray:
    """Complexity of a batch of networks that differ only in their stages.

    Per-stage arguments have shape (N, S) (or (S,) for one network). Returns an int64 array of
    shape (3, N) (or (3,)): flops (multiply-adds), params, acts at ``resolution`` px.
    """
    depths, widths, bs, gs, strides = (
        np.asarray(a) for a in (depths, widths, bottleneck_ratios, group_widths, strides)
    )
    widths = widths.astype(np.int64)
    stem_total, h = stem_cost(resolution, in_channels, stem_width, stem)
    batch_shape = widths.shape[:-1]
    total = stem_total.reshape((3,) + (1,) * len(batch_shape))
    w_in = np.full(batch_shape, stem_width, dtype=np.int64)
    for i in range(widths.shape[-1]):
        cost, h = stage_cost(
            block,
            h,
            w_in,
            depths[..., i],
            widths[..., i],
            strides[..., i],
            bs[..., i],
            gs[..., i],
            se_ratio,
        )
        total = total + cost
        w_in = widths[..., i]
    total = total + head_cost(w_in, num_classes)
    return np.asarray(total, dtype=np.int64)


def check_countable(arch: Architecture, resolution: int) -> None:
    """Refuse (DesignSpaceError) a resolution that is not a whole number of px >= 1, or a
    network too large to count exactly in 64-bit integers at that resolution.

    The bound is generous: every conv costs at most ``9 * C**2 * resolution**2`` multiply-adds
    for the widest channel count C, and a block has at most 6 convs.
    """
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)):
        raise DesignSpaceError(f"resolution must be a whole number of px, got {resolution!r}")
    if resolution < 1:
        raise DesignSpaceError(f"resolution must be >= 1 px, got {resolution}")
    widest = max(
        [arch.in_channels, arch.stem_width, arch.num_classes]
        + [max(s.width, s.inner_width) for s in arch.stages]
    )
    bound = 9 * widest**2 * int(resolution) ** 2 * (6 * arch.depth + 2)
    if bound >= 2**63:
        raise DesignSpaceError(
            f"{arch.name or 'this network'} at {resolution} px is too large to count exactly "
            f"in 64-bit integers; use a smaller resolution or network"
        )


def complexity(arch: Architecture, resolution: int = 224) -> Complexity:
    """Flops (multiply-adds), params and acts of ``arch`` on square ``resolution`` px inputs.

    Raises DesignSpaceError (a ValueError) for a resolution below 1 px or a network too large
    to count in 64-bit integers (:func:`check_countable`).
    """
    check_countable(arch, resolution)
    f, p, a = complexity_arrays(
        arch.depths,
        arch.widths,
        arch.bottleneck_ratios,
        arch.group_widths,
        arch.strides,
        resolution=resolution,
        block=arch.block,
        stem=arch.stem,
        stem_width=arch.stem_width,
        in_channels=arch.in_channels,
        num_classes=arch.num_classes,
        se_ratio=arch.se_ratio,
    )
    return Complexity(int(f), int(p), int(a))


def stage_summary(arch: Architecture, resolution: int = 224) -> list[dict]:
    """Per-layer-group table (stem, stage1.., head): output shape (C, H, W) and complexity.

    Like the d2l chapter's ``layer_summary``; the rows sum to :func:`complexity`.
    """
    check_countable(arch, resolution)
    rows = []
    cost, h = stem_cost(resolution, arch.in_channels, arch.stem_width, arch.stem)
    rows.append(("stem", (arch.stem_width, h, h), cost))
    w_in = arch.stem_width
    for i, s in enumerate(arch.stages, start=1):
        cost, h = stage_cost(
            arch.block,
            h,
            w_in,
            s.depth,
            s.width,
            s.stride,
            s.bottleneck_ratio,
            s.group_width,
            arch.se_ratio,
        )
        rows.append((f"stage{i}", (s.width, h, h), cost))
        w_in = s.width
    rows.append(("head", (arch.num_classes,), head_cost(w_in, arch.num_classes)))
    return [
        {
            "layer": name,
            "output_shape": list(shape),
            "flops": int(c[0]),
            "params": int(c[1]),
            "acts": int(c[2]),
        }
        for name, shape, c in rows
    ]
