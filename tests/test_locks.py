"""One writer per output folder: refusal naming the holder, stale locks, waiting, and two
identical sweeps started at once."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
from hostile import refused
from sweep_support import CLI_TINY, ENV

from designspace.errors import DesignSpaceError
from designspace.sweep.locks import LOCK_NAME, out_lock


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_held_folder_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "o"
    with out_lock(out, command="sweep"):
        info = json.loads((out / LOCK_NAME).read_text())
        assert info["pid"] > 0 and info["host"] == socket.gethostname()
        with pytest.raises(DesignSpaceError, match=rf"in use by pid {info['pid']} on host"):
            with out_lock(out):
                pass
        # The command line says the same in one line, and changes nothing.
        message = refused(
            "sweep", "--space", "AnyNetXA", "-n", "1", *CLI_TINY, "--out", str(out),
            "--executor", "local", watch=[tmp_path],
        )  # fmt: skip
        assert f"pid {info['pid']}" in message and "--wait" in message
    assert not out.exists()  # created for the lock, empty: removed again


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    pid = _dead_pid()
    (out / LOCK_NAME).write_text(json.dumps({"host": socket.gethostname(), "pid": pid}))
    notes: list[str] = []
    with out_lock(out, say=notes.append):
        assert json.loads((out / LOCK_NAME).read_text())["pid"] != pid
    assert any(f"pid {pid}" in n and "no longer running" in n for n in notes)
    assert not (out / LOCK_NAME).exists() and out.is_dir()  # an existing folder is kept


def test_wait_waits_for_the_holder(tmp_path):
    out = tmp_path / "o"
    order: list[str] = []
    held = threading.Event()

    def holder() -> None:
        with out_lock(out):
            held.set()
            time.sleep(1.0)
            order.append("holder done")

    t = threading.Thread(target=holder)
    t.start()
    held.wait()
    notes: list[str] = []
    with out_lock(out, wait=True, say=notes.append):
        order.append("waiter in")
    t.join()
    assert order == ["holder done", "waiter in"]
    assert notes and notes[0].startswith("waiting for pid")


def test_two_identical_sweeps_at_once_train_each_model_once(tmp_path):
    out = tmp_path / "new"
    args = ["sweep", "--space", "AnyNetXA", "-n", "2", *CLI_TINY, "--max-steps", "3",
            "--out", str(out), "--executor", "local", "--no-progress", "--wait"]  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "designspace", *args],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_stdout, stderr) in zip(procs, results, strict=True):
        assert p.returncode == 0 and "Traceback" not in stderr, stderr
    done_before = sorted(
        int(line.split("; ")[1].split()[0])
        for stdout, _ in results
        for line in stdout.splitlines()
        if "were done before this run" in line
    )
    assert done_before == [0, 2]  # one trained both models, the other found them done
    frame = pd.read_parquet(out / "results")
    assert len(frame) == 2 and frame.sample_index.is_unique
