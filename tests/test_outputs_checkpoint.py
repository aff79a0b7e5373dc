"""``designspace train --save PATH`` under the ownership rule of single-file outputs (issue 20):
a new path, or a checkpoint designspace wrote (recognised by its first bytes, never
unpickled); a user's own file, a link, a folder or a path in a results data set is refused in
one line with exit 2 and nothing written. The write is atomic, and a checkpoint is read
through designspace/core/reading.py."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
import torch
from hostile import refused

from designspace.core.arch import Architecture, Stage
from designspace.errors import DesignSpaceError
from designspace.formats import outputs
from designspace.training import checkpoint
from designspace.training.models import build_model
from designspace.training.trainconfig import TrainConfig

TINY = Architecture(stages=(Stage(1, 8, 1, 8, 2),), stem_width=8, in_channels=1, num_classes=10)
FAST = ["--max-steps", "1", "--subset", "64", "--val-subset", "20", "--batch-size", "32"]


def _save(path: Path) -> Path:
    return checkpoint.save_checkpoint(path, build_model(TINY), TINY, TrainConfig())


def _is_ours(path: Path) -> bool:
    return outputs.written_by_designspace(path, outputs.CHECKPOINT)


def test_a_designspace_checkpoint_is_recognised_and_nothing_else(tmp_path):
    ours = _save(tmp_path / "ours.pt")
    assert _is_ours(ours) and checkpoint.FORMAT.startswith(outputs.CHECKPOINT_MARK)
    assert checkpoint.load_checkpoint(ours).arch == TINY
    user = tmp_path / "model.pt"
    torch.save({"state_dict": build_model(TINY).state_dict()}, user)  # a user's own torch file
    assert not _is_ours(user)
    mine = tmp_path / "mark.pt"  # the mark as a value of another key: not a checkpoint's head
    torch.save({"note": "x" * 300, "format": checkpoint.FORMAT}, mine)
    assert not _is_ours(mine)
    packed = tmp_path / "packed.pt"  # the same bytes, compressed: not what torch.save writes
    with zipfile.ZipFile(ours) as src, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
    assert not _is_ours(packed)
    garbage = tmp_path / "g.pt"
    garbage.write_bytes(b"PK\x03\x04" + os.urandom(4096))
    assert not _is_ours(garbage)
    assert not outputs.is_checkpoint(b"") and not outputs.is_checkpoint(ours.read_bytes()[:40])


def test_check_out_file_takes_new_paths_and_our_checkpoints_only(tmp_path):
    kind, suffixes = outputs.CHECKPOINT, outputs.CHECKPOINT_SUFFIXES
    ours = _save(tmp_path / "ours.pt")
    assert outputs.check_out_file(tmp_path / "new.pth", kind, suffixes) == tmp_path / "new.pth"
    assert outputs.check_out_file(ours, kind, suffixes) == ours
    (tmp_path / "notes.pt").write_text("my notes")
    link = tmp_path / "link.pt"
    link.symlink_to(ours)
    for bad, message in [
        (tmp_path / "notes.pt", "not a checkpoint designspace wrote"),
        (link, "not a checkpoint designspace wrote"),
        (tmp_path / "model.bin", "must end in .pt, .pth, .ckpt"),
    ]:
        with pytest.raises(DesignSpaceError, match=message):
            outputs.check_out_file(bad, kind, suffixes, flag="--save")


def test_the_write_is_atomic_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = _save(tmp_path / "m.pt")
    before = path.read_bytes()

    def broken(payload, fh):
        fh.write(b"PK half a checkpoint")
        raise KeyboardInterrupt  # what the command line raises on Ctrl-C and SIGTERM

    monkeypatch.setattr(checkpoint.torch, "save", broken)
    with pytest.raises(KeyboardInterrupt):
        _save(path)
    assert path.read_bytes() == before  # the old checkpoint is whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]  # no temporary file left
    monkeypatch.undo()
    _save(path)  # replaced atomically: the new file, still recognised
    assert _is_ours(path) and sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "large"])
def test_loading_reads_a_bounded_regular_file(tmp_path, kind):
    path = tmp_path / "c.pt"
    if kind == "fifo":
        os.mkfifo(path)
        message = "FIFO"
    elif kind == "/dev/zero":
        path.symlink_to("/dev/zero")
        message = "is a device"
    else:
        _save(path)
        message = "over the 100 bytes limit for checkpoints"
    with pytest.raises(DesignSpaceError, match=message):
        checkpoint.load_checkpoint(path, limit=100)


def test_not_a_checkpoint_is_one_line(tmp_path):
    path = tmp_path / "c.pt"
    buf = io.BytesIO()
    torch.save([1, 2], buf)
    path.write_bytes(buf.getvalue())
    with pytest.raises(DesignSpaceError, match="is not a designspace checkpoint"):
        checkpoint.load_checkpoint(path)
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(DesignSpaceError, match="is not a readable checkpoint") as info:
        checkpoint.load_checkpoint(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("USER", "exists and is not a checkpoint designspace wrote"),
        ("DATA/results/model.pt", "lies inside the results data set"),
        ("LINK", "exists and is not a checkpoint designspace wrote"),
        ("notes.txt", "must end in .pt, .pth, .ckpt"),
    ],
)
def test_train_save_refuses_what_it_does_not_own(tmp_path, target, message):
    user = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(3)}, user)  # the user's own model file
    (tmp_path / "DATA" / "results").mkdir(parents=True)
    (tmp_path / "DATA" / "sweep.json").write_text("{}")
    (tmp_path / "LINK.pt").symlink_to(_save(tmp_path / "ours.pt"))
    raw = {"USER": str(user), "LINK": str(tmp_path / "LINK.pt")}.get(target, str(tmp_path / target))
    line = refused("train", "RegNetX32", *FAST, "--save", raw, watch=[tmp_path], timeout=60)
    assert message in line and "--save" in line, line
