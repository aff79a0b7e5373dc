"""Nested steps are nested: every child space of NESTED_STEPS draws only networks inside its
parent's support (designspace.core.support), the old RegNetX is flagged outside AnyNetXE, space
files carry `refines` and `num_stages`, and a committed data set is checked against a step."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from designspace.analysis.rules import NESTED_STEPS
from designspace.cli import main
from designspace.core.arch import Architecture
from designspace.core.regnet import regnet_architecture
from designspace.core.sampling import sample
from designspace.core.spaces import (
    BUILTIN_SPACES,
    Choice,
    Fixed,
    RegNetSpace,
    get_space,
    load_space,
    space_from_dict,
    space_to_dict,
)
from designspace.core.support import check_step, inside, reasons_by_kind
from designspace.errors import DesignSpaceError

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "results" / "fmnist-small-progression" / "results"
REGIMES = ("fashion-mnist-small", "imagenet")  # the small study's band and the default band
N = 100  # per regime: 200 networks of every child space


@pytest.fixture(scope="module")
def samples():
    """One sample per (space, regime), shared by the tests (sampling is most of the time)."""
    cache: dict[tuple[str, str], list[Architecture]] = {}

    def get(space: str, regime: str) -> list[Architecture]:
        if (space, regime) not in cache:
            cache[space, regime] = sample(space, N, seed=0, regime=regime).archs
        return cache[space, regime]

    return get


def test_the_nested_steps_are_the_chain_the_other_tables_key_on():
    rules = [s.rule for s in NESTED_STEPS]
    assert rules[-4:] == ["linear_widths", "regnet_b1", "regnet_wm2", "regnet_depth"]
    chain = ["AnyNetXE", *(s.to_space for s in NESTED_STEPS[-4:])]
    for step, parent in zip(NESTED_STEPS[-4:], chain, strict=False):
        assert step.from_space == parent
        assert get_space(step.to_space).refines == get_space(parent)
    for name in chain[1:]:
        space = get_space(name)
        assert space.num_stages == 4 and space.group_width == Choice((1, 2, 4, 8, 16, 32))
        assert "-" not in name  # result files are <space>-<index>-<id>.parquet
    assert get_space("NestedRegNetX").bottleneck_ratio == Choice((1, 2, 4))
    assert get_space("NestedRegNetX_b1").bottleneck_ratio == Fixed(1)
    assert get_space("NestedRegNetX_b1_wm2").wm.bounds() == (2, 3)
    assert get_space("NestedRegNetX_b1_wm2_d12_28").depth.bounds() == (12, 28)
    old = get_space("RegNetX")
    assert old.num_stages is None and old.refines is None
    assert "not nested in AnyNetXE (reference sweep's refined space, any stage count)" in (
        old.description
    )


@pytest.mark.parametrize("step", NESTED_STEPS, ids=lambda s: s.rule)
@pytest.mark.parametrize("regime", REGIMES)
def test_every_child_lies_inside_its_parent(step, regime, samples):
    archs = samples(step.to_space, regime)
    assert len(archs) == N
    outside = [(a.to_row()["widths"], r) for a in archs if (r := inside(a, step.from_space))]
    assert not outside, outside[:3]
    # and inside its own support, band included (the sampler and the support agree)
    assert not any(inside(a, step.to_space, regime) for a in archs[:40])


def test_without_refines_the_same_rule_leaves_anynetxe(samples):
    # planted: NestedRegNetX's own draws without the parent's rejection: deeper stages than
    # 16, shrinking stage depths; with it (the test above) none
    loose = dataclasses.replace(get_space("NestedRegNetX"), name="loose", refines=None)
    archs = sample(loose, 80, seed=0, regime="fashion-mnist-small").archs
    kinds = {k for a in archs for k in reasons_by_kind(a, "AnyNetXE")}
    assert "AnyNetXE: monotone" in kinds
    assert sum(bool(inside(a, "AnyNetXE")) for a in archs) > 10


def test_the_old_regnetx_is_flagged_outside_anynetxe(samples):
    archs = samples("RegNetX", "fashion-mnist-small")
    reasons = [inside(a, "AnyNetXE") for a in archs]
    assert sum(bool(r) for r in reasons) > len(archs) / 2
    five = next(a for a, r in zip(archs, reasons, strict=True) if len(a.stages) == 5)
    assert inside(five, "AnyNetXE") == ["AnyNetXE: 5 stages; the space has 4"]
    # a 4-stage RegNet with g = 64: XE's g is one of 1..32
    wide = regnet_architecture(20, 64, 40, 2.5, 64, 1)
    assert len(wide.stages) == 4
    assert "AnyNetXE: group_width" in reasons_by_kind(wide, "AnyNetXE")
    # clean: AnyNetXE's own networks
    assert not any(inside(a, "AnyNetXE") for a in samples("AnyNetXE", "fashion-mnist-small"))


@pytest.mark.parametrize(
    ("params", "space", "kind"),
    [
        ((41, 64, 12.0, 2.025, 32, 1), "NestedRegNetX_b1_wm2_d12_28", "depth"),
        ((28, 96, 16.8, 1.694, 2, 1), "NestedRegNetX_b1_wm2", "rule"),
        ((18, 144, 29.0, 1.627, 16, 2), "NestedRegNetX_b1", "bottleneck_ratio"),
    ],
)
def test_each_refinement_refuses_what_it_removes(params, space, kind):
    arch = regnet_architecture(*params)
    parent = get_space(space).refines.name
    assert inside(arch, parent) == []  # inside the step's parent ...
    assert reasons_by_kind(arch, space) == [f"{space}: {kind}"]  # ... but not the child


def test_a_clean_regnet_lies_inside_the_whole_chain():
    arch = regnet_architecture(17, 32, 19.8, 2.157, 4, 1)
    assert arch.depths == [1, 3, 6, 7] and arch.widths == [32, 72, 152, 320]
    assert inside(arch, "NestedRegNetX_b1_wm2_d12_28") == []
    assert inside(arch, "RegNetX") != []  # g 4: the old space's g is 8..128


def test_bands_are_checked_when_a_regime_is_given(samples):
    arch = samples("AnyNetXE", "imagenet")[0]
    assert inside(arch, "AnyNetXE", "imagenet") == []
    assert any(r.startswith("regime: flops") for r in inside(arch, "AnyNetXE", "cifar10"))
    with pytest.raises(DesignSpaceError, match="needs a regime"):
        inside(arch, "AnyNetXE", flops=(1, 2))


def test_num_stages_is_sampled_and_refused_in_one_line():
    four = get_space("RegNetX").with_params(name="RegNetX4", num_stages=4)
    archs = sample(four, 20, seed=0, regime="imagenet").archs
    assert {len(a.stages) for a in archs} == {4}
    with pytest.raises(DesignSpaceError, match="draws had not 8 stages\); widen the band") as exc:
        sample(four.with_params(num_stages=8), 5, seed=0, regime="fashion-mnist", max_draws=9000)
    assert "\n" not in str(exc.value) and str(exc.value).startswith("only 0 of 5 distinct")
    # a refining space that can draw nothing inside its parent says so
    g64 = get_space("NestedRegNetX").with_params(name="g64", group_width=Fixed(64))
    with pytest.raises(DesignSpaceError, match="lay outside AnyNetXE's support"):
        sample(g64, 5, seed=0, regime="imagenet", max_draws=40000)


def test_space_files_round_trip_refines_and_num_stages(tmp_path):
    for space in BUILTIN_SPACES.values():
        data = space_to_dict(space)
        assert space_from_dict(json.loads(json.dumps(data))) == space
        assert space_from_dict(yaml.safe_load(yaml.safe_dump(data, sort_keys=False))) == space
    data = space_to_dict(get_space("NestedRegNetX_b1"))
    assert data["refines"] == "NestedRegNetX" and data["num_stages"] == 4
    assert "num_stages" not in space_to_dict(get_space("RegNetX"))  # any: left out
    # a file that refines a file, then an inline parent that round-trips without the file
    parent = tmp_path / "parent.toml"
    parent.write_text(
        'name = "XE4"\nbase = "AnyNetXE"\n[params]\nbottleneck_ratio = {choice = [1]}\n'
    )
    child = tmp_path / "child.yaml"
    child.write_text(
        f"name: R4\nkind: regnet\nnum_stages: 4\nrefines: {parent}\n"
        "params: {group_width: {choice: [8, 16]}}\n"
    )
    r4 = load_space(child)
    assert isinstance(r4, RegNetSpace) and r4.num_stages == 4 and r4.refines.name == "XE4"
    inline = space_to_dict(r4)
    assert inline["refines"]["name"] == "XE4"
    assert space_from_dict(yaml.safe_load(yaml.safe_dump(inline, sort_keys=False))) == r4
    out = sample(r4, 10, seed=0, regime="fashion-mnist").archs
    assert all(not inside(a, load_space(parent)) for a in out)
    assert {a.bottleneck_ratios[0] for a in out} == {1}
    # base keeps the parent; refines: null clears it
    again = space_from_dict({"name": "n", "base": "NestedRegNetX_b1"})
    assert again.refines == get_space("NestedRegNetX")
    assert (
        space_from_dict({"name": "n", "base": "NestedRegNetX_b1", "refines": None}).refines is None
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "s", "kind": "regnet", "refines": "AnyNetXZ"}, "refines: unknown space"),
        ({"name": "s", "kind": "regnet", "refines": 5}, "'refines' must name a space"),
        ({"name": "s", "kind": "regnet", "refines": "missing.yaml"}, "cannot read space file"),
        ({"name": "s", "base": "AnyNetXE", "refines": "AnyNetYE"}, "'y' blocks"),
        ({"name": "s", "kind": "regnet", "num_stages": 3, "refines": "AnyNetXE"}, "has 4"),
        ({"name": "s", "kind": "regnet", "num_stages": "4"}, "num_stages must be a whole"),
        ({"name": "s", "kind": "regnet", "num_stages": 0}, "num_stages must be a whole"),
        ({"name": "s", "kind": "regnet", "num_stages": True}, "num_stages must be a whole"),
        ({"name": "s", "base": "NestedRegNetX", "block": "y"}, "it refines AnyNetXE, whose"),
    ],
)
def test_bad_refines_and_num_stages_are_one_line(data, message):
    with pytest.raises(DesignSpaceError, match=message) as exc:
        space_from_dict(data, where="f.yaml")
    assert str(exc.value).startswith("f.yaml: ") and "\n" not in str(exc.value)


def test_check_step_on_the_committed_study():
    frame = pd.read_parquet(COMMITTED, columns=["space", "arch_json"])
    for step in NESTED_STEPS[:4]:  # AnyNetXA -> XB -> XC -> XD -> XE: nested
        got = check_step(frame, step)
        assert got.n == 100 and got.outside == 0 and got.share == 0
    # the committed XE -> RegNetX step: RegNetX's 5-stage models (69) and more are outside
    old = dataclasses.replace(
        next(s for s in NESTED_STEPS if s.rule == "linear_widths"), to_space="RegNetX"
    )
    got = check_step(frame, old)
    assert got.n == 100 and got.share > 0.69
    assert dict(got.reasons)["AnyNetXE: stages"] == 69
    nested = check_step(frame, NESTED_STEPS[4])  # not in this data set
    assert nested.n == 0 and np.isnan(nested.share)
    with pytest.raises(DesignSpaceError, match="arch_json"):
        check_step(frame[["space"]], old)


def test_the_spaces_command_shows_the_chain(capsys):
    assert main(["spaces", "NestedRegNetX_b1_wm2"]) == 0
    out = capsys.readouterr().out
    assert "NestedRegNetX_b1 -> NestedRegNetX -> AnyNetXE" in out
    assert "4 (draws with another stage count are rejected)" in out
    assert main(["spaces"]) == 0
    assert "[inside NestedRegNetX_b1]" in capsys.readouterr().out
