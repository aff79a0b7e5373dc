"""Analytic complexity == fvcore == FlopCounterMode, exactly, for named and sampled models.

Three independent counts of the same networks: the analytic walk (designspace.core.complexity),
fvcore tracing of the built PyTorch model (designspace.training.counting.count_fvcore) and torch's
FlopCounterMode. fvcore's cost is TorchScript tracing (several ms per block), not arithmetic,
so resolutions are small except for the worked examples and torch runs one thread: the counts
need no compute, and two threads on a busy 2-core machine are many times slower. The 720
sampled models are counted by one worker process per core.
"""

from __future__ import annotations

import multiprocessing
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import pytest
import torch
from torch import nn

from designspace.core.arch import Architecture, Stage
from designspace.core.blocks import block_names, get_block
from designspace.core.complexity import Complexity, complexity
from designspace.core.named import get_model, list_models
from designspace.core.sampling import sample
from designspace.core.spaces import list_spaces
from designspace.errors import DesignSpaceError
from designspace.training.counting import (
    count_flop_counter_mode,
    count_fvcore,
    count_module_fvcore,
    fvcore_flop_analysis,
    shape_model,
)
from designspace.training.models import build_model

SAMPLES_PER_SPACE = 25  # x 16 spaces = 400 models (60 each took 120 s of the suite)
FULL_DEPTH = 3  # samples per space also counted at full depth (see the sampled test)
# Sampled models are counted at several sizes, odd ones included, so every stride-2 rounding
# (h' = (h - 1) // 2 + 1) is exercised; all are small to keep tracing cheap.
SAMPLE_RESOLUTIONS = (32, 27, 19)

WORKED_EXAMPLES = {  # DESIGN-SPACES.md, 224 px
    "RegNetX-200MF": Complexity(199_040_872, 2_684_792, 2_164_056),
    "RegNetX-400MF": Complexity(397_678_568, 5_157_512, 3_143_272),
    "RegNetY-200MF": Complexity(199_519_076, 3_162_996, 2_168_052),
}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _fvcore_counts(arch_json: str, resolution: int) -> Complexity:
    """Worker: count one architecture (JSON) with fvcore."""
    return count_fvcore(Architecture.from_json(arch_json), resolution)


