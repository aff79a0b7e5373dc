"""The block registry: every registered block is known to validation, spaces, sampling, the
analytic counter and the PyTorch builder, and a new block needs one spec and one module."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from designspace.core import blocks
from designspace.core.arch import Architecture, Stage
from designspace.core.blocks import (
    BUILTIN_BLOCKS,
    BlockSpec,
    block_names,
    get_block,
    register_block,
    unregister_block,
)
from designspace.core.complexity import block_cost, complexity
from designspace.core.layercost import bn_cost, conv_cost
from designspace.core.sampling import sample
from designspace.core.spaces import AnyNetSpace, Choice, IntUniform, LogUniform, RegNetSpace
from designspace.errors import DesignSpaceError
from designspace.training import models
from designspace.training.models import BLOCK_MODULES, BlockShape, block_module, build_model


def tiny(block: str) -> Architecture:
    """A 3-stage network of any registered block (one stride-1 stage, a width change in it)."""
    spec = get_block(block)
    if spec.bottleneck:
        stages = (Stage(1, 8, 1, 4, 2), Stage(2, 16, 2, 4, 1), Stage(1, 24, 1, 8, 2))
    else:
        stages = (Stage(1, 8, 1, 8, 2), Stage(2, 16, 1, 16, 1), Stage(1, 24, 1, 24, 2))
    return Architecture(
        stages=stages, block=block, stem_width=8, num_classes=5, se_ratio=0.25 if spec.se else 0
    )


def test_builtin_blocks_and_their_flags():
    assert BUILTIN_BLOCKS == ("x", "y", "basic", "plain")
    flags = {
        n: (get_block(n).bottleneck, get_block(n).se, get_block(n).residual) for n in block_names()
    }
    assert flags == {
        "x": (True, False, True),
        "y": (True, True, True),
        "basic": (False, False, True),
        "plain": (False, False, False),
    }
    assert {n: BLOCK_MODULES[n] for n in BUILTIN_BLOCKS} == {
        "x": models.XBlock,
        "y": models.XBlock,
        "basic": models.BasicBlock,
        "plain": models.PlainBlock,
    }


@pytest.mark.parametrize("block", block_names())
def test_every_registered_block_has_a_module_that_matches_its_spec(block):
    spec = get_block(block)
    assert block_module(block) is BLOCK_MODULES[block]
    arch = tiny(block)
    model = build_model(arch)
    built = [b for s in model.stages for b in s]
    assert len(built) == arch.depth
    # residual <=> a shortcut branch; SE <=> SqueezeExcitation modules
    assert all(isinstance(b, models._Residual) == spec.residual for b in built)
    se = [m for m in model.modules() if isinstance(m, models.SqueezeExcitation)]
    assert len(se) == (arch.depth if spec.se else 0)
    # the analytic parameter count of the spec's cost function equals the module's
    assert sum(p.numel() for p in model.parameters()) == complexity(arch, 16).params
    # grouped 3x3 convs only where the block has a bottleneck
    grouped = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert bool(grouped) == spec.bottleneck


@pytest.mark.parametrize("block", block_names())
def test_validation_follows_the_flags(block):
    spec = get_block(block)
    stage = Stage(1, 16, 2, 4, 2)  # a bottleneck and groups
    if spec.bottleneck:
        Architecture((stage,), block=block, se_ratio=0.25 if spec.se else 0)
    else:
        with pytest.raises(DesignSpaceError, match="no bottleneck and dense convs"):
            Architecture((stage,), block=block)
        stage = Stage(1, 16, 1, 16, 2)
    other_se = 0 if spec.se else 0.25
    with pytest.raises(DesignSpaceError, match="se_ratio"):
        Architecture((stage,), block=block, se_ratio=other_se)


@pytest.mark.parametrize(
    "call",
    [
        lambda: get_block("z"),
        lambda: Architecture((Stage(1, 8, 1, 8, 2),), block="z"),
        lambda: block_cost("z", 8, 8, 8, 1, 1, 8),
        lambda: AnyNetSpace(name="s", block="z"),
        lambda: RegNetSpace(name="s", block="z"),
        lambda: block_module("z"),
        lambda: get_block(["x"]),
    ],
)
def test_unknown_block_names_the_known_ones(call):
    with pytest.raises(DesignSpaceError, match="unknown block .*known blocks: x, y, basic, plain"):
        call()


def test_regnet_spaces_need_a_bottleneck_block():
    with pytest.raises(DesignSpaceError, match="bottleneck \\(x, y\\), got 'basic'"):
        RegNetSpace(name="s", block="basic")


def test_register_refuses_duplicates_and_builtins_stay():
    with pytest.raises(DesignSpaceError, match="already registered"):
        register_block(get_block("x"))
    with pytest.raises(DesignSpaceError, match="built in"):
        unregister_block("x")
    with pytest.raises(DesignSpaceError, match="identifier"):
        BlockSpec("two words", "", False, False, False, get_block("x").cost)
    with pytest.raises(DesignSpaceError, match="squeeze-excitation needs a bottleneck"):
        BlockSpec("dense_se", "", False, True, False, get_block("x").cost)


# ----------------------------------------------------------------------------- a toy block
def toy_cost(h, w_in, w_out, stride, b, g, se_ratio):
    """Depthwise 3x3 (stride) + BN + ReLU, pointwise 1x1 + BN + ReLU; no residual."""
    c1, h_out = conv_cost(h, w_in, w_in, 3, stride, groups=w_in)
    c2, _ = conv_cost(h_out, w_in, w_out, 1)
    return c1 + bn_cost(w_in) + c2 + bn_cost(w_out), h_out


class ToyBlock(nn.Sequential):
    """The module of toy_cost."""

    def __init__(self, w_in: int, w_out: int, stride: int) -> None:
        super().__init__(
            nn.Conv2d(w_in, w_in, 3, stride, 1, groups=w_in, bias=False),
            nn.BatchNorm2d(w_in),
            nn.ReLU(inplace=True),
            nn.Conv2d(w_in, w_out, 1, bias=False),
            nn.BatchNorm2d(w_out),
            nn.ReLU(inplace=True),
        )

    @classmethod
    def from_shape(cls, shape: BlockShape) -> ToyBlock:
        return cls(shape.w_in, shape.w_out, shape.stride)


TOY = BlockSpec("toy", "depthwise-separable, no residual", False, False, False, toy_cost)


@pytest.fixture
def toy_block(monkeypatch):
    """The toy block registered in both registries for one test, removed afterwards."""
    register_block(TOY)
    monkeypatch.setitem(BLOCK_MODULES, "toy", ToyBlock)
    yield "toy"
    unregister_block("toy")


def test_toy_block_is_counted_built_and_sampled(toy_block):
    from designspace.training.counting import count_fvcore

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        arch = Architecture(
            stages=(Stage(2, 8, 1, 8, 2), Stage(1, 16, 1, 16, 1), Stage(2, 24, 1, 24, 2)),
            block=toy_block,
            stem="small",
            stem_width=8,
            in_channels=1,
            num_classes=10,
        )
        for resolution in (7, 16):
            expected = complexity(arch, resolution)
            assert count_fvcore(arch, resolution) == expected
        model = build_model(arch).eval()
        assert all(isinstance(b, ToyBlock) for s in model.stages for b in s)
        assert model(torch.zeros(2, 1, 16, 16)).shape == (2, 10)
        # and it learns: a few SGD steps on one fixed batch lower the loss
        torch.manual_seed(0)
        x, y = torch.randn(8, 1, 16, 16), torch.arange(8) % 10
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        losses = []
        for _ in range(8):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < losses[0]
    finally:
        torch.set_num_threads(threads)
    # a space of toy blocks: b and g are neither drawn nor shown, samples are dense
    space = AnyNetSpace(
        name="AnyNetToy",
        block=toy_block,
        num_stages=3,
        depth=IntUniform(1, 3),
        width=LogUniform(8, 64, 8),
        bottleneck_ratio=Choice((1, 2)),
        group_width=Choice((1, 2)),
    )
    assert "bottleneck_ratio" not in space.parameters()
    result = sample(space, 5, seed=0, regime="fashion-mnist", flops=(1e5, 2e6))
    assert all(a.block == "toy" and a.group_widths == a.widths for a in result.archs)
    assert [complexity(a, 28).flops for a in result.archs] == list(result.flops)
    with pytest.raises(DesignSpaceError, match="RegNet spaces use blocks with a bottleneck"):
        RegNetSpace(name="r", block=toy_block)


def test_toy_block_is_gone_after_its_test():
    assert "toy" not in block_names() and "toy" not in BLOCK_MODULES


def test_a_block_without_a_module_fails_loudly():
    register_block(BlockSpec("halfdone", "spec only", False, False, False, toy_cost))
    try:
        arch = Architecture((Stage(1, 8, 1, 8, 2),), block="halfdone", stem_width=8)
        assert complexity(arch, 8).flops > 0  # counted through its spec
        with pytest.raises(DesignSpaceError, match="has no PyTorch module.*BLOCK_MODULES"):
            build_model(arch)
    finally:
        unregister_block("halfdone")
    assert "halfdone" not in blocks.block_names()
