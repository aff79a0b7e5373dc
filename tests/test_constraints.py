"""Constraints as objects (designspace.core.constraints): ids round trip, apply() refines the
parent, satisfied() is the refined space's support, score() grades it, every draw of a refined
space satisfies its constraint, refined spaces survive a space file, the catalog lists what
applies, the nested steps are constraints, and bad ids are refused."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import yaml

from designspace.analysis.rules import NESTED_STEPS, Step, nested_step
from designspace.core.arch import Architecture, Stage
from designspace.core.constraints import (
    CONSTRAINT_KINDS,
    LinearWidths,
    Range,
    catalog,
    make_constraint,
)
from designspace.core.sampling import sample
from designspace.core.spaces import (
    AnyNetSpace,
    Choice,
    Fixed,
    IntUniform,
    LogUniform,
    RegNetSpace,
    get_space,
    load_space,
    space_from_dict,
    space_to_dict,
    structure,
)
from designspace.core.support import inside
from designspace.errors import DesignSpaceError

REGIME = "fashion-mnist-small"

# (id, parent): at least one per kind
CASES = [
    ("shared:bottleneck_ratio", "AnyNetXA"),
    ("shared:group_width", "AnyNetXA"),
    ("shared:depth", "AnyNetXA"),
    ("monotone:width:increasing", "AnyNetXA"),
    ("monotone:depth:decreasing", "AnyNetXA"),
    ("fixed:bottleneck_ratio=1", "AnyNetXA"),
    ("fixed:group_width=16", "NestedRegNetX"),
    ("range:total_depth:12..28", "AnyNetXA"),
    ("range:wm:2..2.5", "NestedRegNetX"),
    ("range:w0:8..8", "RegNetX"),
    ("range:last_width:64..512", "NestedRegNetX"),
    ("stages:4", "RegNetX"),
    ("linear_widths", "AnyNetXE"),
]


@functools.cache
def _archs(space: str, n: int, seed: int = 0) -> tuple[Architecture, ...]:
    return tuple(sample(space, n, seed=seed, regime=REGIME).archs)


def _arch(depths, widths, b=None, g=None) -> Architecture:
    n = len(depths)
    b = b or [1.0] * n
    g = g or [8] * n
    return Architecture(
        stages=tuple(
            Stage(d, w, bb, gg, 2) for d, w, bb, gg in zip(depths, widths, b, g, strict=True)
        ),
        block="x",
    )


# ----------------------------------------------------------------------------- ids
@pytest.mark.parametrize(("text", "parent"), CASES)
def test_an_id_round_trips_through_the_registry(text, parent):
    c = make_constraint(text, get_space(parent))
    assert c.id == text
    assert c.kind == text.split(":")[0] and c.kind in CONSTRAINT_KINDS
    assert isinstance(c, CONSTRAINT_KINDS[c.kind])
    assert make_constraint(c.id, c.parent).id == text
    assert c.parent == get_space(parent)
    assert c.sentence() and c.syntax() and c.feature
    assert str(c) == text


def test_every_kind_is_covered_and_ids_are_canonical():
    assert set(CONSTRAINT_KINDS) == {
        "shared",
        "monotone",
        "fixed",
        "range",
        "stages",
        "linear_widths",
    }
    assert {t.split(":")[0] for t, _ in CASES} == set(CONSTRAINT_KINDS)
    xa = get_space("AnyNetXA")
    assert make_constraint(" range:total_depth:12.0..28 ", xa).id == "range:total_depth:12..28"
    assert make_constraint("fixed:bottleneck_ratio=1.0", xa).id == "fixed:bottleneck_ratio=1"
    assert make_constraint("shared:width", "AnyNetXA").parent is xa  # a name works too
    features = {
        "shared:bottleneck_ratio": "bottleneck_ratio",
        "monotone:width:increasing": "width",
        "range:total_depth:12..28": "total_depth",
        "linear_widths": "widths",
    }
    for text, feature in features.items():
        parent = "AnyNetXE" if text == "linear_widths" else "AnyNetXA"
        assert make_constraint(text, parent).feature == feature
    assert make_constraint("stages:4", "RegNetX").feature == "stages"
    assert make_constraint("range:wm:2..3", "NestedRegNetX").feature == "wm"


# ----------------------------------------------------------------------------- apply
def test_apply_changes_exactly_what_each_kind_says():
    xa, nested, regnetx = (get_space(n) for n in ("AnyNetXA", "NestedRegNetX", "RegNetX"))

    def changed(before, after) -> dict:
        a, b = structure(before), structure(after)
        return {k: b[k] for k in a if a[k] != b[k]}

    s = make_constraint("shared:group_width", xa).apply()
    assert s.name == "AnyNetXA+shared_g" and s.refines is xa
    assert changed(xa, s) == {"shared": frozenset({"group_width"})}
    m = make_constraint("monotone:depth:decreasing", xa).apply("mine")
    assert m.name == "mine" and changed(xa, m) == {"monotone": (("depth", "decreasing"),)}
    f = make_constraint("fixed:bottleneck_ratio=2", xa).apply()
    assert changed(xa, f) == {
        "bottleneck_ratio": Fixed(2),
        "shared": frozenset({"bottleneck_ratio"}),
    }
    assert changed(nested, make_constraint("fixed:group_width=16", nested).apply()) == {
        "group_width": Fixed(16)
    }
    r = make_constraint("range:total_depth:12..28", xa).apply()
    assert changed(xa, r) == {"require": (("total_depth", 12.0, 28.0),)}
    # a second range on the same statistic intersects
    r2 = make_constraint("range:total_depth:20..40", r).apply()
    assert r2.require == (("total_depth", 20.0, 28.0),) and r2.refines is r
    assert changed(nested, make_constraint("range:wm:2..2.5", nested).apply()) == {
        "wm": LogUniform(2, 2.5, 0.001)
    }
    assert changed(nested, make_constraint("range:depth:10.5..80", nested).apply()) == {
        "depth": IntUniform(11, 63)
    }
    # a bound off the quantum moves onto it, inside the range
    assert make_constraint("range:w0:20..100", nested).apply().w0 == LogUniform(24, 96, 8)
    choice = nested.with_params(name="c", group_width=Choice((2, 8, 32)))
    assert make_constraint("range:last_width:8..64", choice).apply().group_width == Choice(
        (2, 8, 32)
    )
    st = make_constraint("stages:5", regnetx).apply()
    assert changed(regnetx, st) == {"num_stages": 5} and st.refines is regnetx
    lin = make_constraint("linear_widths", get_space("AnyNetXA")).apply()
    assert isinstance(lin, RegNetSpace) and lin.refines is xa
    assert lin.num_stages == 4 and lin.depth == IntUniform(1, 63)
    assert lin.bottleneck_ratio == xa.bottleneck_ratio and lin.group_width == xa.group_width
    assert lin.wm == LogUniform(1.5, 3, 0.001) and lin.w0 == LogUniform(8, 248, 8)
    shallow = xa.with_params(name="shallow", num_stages=3, depth=IntUniform(1, 4))
    assert make_constraint("linear_widths", shallow).apply().depth == IntUniform(1, 12)


@pytest.mark.parametrize("step", NESTED_STEPS, ids=lambda s: s.rule)
def test_each_nested_step_is_its_constraint_applied(step):
    parent = get_space(step.from_space)
    refined = make_constraint(step.constraint, parent).apply()
    assert structure(refined) == structure(get_space(step.to_space))
    assert refined.refines is parent
    assert step == nested_step(
        step.rule, step.from_space, step.constraint, step.claim, step.sharing
    )


def test_the_nested_steps_keep_their_rule_names_and_constraints():
    assert [(s.rule, s.constraint) for s in NESTED_STEPS] == [
        ("shared_b", "shared:bottleneck_ratio"),
        ("shared_g", "shared:group_width"),
        ("widths_increase", "monotone:width:increasing"),
        ("depths_increase", "monotone:depth:increasing"),
        ("linear_widths", "linear_widths"),
        ("regnet_b1", "fixed:bottleneck_ratio=1"),
        ("regnet_wm2", "range:wm:2..3"),
        ("regnet_depth", "range:depth:12..28"),
    ]
    assert [s.to_space for s in NESTED_STEPS][:4] == [f"AnyNetX{c}" for c in "BCDE"]
    assert Step("r", "a", "b", True, "c").constraint == ""  # positional steps still work
    with pytest.raises(DesignSpaceError, match="no built-in space"):
        nested_step("x", "AnyNetXA", "shared:depth", "claim", True)


# ----------------------------------------------------------------------------- satisfied
def _population(text: str, parent: str) -> list[Architecture]:
    """Draws of the parent and of the refined space: both sides of the constraint."""
    c = make_constraint(text, parent)
    n_in = 30 if isinstance(c, LinearWidths) else 60
    return list(_archs(parent, 200)) + sample(c.refined, n_in, seed=1, regime=REGIME).archs


@pytest.mark.parametrize(("text", "parent"), CASES)
def test_satisfied_is_the_refined_support_and_score_grades_it(text, parent):
    c = make_constraint(text, get_space(parent))
    archs = _population(text, parent)
    sat = np.array([c.satisfied(a) for a in archs])
    assert sat.any() and not sat.all()
    truth = np.array([not inside(a, c.apply()) for a in archs])
    assert (sat == truth).all()
    scores = np.array([c.score(a) for a in archs])
    assert ((scores >= 0) & (scores <= 1)).all()
    assert ((scores == 1.0) == sat).all()


def test_satisfied_matches_what_each_constraint_means():
    xa = _archs("AnyNetXA", 200)
    b1 = make_constraint("fixed:bottleneck_ratio=1", "AnyNetXA")
    assert [b1.satisfied(a) for a in xa] == [set(a.bottleneck_ratios) == {1} for a in xa]
    shared_b = make_constraint("shared:bottleneck_ratio", "AnyNetXA")
    assert [shared_b.satisfied(a) for a in xa] == [len(set(a.bottleneck_ratios)) == 1 for a in xa]
    deep = make_constraint("range:total_depth:12..28", "AnyNetXA")
    assert [deep.satisfied(a) for a in xa] == [12 <= a.depth <= 28 for a in xa]
    up = make_constraint("monotone:width:increasing", "AnyNetXA")
    for a in xa:
        if up.satisfied(a):
            assert a.widths == sorted(a.widths)
    wm = make_constraint("range:wm:2..3", "NestedRegNetX_b1")
    assert wm.satisfied(_archs("NestedRegNetX_b1_wm2", 20)[0])


def test_scores_are_the_documented_fractions():
    xa = get_space("AnyNetXA")
    arch = _arch([1, 2, 1, 3], [16, 32, 24, 64], b=[1.0, 2.0, 1.0, 1.0], g=[8, 8, 8, 8])
    assert not inside(arch, xa)
    up = make_constraint("monotone:width:increasing", xa)
    assert up.score(arch) == pytest.approx(2 / 3)  # 16 -> 32 up, 32 -> 24 down, 24 -> 64 up
    assert make_constraint("monotone:depth:decreasing", xa).score(arch) == pytest.approx(1 / 3)
    assert make_constraint("shared:bottleneck_ratio", xa).score(arch) == pytest.approx(2 / 3)
    assert make_constraint("fixed:bottleneck_ratio=1", xa).score(arch) == pytest.approx(3 / 4)
    assert make_constraint("fixed:bottleneck_ratio=4", xa).score(arch) == 0.0
    assert make_constraint("range:total_depth:12..28", xa).score(arch) == 0.0
    assert make_constraint("range:total_depth:4..28", xa).score(arch) == 1.0
    # the feature is complete but the arch lies outside the refined space: below 1
    outside = _arch([1] * 5, [16, 32, 48, 64, 80])  # 5 stages: not in XA
    assert inside(outside, xa)
    assert make_constraint("monotone:width:increasing", xa).score(outside) == pytest.approx(3 / 4)


# ----------------------------------------------------------------------------- sampling
SAMPLED = [
    ("shared:bottleneck_ratio", "AnyNetXA"),
    ("monotone:width:increasing", "AnyNetXA"),
    ("fixed:bottleneck_ratio=1", "AnyNetXA"),
    ("range:total_depth:12..28", "AnyNetXA"),
    ("range:first_width:8..16", "AnyNetXE"),
    ("range:wm:2..2.5", "NestedRegNetX"),
    ("fixed:group_width=8", "NestedRegNetX"),
    ("stages:4", "RegNetX"),
    ("linear_widths", "AnyNetXA"),
]


@pytest.mark.parametrize(("text", "parent"), SAMPLED)
def test_every_draw_of_a_refined_space_satisfies_its_constraint(text, parent):
    c = make_constraint(text, get_space(parent))
    s = sample(c.refined, 200, seed=0, regime=REGIME)
    assert len(s) == 200
    assert all(c.satisfied(a) for a in s.archs)
    assert all(not inside(a, parent) for a in s.archs)  # and inside the parent


def test_draws_meet_a_chain_of_constraints():
    space = get_space("AnyNetXA")
    chain = ["fixed:bottleneck_ratio=1", "monotone:width:increasing", "range:total_depth:8..20"]
    made = []
    for text in chain:
        made.append(make_constraint(text, space))
        space = made[-1].apply()
    s = sample(space, 100, seed=2, regime=REGIME)
    for a in s.archs:
        assert all(c.satisfied(a) for c in made)
        assert set(a.bottleneck_ratios) == {1} and a.widths == sorted(a.widths)
        assert 8 <= a.depth <= 20


def test_a_refined_space_survives_a_space_file(tmp_path):
    first = make_constraint("shared:bottleneck_ratio", "AnyNetXA").apply()
    second = make_constraint("range:total_depth:12..28", first).apply()
    regnet = make_constraint("range:wm:2..2.5", "NestedRegNetX").apply()
    for space in (second, regnet):
        path = tmp_path / "refined.yaml"
        path.write_text(yaml.safe_dump(space_to_dict(space), sort_keys=False))
        loaded = load_space(path)
        assert loaded.name == space.name and structure(loaded) == structure(space)
        assert structure(loaded.refines) == structure(space.refines)
        a = sample(space, 60, seed=4, regime=REGIME)
        b = sample(loaded, 60, seed=4, regime=REGIME)
        assert [x.stages for x in a.archs] == [x.stages for x in b.archs]


@pytest.mark.parametrize(
    ("text", "parent"),
    [(t, p) for t, p in CASES if p in ("AnyNetXA", "NestedRegNetX", "RegNetX")],
)
def test_syntax_is_the_space_file_form(text, parent):
    c = make_constraint(text, parent)
    keys = yaml.safe_load("{" + c.syntax() + "}")
    written = space_from_dict({"name": "w", "base": parent, **keys})
    assert structure(written) == structure(c.apply())


def test_linear_widths_syntax_is_a_whole_space():
    c = make_constraint("linear_widths", "AnyNetXE")
    written = space_from_dict({"name": "w", **yaml.safe_load("{" + c.syntax() + "}")})
    assert structure(written) == structure(c.apply())
    assert written.refines is get_space("AnyNetXE")


# ----------------------------------------------------------------------------- catalog
def test_the_catalog_of_anynetxa():
    ids = [c.id for c in catalog(get_space("AnyNetXA"), _archs("AnyNetXA", 200))]
    assert len(ids) == len(set(ids))
    for expected in (
        "shared:bottleneck_ratio",
        "shared:group_width",
        "shared:width",
        "monotone:width:increasing",
        "monotone:depth:increasing",
        "fixed:bottleneck_ratio=1",
        "linear_widths",
    ):
        assert expected in ids
    ranges = [i for i in ids if i.startswith("range:")]
    stats = {i.split(":")[1] for i in ranges}
    assert stats == {"total_depth", "first_width", "last_width"}
    for i in ranges:
        name, span = i.split(":")[1:]
        lo, hi = (float(x) for x in span.split(".."))
        assert lo <= hi
        grid = 1 if name == "total_depth" else 8
        assert lo % grid == 0 and hi % grid == 0, i
        assert (lo, hi) != ((4, 64) if name == "total_depth" else (8, 1024))
    assert not [i for i in ids if i.startswith("stages:")]


def test_the_catalog_of_anynetxe_and_of_regnet_spaces():
    xe = [c.id for c in catalog(get_space("AnyNetXE"), _archs("AnyNetXE", 100))]
    assert "shared:bottleneck_ratio" not in xe and "shared:group_width" not in xe
    assert "monotone:width:increasing" not in xe and "monotone:width:decreasing" not in xe
    assert "linear_widths" in xe
    nested = catalog(get_space("NestedRegNetX"), [])  # RegNet ranges need no archs
    ids = [c.id for c in nested]
    assert "linear_widths" not in ids and not [i for i in ids if i.startswith("shared:")]
    assert "fixed:bottleneck_ratio=1" in ids and "fixed:group_width=32" in ids
    assert {i.split(":")[1] for i in ids if i.startswith("range:")} == {"depth", "w0", "wa", "wm"}
    for c in nested:
        if c.id.startswith("range:wm:"):
            assert all(round(x * 100) == x * 100 for x in (c.lo, c.hi)), c.id
        if c.id.startswith("range:depth:") or c.id.startswith("range:w0:"):
            assert float(c.lo).is_integer() and float(c.hi).is_integer()
    assert all(isinstance(c, Range) or not c.id.startswith("range") for c in nested)
    assert nested and [c.id for c in catalog(get_space("NestedRegNetX"), [])] == ids
    regnetx = [c.id for c in catalog(get_space("RegNetX"), _archs("RegNetX", 100))]
    assert {i for i in regnetx if i.startswith("stages:")} == {
        f"stages:{n}" for n in {len(a.stages) for a in _archs("RegNetX", 100)}
    }
    assert not [i for i in regnetx if i.startswith("fixed:")]  # b fixed, g not a choice
    assert "range:depth:12..28" not in regnetx  # the whole support


def test_the_catalog_never_errors_and_leaves_out_what_does_not_apply():
    basic = AnyNetSpace(name="basic", block="basic")
    ids = [c.id for c in catalog(basic, [])]
    assert ids and not [i for i in ids if "bottleneck" in i or "group" in i]
    assert "linear_widths" not in ids and not [i for i in ids if i.startswith("range:")]
    flat = get_space("AnyNetXA").with_params(name="flat", shared={"width", "depth"})
    flat_ids = [c.id for c in catalog(flat, [])]
    assert "linear_widths" not in flat_ids
    assert not [i for i in flat_ids if i.startswith("monotone:")]
    b1 = make_constraint("fixed:bottleneck_ratio=1", "NestedRegNetX").apply()
    assert not [c for c in catalog(b1, []) if c.id.startswith("fixed:bottleneck_ratio")]


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("text", "parent", "match"),
    [
        ("", "AnyNetXA", "non-empty"),
        ("nope:x", "AnyNetXA", "unknown constraint kind 'nope'"),
        ("shared:foo", "AnyNetXA", "unknown parameter"),
        ("shared:bottleneck_ratio", "AnyNetXB", "already shares"),
        ("shared:group_width", "RegNetX", "AnyNet space"),
        ("shared:bottleneck_ratio", "basic", "no bottleneck"),
        ("shared", "AnyNetXA", "write shared"),
        ("monotone:width", "AnyNetXA", "write monotone"),
        ("monotone:width:sideways", "AnyNetXA", "write monotone"),
        ("monotone:width:increasing", "AnyNetXD", "already orders"),
        ("fixed:bottleneck_ratio=3", "AnyNetXA", "cannot draw"),
        ("fixed:bottleneck_ratio", "AnyNetXA", "write fixed"),
        ("fixed:depth=3", "AnyNetXA", "fix bottleneck_ratio or group_width"),
        ("fixed:bottleneck_ratio=1", "NestedRegNetX_b1", "one value"),
        ("fixed:bottleneck_ratio=x", "AnyNetXA", "not a number"),
        ("range:wm:3..2", "NestedRegNetX", "lo <= hi"),
        ("range:wm:nan..3", "NestedRegNetX", "finite"),
        ("range:wm:4..5", "NestedRegNetX", "no value in the range"),
        ("range:depth:1..63", "NestedRegNetX", "would not change"),
        ("range:depth:1..5", "AnyNetXA", "not a statistic"),
        ("range:total_depth:12-28", "AnyNetXA", "write range"),
        ("stages:4", "NestedRegNetX", "already keeps only 4"),
        ("stages:x", "RegNetX", "write stages"),
        ("stages:9", "RegNetX", "whole number 1..8"),
        ("stages:4", "AnyNetXA", "RegNet space"),
        ("linear_widths", "NestedRegNetX", "AnyNet space"),
        ("linear_widths:x", "AnyNetXE", "no arguments"),
    ],
)
def test_bad_ids_are_refused(text, parent, match):
    space = AnyNetSpace(name="basic", block="basic") if parent == "basic" else get_space(parent)
    with pytest.raises(DesignSpaceError, match=match):
        make_constraint(text, space)


def test_a_range_already_required_is_refused():
    r = make_constraint("range:total_depth:12..28", "AnyNetXA").apply()
    with pytest.raises(DesignSpaceError, match="already requires"):
        make_constraint("range:total_depth:10..30", r)
    with pytest.raises(DesignSpaceError, match="nothing lies in both"):
        make_constraint("range:total_depth:30..40", r)
    with pytest.raises(DesignSpaceError, match="equal"):
        make_constraint("linear_widths", get_space("AnyNetXA").with_params(shared={"width"}))
