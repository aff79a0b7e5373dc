import json
from pathlib import Path

import numpy as np
import pytest

from designspace.errors import DesignSpaceError
from designspace.named import get_model, list_models
from designspace.regnet import adjust_compatibility, regnet_widths

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
