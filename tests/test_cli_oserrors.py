"""Operating-system errors at the command line (issue 20): a name too long, no permission, a
link loop, a full or read-only disk become one line naming the path and the cause, exit code
2, no traceback, nothing half written."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from hostile import refused

from designspace.cli import main, os_error_message

FIXTURE = Path(__file__).resolve().parents[1] / "results" / "fixtures" / "small_results"

CAUSES = {
    errno.ENAMETOOLONG: "too long",
    errno.EACCES: "permission denied",
    errno.ELOOP: "link loop",
    errno.ENOSPC: "no space left",
    errno.EROFS: "read-only",
    errno.EIO: "system text",  # unmapped: the system's own words
}


@pytest.mark.parametrize("code", list(CAUSES))
def test_each_os_error_is_one_line_with_path_and_cause(code, monkeypatch, capsys):
    import designspace.commands.spaces as spaces

    def fails(args):
        raise OSError(code, "system text", "/data/out/x.parquet")

    monkeypatch.setattr(spaces, "run", fails)
    assert main(["spaces"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "/data/out/x.parquet" in err and CAUSES[code] in err
    message = os_error_message(OSError(code, "x", "a", None, "b"))
    assert "a -> b" in message and "\n" not in message


def test_a_name_too_long_is_refused_in_one_line(tmp_path):
    long_out = tmp_path / ("a" * 300)
    msg = refused("analyze", str(FIXTURE), "--out", str(long_out), watch=[tmp_path])
    assert "too long" in msg and "aaaa" in msg
    msg = refused("sample", "--space", "AnyNetXA", "-n", "2", "-o", str(long_out) + ".csv",
                  watch=[tmp_path])  # fmt: skip
    assert "too long" in msg


def test_an_output_below_a_link_loop_writes_nothing(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    msg = refused("analyze", str(FIXTURE), "--out", str(loop / "a"), "--n-boot", "100",
                  "--formats", "png", watch=[tmp_path], timeout=300)  # fmt: skip
    assert "loop" in msg and str(loop) in msg
    assert [p.name for p in tmp_path.iterdir()] == ["loop"]  # no staging folder left
