"""Hostile input to ``designspace replicate``: refused with one line, exit 2, nothing written.

Skipped as a whole until ``replicate`` is registered in designspace/cli.py's COMMANDS.
"""

import pytest
from hostile import refused

from designspace.cli import COMMANDS

pytestmark = pytest.mark.skipif(
    "replicate" not in COMMANDS, reason="replicate is not registered in designspace.cli yet"
)


@pytest.fixture
def samples(tmp_path):
    path = tmp_path / "samples.parquet"
    path.write_bytes(b"not parquet, never read by these cases")
    return path


def test_one_seed_is_refused(samples, tmp_path):
    msg = refused(
        "replicate",
        "--samples",
        str(samples),
        "--seeds",
        "0",
        "--out",
        str(tmp_path / "o"),
        watch=[tmp_path],
    )
    assert "two distinct seeds" in msg


def test_repeated_seed_and_missing_samples_are_refused(samples, tmp_path):
    out = str(tmp_path / "o")
    assert "two distinct" in refused(
        "replicate", "--samples", str(samples), "--seeds", "1", "1", "--out", out, watch=[tmp_path]
    )
    assert "not a file" in refused(
        "replicate",
        "--samples",
        str(tmp_path / "nope.parquet"),
        "--seeds",
        "0",
        "1",
        "--out",
        out,
        watch=[tmp_path],
    )


def test_train_seed_is_refused(samples, tmp_path):
    msg = refused(
        "replicate",
        "--samples",
        str(samples),
        "--seeds",
        "0",
        "1",
        "--train-seed",
        "3",
        "--out",
        str(tmp_path / "o"),
        watch=[tmp_path],
    )
    assert "--seeds" in msg


def test_an_output_holding_the_samples_or_other_files_is_refused(samples, tmp_path):
    base = ["replicate", "--samples", str(samples), "--seeds", "1", "2"]
    assert "contains the input" in refused(*base, "--out", str(tmp_path), watch=[tmp_path])
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert "did not write" in refused(*base, "--out", str(mine), watch=[tmp_path])
