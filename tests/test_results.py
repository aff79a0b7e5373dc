"""The results data set: schema, atomic per-model files, loading that survives bad files."""

from __future__ import annotations

import json
import math

import pandas as pd
import pyarrow as pa
import pytest

from designspace.core.arch import Architecture, Stage
from designspace.errors import DesignSpaceError
from designspace.formats import results as res

SETTINGS = {"dataset": "str", "resize": "int | None", "lr": "float", "augment": "bool | None"}
METRICS = {
    "status": "str",
    "val_top1_err": "float",
    "val_top5_err": "float | None",
    "epoch_train_loss": "list[float]",
    "steps": "int",
    "error": "str | None",
    "resolution": "int",  # also a plan column: the plan's column wins
}


def arch(depths: list[int], width: int = 16) -> Architecture:
    return Architecture(
        tuple(Stage(d, width * (i + 1), 1, 8) for i, d in enumerate(depths)),
        in_channels=1,
        num_classes=10,
    )


def plan_row(a: Architecture, index: int, space: str = "S") -> dict:
    row = {"space": space, "regime": "fashion-mnist", "sample_seed": 0, "sample_index": index}
    row.update(a.to_row())
    row.update(arch_json=a.to_json(), resolution=28, flops=1000 + index, params=10, acts=5)
    return row


def make_row(a: Architecture, index: int, **metrics) -> dict:
    m = {
        "status": "ok",
        "val_top1_err": 0.25,
        "val_top5_err": None,
        "epoch_train_loss": [2.0, 1.5],
        "steps": 10,
        "error": None,
        "resolution": 999,
    }
    m.update(metrics)
    settings = {"dataset": "fashion-mnist", "resize": None, "lr": 0.1, "augment": None}
    return res.assemble_row(
        plan_row(a, index), settings, m, sweep="t", host="h", attempt=1, version="0.0"
    )


def test_arrow_types_follow_annotations():
    assert res.arrow_type("int | None") == pa.int64()
    assert res.arrow_type("list[float]") == pa.list_(pa.float64())
    assert res.arrow_type(bool) == pa.bool_()
    assert res.arrow_type(float | None) == pa.float64()
    with pytest.raises(TypeError):
        res.arrow_type("dict[str, int]")


def test_schema_has_every_group_once():
    schema = res.results_schema(3, SETTINGS, METRICS)
    names = schema.names
    assert len(names) == len(set(names))
    assert {"d3", "w3", "b3", "g3"} <= set(names) and "d4" not in names
    assert {"cfg_dataset", "cfg_resize", "cfg_lr", "cfg_augment"} <= set(names)
    assert schema.field("resolution").type == pa.int64()
    assert names[-4:] == ["host", "designspace_version", "finished_at", "attempt"]
    assert schema.field("epoch_train_loss").type == pa.list_(pa.float64())


def test_rows_of_different_shapes_read_back_with_pandas(tmp_path):
    schema = res.results_schema(4, SETTINGS, METRICS)
    rows = [
        make_row(arch([1, 2, 3]), 0, val_top5_err=None, error=None),
        make_row(
            arch([1, 1, 1, 2]),
            1,
            status="failed",
            val_top1_err=float("nan"),
            val_top5_err=0.1,
            error="boom",
            epoch_train_loss=[],
        ),
    ]
    for r in rows:
        res.write_result(tmp_path, r, schema)
    frame = pd.read_parquet(tmp_path).sort_values("sample_index").reset_index(drop=True)
    assert len(frame) == 2
    assert pd.isna(frame.loc[0, "d4"])
    assert frame.loc[1, "d4"] == 2
    assert frame.loc[1, "error"] == "boom" and pd.isna(frame.loc[0, "error"])
    assert list(frame.loc[0, "epoch_train_loss"]) == [2.0, 1.5]
    assert frame.loc[0, "resolution"] == 28  # the plan's resolution, not the metric's
    assert frame.loc[1, "status"] == "failed" and math.isnan(frame.loc[1, "val_top1_err"])
    back = Architecture.from_json(frame.loc[1, "arch_json"])
    assert back.id == frame.loc[1, "arch_id"]
    assert Architecture.from_row(frame.loc[0]).id == frame.loc[0, "arch_id"]
    assert frame.loc[0, "cfg_lr"] == 0.1 and frame.loc[0, "attempt"] == 1


def test_write_is_atomic_and_never_rewrites(tmp_path):
    schema = res.results_schema(3, SETTINGS, METRICS)
    row = make_row(arch([1, 2, 3]), 7)
    path = res.write_result(tmp_path, row, schema)
    assert path.name == res.result_filename("S", 7, row["arch_id"])
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        res.write_result(tmp_path, make_row(arch([1, 2, 3]), 7, val_top1_err=0.9), schema)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind
    with pytest.raises(ValueError, match="not_a_column"):
        res.write_result(tmp_path, {**make_row(arch([2, 2, 2]), 8), "not_a_column": 1}, schema)
    assert len(list(tmp_path.iterdir())) == 1