@pytest.fixture(scope="module")
def fvcore_counts():
    """``counts(archs, resolutions) -> list[Complexity]`` by count_fvcore in worker processes.

    Besides using every core, workers are faster per model: TorchScript records the Python
    stack for every traced node, and pytest's stack is about 30 frames deep.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with ProcessPoolExecutor(
        max_workers=max(1, min(2, cores or 1)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=torch.set_num_threads,
        initargs=(1,),
    ) as pool:

        def counts(archs: list[Architecture], resolutions: list[int]) -> list[Complexity]:
            jsons = [a.to_json() for a in archs]
            chunk = max(1, len(archs) // 8)
            return list(pool.map(_fvcore_counts, jsons, resolutions, chunksize=chunk))

        yield counts


def mismatches(archs, resolutions, measured):
    """(name or JSON, resolution, analytic, fvcore) for every disagreement."""
    out = []
    for arch, res, got in zip(archs, resolutions, measured, strict=True):
        expected = complexity(arch, res)
        if expected != got:
            out.append((arch.name or arch.to_json(), res, expected, got))
    return out


def test_worked_examples_at_224(fvcore_counts):
    names = sorted(WORKED_EXAMPLES)
    archs = [get_model(n) for n in names]
    measured = fvcore_counts(archs, [224] * len(archs))
    for name, arch, got in zip(names, archs, measured, strict=True):
        assert complexity(arch, 224) == WORKED_EXAMPLES[name], name
        assert got == WORKED_EXAMPLES[name], name


def test_every_named_model_analytic_equals_fvcore(fvcore_counts):
    names = list_models()
    assert len(names) == 25 and "RegNetX32" in names
    archs = [get_model(n) for n in names]
    # GF models at 32 px, the MF ones at 64, the chapter's model at 96 (its notebook's size)
    resolutions = [32 if "GF" in n else 96 if n == "RegNetX32" else 64 for n in names]
    assert not mismatches(archs, resolutions, fvcore_counts(archs, resolutions))


def truncated(arch: Architecture, max_depth: int = 2) -> Architecture:
    """``arch`` with every stage cut to at most ``max_depth`` blocks, all else unchanged."""
    stages = tuple(replace(s, depth=min(s.depth, max_depth)) for s in arch.stages)
    return replace(arch, stages=stages)


@pytest.mark.parametrize("space", list_spaces())
def test_sampled_models_analytic_equals_fvcore(space, fvcore_counts):
    """SAMPLES_PER_SPACE samples of every space. fvcore's cost is TorchScript tracing, linear in
    the number of blocks (not in resolution), and all blocks of a stage after the first are
    identical:
    so every sample is counted with each stage cut to 2 blocks (its first block, with the
    stride and the projection, and one repeated block, at every width, b, g and resolution the
    sample has), and the first FULL_DEPTH samples of each space at their full depth, which
    checks that a stage costs first + (d - 1) * rest."""
    archs = sample(space, SAMPLES_PER_SPACE, seed=7).archs
    assert len(archs) == SAMPLES_PER_SPACE
    checked = [truncated(a) for a in archs] + archs[:FULL_DEPTH]
    resolutions = [SAMPLE_RESOLUTIONS[i % len(SAMPLE_RESOLUTIONS)] for i in range(len(checked))]
    found = mismatches(checked, resolutions, fvcore_counts(checked, resolutions))
    assert not found, found[:3]


def random_arch(rng: random.Random) -> Architecture:
    """Any block type, stem, stride pattern, channel and class count (not just a space's)."""
    block = rng.choice(block_names())
    stages = []
    for _ in range(rng.randint(1, 5)):
        depth = rng.randint(1, 3)
        stride = rng.choice([1, 2, 2])
        if not get_block(block).bottleneck:
            w = rng.choice([4, 8, 12, 24])
            stages.append(Stage(depth, w, 1, w, stride))
        else:
            b = rng.choice([0.5, 1, 2, 4])  # 0.5: inverted bottleneck
            g = rng.choice([1, 2, 3, 8])
            w_b = g * rng.randint(max(1, 8 // g), 24 // g)  # inner width 8..24
            if b == 0.5 and w_b % 2:
                w_b *= 2
            stages.append(Stage(depth, int(w_b * b), b, g, stride))
    return Architecture(
        stages=tuple(stages),
        block=block,
        stem=rng.choice(["simple", "small"]),
        stem_width=rng.choice([8, 13, 16, 30]),
        in_channels=rng.randint(1, 4),
        num_classes=rng.randint(2, 20),
        se_ratio=rng.choice([0.25, 0.5, 0.3]) if get_block(block).se else 0.0,
    )


def test_random_architectures_of_every_block_type(fvcore_counts):
    rng = random.Random(0)
    archs = [random_arch(rng) for _ in range(80)]
    resolutions = [rng.choice([1, 2, 3, 7, 16, 33]) for _ in archs]
    assert {(a.block, a.stem) for a in archs} == {
        (b, s) for b in block_names() for s in ("simple", "small")
    }
    found = mismatches(archs, resolutions, fvcore_counts(archs, resolutions))
    assert not found, found[:3]


def test_in_process_count_equals_worker_count(fvcore_counts):
    arch = get_model("RegNetX32")
    assert count_fvcore(arch, 28) == fvcore_counts([arch], [28])[0] == complexity(arch, 28)


def bias_count(arch: Architecture) -> int:
    """Bias terms of an AnyNet: the head's, and SE's two 1x1 convs (w_se + w_b) per Y block."""
    total = arch.num_classes
    if get_block(arch.block).se:
        w_in = arch.stem_width
        for s in arch.stages:
            for _ in range(s.depth):
                total += round(arch.se_ratio * w_in) + s.inner_width
                w_in = s.width
    return total


@pytest.mark.parametrize(
    ("name", "resolution"),
    [("RegNetX-200MF", 224), ("RegNetY-200MF", 224), ("RegNetY-800MF", 64), ("RegNetX32", 28)],
)
def test_flop_counter_mode_is_analytic_minus_bias_adds(name, resolution):
    arch = get_model(name)
    multiply_adds = count_flop_counter_mode(arch, resolution)
    # every biased layer sees a 1 x 1 map, so its bias adds equal its bias count
    assert multiply_adds == complexity(arch, resolution).flops - bias_count(arch)
    model = build_model(arch)
    biases = sum(
        m.bias.numel()
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None
    )
    assert biases == bias_count(arch)


def test_flop_counter_mode_random_architectures():
    rng = random.Random(1)
    for _ in range(20):
        arch = random_arch(rng)
        resolution = rng.choice([1, 5, 24])
        assert count_flop_counter_mode(arch, resolution) == (
            complexity(arch, resolution).flops - bias_count(arch)
        )


def test_fvcore_on_the_randomly_initialised_model_agrees():
    # count_fvcore counts shape_model (default init, eval); build_model gives the same counts
    arch = get_model("RegNetY-400MF")
    x = torch.zeros(1, 3, 40, 40)
    assert count_module_fvcore(build_model(arch).eval(), x) == count_fvcore(arch, 40)
    assert count_module_fvcore(build_model(arch).train(), torch.zeros(2, 3, 40, 40)) == (
        Complexity(
            2 * complexity(arch, 40).flops,
            complexity(arch, 40).params,
            2 * complexity(arch, 40).acts,
        )
    )


def test_shape_model_matches_build_model_structure():
    arch = get_model("RegNetY-200MF")
    built, shaped = build_model(arch), shape_model(arch)
    assert [(n, p.shape) for n, p in built.named_parameters()] == [
        (n, p.shape) for n, p in shaped.named_parameters()
    ]
    assert [type(m) for m in built.modules()] == [type(m) for m in shaped.modules()]
    assert built.training and not shaped.training


def test_convention_bias_bn_and_pooling():
    conv = nn.Conv2d(3, 5, 3, stride=2, padding=1, bias=True)  # 4x4 output from 7x7
    model = nn.Sequential(
        conv, nn.BatchNorm2d(5), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(5, 4)
    ).eval()
    c = count_module_fvcore(model, torch.zeros(1, 3, 7, 7))
    conv_flops = 3 * 3 * 3 * 5 * 16 + 5 * 16
    assert c.flops == conv_flops + 5 * 4 + 4
    assert c.acts == 5 * 16 + 4
    assert c.params == 3 * 3 * 3 * 5 + 5 + 2 * 5 + 5 * 4 + 4
    # fvcore's defaults differ: no bias adds, BN and pooling counted
    from fvcore.nn import FlopCountAnalysis

    default = FlopCountAnalysis(model, torch.zeros(1, 3, 7, 7))
    default.unsupported_ops_warnings(False)
    assert default.total() != c.flops
    assert fvcore_flop_analysis(model, torch.zeros(1, 3, 7, 7)).total() == c.flops


def test_train_mode_bn_is_also_free():
    model = nn.Sequential(nn.Conv2d(2, 4, 1, bias=False), nn.BatchNorm2d(4)).train()
    assert count_module_fvcore(model, torch.zeros(2, 2, 3, 3)).flops == 2 * 2 * 4 * 9


def test_grouped_conv_flops():
    model = nn.Conv2d(12, 8, 3, padding=1, groups=4, bias=False)
    c = count_module_fvcore(model, torch.zeros(1, 12, 5, 5))
    assert c.flops == 3 * 3 * 12 * 8 * 25 // 4


def test_unsupported_op_fails_loudly():
    model = nn.Sequential(nn.Conv2d(2, 2, 1), nn.Tanh())
    with pytest.raises(RuntimeError, match="tanh"):
        count_module_fvcore(model, torch.zeros(1, 2, 3, 3))


@pytest.mark.parametrize("counter", [count_fvcore, count_flop_counter_mode])
def test_bad_resolution(counter):
    with pytest.raises(DesignSpaceError, match="resolution"):
        counter(get_model("RegNetX32"), 0)


def test_flop_counter_mode_leaves_no_meta_default_device():
    count_flop_counter_mode(get_model("RegNetX32"), 28)
    assert torch.get_default_device().type == "cpu"
    assert not next(build_model(get_model("RegNetX32")).parameters()).is_meta
