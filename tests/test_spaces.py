from pathlib import Path

import numpy as np
import pytest

from designspace.core.sampling import sample
from designspace.core.spaces import (
    Choice,
    IntUniform,
    LogUniform,
    get_space,
    list_spaces,
    load_space,
    space_from_dict,
    space_to_dict,
)
from designspace.errors import DesignSpaceError

EXAMPLES = Path(__file__).resolve().parents[1] / "experiments" / "spaces"


def test_registry_and_aliases():
    names = list_spaces()
    for family in ("AnyNetX", "AnyNetY"):
        for c in "ABCDE":
            assert f"{family}{c}" in names
    assert {"RegNetX", "RegNetY"} <= set(names)
    assert get_space("AnyNetE") is get_space("AnyNetXE")
    assert get_space("anynetxa").name == "AnyNetXA"
    with pytest.raises(DesignSpaceError, match="valid spaces: AnyNetXA"):
        get_space("AnyNetZ")


def test_anynetx_progression_is_as_in_dds():
    a, b, c, d, e = (get_space(f"AnyNetX{x}") for x in "ABCDE")
    assert a.shared == frozenset() and a.monotone == ()
    assert b.shared == {"bottleneck_ratio"}
    assert c.shared == {"bottleneck_ratio", "group_width"}
    assert dict(d.monotone) == {"width": "increasing"}
    assert dict(e.monotone) == {"width": "increasing", "depth": "increasing"}
    assert a.depth == IntUniform(1, 16) and a.width == LogUniform(8, 1024, 8)
    assert a.bottleneck_ratio == Choice((1, 2, 4))
    assert a.group_width == Choice((1, 2, 4, 8, 16, 32))
    assert get_space("AnyNetYC").se_ratio == 0.25 and get_space("AnyNetYC").block == "y"


def test_constraints_hold_in_samples():
    s = sample("AnyNetXE", 200, seed=1)
    for arch in s.archs:
        assert arch.depths == sorted(arch.depths) and arch.widths == sorted(arch.widths)
        assert len(set(arch.bottleneck_ratios)) == 1
    c = sample("AnyNetXC", 200, seed=1)
    # shared g can be lowered per stage by the compatibility step only where g > inner width
    for arch in c.archs:
        assert len(set(arch.bottleneck_ratios)) == 1
        gs = arch.group_widths
        top = max(gs)
        assert all(g == top or g == st.inner_width for g, st in zip(gs, arch.stages, strict=True))
    a = sample("AnyNetXA", 200, seed=1)
    assert any(len(set(x.bottleneck_ratios)) > 1 for x in a.archs)


def test_distributions_within_bounds():
    rng = np.random.default_rng(0)
    w = LogUniform(8, 1024, 8).sample(rng, (10000,))
    assert w.min() >= 8 and w.max() <= 1024 and (w % 8 == 0).all()
    # log-uniform: about as many below the geometric midpoint (~90) as above
    assert 0.4 < (w < 90.5).mean() < 0.6
    d = IntUniform(1, 16).sample(rng, (10000,))
    assert set(np.unique(d)) == set(range(1, 17))


def test_overrides():
    s = get_space("AnyNetXE").with_params(depth=IntUniform(1, 3))
    out = sample(s, 20, seed=0, regime="fashion-mnist")
    assert max(max(a.depths) for a in out.archs) <= 3
    with pytest.raises(DesignSpaceError, match="no parameter"):
        get_space("AnyNetXE").with_params(colour=1)


def test_example_files_load_and_sample():
    two = load_space(EXAMPLES / "regnetx-2stage.yaml")
    four = load_space(EXAMPLES / "regnetx-4stage.yaml")
    assert two.num_stages == 2 and four.num_stages == 4
    assert two.monotone == four.monotone == get_space("AnyNetXE").monotone
    basic = load_space(EXAMPLES / "anynet-basic.yaml")
    assert basic.block == "basic"
    vio = load_space(EXAMPLES / "vionet.toml")
    assert dict(vio.monotone) == {"width": "decreasing", "depth": "decreasing"}
    for space, check in (
        (two, lambda a: len(a.stages) == 2 and set(a.bottleneck_ratios) == {1}),
        (four, lambda a: len(a.stages) == 4 and set(a.bottleneck_ratios) == {1}),
        (basic, lambda a: a.block == "basic" and a.group_widths == a.widths),
        (vio, lambda a: a.widths == sorted(a.widths, reverse=True)),
    ):
        out = sample(space, 10, seed=0, regime="fashion-mnist")
        assert all(check(a) for a in out.archs)


def test_file_round_trip_and_errors(tmp_path):
    space = get_space("AnyNetXD")
    again = space_from_dict(space_to_dict(space))
    assert again == space
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\nparams:\n  depth: {gaussian: [1, 2]}\n")
    with pytest.raises(DesignSpaceError, match="cannot read distribution"):
        load_space(bad)
    with pytest.raises(DesignSpaceError, match="cannot read space file"):
        load_space(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [")
    with pytest.raises(DesignSpaceError, match="not valid toml"):
        load_space(broken)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "s", "num_stages": "3"}, "num_stages"),
        ({"name": "s", "num_stages": 9}, "num_stages"),
        ({"name": "s", "params": {"depth": {"uniform": [0, 4]}}}, "depth draws"),
        ({"name": "s", "params": {"width": {"log_uniform": [8, 1e9], "q": 8}}}, "width draws"),
        ({"name": "s", "params": {"group_width": {"choice": ["a"]}}}, "group_width"),
        ({"name": "s", "params": {"bottleneck_ratio": 0}}, "bottleneck_ratio draws"),
        ({"name": "s", "kind": "regnet", "params": {"wm": 1}}, "wm draws"),
        ({"name": "s", "kind": "regnet", "params": {"wa": -1}}, "wa draws"),
        ({"name": "s", "kind": "regnet", "q": 0}, "quantum"),
        ({"name": "s", "shared": 5}, "shared"),
        ({"name": ["s"]}, "name"),
        ({"name": "s", "block": "z"}, "known blocks: x, y, basic, plain"),
        ({"name": "s", "se_ratio": "a"}, "se_ratio"),
    ],
)
def test_space_files_are_checked_at_the_boundary(data, message):
    with pytest.raises(DesignSpaceError, match=message) as exc:
        space_from_dict(data, where="f.yaml")
    assert str(exc.value).startswith("f.yaml: ")


def test_distributions_refuse_non_numbers():
    with pytest.raises(DesignSpaceError, match="finite"):
        LogUniform(8, float("inf"))
    with pytest.raises(DesignSpaceError, match="finite"):
        Choice((1, "2"))
    with pytest.raises(DesignSpaceError, match="finite"):
        IntUniform(1, float("nan"))
    assert LogUniform(8, 64, 8).bounds() == (8, 64) and Choice((4, 1, 2)).bounds() == (1, 4)
