"""The block registry: every block type a network can use, as one :class:`BlockSpec` each.

A spec says what the rest of the pure core needs to know about a block type:

* ``bottleneck``: the block has an inner width ``w / b`` and a grouped 3x3 conv, so it uses the
  stage's bottleneck ratio b and group width g. Blocks without one take b = 1 and
  g = width (dense convs), and spaces neither draw nor show b and g for them.
* ``se``: the block has squeeze-and-excitation; a network of it needs ``se_ratio > 0``, and
  every other network ``se_ratio == 0``.
* ``residual``: the block adds a shortcut (identity, or a projection where the width or the
  stride change).
* ``cost``: its analytic complexity, ``cost(h, w_in, w_out, stride, b, g, se_ratio) ->
  (Cost, h_out)`` on numpy arrays that broadcast (:mod:`designspace.core.layercost` conventions:
  flops are multiply-adds; ``h`` is the input side in px, widths in channels).

Architecture validation (:mod:`designspace.core.arch`), spaces, sampling and the analytic counter
(:mod:`designspace.core.complexity`) read the spec; the PyTorch module of each block is in
``designspace.training.models.BLOCK_MODULES``. Adding a block type = one :class:`BlockSpec`
registered here (with its cost function) + one module class there; a test checks that the
two agree with fvcore. An unknown name raises :class:`DesignSpaceError` naming the known blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from designspace.core.layercost import Cost, bn_cost, conv_cost, shortcut_cost
from designspace.errors import DesignSpaceError, did_you_mean

BlockCost = Callable[..., tuple[Cost, object]]


@dataclass(frozen=True)
class BlockSpec:
    """One block type: its name, structure flags and analytic cost (see the module doc)."""

    name: str
    description: str
    bottleneck: bool
    se: bool
    residual: bool
    cost: BlockCost

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str) or not self.name.isidentifier():
            raise DesignSpaceError(f"a block name must be a short identifier, got {self.name!r}")
        if self.se and not self.bottleneck:
            # the SE module acts on the inner width; dense blocks have none to reduce
            raise DesignSpaceError(f"block {self.name!r}: squeeze-excitation needs a bottleneck")


# ----------------------------------------------------------------------------- cost functions
def bottleneck_block_cost(h, w_in, w_out, stride, b, g, se_ratio: float = 0.0):
    """X block (Y block when se_ratio > 0): 1x1, grouped 3x3 (+SE), 1x1, projection.

    Inner width ``w_b = round(w_out / b)``; 3x3 groups ``w_b / g``; SE width
    ``round(se_ratio * w_in)`` (half to even) with biased 1x1 convs on the pooled 1 x 1 map.
    Returns (cost, output side).
    """
    w_b = np.rint(np.asarray(w_out) / b).astype(np.int64)
    c1, _ = conv_cost(h, w_in, w_b, 1)
    c2, h_out = conv_cost(h, w_b, w_b, 3, stride, groups=w_b // g)
    cost = c1 + bn_cost(w_b) + c2 + bn_cost(w_b)
    if se_ratio > 0:
        w_se = np.round(se_ratio * np.asarray(w_in)).astype(np.int64)
        s1, _ = conv_cost(1, w_b, w_se, 1, bias=True)
        s2, _ = conv_cost(1, w_se, w_b, 1, bias=True)
        cost = cost + s1 + s2
    c3, _ = conv_cost(h_out, w_b, w_out, 1)
    return cost + c3 + bn_cost(w_out) + shortcut_cost(h, w_in, w_out, stride), h_out


def basic_block_cost(h, w_in, w_out, stride, residual: bool = True):
    """Basic residual block (two 3x3 convs + projection) or, without residual, the plain one."""
    c1, h_out = conv_cost(h, w_in, w_out, 3, stride)
    c2, _ = conv_cost(h_out, w_out, w_out, 3)
    cost = c1 + bn_cost(w_out) + c2 + bn_cost(w_out)
    if residual:
        cost = cost + shortcut_cost(h, w_in, w_out, stride)
    return cost, h_out


def _basic_cost(h, w_in, w_out, stride, b, g, se_ratio):
    return basic_block_cost(h, w_in, w_out, stride, residual=True)


def _plain_cost(h, w_in, w_out, stride, b, g, se_ratio):
    return basic_block_cost(h, w_in, w_out, stride, residual=False)


# ----------------------------------------------------------------------------- registry
_REGISTRY: dict[str, BlockSpec] = {}


def register_block(spec: BlockSpec) -> BlockSpec:
    """Add a block type; its name must be new. Returns ``spec``.

    The PyTorch module goes into ``designspace.training.models.BLOCK_MODULES`` under the same name.
    """
    if not isinstance(spec, BlockSpec):
        raise DesignSpaceError(f"register_block needs a BlockSpec, got {type(spec).__name__}")
    if spec.name in _REGISTRY:
        raise DesignSpaceError(f"block {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def unregister_block(name: str) -> None:
    """Remove a block type added with :func:`register_block` (built-in blocks stay)."""
    if name in BUILTIN_BLOCKS:
        raise DesignSpaceError(f"block {name!r} is built in and cannot be removed")
    get_block(name)
    del _REGISTRY[name]


def block_names() -> tuple[str, ...]:
    """Names of every registered block type, built-in ones first."""
    return tuple(_REGISTRY)


def block_with(*, bottleneck: bool, se: bool, residual: bool = True) -> str:
    """The name of the first registered block with these structure flags (built-ins first: the
    X block is the residual bottleneck without SE, the Y block the one with SE)."""
    for spec in _REGISTRY.values():
        if (spec.bottleneck, spec.se, spec.residual) == (bottleneck, se, residual):
            return spec.name
    raise DesignSpaceError(
        f"no registered block has bottleneck={bottleneck}, se={se}, residual={residual}"
    )


def get_block(name: str) -> BlockSpec:
    """The spec of a block type; an unknown name raises DesignSpaceError naming the known ones."""
    spec = _REGISTRY.get(name) if isinstance(name, str) else None
    if spec is None:
        raise DesignSpaceError(
            f"unknown block {name!r}{did_you_mean(name, _REGISTRY)}; known blocks: "
            f"{', '.join(_REGISTRY)}"
        )
    return spec


for _spec in (
    BlockSpec(
        "x",
        "ResNeXt bottleneck: 1x1, grouped 3x3, 1x1, with a residual",
        True,
        False,
        True,
        bottleneck_block_cost,
    ),
    BlockSpec(
        "y",
        "X block + squeeze-and-excitation after the 3x3 conv",
        True,
        True,
        True,
        bottleneck_block_cost,
    ),
    BlockSpec("basic", "two dense 3x3 convs with a residual", False, False, True, _basic_cost),
    BlockSpec("plain", "two dense 3x3 convs, no residual", False, False, False, _plain_cost),
):
    register_block(_spec)
BUILTIN_BLOCKS: tuple[str, ...] = block_names()
