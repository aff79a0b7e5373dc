"""Hostile input to ``designspace import nds``: one line naming the file and record, exit 2,
nothing written."""

from __future__ import annotations

import json

import pytest

from tests.hostile import refused
from tests.nds_files import anynet_record, darts_record, lrwd_file, reruns_file


def _missing(path: str):
    rec = anynet_record(0)
    node = rec
    *parents, last = path.split(".")
    for p in parents:
        node = node[p]
    del node[last]
    return rec


def _with(path: str, value):
    rec = anynet_record(0) if not path.startswith("net.g") else darts_record(0)
    node = rec
    *parents, last = path.split(".")
    for p in parents:
        node = node[p]
    node[last] = value
    return rec


CASES = {
    # name: (file content as text, expected words in the message)
    "not_json": ("this is not json {", "is not JSON"),
    "empty_file": ("", "is not JSON"),
    "number": ("42", "not an NDS file"),
    "object_of_scalars": (json.dumps({"top": 1}), "not an NDS file"),
    "empty_list": ("[]", "holds no model records"),
    "record_not_object": (json.dumps([anynet_record(0), 7]), "record [1] is a int"),
    "missing_min": (json.dumps([_missing("min_test_top1")]), "no field 'min_test_top1'"),
    "missing_curve": (json.dumps([_missing("test_ep_top1")]), "no field 'test_ep_top1'"),
    "missing_flops": (json.dumps([_missing("flops")]), "no field 'flops'"),
    "missing_lr": (json.dumps([_missing("optim.base_lr")]), "no field 'optim.base_lr'"),
    "missing_seed": (json.dumps([_missing("rng_seed")]), "no field 'rng_seed'"),
    "missing_net": (json.dumps([_missing("net")]), "no field 'net'"),
    "missing_ds": (json.dumps([_missing("net.ds")]), "no field 'net.ds'"),
    "missing_block": (json.dumps([_missing("net.block_type")]), "no field 'net.block_type'"),
    "min_as_text": (json.dumps([_with("min_test_top1", "36.7")]), "must be a number"),
    "lr_as_bool": (json.dumps([_with("optim.base_lr", True)]), "must be a number"),
    "curve_of_text": (json.dumps([_with("test_ep_top1", ["a"])]), "list of numbers"),
    "curve_empty": (json.dumps([_with("test_ep_top1", [])]), "is empty"),
    "flops_fraction": (json.dumps([_with("flops", 1.5)]), "must be an integer"),
    "seed_text": (json.dumps([_with("rng_seed", "one")]), "must be an integer"),
    "net_list": (json.dumps([_with("net", [1, 2])]), "'net' must be an object"),
    "ws_short": (json.dumps([_with("net.ws", [32, 64])]), "'net.ws' has 2 entries"),
    "ds_stem_only": (json.dumps([_with("net.ds", [1])]), "at least one stage"),
    "negative_width": (json.dumps([_with("net.ws", [32, -64, 256])]), "positive"),
    "genotype_garbage": (json.dumps([_with("net.genotype", "{oops")]), "genotype"),
    "genotype_number": (json.dumps([_with("net.genotype", 3)]), "genotype"),
    "optim_text": (json.dumps([_with("optim", "sgd")]), "'optim' must be an object"),
}


# Through the CLI in a subprocess (a few, each costs an interpreter start); every case of
# CASES is also checked in-process below.
CLI_CASES = ["not_json", "object_of_scalars", "missing_lr", "lr_as_bool", "genotype_garbage"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_message(tmp_path, case):
    from designspace.errors import DesignSpaceError
    from designspace.formats.nds import import_nds

    text, words = CASES[case]
    bad = tmp_path / "Bad_in.json"
    bad.write_text(text)
    out = tmp_path / "out"
    with pytest.raises(DesignSpaceError) as err:
        import_nds([lrwd_file(tmp_path), bad], out)
    msg = str(err.value)
    assert "Bad_in.json" in msg and words in msg and "\n" not in msg, msg
    assert not out.exists()


@pytest.mark.parametrize("case", CLI_CASES)
def test_bad_file_is_refused_and_nothing_written(tmp_path, case):
    text, words = CASES[case]
    bad = tmp_path / "Bad_in.json"
    bad.write_text(text)
    good = lrwd_file(tmp_path)
    out = tmp_path / "out"
    # the good file first: nothing of it may be written either
    msg = refused("import", "nds", str(good), str(bad), "--out", str(out), watch=[tmp_path])
    assert "Bad_in.json" in msg and words in msg, msg
    assert not out.exists()


def test_refusals_of_the_command(tmp_path):
    good = lrwd_file(tmp_path)
    out = tmp_path / "out"
    msg = refused("import", "nds", str(tmp_path / "nope.json"), "--out", str(out), watch=[tmp_path])
    assert "nope.json" in msg
    refused("import", "nds", str(good), watch=[tmp_path])  # --out is required
    refused("import", "csv", str(good), "--out", str(out), watch=[tmp_path])
    msg = refused("import", "nds", str(good), "--out", str(good), watch=[tmp_path])
    assert "is a file" in msg
    msg = refused("import", "nds", str(good), "--out", str(out), "--space", " ", watch=[tmp_path])
    assert "--space" in msg
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.json").write_text("{}")
    msg = refused("import", "nds", str(good), "--out", str(sweep), watch=[tmp_path])
    assert "holds a sweep" in msg
    # issue 20: never into the input's folder, a data set, or someone else's folder
    msg = refused("import", "nds", str(good), "--out", str(tmp_path), watch=[tmp_path])
    assert "contains the input" in msg
    (sweep / "results").mkdir()
    msg = refused("import", "nds", str(good), "--out", str(sweep / "results" / "n"),
                  watch=[tmp_path])  # fmt: skip
    assert "data set" in msg
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    msg = refused("import", "nds", str(good), "--out", str(mine), watch=[tmp_path])
    assert "did not write" in msg
    msg = refused("import", "nds", str(good), "--out", "", watch=[tmp_path], cwd=tmp_path)
    assert "--out is empty" in msg


def test_existing_models_are_not_rewritten(tmp_path):
    out = tmp_path / "out"
    lr, re_ = lrwd_file(tmp_path), reruns_file(tmp_path)
    from designspace.formats.nds import import_nds

    import_nds([lr], out)
    msg = refused("import", "nds", str(re_), str(lr), "--out", str(out), watch=[tmp_path])
    assert "already holds model Toy #0" in msg
    # two files that name the same models in one call
    msg = refused(
        "import", "nds", str(lr), str(lr), "--out", str(tmp_path / "o2"), watch=[tmp_path]
    )
    assert "different --space" in msg