def test_a_half_written_temporary_does_not_break_readers(tmp_path):
    schema = res.results_schema(3, SETTINGS, METRICS)
    res.write_result(tmp_path, make_row(arch([1, 2, 3]), 0), schema)
    (tmp_path / ".S-000001-x.parquet.123.tmp").write_bytes(b"PAR1 half a file")
    assert len(pd.read_parquet(tmp_path)) == 1
    assert len(res.result_files(tmp_path)) == 1


def test_corrupt_file_is_skipped_with_a_warning_and_quarantined(tmp_path):
    run = tmp_path / "run"
    data = run / res.DATA_DIRNAME
    data.mkdir(parents=True)
    schema = res.results_schema(3, SETTINGS, METRICS)
    res.write_result(data, make_row(arch([1, 2, 3]), 0), schema)
    bad = data / "S-000001-deadbeefdeadbeef.parquet"
    bad.write_bytes(b"PAR1 truncated")
    with pytest.warns(res.ResultsWarning, match="S-000001"):
        frame = res.load_results(run)
    assert list(frame["sample_index"]) == [0]
    scan = res.scan_results(run)
    assert [f for f, _ in scan.bad] == [bad]
    assert scan.keys() == {("S", 0, arch([1, 2, 3]).id)}
    (moved,) = res.quarantine(run, [bad])
    assert not bad.exists() and moved.read_bytes() == b"PAR1 truncated"
    assert moved.parent == run / res.QUARANTINE_DIRNAME
    assert len(pd.read_parquet(data)) == 1
    bad.write_bytes(b"again")
    (second,) = res.quarantine(run, [bad])
    assert second != moved and second.read_bytes() == b"again" and moved.exists()


def test_load_results_filters_by_status_and_accepts_the_data_folder(tmp_path):
    schema = res.results_schema(3, SETTINGS, METRICS)
    data = tmp_path / res.DATA_DIRNAME
    data.mkdir()
    (tmp_path / res.MANIFEST_NAME).write_text("{}")
    res.write_result(data, make_row(arch([1, 2, 3]), 0), schema)
    res.write_result(data, make_row(arch([1, 2, 3]), 1, status="diverged"), schema)
    assert res.data_dir_of(tmp_path) == data and res.data_dir_of(data) == data
    assert len(res.load_results(tmp_path)) == 2
    assert list(res.load_results(data, status="diverged")["sample_index"]) == [1]
    assert len(res.load_results(tmp_path, status=["ok", "diverged"])) == 2
    assert res.load_results(tmp_path / "nothing_here").empty


def test_manifest_round_trip_and_differences(tmp_path):
    m = {
        "format": res.MANIFEST_FORMAT,
        "name": "a",
        "study": {"n": 4, "seed": 0},
        "train": {"lr": 0.1, "epochs": 1.0},
    }
    res.write_manifest(tmp_path, m)
    assert res.read_manifest(tmp_path) == m
    with pytest.raises(FileExistsError):
        res.write_manifest(tmp_path, m)
    other = json.loads(json.dumps(m))
    other["train"]["lr"] = 0.2
    other["study"]["extra"] = 1
    assert res.manifest_differences(m, other) == [
        "study.extra: None -> 1",
        "train.lr: 0.1 -> 0.2",
    ]
    assert res.manifest_differences(m, m) == []
    assert res.read_manifest(tmp_path / "none") is None
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / res.MANIFEST_NAME).write_text("{not json")
    with pytest.raises(DesignSpaceError, match="not a readable sweep manifest"):
        res.read_manifest(tmp_path / "bad")


def test_file_names_are_safe_and_keyed():
    assert res.result_filename("AnyNetXA", 3, "abc") == "AnyNetXA-000003-abc.parquet"
    name = res.result_filename("../my space", 12, "f00")
    assert "/" not in name and not name.startswith((".", "_")) and name.endswith("f00.parquet")


def test_load_results_accepts_a_study_folder_or_its_results_folder(tmp_path):
    """A study folder holds the sweep (sweep.json, results/) and its analysis/ (CSV, HTML),
    which a plain read of the whole folder would trip over."""
    schema = res.results_schema(3, SETTINGS, METRICS)
    study = tmp_path / "fmnist-progression"
    data = study / res.DATA_DIRNAME
    data.mkdir(parents=True)
    (study / res.MANIFEST_NAME).write_text("{}")
    (study / "analysis").mkdir()
    (study / "analysis" / "comparison.csv").write_text("space,n\nA,2\n")
    (study / "analysis" / "report.html").write_text("<html></html>")
    for i in range(2):
        res.write_result(data, make_row(arch([1, 2, 3]), i), schema)
    for path in (study, data, str(study)):
        frame = res.load_results(path)
        assert sorted(frame.sample_index) == [0, 1] and set(frame.status) == {"ok"}
