"""SIGTERM during a local sweep behaves like Ctrl-C (issue 20): exit code 143, no temporary
file left, the folder resumable to the same rows as an uninterrupted sweep."""

from __future__ import annotations

import os
import signal

import pandas as pd
from sweep_support import CLI_TINY, keys_of, run_cli, start_driver, wait_for_first_result

from designspace.formats import results as res


def _stray(out) -> list[str]:
    """Temporary or hidden files a sweep must not leave (its lock file is removed too)."""
    return sorted(str(p) for p in out.rglob("*") if p.name.startswith(".") or "tmp" in p.name)


def test_sigterm_mid_sweep_exits_143_leaves_nothing_and_resumes(tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", "--space", "AnyNetXA", "-n", "4", *CLI_TINY, "--max-steps", "5",
            "--out", str(out), "--no-progress", "--executor", "local"]  # fmt: skip
    proc = start_driver(args)
    try:
        wait_for_first_result(proc, out, timeout=120, poll=0.05)
        os.kill(proc.pid, signal.SIGTERM)  # the driver only, mid-sweep
        code = proc.wait(timeout=60)
        err = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    if code == 0:  # the sweep finished before the signal landed: nothing to resume
        assert len(res.result_files(out / "results")) == 4
        return
    assert code == 143, err
    assert "terminated" in err and "Traceback" not in err, err
    assert not _stray(out), _stray(out)
    first = {f.name: f.read_bytes() for f in res.result_files(out / "results")}
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    frame = pd.read_parquet(out / "results")
    assert len(frame) == 4 and len(set(keys_of(frame))) == 4
    assert {n: (out / "results" / n).read_bytes() for n in first} == first
    assert not _stray(out), _stray(out)


def test_a_signal_while_the_command_loads_is_one_line_without_a_traceback(monkeypatch, capsys):
    """SIGINT or SIGTERM while the parser imports the commands, or while a library loads
    (numpy turns the KeyboardInterrupt raised inside its C extension's import into an
    ImportError): exit 128 + the signal, one line, no traceback; handlers restored after."""
    from designspace import cli

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for sig in (signal.SIGINT, signal.SIGTERM):

        def loading(sig=sig):
            os.kill(os.getpid(), sig)  # delivered here: the handler raises at once
            raise AssertionError("not reached")

        monkeypatch.setattr(cli, "build_parser", loading)
        assert cli.main(["spaces"]) == 128 + sig
        err = capsys.readouterr().err
        word = "interrupted" if sig == signal.SIGINT else "terminated"
        assert err == f"designspace: {word}\n"

    def numpy_like(args):
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt as exc:
            raise ImportError("PyCapsule_Import could not import module 'datetime'") from exc

    monkeypatch.undo()
    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    args = parser.parse_args(["spaces"])
    monkeypatch.setattr(args, "run", numpy_like)
    monkeypatch.setattr(parser, "parse_args", lambda argv: args)
    assert cli.main(["spaces"]) == 130
    assert capsys.readouterr().err == "designspace spaces: interrupted\n"
    assert {s: signal.getsignal(s) for s in before} == before
