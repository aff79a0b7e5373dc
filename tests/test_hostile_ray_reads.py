"""The reads of a Ray sweep's driver (issue 20): a trial's error file and the metrics a trial
reports go through designspace/core/reading.py; a hostile one never hangs the driver nor
raises in Tune's callback, it becomes a failed trial with a one-line reason."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

pytest.importorskip("ray")

from designspace.sweep import ray_tune  # noqa: E402 - after the skip: imports ray


def _error_file(path):
    return ray_tune._error_text(SimpleNamespace(error_file=str(path)))


def test_the_last_failure_of_a_long_error_file_is_read_from_its_end(tmp_path):
    log = tmp_path / "error.txt"
    old = "Failure # 1 (occurred at 2024)\nTraceback ...\n  x\nOldError: first\n"
    filler = "  a line of a long traceback\n" * 200_000  # 5.8 MB: more than the tail read
    log.write_text(old + filler + "Failure # 2 (occurred at 2024)\n  y\nValueError: the last\n")
    assert log.stat().st_size > 2 * ray_tune._ERROR_TAIL
    assert _error_file(log) == "ValueError: the last"


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "missing"])
def test_an_error_file_that_is_not_a_file_is_no_message(tmp_path, kind):
    path = tmp_path / "error.txt"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "/dev/zero":
        path.symlink_to("/dev/zero")
    assert _error_file(path) == "the trial failed (no error message was recorded)"


def test_a_trials_metrics_are_parsed_bounded():
    good = ray_tune._metrics('{"status": "diverged", "train_loss": NaN}', "k")
    assert good["status"] == "diverged" and good["train_loss"] != good["train_loss"]  # NaN
    for payload, why in [
        ("[" * 100_000, "nest 100000 levels"),
        ('{"x": 1e400}', "overflows"),
        ("[1, 2]", "not a JSON object"),
        ("not json", "not valid JSON"),
        (b"{}", "not JSON text"),
        ("{" + " " * (17 << 20) + "}", "not JSON text of at most 16 MiB"),
    ]:
        out = ray_tune._metrics(payload, "AnyNetXA-3")
        assert out["status"] == "failed" and why in out["error"], (payload[:20], out)
        assert "\n" not in out["error"]
