"""PyTorch AnyNet: build the network an :class:`~designspace.core.arch.Architecture` describes.

Structure (DDS / pycls reference choices): stem -> stages -> head. A stage is an
``nn.Sequential`` of blocks; only its first block has the stage's stride and, when the width or
the stride changes, a projection shortcut (1x1 strided conv + BN). Convs have no bias except
the two 1x1 convs of squeeze-and-excitation; the head is global average pooling + a linear
layer with bias. Every shape follows from the description, so no lazy modules are used and the
network accepts any input of ``in_channels`` channels and at least 1 x 1 pixels (3x3 convs pad
by 1, so a stride-2 conv maps h to ``(h - 1) // 2 + 1``).

The analytic counter :mod:`designspace.core.complexity` mirrors this module layer by layer;
:mod:`designspace.training.counting` checks the two against each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from designspace.core.arch import STEM_STRIDES, Architecture, Stage
from designspace.core.blocks import get_block
from designspace.errors import DesignSpaceError

__all__ = [
    "BLOCK_MODULES",
    "AnyNet",
    "BasicBlock",
    "BlockShape",
    "Head",
    "PlainBlock",
    "SqueezeExcitation",
    "Stem",
    "XBlock",
    "block_module",
    "build_model",
    "init_weights",
]


def _conv_bn(
    w_in: int, w_out: int, kernel: int, stride: int = 1, groups: int = 1
) -> list[nn.Module]:
    """[conv (no bias, padding kernel // 2), BN] as a list of modules."""
    conv = nn.Conv2d(w_in, w_out, kernel, stride, kernel // 2, groups=groups, bias=False)
    return [conv, nn.BatchNorm2d(w_out)]


class Stem(nn.Sequential):
    """3x3 conv (``stride`` 2 for the "simple" stem, 1 for "small") + BN + ReLU."""

    def __init__(self, w_in: int, w_out: int, stride: int) -> None:
        super().__init__(*_conv_bn(w_in, w_out, 3, stride), nn.ReLU(inplace=True))


class SqueezeExcitation(nn.Module):
    """SE: global average pool, 1x1 conv (bias) w -> w_se, ReLU, 1x1 conv (bias), sigmoid, scale."""

    def __init__(self, w: int, w_se: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.reduce = nn.Conv2d(w, w_se, 1, bias=True)
        self.act = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(w_se, w, 1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rescale each channel of ``x`` by a learned gate in (0, 1)."""
        return x * self.gate(self.expand(self.act(self.reduce(self.pool(x)))))


class Shortcut(nn.Sequential):
    """Projection shortcut: 1x1 conv with the block's stride + BN."""

    def __init__(self, w_in: int, w_out: int, stride: int) -> None:
        super().__init__(*_conv_bn(w_in, w_out, 1, stride))


def _shortcut(w_in: int, w_out: int, stride: int) -> nn.Module:
    """Projection when the width or resolution changes, identity otherwise."""
    if w_in != w_out or stride != 1:
        return Shortcut(w_in, w_out, stride)
    return nn.Identity()


@dataclass(frozen=True)
class BlockShape:
    """Geometry of one block, in channels: input and output widths, the stride of its first
    strided layer (and shortcut), the inner (bottleneck) width, the groups of its 3x3 conv and
    its SE width (0 without squeeze-excitation). Every block module class has
    ``from_shape(shape) -> nn.Module`` and takes what it needs from this."""

    w_in: int
    w_out: int
    stride: int
    inner_width: int
    groups: int
    se_width: int = 0


class _Residual(nn.Module):
    """out = ReLU(shortcut(x) + f(x)) for a residual function ``self.f``."""

    f: nn.Sequential
    shortcut: nn.Module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        out = x
        for layer in self.f:  # same as self.f(x), one call level less (see AnyNet.forward)
            out = layer(out)
        return torch.relu(self.shortcut(x) + out)

    @property
    def final_bn(self) -> nn.BatchNorm2d:
        """The BN closing the residual branch (optionally zero-initialised)."""
        return self.f[-1]


class XBlock(_Residual):
    """ResNeXt bottleneck (X block); with ``w_se > 0`` the Y block (SE after the 3x3 conv).

    f = 1x1 conv w_in -> w_b, BN, ReLU; 3x3 conv (``groups``, ``stride``), BN, ReLU; [SE];
    1x1 conv w_b -> w_out, BN.
    """

    def __init__(
        self, w_in: int, w_out: int, stride: int, w_b: int, groups: int, w_se: int = 0
    ) -> None:
        super().__init__()
        layers = [*_conv_bn(w_in, w_b, 1), nn.ReLU(inplace=True)]
        layers += [*_conv_bn(w_b, w_b, 3, stride, groups), nn.ReLU(inplace=True)]
        if w_se > 0:
            layers.append(SqueezeExcitation(w_b, w_se))
        layers += _conv_bn(w_b, w_out, 1)
        self.f = nn.Sequential(*layers)
        self.shortcut = _shortcut(w_in, w_out, stride)

    @classmethod
    def from_shape(cls, shape: BlockShape) -> XBlock:
        """The X block (Y block when ``shape.se_width > 0``) of this geometry."""
        return cls(
            shape.w_in,
            shape.w_out,
            shape.stride,
            shape.inner_width,
            shape.groups,
            shape.se_width,
        )


class BasicBlock(_Residual):
    """Basic residual block: 3x3 conv (stride), BN, ReLU, 3x3 conv, BN; + shortcut; ReLU."""

    def __init__(self, w_in: int, w_out: int, stride: int) -> None:
        super().__init__()
        self.f = nn.Sequential(
            *_conv_bn(w_in, w_out, 3, stride), nn.ReLU(inplace=True), *_conv_bn(w_out, w_out, 3)
        )
        self.shortcut = _shortcut(w_in, w_out, stride)

    @classmethod
    def from_shape(cls, shape: BlockShape) -> BasicBlock:
        """The basic block of this geometry (dense convs: inner width and groups unused)."""
        return cls(shape.w_in, shape.w_out, shape.stride)


class PlainBlock(nn.Sequential):
    """Plain (vanilla) block, no residual: 3x3 conv (stride), BN, ReLU, 3x3 conv, BN, ReLU."""

    def __init__(self, w_in: int, w_out: int, stride: int) -> None:
        super().__init__(
            *_conv_bn(w_in, w_out, 3, stride),
            nn.ReLU(inplace=True),
            *_conv_bn(w_out, w_out, 3),
            nn.ReLU(inplace=True),
        )

    @classmethod
    def from_shape(cls, shape: BlockShape) -> PlainBlock:
        """The plain block of this geometry (dense convs: inner width and groups unused)."""
        return cls(shape.w_in, shape.w_out, shape.stride)


class Head(nn.Module):
    """Global average pool + flatten + linear layer (with bias) to ``num_classes`` logits."""

    def __init__(self, w_in: int, num_classes: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(w_in, num_classes, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) features -> (N, num_classes) logits."""
        return self.fc(torch.flatten(self.pool(x), 1))


# The PyTorch module of every block type registered in designspace.core.blocks (same names). Each
# class has ``from_shape(BlockShape) -> nn.Module``.
BLOCK_MODULES: dict[str, type[nn.Module]] = {
    "x": XBlock,
    "y": XBlock,
    "basic": BasicBlock,
    "plain": PlainBlock,
}


def block_module(name: str) -> type[nn.Module]:
    """The module class of a registered block type.

    Raises DesignSpaceError for a name unknown to :mod:`designspace.core.blocks`, and for a block
    registered there without a module here (so a half-added block fails loudly).
    """
    get_block(name)
    cls = BLOCK_MODULES.get(name)
    if cls is None:
        raise DesignSpaceError(
            f"block {name!r} is registered in designspace.core.blocks but has no PyTorch module; "
            f"add its class to designspace.training.models.BLOCK_MODULES"
        )
    return cls


def se_width(arch: Architecture, w_in: int) -> int:
    """SE bottleneck width ``round(se_ratio * w_in)`` (half to even) of a block with input w_in.

    0 for blocks without squeeze-excitation (se_ratio 0).
    """
    return round(arch.se_ratio * w_in) if get_block(arch.block).se else 0


def make_block(arch: Architecture, stage: Stage, w_in: int, stride: int) -> nn.Module:
    """One block of ``arch.block`` type for ``stage`` with input width ``w_in``."""
    cls = block_module(arch.block)
    w_se = se_width(arch, w_in)
    if get_block(arch.block).se and w_se < 1:
        raise DesignSpaceError(
            f"a {arch.block!r} block with input width {w_in} gets an SE width of "
            f"round({arch.se_ratio} * {w_in}) = 0; raise se_ratio or the stem/stage widths"
        )
    shape = BlockShape(w_in, stage.width, stride, stage.inner_width, stage.groups, w_se)
    return cls.from_shape(shape)  # type: ignore[attr-defined]


class AnyNet(nn.Module):
    """stem -> stages (``nn.Sequential`` of ``nn.Sequential`` of blocks) -> head.

    Input (N, in_channels, H, W) with H, W >= 1; output (N, num_classes) logits. With
    ``init=False`` the layers keep PyTorch's default init instead of :func:`init_weights`.
    """

    def __init__(
        self, arch: Architecture, zero_init_last_bn: bool = False, init: bool = True
    ) -> None:
        super().__init__()
        self.arch = arch
        self.stem = Stem(arch.in_channels, arch.stem_width, STEM_STRIDES[arch.stem])
        stages = []
        w_in = arch.stem_width
        for stage in arch.stages:
            blocks = []
            for j in range(stage.depth):
                blocks.append(make_block(arch, stage, w_in, stage.stride if j == 0 else 1))
                w_in = stage.width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.head = Head(w_in, arch.num_classes)
        if init:
            init_weights(self, zero_init_last_bn=zero_init_last_bn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, in_channels, H, W) -> logits (N, num_classes)."""
        x = self.stem(x)
        # Calling the blocks directly rather than through the two Sequential levels keeps the
        # call stack shallow: TorchScript tracing (fvcore) records the Python stack of every
        # traced op, and this makes count_fvcore about 1.4x faster.
        for stage in self.stages:
            for block in stage:
                x = block(x)
        return self.head(x)


@torch.no_grad()
def init_weights(model: nn.Module, zero_init_last_bn: bool = False) -> None:
    """Reference (pycls) init of every parameter and buffer, in place.

    Conv weights ~ N(0, sqrt(2 / (k * k * c_out))) (fan-out, groups ignored); conv biases (only
    SE has them) U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default, which the reference
    keeps; BN gamma 1, beta 0, running mean 0, running variance 1; linear weight ~ N(0, 0.01),
    bias 0. With ``zero_init_last_bn`` the BN closing each residual branch starts at gamma 0
    (off by default; the papers' short schedules do not use it).
    """
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            k_h, k_w = m.kernel_size
            m.weight.normal_(0.0, math.sqrt(2.0 / (k_h * k_w * m.out_channels)))
            if m.bias is not None:
                bound = 1.0 / math.sqrt(k_h * k_w * m.in_channels // m.groups)
                m.bias.uniform_(-bound, bound)
        elif isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.weight.fill_(1.0)
            m.bias.zero_()
        elif isinstance(m, nn.Linear):
            m.weight.normal_(0.0, 0.01)
            m.bias.zero_()
    if zero_init_last_bn:
        for m in model.modules():
            if isinstance(m, _Residual):
                m.final_bn.weight.zero_()


def build_model(arch: Architecture, zero_init_last_bn: bool = False) -> AnyNet:
    """The PyTorch network for ``arch`` with the reference init (:func:`init_weights`), train mode.

    Built on the current default device; under ``with torch.device("meta"):`` it holds shapes
    only and allocates no memory.
    """
    return AnyNet(arch, zero_init_last_bn=zero_init_last_bn)
