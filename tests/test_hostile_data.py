"""Hostile data files and arguments for ``designspace train``: one line, exit 2, nothing run or
changed. CIFAR-10 folders are generated here (no binaries are committed)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from tests.hostile import refused

FAST = ["RegNetX32", "--max-steps", "1", "--threads", "1"]


class _Command:
    """Pickles as a call of ``func(*args)``: what a crafted data file would run."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def write_cifar(root: Path, per_batch: int = 4) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        with (folder / name).open("wb") as fh:
            pickle.dump({"data": data, "labels": list(range(per_batch)), "batch_label": name}, fh)
    with (folder / "batches.meta").open("wb") as fh:
        pickle.dump({"label_names": [f"c{i}" for i in range(10)]}, fh)
    return folder


def test_a_pickle_that_would_run_a_command_is_refused_and_runs_nothing(tmp_path):
    import os

    folder = write_cifar(tmp_path / "data")
    marker = tmp_path / "marker"
    payload = {"data": _Command(os.system, f"touch {marker}"), "labels": [0]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(payload, protocol=2))
    line = refused(
        "train", *FAST, "--dataset", "cifar10", "--data-root", str(tmp_path / "data"),
        watch=[tmp_path],
    )  # fmt: skip
    assert "data_batch_1 is truncated or corrupt" in line and "system" in line
    assert "nothing was run" in line
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        # a global from a module that does not exist (was a ModuleNotFoundError traceback)
        ("test_batch", b"\x80\x02cnosuchmodule\nthing\n)R.", "asks for nosuchmodule.thing"),
        # was a TypeError traceback; more malformed files: test_data.py, in-process
        ("batches.meta", pickle.dumps(["airplane", "car"]), "not a dict with a list of"),
    ],
)
def test_corrupt_cifar_files_are_one_line(tmp_path, name, content, message):
    folder = write_cifar(tmp_path / "data")
    (folder / name).write_bytes(content)
    line = refused(
        "train", *FAST, "--dataset", "cifar10", "--data-root", str(tmp_path / "data"),
        watch=[tmp_path],
    )  # fmt: skip
    assert message in line and name in line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data-root", "DATA_FILE"], "is not a folder"),
        (["--save", "OUT_DIR"], "is a folder; name a file"),
        (["--save", "DATA_FILE/model.pt"], "is a file, not a folder"),
    ],
)
def test_bad_arguments_are_one_line_and_change_nothing(tmp_path, argv, message):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.pt").write_bytes(b"an earlier checkpoint")
    (tmp_path / "file").write_text("not a folder")
    argv = [
        a.replace("DATA_FILE", str(tmp_path / "file")).replace("OUT_DIR", str(tmp_path / "out"))
        for a in argv
    ]
    line = refused("train", *FAST, *argv, watch=[tmp_path])
    assert message in line
