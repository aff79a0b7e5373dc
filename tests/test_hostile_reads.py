"""Hostile reads (issue 20): files that are not regular, not UTF-8, too deep, out of range or
ambiguous are refused in one line with exit 2, nothing written, and a FIFO or a device never
hangs a command. Through the CLI in subprocesses (the harness of tests/hostile.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from designspace.core.spaces import get_space, space_to_dict
from tests.hostile import refused
from tests.nds_files import anynet_record, lrwd_file
from tests.synthetic import make_results

GOOD_SPACE = "name: Mine\nkind: anynet\nblock: X\n"


def _space_yaml() -> str:
    import yaml

    return yaml.safe_dump(space_to_dict(get_space("AnyNetXA")), sort_keys=False)


def _make(folder: Path, name: str, kind: str) -> Path:
    """A hostile file ``folder/name`` of ``kind``: a link to a device, a FIFO, a link loop,
    UTF-16 or binary bytes."""
    path = folder / name
    if kind in ("/dev/zero", "/dev/urandom"):
        path.symlink_to(kind)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "loop":
        path.symlink_to(path)
    elif kind == "utf16":
        path.write_bytes(GOOD_SPACE.encode("utf-16"))
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    else:
        raise AssertionError(kind)
    return path


KINDS = {
    "/dev/zero": "is a device",
    "/dev/urandom": "is a device",
    "fifo": "FIFO",
    "loop": "cannot read",
    "utf16": "UTF-16",
    "binary": "not text",
}


# /dev/urandom and binary bytes go through the study and NDS readers below (the same module)
@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "loop", "utf16"])
def test_space_files(tmp_path, kind):
    path = _make(tmp_path, "my_space.yaml", kind)
    msg = refused("spaces", str(path), watch=[tmp_path], timeout=60)
    assert KINDS[kind] in msg and "my_space.yaml" in msg, msg


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "utf16", "binary"])
def test_study_files(tmp_path, kind):
    path = _make(tmp_path, "study.toml", kind)
    out = tmp_path / "out"
    msg = refused("study", str(path), "--out", str(out), watch=[tmp_path], timeout=60)
    assert KINDS[kind] in msg and "study.toml" in msg, msg
    assert not out.exists()


@pytest.mark.parametrize("kind", ["/dev/urandom", "fifo"])
def test_nds_files_that_are_not_files(tmp_path, kind):
    path = _make(tmp_path, "Pop_in.json", kind)
    out = tmp_path / "out"
    msg = refused("import", "nds", str(path), "--out", str(out), watch=[tmp_path], timeout=60)
    assert KINDS[kind] in msg and "Pop_in.json" in msg, msg


def test_space_file_duplicate_key_and_python_tag(tmp_path):
    text = _space_yaml()
    dup = tmp_path / "dup.yaml"
    dup.write_text(text + "name: Other\n")
    msg = refused("spaces", str(dup), watch=[tmp_path])
    assert "'name' appears twice" in msg, msg
    tag = tmp_path / "tag.yaml"
    tag.write_text("name: !!python/object/apply:os.system ['touch pwned']\n")
    msg = refused("spaces", str(tag), watch=[tmp_path])
    assert "is not allowed" in msg and "line 1" in msg, msg
    out = tmp_path / "s.csv"
    msg = refused("sample", "--space", str(dup), "-n", "2", "-o", str(out), watch=[tmp_path])
    assert "appears twice" in msg and not out.exists()


def test_space_file_whose_base_leads_back_to_itself(tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(f"name: A\nbase: {second}\n")
    second.write_text(f"name: B\nbase: {first}\n")
    msg = refused("spaces", str(first), watch=[tmp_path])
    assert "leads back to" in msg and "a.yaml" in msg, msg


def _nds_with(path: str, value) -> list:
    rec = anynet_record(0)
    node = rec
    *parents, last = path.split(".")
    for p in parents:
        node = node[p]
    node[last] = value
    return [rec]


# file text -> words of the one line (each also read in-process below)
NDS_VALUES = {
    "flops_1e400": (
        json.dumps(_nds_with("flops", 1)).replace('"flops": 1', '"flops": 1e400'),
        "1e400",
    ),
    "flops_1e30": (json.dumps(_nds_with("flops", 1e30)), "'flops'"),
    "params_1e30": (json.dumps(_nds_with("params", 1e30)), "'params'"),
    "lr_1e400": (
        json.dumps(_nds_with("optim.base_lr", 1)).replace('"base_lr": 1', '"base_lr": -1e400'),
        "-1e400",
    ),
    "deep": ("[" * 5000 + "]" * 5000, "levels deep"),
    "min_250": (json.dumps(_nds_with("min_test_top1", 250)), "'min_test_top1'"),
    "min_negative": (json.dumps(_nds_with("min_test_top1", -5)), "'min_test_top1'"),
    "min_infinite": (json.dumps(_nds_with("min_test_top1", float("inf"))), "'min_test_top1'"),
    "max_ep_0": (json.dumps(_nds_with("optim.max_ep", 0)), "'optim.max_ep'"),
    "width_1e12": (json.dumps(_nds_with("net.ws", [32, 10**12, 256])), "'net.ws'"),
    "depth_huge": (json.dumps(_nds_with("net.ds", [1, 10**9, 2])), "'net.ds'"),
    "block_unknown": (json.dumps(_nds_with("net.block_type", "magic_block")), "known block types"),
    "wd_nan": (json.dumps(_nds_with("optim.wd", float("nan"))), "'optim.wd'"),
    "bot_inf": (json.dumps(_nds_with("net.bot_muls", [0.0, float("inf"), 0.5])), "'net.bot_muls'"),
    "iter_time_negative": (json.dumps(_nds_with("iter_time", -1.0)), "'iter_time'"),
}
NDS_CLI = ["flops_1e400", "deep", "min_250", "block_unknown"]


@pytest.mark.parametrize("case", sorted(NDS_VALUES))
def test_nds_values_in_process(tmp_path, case):
    from designspace.errors import DesignSpaceError
    from designspace.formats.nds import nds_records

    text, words = NDS_VALUES[case]
    bad = tmp_path / "Bad_in.json"
    bad.write_text(text)
    with pytest.raises(DesignSpaceError) as err:
        nds_records(bad)
    msg = str(err.value)
    assert words in msg and "Bad_in.json" in msg and "\n" not in msg, msg


@pytest.mark.parametrize("case", NDS_CLI)
def test_nds_values_through_the_cli(tmp_path, case):
    text, words = NDS_VALUES[case]
    bad = tmp_path / "Bad_in.json"
    bad.write_text(text)
    good = lrwd_file(tmp_path)
    out = tmp_path / "out"
    msg = refused("import", "nds", str(good), str(bad), "--out", str(out), watch=[tmp_path])
    assert words in msg, msg
    assert not out.exists()


@pytest.fixture(scope="module")
def results_area(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-reads")
    frame = make_results(("AnyNetXA", "AnyNetXB"), n=20, seed=3).drop(columns=["widths"])
    frame.to_csv(root / "good.csv", index=False)
    frame.assign(val_top1_err=frame["val_top1_err"] * 100).to_csv(root / "percent.csv", index=False)
    neg = frame.copy()
    neg.loc[5, "val_top1_err"] = -0.2
    neg.to_csv(root / "negative.csv", index=False)
    flops = frame.copy()
    flops.loc[2, "flops"] = -4
    flops.to_csv(root / "flops.csv", index=False)
    return root


ANALYZE = {
    "percent errors": (["{root}/percent.csv"], "divide percentages by 100"),
    "negative error": (["{root}/negative.csv"], "-0.2"),
    "negative flops": (["{root}/flops.csv"], "'flops'"),
    "huge n-boot": (["{root}/good.csv", "--n-boot", "1000000000000"], "1000000000000"),
    "metric flops": (["{root}/good.csv", "--metric", "flops"], "error column"),
}


@pytest.mark.parametrize("case", sorted(ANALYZE))
def test_analyze_values(results_area, case):
    args, words = ANALYZE[case]
    args = [a.format(root=results_area) for a in args]
    out = results_area / "analysis"
    msg = refused("analyze", *args, "--out", str(out), watch=[results_area])
    assert words in msg, msg
    assert not out.exists()


def test_plot_metric_must_be_an_error_column(results_area):
    out = results_area / "e.png"
    msg = refused(
        "plot",
        "edf",
        f"{results_area}/good.csv",
        "--metric",
        "params",
        "-o",
        str(out),
        watch=[results_area],
    )
    assert "error column" in msg and not out.exists()


def test_bootstrap_memory_is_estimated_before_allocation():
    from designspace.errors import DesignSpaceError
    from designspace.reporting.options import BOOT_MEMORY_LIMIT, MAX_BOOT, AnalysisOptions

    with pytest.raises(DesignSpaceError, match=f"{MAX_BOOT}"):
        AnalysisOptions(n_boot=10**12)
    options = AnalysisOptions(n_boot=1_000_000)
    options.check_memory(100)
    with pytest.raises(DesignSpaceError) as err:
        options.check_memory(10**6)
    msg = str(err.value)
    assert f"{BOOT_MEMORY_LIMIT >> 30} GiB limit" in msg and "at most 178" in msg, msg
