"""A driver killed with SIGKILL mid-sweep, on both executors: no process of the sweep outlives
it, a rerun trains every remaining model exactly once and rewrites nothing; a local Ray listens
on loopback addresses only."""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pandas as pd
import psutil
import pytest
from sweep_support import (
    CLI_TINY,
    EXECUTORS,
    keys_of,
    run_cli,
    start_driver,
    wait_for_first_result,
)

from designspace.formats import results as res


def _is_loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def _listening(procs: list[psutil.Process]) -> list[tuple[str, str]]:
    found = []
    for p in procs:
        try:
            for c in p.net_connections(kind="inet"):
                if c.status == psutil.CONN_LISTEN:
                    found.append((p.name(), c.laddr.ip))
        except psutil.Error:
            pass
    return found


@pytest.mark.parametrize("executor", EXECUTORS)
def test_sigkilled_sweep_leaves_no_process_and_resumes_exactly_once(tmp_path, executor, request):
    out = tmp_path / "study"
    args = ["sweep", "--space", "AnyNetXA", "-n", "6", *CLI_TINY, "--max-steps", "5",
            "--out", str(out), "--no-progress", "--executor", executor]  # fmt: skip
    scratch_before = set(Path(tempfile.gettempdir()).glob("designspace-tune-*"))
    proc = start_driver(args)
    try:
        wait_for_first_result(proc, out, timeout=200)
        family = psutil.Process(proc.pid).children(recursive=True)
        listening = _listening(family)
        os.kill(proc.pid, signal.SIGKILL)  # the driver only, mid-sweep
        proc.wait(timeout=30)
        # Every process the driver started ends with it (Ray: through the watchdog; local:
        # the workers' parent-death signal).
        gone, alive = psutil.wait_procs(family, timeout=30)
        survivors = [(p.pid, p.name()) for p in alive]
    finally:
        try:  # anything left behind (its own session; started by this test)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for d in set(Path(tempfile.gettempdir()).glob("designspace-tune-*")) - scratch_before:
            shutil.rmtree(d, ignore_errors=True)
    assert family and not survivors, survivors
    if executor == "ray":
        assert listening and all(_is_loopback(ip) for _, ip in listening), listening
    first = {f.name: f.read_bytes() for f in res.result_files(out / "results")}
    assert 1 <= len(first) < 6
    assert len(pd.read_parquet(out / "results")) == len(first)

    rerun = list(args)
    if executor == "ray":  # join the session's running Ray to save a start
        ray = request.getfixturevalue("ray_session")
        rerun += ["--address", ray.get_runtime_context().gcs_address]
    r = run_cli(*rerun)
    assert r.returncode == 0, r.stderr
    assert f"{len(first)} were done before this run" in r.stdout
    frame = pd.read_parquet(out / "results")
    assert len(frame) == 6 and len(set(keys_of(frame))) == 6 and set(frame.status) == {"ok"}
    assert {n: (out / "results" / n).read_bytes() for n in first} == first
    assert not (out / ".designspace.lock").exists()
