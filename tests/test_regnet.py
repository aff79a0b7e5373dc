import json
from pathlib import Path

import numpy as np
import pytest

from designspace.core.named import get_model, list_models
from designspace.core.regnet import (
    adjust_compatibility,
    compatible_widths,
    quantized_widths,
    regnet_widths,
)
from designspace.errors import DesignSpaceError

REFERENCE = Path(__file__).resolve().parents[1] / "designspace" / "data" / "regnet_models.json"


@pytest.mark.parametrize(
    "name, depths, widths, groups",
    [
        ("RegNetX-200MF", [1, 1, 4, 7], [24, 56, 152, 368], [8, 8, 8, 8]),
        ("RegNetX-400MF", [1, 2, 7, 12], [32, 64, 160, 384], [16, 16, 16, 16]),
        ("RegNetY-200MF", [1, 1, 4, 7], [24, 56, 152, 368], [8, 8, 8, 8]),
    ],
)
def test_published_stage_structure(name, depths, widths, groups):
    a = get_model(name)
    assert (a.depths, a.widths, a.group_widths) == (depths, widths, groups)


def test_rule_by_hand():
    # u = 24 + 36.44 j; s = round(log(u/24)/log(2.49)); w = round(24 * 2.49^s / 8) * 8
    w = regnet_widths(13, 24, 36.44, 2.49)
    u = 24 + 36.44 * np.arange(13)
    s = np.round(np.log(u / 24) / np.log(2.49))
    assert list(w) == list((np.round(24 * 2.49**s / 8) * 8).astype(int))
    assert w[0] == 24 and w[-1] == 368 and len(w) == 13


def test_half_to_even_rounding_matters():
    # w_b / g = 2.5 rounds to 2 (half to even), not 3
    assert adjust_compatibility([40], [1], [16]) == ([32], [16])
    # g larger than the inner width shrinks to it
    assert adjust_compatibility([24], [1], [32]) == ([24], [24])
    # bottleneck ratio 4: inner width 8
    assert adjust_compatibility([32], [4], [16]) == ([32], [8])


def test_all_named_models_are_valid_and_in_the_json():
    names = list_models()
    published = {e["name"] for e in json.loads(REFERENCE.read_text())}
    assert published <= set(names) and len(published) == 24 and "RegNetX32" in names
    for n in names:
        a = get_model(n)
        assert a.name == n and sum(a.depths) >= 1
        assert (a.block == "y") == n.startswith("RegNetY")


def test_chapter_model():
    a = get_model("RegNetX32")
    assert a.depths == [4, 6] and a.widths == [32, 80] and a.group_widths == [16, 16]
    assert a.in_channels == 1 and a.num_classes == 10


def test_bad_parameters():
    with pytest.raises(DesignSpaceError, match="wm > 1"):
        regnet_widths(10, 24, 10, 1.0)
    with pytest.raises(DesignSpaceError, match="unknown model 'RegNetX-401MF'.*RegNetX-400MF"):
        get_model("RegNetX-401MF")


def _scalar_rule(d, w0, wa, wm, q=8):
    """The rule written out block by block in plain Python (math, round = half to even)."""
    import math

    out = []
    for j in range(d):
        s = round(math.log((w0 + wa * j) / w0) / math.log(wm))
        out.append(round(w0 * wm**s / q) * q)
    return out


def _published_models():
    return json.loads(REFERENCE.read_text())


@pytest.mark.parametrize("m", _published_models(), ids=lambda m: m["name"])
def test_vectorized_rule_equals_scalar_rule_on_published_models(m):
    d, w0, wa, wm = m["depth"], m["w0"], m["wa"], m["wm"]
    got = quantized_widths(d, w0, wa, wm)
    assert got.shape == (d,) and got.dtype == np.float64
    assert (
        list(regnet_widths(d, w0, wa, wm)) == list(got.astype(int)) == _scalar_rule(d, w0, wa, wm)
    )


def test_vectorized_rule_equals_scalar_rule_on_random_parameters():
    rng = np.random.default_rng(12)
    n, d = 500, 30
    w0 = np.round(np.exp(rng.uniform(np.log(8), np.log(256), n)) / 8) * 8
    wa = np.round(np.exp(rng.uniform(np.log(0.5), np.log(256), n)), 1)
    wm = np.round(np.exp(rng.uniform(np.log(1.05), np.log(3.5), n)), 3)
    q = 8
    batch = quantized_widths(d, w0, wa, wm, q)
    assert batch.shape == (n, d)
    for i in range(n):
        expected = _scalar_rule(d, w0[i], wa[i], wm[i], q)
        assert list(batch[i].astype(int)) == expected
        assert list(regnet_widths(d, w0[i], wa[i], wm[i], q)) == expected
    # A prefix of the blocks does not depend on d.
    np.testing.assert_array_equal(quantized_widths(7, w0, wa, wm, q), batch[:, :7])


def test_vectorized_rule_broadcasts():
    w0 = np.array([8.0, 16.0, 48.0])[:, None, None]
    wa = np.array([10.0, 30.5])[None, :, None]
    wm = np.array([2.0, 2.5, 3.1, 1.4])[None, None, :]
    got = quantized_widths(12, w0, wa, wm, 16)
    assert got.shape == (3, 2, 4, 12)
    for i, j, k in np.ndindex(3, 2, 4):
        w = _scalar_rule(12, w0[i, 0, 0], wa[0, j, 0], wm[0, 0, k], 16)
        assert list(got[i, j, k].astype(int)) == w
    assert (got % 16 == 0).all()


def test_rule_rounds_half_to_even():
    # w0 * wm**s / q = 2.5 exactly: half to even gives 2 * 8 = 16 (half up would give 24)
    w = quantized_widths(2, 20, 20, 2.0)
    assert list(w) == [16.0, 40.0]  # s = (0, 1): 20/8 = 2.5 -> 2, 40/8 = 5 -> 5


@pytest.mark.parametrize(
    "args",
    [(0, 24, 10, 2.0), (5, 0, 10, 2.0), (5, 24, -1, 2.0), (5, 24, 10, 1.0), (5, 24, 10, 2.0, 0)],
)
def test_vectorized_rule_refuses_bad_parameters(args):
    with pytest.raises(DesignSpaceError, match="RegNet needs"):
        quantized_widths(*args)
    with pytest.raises(DesignSpaceError, match="wm > 1"):
        quantized_widths(5, [24, 32], [10, 10], [2.0, 0.5])


def test_compatibility_list_form_equals_array_form():
    rng = np.random.default_rng(3)
    w = rng.integers(1, 200, size=(200, 4)) * 8
    b = rng.choice([1, 2, 4], size=(200, 4))
    g = rng.choice([1, 2, 4, 8, 16, 32, 64], size=(200, 4))
    ww, gg = compatible_widths(w, b, g)
    for i in range(200):
        lw, lg = adjust_compatibility(list(w[i]), list(b[i]), list(g[i]))
        assert (lw, lg) == (list(ww[i]), list(gg[i]))
        # compatible: g divides the inner width, and w / b is whole
        for wi, bi, gi in zip(lw, b[i], lg, strict=True):
            assert wi % bi == 0 and (wi // bi) % gi == 0 and gi <= wi // bi
