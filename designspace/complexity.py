"""Analytic complexity under the papers' convention, pure numpy and vectorized over batches.

Conventions (NDS/DDS, pycls):

* **flops are multiply-adds.** A k x k conv from c_in to c_out channels with G groups and an
  output of h' x w' costs ``k*k*c_in*c_out*h'*w'/G``, plus ``c_out*h'*w'`` when it has a bias;
  a linear layer costs ``c_in*c_out`` plus ``c_out`` for its bias. ``h' = (h - 1) // s + 1``
  (padding k // 2). BN, activations, pooling, the residual add and the SE multiply cost 0.
* **params** are all weights and biases, BN's gamma and beta included (2C per BN).
* **acts** are the output elements of every conv and linear layer.
* Inputs are square: ``resolution`` is the side in pixels.

The walk below follows :mod:`designspace.models` layer by layer (stem, one function per block
type, head), and a test holds the two equal through fvcore for every named model and hundreds
of sampled ones. Every function takes numpy arrays (or ints) and broadcasts, so one code path
counts a single network and a batch of a million candidates alike: within a stage all blocks
after the first cost the same, so a stage is ``first + (d - 1) * rest``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designspace.arch import STEM_STRIDES, Architecture

Cost = np.ndarray  # shape (3, ...): flops, params, acts


@dataclass(frozen=True)
class Complexity:
    """Complexity of one network: ``flops`` (multiply-adds), ``params``, ``acts`` (elements)."""

    flops: int
    params: int
    acts: int

    def as_dict(self) -> dict[str, int]:
        """``{"flops": .., "params": .., "acts": ..}``."""
        return {"flops": self.flops, "params": self.params, "acts": self.acts}


def _out_size(h, stride):
    return (h - 1) // stride + 1


def _conv(h, c_in, c_out, k: int, stride=1, groups=1, bias: bool = False):
    """Cost of a conv on an h x h input; returns (cost, output side)."""
    h_out = _out_size(h, stride)
    area = h_out * h_out
    flops = k * k * c_in * c_out * area // groups
    params = k * k * c_in * c_out // groups
    if bias:
        flops = flops + c_out * area
        params = params + c_out
    return np.stack(np.broadcast_arrays(flops, params, c_out * area)), h_out


def _bn(c):
    return np.stack(np.broadcast_arrays(0 * c, 2 * c, 0 * c))


def _linear(c_in, c_out):
    return np.stack(np.broadcast_arrays(c_in * c_out + c_out, c_in * c_out + c_out, c_out))


def stem_cost(h, in_channels, width, stem: str):
    """Stem: 3x3 conv (stride 2 for "simple", 1 for "small") + BN + ReLU."""
    cost, h = _conv(h, in_channels, width, 3, STEM_STRIDES[stem])
    return cost + _bn(width), h


def _shortcut(h, w_in, w_out, stride):
    """1x1 strided projection + BN where width or stride change; zero cost otherwise."""
    cost, _ = _conv(h, w_in, w_out, 1, stride)
    needed = (np.asarray(w_in) != np.asarray(w_out)) | (np.asarray(stride) != 1)
    return np.where(needed, cost + _bn(w_out), 0)


def bottleneck_block_cost(h, w_in, w_out, stride, b, g, se_ratio: float = 0.0):
    """X block (Y block when se_ratio > 0): 1x1, grouped 3x3 (+SE), 1x1, projection."""
    w_b = np.rint(np.asarray(w_out) / b).astype(np.int64)
    c1, _ = _conv(h, w_in, w_b, 1)
    c2, h_out = _conv(h, w_b, w_b, 3, stride, groups=w_b // g)
    cost = c1 + _bn(w_b) + c2 + _bn(w_b)
    if se_ratio > 0:
        w_se = np.round(se_ratio * np.asarray(w_in)).astype(np.int64)
        s1, _ = _conv(1, w_b, w_se, 1, bias=True)
        s2, _ = _conv(1, w_se, w_b, 1, bias=True)
        cost = cost + s1 + s2
    c3, _ = _conv(h_out, w_b, w_out, 1)
    return cost + c3 + _bn(w_out) + _shortcut(h, w_in, w_out, stride), h_out


def basic_block_cost(h, w_in, w_out, stride, residual: bool = True):
    """Basic residual block (two 3x3 convs + projection) or, without residual, the plain one."""
    c1, h_out = _conv(h, w_in, w_out, 3, stride)
    c2, _ = _conv(h_out, w_out, w_out, 3)
    cost = c1 + _bn(w_out) + c2 + _bn(w_out)
    if residual:
        cost = cost + _shortcut(h, w_in, w_out, stride)
    return cost, h_out


def block_cost(block: str, h, w_in, w_out, stride, b, g, se_ratio: float = 0.0):
    """Cost of one block of the given type; returns (cost, output side)."""
    if block in ("x", "y"):
        return bottleneck_block_cost(h, w_in, w_out, stride, b, g, se_ratio)
    return basic_block_cost(h, w_in, w_out, stride, residual=block == "basic")


def stage_cost(block: str, h, w_in, depth, width, stride, b, g, se_ratio: float = 0.0):
    """A stage: its first block (stride, maybe projection) + (depth - 1) identical blocks."""
    first, h_out = block_cost(block, h, w_in, width, stride, b, g, se_ratio)
    rest, _ = block_cost(block, h_out, width, width, 1, b, g, se_ratio)
    return first + (np.asarray(depth) - 1) * rest, h_out


def head_cost(width, num_classes):
    """Head: global average pool (free) + linear layer with bias."""
    return _linear(width, num_classes)


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


def complexity(arch: Architecture, resolution: int = 224) -> Complexity:
    """Flops (multiply-adds), params and acts of ``arch`` on square ``resolution`` px inputs."""
    if resolution < 1:
        raise ValueError(f"resolution must be >= 1 px, got {resolution}")
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
