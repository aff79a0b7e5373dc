"""Statistics of an architecture and spaces that require ranges of them: validation, the
human-readable parameters, space files, the sampler's rejection and support.inside."""

from __future__ import annotations

import math

import pytest
import yaml

from designspace.core.arch import Architecture, Stage
from designspace.core.sampling import sample
from designspace.core.spaces import (
    AnyNetSpace,
    get_space,
    load_space,
    space_from_dict,
    space_to_dict,
)
from designspace.core.statistics import (
    STATISTICS,
    compute,
    describe_range,
    get_statistic,
    statistic_names,
)
from designspace.core.support import inside, reasons_by_kind
from designspace.errors import DesignSpaceError

REGIME = "fashion-mnist-small"


def _arch(depths, widths) -> Architecture:
    return Architecture(
        stages=tuple(Stage(d, w, 1.0, 8, 2) for d, w in zip(depths, widths, strict=True)),
        block="x",
    )


def test_statistics_of_an_architecture():
    arch = _arch([1, 2, 3, 6], [16, 32, 64, 128])
    assert statistic_names() == [
        "total_depth",
        "first_width",
        "last_width",
        "width_ratio",
        "num_stages",
    ]
    assert compute("total_depth", arch) == 12.0
    assert compute("first_width", arch) == 16.0
    assert compute("last_width", arch) == 128.0
    assert compute("width_ratio", arch) == 8.0
    assert compute("num_stages", arch) == 4.0
    assert get_statistic("total_depth").unit == "blocks"
    assert describe_range("total_depth", 12, 28) == "12..28 blocks"
    assert describe_range("width_ratio", 1, 2.5) == "1..2.5"
    for stat in STATISTICS.values():
        assert stat.description and stat.unit and stat.grid > 0
    with pytest.raises(TypeError):
        STATISTICS["x"] = STATISTICS["total_depth"]  # type: ignore[index]


def test_unknown_statistic_names_the_valid_ones():
    with pytest.raises(DesignSpaceError, match="did you mean 'total_depth'.*valid statistics"):
        get_statistic("total_dept")
    with pytest.raises(DesignSpaceError, match="unknown statistic"):
        compute("depth", _arch([1], [8]))


def test_require_is_validated_and_normalised():
    space = AnyNetSpace(name="s", require={"total_depth": [12, 28], "first_width": (8, 64)})
    assert space.require == (("first_width", 8.0, 64.0), ("total_depth", 12.0, 28.0))
    assert space == AnyNetSpace(name="s", require=(("total_depth", 12, 28), ("first_width", 8, 64)))
    bad = [
        ({"depthh": [1, 2]}, "unknown statistic"),
        ({"total_depth": [28, 12]}, "lo <= hi"),
        ({"total_depth": [1, math.inf]}, "finite"),
        ({"total_depth": [1, "x"]}, "finite"),
        ({"total_depth": [1]}, r"\[lo, hi\]"),
        ((("total_depth", 1, 2), ("total_depth", 3, 4)), "twice"),
        ("total_depth", "must map"),
        ((("total_depth", 1),), "statistic, lo, hi"),
    ]
    for require, match in bad:
        with pytest.raises(DesignSpaceError, match=match):
            AnyNetSpace(name="s", require=require)
    with pytest.raises(DesignSpaceError, match="unknown statistic"):
        get_space("RegNetX").with_params(require={"nope": [1, 2]})


def test_parameters_show_the_required_ranges():
    space = get_space("AnyNetXA").with_params(require={"total_depth": [12, 28]})
    assert space.parameters()["require total_depth"] == (
        "12..28 blocks (draws outside are rejected)"
    )
    regnet = get_space("RegNetX").with_params(require={"width_ratio": [2, 8]})
    assert regnet.parameters()["require width_ratio"].startswith("2..8 (draws")
    assert not any(k.startswith("require") for k in get_space("AnyNetXA").parameters())


def test_require_round_trips_through_a_space_file(tmp_path):
    space = get_space("AnyNetXA").with_params(
        name="deep", require={"total_depth": [12, 28], "last_width": [64, 512]}
    )
    data = space_to_dict(space)
    assert data["require"] == {"last_width": [64, 512], "total_depth": [12, 28]}
    assert "require" not in space_to_dict(get_space("AnyNetXA"))
    path = tmp_path / "deep.yaml"
    path.write_text(yaml.safe_dump(data))
    loaded = load_space(path)
    assert loaded.require == space.require
    written = space_from_dict(
        {"name": "w", "base": "RegNetX", "require": {"total_depth": [14, 20]}}
    )
    assert written.require == (("total_depth", 14.0, 20.0),)
    with pytest.raises(DesignSpaceError, match="must map a statistic"):
        space_from_dict({"name": "w", "base": "RegNetX", "require": [1, 2]})
    with pytest.raises(DesignSpaceError, match="unknown statistic"):
        space_from_dict({"name": "w", "require": {"nope": [1, 2]}})


def test_the_sampler_rejects_draws_outside_the_required_ranges():
    space = get_space("AnyNetXA").with_params(
        name="XA_deep", require={"total_depth": [20, 30], "last_width": [64, 1024]}
    )
    s = sample(space, 100, seed=0, regime=REGIME)
    assert len(s) == 100
    assert all(20 <= a.depth <= 30 and a.widths[-1] >= 64 for a in s.archs)
    plain = sample("AnyNetXA", 100, seed=0, regime=REGIME)
    assert any(not 20 <= a.depth <= 30 for a in plain.archs)  # the constraint bites
    regnet = get_space("RegNetX").with_params(name="R_short", require={"total_depth": [12, 14]})
    r = sample(regnet, 50, seed=0, regime=REGIME)
    assert all(12 <= a.depth <= 14 for a in r.archs)


def test_an_impossible_requirement_is_counted_in_the_error():
    space = get_space("AnyNetXA").with_params(name="XA_none", require={"total_depth": [1, 2]})
    with pytest.raises(DesignSpaceError, match=r"only 0 of 5 .* had total_depth outside 1\.\.2"):
        sample(space, 5, seed=0, regime=REGIME, max_draws=20_000)


def test_inside_reports_a_missed_requirement():
    space = get_space("AnyNetXA").with_params(name="XA_deep", require={"total_depth": [20, 30]})
    shallow = sample("AnyNetXA", 50, seed=3, regime=REGIME).archs
    arch = next(a for a in shallow if a.depth < 20)
    reasons = inside(arch, space)
    assert reasons == [f"XA_deep: total_depth {arch.depth} is outside 20..30 blocks"]
    assert "XA_deep: require" in reasons_by_kind(arch, space)
    deep = next(a for a in shallow if 20 <= a.depth <= 30)
    assert inside(deep, space) == []
    # a child of the requiring space must also meet the parent's requirement
    child = get_space("AnyNetXB").with_params(name="XB_in", refines=space)
    assert any(r.startswith("XA_deep: total_depth") for r in inside(arch, child))
