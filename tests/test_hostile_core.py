"""Hostile input to `designspace spaces`, `sample` and `describe` (issue 14): one line on stderr,
exit code 2, no traceback, and no file under the working folder created or changed."""

from __future__ import annotations

import json

import pytest
from hostile import refused

GOOD_STAGE = {"depth": 1, "width": 16, "bottleneck_ratio": 1, "group_width": 8, "stride": 2}

# Architecture JSON files: name -> (JSON text, what the one line must name)
ARCH_FILES = {
    "stages_number.json": ('{"stages": 5}', "'stages' must be a list"),
    "stages_string.json": ('{"stages": "abc"}', "'stages' must be a list"),
    "stages_object.json": ('{"stages": {"depth": 1}}', "'stages' must be a list"),
    "stage_number.json": ('{"stages": [5]}', "stage 1 must be an object"),
    "top_list.json": ("[1, 2]", "JSON object"),
    "empty.json": ("", "not valid JSON"),
    "deep.json": ("[" * 100_000, "not valid JSON"),
    "depth_text.json": (json.dumps({"stages": [{**GOOD_STAGE, "depth": "2"}]}), "'depth'"),
    "depth_float.json": (json.dumps({"stages": [{**GOOD_STAGE, "depth": 2.5}]}), "'depth'"),
    "depth_bool.json": (json.dumps({"stages": [{**GOOD_STAGE, "depth": True}]}), "'depth'"),
    "depth_huge.json": (json.dumps({"stages": [{**GOOD_STAGE, "depth": 10**20}]}), "at most"),
    "width_huge.json": (json.dumps({"stages": [{**GOOD_STAGE, "width": 10**7}]}), "at most"),
    "ratio_nan.json": ('{"stages": [{"depth": 1, "width": 8, "bottleneck_ratio": NaN}]}', "ratio"),
    "ratio_tiny.json": (
        json.dumps({"stages": [{**GOOD_STAGE, "bottleneck_ratio": 1e-9}]}),
        "inner width",
    ),
    "block_unknown.json": (json.dumps({"stages": [GOOD_STAGE], "block": "z"}), "known blocks"),
    "block_list.json": (json.dumps({"stages": [GOOD_STAGE], "block": ["x"]}), "known blocks"),
    "se_text.json": (json.dumps({"stages": [GOOD_STAGE], "se_ratio": "0.25"}), "se_ratio"),
    "name_number.json": (json.dumps({"stages": [GOOD_STAGE], "name": 5}), "name"),
    "extra_field.json": (json.dumps({"stages": [GOOD_STAGE], "colour": 1}), "unknown field"),
    "stem_width_inf.json": ('{"stages": [], "stem_width": Infinity}', "stem_width"),
}

SPACE_FILES = {
    "stages_text.yaml": "name: s\nnum_stages: '3'\n",
    "wm_below_one.yaml": "name: s\nkind: regnet\nparams:\n  wm: {log_uniform: [0.5, 1.0]}\n",
    "width_huge.yaml": "name: s\nparams:\n  width: {log_uniform: [8, 1.0e+12], q: 8}\n",
    "shared_number.yaml": "name: s\nshared: 5\n",
    "choice_text.yaml": "name: s\nparams:\n  group_width: {choice: [a]}\n",
    "name_list.yaml": "name: [1]\n",
    "q_zero.yaml": "name: s\nkind: regnet\nq: 0\n",
}


@pytest.fixture(scope="module")
def area(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-core")
    for name, (text, _) in ARCH_FILES.items():
        (root / name).write_text(text)
    for name, text in SPACE_FILES.items():
        (root / name).write_text(text)
    (root / "binary.json").write_bytes(bytes(range(128, 256)) * 3)
    (root / "binary.parquet").write_bytes(bytes(range(256)))
    (root / "arch_json_number.csv").write_text("arch_json\n5\n")
    (root / "no_columns.csv").write_text("a,b\n1,2\n")
    (root / "empty.csv").write_text("arch_json\n")
    arch = json.dumps({"stages": [GOOD_STAGE]}).replace('"', '""')
    (root / "bad_resolution.csv").write_text(f'arch_json,resolution\n"{arch}",x\n')
    (root / "existing.csv").write_text("arch_json\nprecious\n")
    (root / "folder.json").mkdir()
    return root


@pytest.mark.parametrize("name", list(ARCH_FILES))
def test_describe_bad_architecture_json(area, name):
    line = refused("describe", name, watch=[area], cwd=area)
    assert name in line and ARCH_FILES[name][1] in line, line


CASES = {
    "binary arch file": (["describe", "binary.json"], "not text"),
    "arch path is a folder": (["describe", "folder.json"], "cannot read"),
    "table not parquet": (["describe", "--from", "binary.parquet", "--index", "0"], "cannot"),
    "arch_json not text": (["describe", "--from", "arch_json_number.csv", "--index", "0"], "row 0"),
    "table without columns": (["describe", "--from", "no_columns.csv", "--index", "0"], "row 0"),
    "empty table": (["describe", "--from", "empty.csv", "--index", "0"], "no rows"),
    "bad table resolution": (
        ["describe", "--from", "bad_resolution.csv", "--index", "0"],
        "resolution",
    ),
    "negative index": (["describe", "--from", "no_columns.csv", "--index", "-1"], "range"),
    "resolution too large": (
        ["describe", "RegNetX-400MF", "--resolution", "10000000000"],
        "64-bit",
    ),
    "band in describe": (["describe", "RegNetX-400MF", "--flops", "1:2"], "--flops"),
    "negative seed": (["sample", "--space", "AnyNetXA", "-n", "2", "--seed", "-1"], "seed"),
    "max draws zero": (["sample", "--space", "AnyNetXA", "-n", "2", "--max-draws", "0"], "draws"),
    "n above max draws": (["sample", "--space", "AnyNetXA", "-n", "10000000"], "--max-draws"),
    "bad band keeps existing out": (
        ["sample", "--space", "AnyNetXA", "-n", "2", "--flops", "1:2", "-o", "existing.csv"],
        "widen the band",
    ),
    "unknown space": (["spaces", "AnyNetQ"], "valid spaces"),
    # issue 20: -o replaces only a table designspace wrote
    "sample over a user's table": (
        ["sample", "--space", "AnyNetXA", "-n", "2", "-o", "existing.csv"],
        "not a table designspace wrote",
    ),
    "sample -o empty": (["sample", "--space", "AnyNetXA", "-n", "2", "-o", ""], "-o is empty"),
    "sample -o name too long": (
        ["sample", "--space", "AnyNetXA", "-n", "2", "-o", "t" * 300 + ".csv"],
        "too long",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused(area, case):
    args, expected = CASES[case]
    line = refused(*args, watch=[area], cwd=area)
    assert expected in line, line


@pytest.mark.parametrize("name", list(SPACE_FILES))
@pytest.mark.parametrize("command", ["sample", "spaces"])
def test_bad_space_files(area, name, command):
    args = ["sample", "--space", name, "-n", "2"] if command == "sample" else ["spaces", name]
    line = refused(*args, watch=[area], cwd=area)
    assert name in line, line
