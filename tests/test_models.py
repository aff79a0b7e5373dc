"""The PyTorch AnyNet builder: shapes, structure, parameter counts and the reference init."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from designspace.core.arch import Architecture, Stage
from designspace.core.blocks import block_names, get_block
from designspace.core.complexity import complexity
from designspace.core.named import get_model
from designspace.errors import DesignSpaceError
from designspace.training.models import (
    BLOCK_MODULES,
    AnyNet,
    BasicBlock,
    PlainBlock,
    SqueezeExcitation,
    XBlock,
    build_model,
)


def tiny(block: str, stem: str = "simple", in_channels: int = 3, num_classes: int = 7):
    """A small 3-stage network of the given block type (one stride-1 stage included)."""
    if not get_block(block).bottleneck:
        stages = (Stage(1, 8, 1, 8, 2), Stage(2, 16, 1, 16, 1), Stage(1, 24, 1, 24, 2))
    else:
        stages = (Stage(1, 8, 1, 4, 2), Stage(2, 16, 2, 4, 1), Stage(1, 24, 1, 8, 2))
    return Architecture(
        stages=stages,
        block=block,
        stem=stem,
        stem_width=8,
        in_channels=in_channels,
        num_classes=num_classes,
        se_ratio=0.25 if get_block(block).se else 0.0,
    )


def out_side(h: int, stride: int) -> int:
    return (h - 1) // stride + 1


BLOCKS = block_names()  # every registered block type


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("stem", ("simple", "small"))
@pytest.mark.parametrize(("resolution", "in_channels"), [(1, 3), (2, 1), (5, 4), (28, 1), (33, 3)])
def test_forward_shapes(block, stem, resolution, in_channels):
    arch = tiny(block, stem, in_channels=in_channels)
    model = build_model(arch).eval()
    x = torch.randn(2, in_channels, resolution, resolution)
    with torch.no_grad():
        h = model.stem(x)
        side = out_side(resolution, 2 if stem == "simple" else 1)
        assert h.shape == (2, arch.stem_width, side, side)
        for stage_module, stage in zip(model.stages, arch.stages, strict=True):
            h = stage_module(h)
            side = out_side(side, stage.stride)
            assert h.shape == (2, stage.width, side, side)
        logits = model.head(h)
    assert logits.shape == (2, arch.num_classes)
    assert torch.equal(logits, model(x))
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("block", BLOCKS)
def test_train_mode_forward_backward_non_square(block):
    model = build_model(tiny(block, in_channels=2, num_classes=3)).train()
    x = torch.randn(4, 2, 9, 17)
    loss = nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 0]))
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    assert model.stem[0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("block", BLOCKS)
def test_structure(block):
    arch = tiny(block)
    model = build_model(arch)
    assert isinstance(model, AnyNet)
    assert len(model.stages) == len(arch.stages)
    assert [len(s) for s in model.stages] == arch.depths
    kind = {"x": XBlock, "y": XBlock, "basic": BasicBlock, "plain": PlainBlock}.get(
        block, BLOCK_MODULES.get(block)
    )
    assert all(isinstance(b, kind) for s in model.stages for b in s)
    assert model.head.fc.in_features == arch.widths[-1]
    assert model.head.fc.out_features == arch.num_classes
    assert model.head.fc.bias is not None
    assert not any(isinstance(m, nn.modules.lazy.LazyModuleMixin) for m in model.modules())
    se = [m for m in model.modules() if isinstance(m, SqueezeExcitation)]
    assert len(se) == (arch.depth if get_block(block).se else 0)
    se_convs = {id(c) for m in se for c in (m.reduce, m.expand)}
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            # only SE's 1x1 convs have a bias
            assert (m.bias is not None) == (id(m) in se_convs)
    stem_conv = model.stem[0]
    assert stem_conv.stride == ((2, 2) if arch.stem == "simple" else (1, 1))
    assert stem_conv.kernel_size == (3, 3) and stem_conv.in_channels == arch.in_channels


@pytest.mark.parametrize("block", BLOCKS)
def test_shortcuts_only_where_width_or_stride_change(block):
    # stage 2 keeps the stem width at stride 1: its first block needs no projection
    spec = get_block(block)
    if not spec.bottleneck:
        stages = (Stage(2, 8, 1, 8, 1), Stage(2, 16, 1, 16, 1), Stage(1, 16, 1, 16, 2))
    else:
        stages = (Stage(2, 8, 1, 4, 1), Stage(2, 16, 1, 4, 1), Stage(1, 16, 1, 4, 2))
    arch = Architecture(stages=stages, block=block, stem_width=8, se_ratio=0.25 if spec.se else 0.0)
    model = build_model(arch)
    blocks = [b for s in model.stages for b in s]
    if not spec.residual:
        assert not any(hasattr(b, "shortcut") for b in blocks)
        return
    projected = [not isinstance(b.shortcut, nn.Identity) for b in blocks]
    # widths 8->8 s1, 8->8, 8->16 s1, 16->16, 16->16 s2
    assert projected == [False, False, True, False, True]
    proj = blocks[4].shortcut
    assert proj[0].kernel_size == (1, 1) and proj[0].stride == (2, 2) and proj[0].bias is None
    assert isinstance(proj[1], nn.BatchNorm2d)


def test_x_block_widths_groups_and_stride():
    arch = Architecture(stages=(Stage(2, 48, 2, 8, 2), Stage(1, 96, 0.5, 64, 2)), stem_width=16)
    model = build_model(arch)
    first = model.stages[0][0]
    c1, c2, c3 = (m for m in first.f if isinstance(m, nn.Conv2d))
    assert (c1.in_channels, c1.out_channels, c1.kernel_size) == (16, 24, (1, 1))
    assert (c2.in_channels, c2.out_channels, c2.groups, c2.stride) == (24, 24, 3, (2, 2))
    assert (c3.in_channels, c3.out_channels) == (24, 48)
    second = model.stages[0][1]
    assert [m.stride for m in second.f if isinstance(m, nn.Conv2d)] == [(1, 1)] * 3
    # b = 0.5: inverted bottleneck, inner width 192, 3 groups of 64
    inner = [m for m in model.stages[1][0].f if isinstance(m, nn.Conv2d)][1]
    assert (inner.out_channels, inner.groups) == (192, 3)


def test_y_block_se_width_uses_block_input_and_half_to_even():
    # stem 18 -> first block w_in 18: round(4.5) = 4 (half to even; half up would give 5);
    # stage 2 first block w_in 26: round(6.5) = 6; later blocks w_in = stage width.
    arch = Architecture(
        stages=(Stage(2, 26, 1, 13, 2), Stage(2, 40, 2, 4, 2)),
        block="y",
        stem_width=18,
        se_ratio=0.25,
    )
    model = build_model(arch)
    se = [
        [m for m in b.modules() if isinstance(m, SqueezeExcitation)][0]
        for s in model.stages
        for b in s
    ]
    assert [m.reduce.out_channels for m in se] == [4, 6, 6, 10]
    # SE acts on the inner width w_b (26 / 1 and 40 / 2)
    assert [m.reduce.in_channels for m in se] == [26, 26, 20, 20]
    assert [m.expand.out_channels for m in se] == [26, 26, 20, 20]
    # SE sits after the 3x3 conv's ReLU and before the last 1x1 conv
    f = model.stages[0][0].f
    kinds = [type(m).__name__ for m in f]
    assert kinds == [
        "Conv2d",
        "BatchNorm2d",
        "ReLU",
        "Conv2d",
        "BatchNorm2d",
        "ReLU",
        "SqueezeExcitation",
        "Conv2d",
        "BatchNorm2d",
    ]


def test_zero_se_width_is_a_clear_error():
    # refused when the architecture is described, before a model or a count can disagree
    with pytest.raises(DesignSpaceError, match="SE width of 0"):
        Architecture(stages=(Stage(1, 8, 1, 8, 2),), block="y", stem_width=2, se_ratio=0.25)


def test_se_gate_and_residual_semantics():
    torch.manual_seed(0)
    se = SqueezeExcitation(6, 2)
    nn.init.zeros_(se.expand.weight)
    nn.init.zeros_(se.expand.bias)
    x = torch.randn(2, 6, 5, 5)
    assert torch.allclose(se(x), 0.5 * x)  # sigmoid(0) = 1/2

    for block_cls in (XBlock, BasicBlock, PlainBlock):
        args = (6, 6, 1, 6, 2) if block_cls is XBlock else (6, 6, 1)
        b = block_cls(*args).eval()
        for m in b.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.zeros_(m.weight)
        out = b(x)
        # zero convs: a residual block passes ReLU(x), the plain block gives 0
        expected = torch.zeros_like(x) if block_cls is PlainBlock else torch.relu(x)
        assert torch.allclose(out, expected)


@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("stem", ("simple", "small"))
def test_param_count_matches_analytic(block, stem):
    arch = tiny(block, stem, in_channels=5, num_classes=11)
    model = build_model(arch)
    assert sum(p.numel() for p in model.parameters()) == complexity(arch, 32).params


@pytest.mark.parametrize("name", ["RegNetX-200MF", "RegNetY-400MF", "RegNetX32"])
def test_param_count_matches_named_models(name):
    arch = get_model(name)
    model = build_model(arch)
    assert sum(p.numel() for p in model.parameters()) == complexity(arch, 224).params


def test_reference_init_statistics():
    torch.manual_seed(0)
    arch = Architecture(
        stages=(Stage(2, 256, 1, 64, 2), Stage(1, 512, 2, 32, 2)),
        block="y",
        se_ratio=0.25,
        stem_width=64,
        num_classes=500,
    )
    model = build_model(arch)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            w = m.weight
            std = math.sqrt(2.0 / (m.kernel_size[0] * m.kernel_size[1] * m.out_channels))
            if w.numel() >= 4096:
                assert abs(w.mean().item()) < 4 * std / math.sqrt(w.numel()) + 1e-12
                assert abs(w.std().item() / std - 1) < 0.06
        elif isinstance(m, nn.BatchNorm2d):
            assert torch.all(m.weight == 1) and torch.all(m.bias == 0)
            assert torch.all(m.running_mean == 0) and torch.all(m.running_var == 1)
    fc = model.head.fc
    assert abs(fc.weight.std().item() / 0.01 - 1) < 0.03
    assert torch.all(fc.bias == 0)


def test_zero_init_last_bn_option_defaults_off():
    arch = tiny("x")
    default = build_model(arch)
    assert all(torch.all(b.final_bn.weight == 1) for s in default.stages for b in s)
    zeroed = build_model(arch, zero_init_last_bn=True)
    for s in zeroed.stages:
        for b in s:
            assert torch.all(b.final_bn.weight == 0)
            other = [
                m for m in b.modules() if isinstance(m, nn.BatchNorm2d) and m is not b.final_bn
            ]
            assert other and all(torch.all(m.weight == 1) for m in other)
    # the plain block has no residual branch to silence
    plain = build_model(tiny("plain"), zero_init_last_bn=True)
    assert all(torch.all(m.weight == 1) for m in plain.modules() if isinstance(m, nn.BatchNorm2d))


def test_build_on_meta_device_allocates_nothing():
    arch = get_model("RegNetY-200MF")
    with torch.device("meta"):
        model = build_model(arch)
        out = model.eval()(torch.empty(1, 3, 64, 64))
    assert all(p.is_meta for p in model.parameters())
    assert out.shape == (1, 1000) and out.is_meta
