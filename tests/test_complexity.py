import numpy as np
import pytest

from designspace.core.arch import Architecture, Stage
from designspace.core.complexity import complexity, complexity_arrays, stage_summary
from designspace.core.named import get_model
from designspace.core.sampling import sample


@pytest.mark.parametrize(
    "name, flops, params, acts",
    [
        ("RegNetX-200MF", 199_040_872, 2_684_792, 2_164_056),
        ("RegNetX-400MF", 397_678_568, 5_157_512, 3_143_272),
        ("RegNetY-200MF", 199_519_076, 3_162_996, 2_168_052),
    ],
)
def test_worked_examples_exactly(name, flops, params, acts):
    c = complexity(get_model(name), 224)
    assert (c.flops, c.params, c.acts) == (flops, params, acts)


def test_tiny_network_by_hand():
    # stem: 3x3 conv 1->8 stride 2 on 4x4 -> 2x2: flops 9*1*8*4 = 288, params 72 + BN 16
    # stage: basic block 8->8 stride 2 -> 1x1: two 3x3 convs 8->8: 576 flops each at 1x1,
    #   params 576 + 16 each; projection 1x1 8->8 stride 2: 64 flops, 64 + 16 params
    # head: linear 8->3: 24 + 3
    a = Architecture(
        (Stage(1, 8, 1, 8),), block="basic", stem_width=8, in_channels=1, num_classes=3
    )
    c = complexity(a, 4)
    assert c.flops == 288 + 576 + 576 + 64 + 27
    assert c.params == 88 + 2 * 592 + 80 + 27
    assert c.acts == 8 * 4 + 8 + 8 + 8 + 3


def test_plain_block_has_no_projection():
    kw = dict(stages=(Stage(1, 8, 1, 8),), stem_width=8, in_channels=1, num_classes=3)
    basic = complexity(Architecture(block="basic", **kw), 4)
    plain = complexity(Architecture(block="plain", **kw), 4)
    assert basic.flops - plain.flops == 64 and basic.params - plain.params == 80


def test_stage_summary_sums_to_total():
    a = get_model("RegNetY-400MF")
    rows = stage_summary(a, 224)
    assert [r["layer"] for r in rows] == ["stem", "stage1", "stage2", "stage3", "stage4", "head"]
    assert rows[-2]["output_shape"] == [a.widths[-1], 7, 7]
    c = complexity(a, 224)
    for key in ("flops", "params", "acts"):
        assert sum(r[key] for r in rows) == getattr(c, key)


def test_vectorized_equals_scalar_for_a_batch():
    s = sample("AnyNetXA", 50, seed=3, regime="cifar10")
    d = np.array([a.depths for a in s.archs])
    w = np.array([a.widths for a in s.archs])
    b = np.array([a.bottleneck_ratios for a in s.archs])
    g = np.array([a.group_widths for a in s.archs])
    out = complexity_arrays(
        d, w, b, g, np.full_like(d, 2), resolution=32, in_channels=3, num_classes=10
    )
    for i, a in enumerate(s.archs):
        c = complexity(a, 32)
        assert tuple(out[:, i]) == (c.flops, c.params, c.acts)


def test_resolution_scales_and_must_be_positive():
    a = get_model("RegNetX32")
    assert complexity(a, 96).flops > 8 * complexity(a, 28).flops
    with pytest.raises(ValueError):
        complexity(a, 0)


def test_too_large_to_count_is_refused_not_wrapped():
    from designspace.errors import DesignSpaceError

    a = get_model("RegNetX-400MF")
    assert complexity(a, 2**16).flops > 0  # big but exact
    with pytest.raises(DesignSpaceError, match="64-bit"):
        complexity(a, 10**10)
    with pytest.raises(DesignSpaceError, match="whole number"):
        complexity(a, 2.5)
