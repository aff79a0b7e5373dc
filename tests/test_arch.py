import json

import pytest

from designspace.core.arch import Architecture, Stage
from designspace.core.named import get_model
from designspace.errors import DesignSpaceError


def _arch(**kw):
    base = dict(stages=(Stage(2, 32, 1, 8), Stage(3, 64, 2, 16)), in_channels=1, num_classes=10)
    base.update(kw)
    return Architecture(**base)


def test_json_round_trip_is_lossless():
    a = get_model("RegNetY-800MF")
    assert Architecture.from_json(a.to_json()) == a
    assert Architecture.from_json(a.to_json()).name == "RegNetY-800MF"


def test_row_round_trip_and_flat_columns():
    a = _arch()
    row = a.to_row()
    assert row["d1"] == 2 and row["w2"] == 64 and row["b2"] == 2.0 and row["g2"] == 16
    assert row["depths"] == [2, 3] and row["num_stages"] == 2 and row["depth"] == 5
    assert Architecture.from_row(row) == a


def test_id_is_content_hash_and_ignores_name():
    a, b = _arch(name="x"), _arch(name="y")
    assert a.id == b.id and len(a.id) == 16
    assert _arch(num_classes=11).id != a.id
    # 2 and 2.0 are the same ratio
    assert Architecture((Stage(1, 16, 2.0, 8),)).id == Architecture((Stage(1, 16, 2, 8),)).id


def test_derived_views():
    a = _arch()
    assert a.block_widths == [32, 32, 64, 64, 64]
    assert a.total_stride == 8
    assert a.stages[1].inner_width == 32 and a.stages[1].groups == 2


@pytest.mark.parametrize(
    "kw, field",
    [
        (dict(stages=(Stage(0, 32, 1, 8),)), "depth"),
        (dict(stages=(Stage(1, -8, 1, 8),)), "width"),
        (dict(stages=(Stage(1, 32, 1, 12),)), "group_width 12 does not divide"),
        (dict(stages=(Stage(1, 30, 4, 1),)), "not a whole number"),
        (dict(block="z"), "block"),
        (dict(stem="huge"), "stem"),
        (dict(num_classes=0), "num_classes"),
        (dict(block="y"), "se_ratio"),
        (dict(stages=()), "at least one stage"),
    ],
)
def test_validation_names_the_field(kw, field):
    with pytest.raises(DesignSpaceError, match=field):
        _arch(**kw)


def test_basic_blocks_need_dense_convs():
    with pytest.raises(DesignSpaceError, match="group_width = width"):
        Architecture((Stage(1, 32, 1, 8),), block="basic")
    assert Architecture((Stage(1, 32, 1, 32),), block="basic").block == "basic"


def test_from_dict_missing_and_unknown_fields():
    with pytest.raises(DesignSpaceError, match="'stages'"):
        Architecture.from_dict({"block": "x"})
    with pytest.raises(DesignSpaceError, match="'width'"):
        Architecture.from_dict({"stages": [{"depth": 1}]})
    with pytest.raises(DesignSpaceError, match="unknown field"):
        Architecture.from_dict({"stages": [{"depth": 1, "width": 8}], "colour": 1})
    with pytest.raises(DesignSpaceError, match="not valid JSON"):
        Architecture.from_json("{")
    d = json.loads(_arch().to_json())
    assert Architecture.from_dict(d) == _arch()


def test_y_block_se_width_must_be_at_least_one():
    with pytest.raises(DesignSpaceError, match="SE width of 0"):
        Architecture((Stage(1, 8, 1, 8),), block="y", se_ratio=0.25, stem_width=1)
    ok = Architecture((Stage(1, 8, 1, 8),), block="y", se_ratio=0.25, stem_width=4)
    assert ok.se_ratio == 0.25


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stages": 5}, "'stages' must be a list"),
        ({"stages": "x"}, "'stages' must be a list"),
        ({"stages": [{"depth": 1025, "width": 8, "group_width": 8}]}, "at most 1024"),
        ({"stages": [{"depth": 1, "width": 70000, "group_width": 8}]}, "at most 65536"),
        ({"stages": [{"depth": 1, "width": 8, "bottleneck_ratio": 1e-6}]}, "inner width"),
        ({"stages": [{"depth": 1, "width": 8, "bottleneck_ratio": float("nan")}]}, "ratio"),
        ({"stages": [{"depth": 1, "width": 8, "group_width": 8}], "name": 3}, "name"),
        ({"stages": [{"depth": 1, "width": 8, "group_width": 8}], "num_classes": 10**7}, "at most"),
    ],
)
def test_shape_types_and_limits_are_checked(data, message):
    with pytest.raises(DesignSpaceError, match=message):
        Architecture.from_dict(data)
    with pytest.raises(DesignSpaceError, match=message):
        Architecture.from_json(json.dumps(data))


def test_from_json_needs_text_and_from_row_reads_csv_lists():
    with pytest.raises(DesignSpaceError, match="JSON text"):
        Architecture.from_json(5)
    a = _arch()
    row = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in a.to_row().items()}
    assert Architecture.from_row(row) == a  # lists as JSON text, as a CSV cell holds them
    row["depths"] = "not a list"
    with pytest.raises(DesignSpaceError, match="per-stage lists"):
        Architecture.from_row(row)
