"""Bounded, typed reads (designspace.core.reading): every refusal is one line naming the file,
and a FIFO or a device never hangs a read."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from designspace.core import reading
from designspace.errors import DesignSpaceError


def _refusal(func, *args, **kwargs) -> str:
    with pytest.raises(DesignSpaceError) as err:
        func(*args, **kwargs)
    msg = str(err.value)
    assert "\n" not in msg, msg
    return msg


def test_regular_utf8_files_are_read(tmp_path):
    plain = tmp_path / "a.yaml"
    plain.write_bytes("name: café\n".encode())
    assert reading.read_text(plain, "space file") == "name: café\n"
    bom = tmp_path / "b.yaml"
    bom.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert reading.read_text(bom, "space file") == "name: x\n"
    link = tmp_path / "link.yaml"
    link.symlink_to(plain)
    assert reading.read_text(link, "space file") == "name: café\n"


def test_not_regular_files_are_refused(tmp_path):
    msg = _refusal(reading.read_text, tmp_path, "space file")
    assert "is a folder" in msg and str(tmp_path) in msg
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    assert "FIFO" in _refusal(reading.read_text, fifo, "study file")
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    assert "is a device" in _refusal(reading.read_text, zero, "NDS file", reading.NDS_LIMIT)
    msg = _refusal(reading.read_text, tmp_path / "missing.yaml", "space file")
    assert "cannot read space file" in msg and "No such file" in msg
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    assert "cannot read space file" in _refusal(reading.read_text, loop, "space file")
    assert "invalid file name" in _refusal(reading.read_text, "a\0b", "space file")


def test_size_limit_is_stated_and_adjustable(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (2 * reading.MiB))
    msg = _refusal(reading.read_text, big, "space file")
    assert "2 MiB" in msg and "1 MiB limit" in msg
    assert len(reading.read_text(big, "space file", limit=3 * reading.MiB)) == 2 * reading.MiB


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("a: 1".encode("utf-16"), "is UTF-16 text"),
        (b"\xfe\xff\x00a", "is UTF-16 text"),
        ("a".encode("utf-32"), "is UTF-32 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "is not text (byte 0x89 at offset 0"),
        (b"name: \xff\xfe", "offset 6"),
    ],
)
def test_wrong_encodings_are_refused(tmp_path, data, words):
    f = tmp_path / "s.yaml"
    f.write_bytes(data)
    msg = _refusal(reading.read_text, f, "space file")
    assert words in msg and "UTF-8" in msg and str(f) in msg


def test_json_depth_counts_brackets_outside_strings():
    assert reading.json_depth("1") == 0
    assert reading.json_depth('{"a": [1, [2]]}') == 3
    assert reading.json_depth('["[[[[", "\\"[["]') == 1
    assert reading.json_depth("[" * 100_000) == 100_000


def test_json_refusals():
    deep = "[" * 65 + "]" * 65
    msg = _refusal(reading.parse_json, deep, "f.json")
    assert "65 levels deep" in msg and "64" in msg
    assert reading.parse_json("[" * 64 + "]" * 64, "f.json") is not None
    with pytest.raises(reading.JSONSyntaxError) as err:
        reading.parse_json("[" * 100_000, "f.json")  # no RecursionError
    assert "levels deep" in err.value.detail
    assert "1e400" in _refusal(reading.parse_json, '{"flops": 1e400}', "f.json")
    assert "-1E999" in _refusal(reading.parse_json, "[-1E999]", "f.json")
    assert "NaN" in _refusal(reading.parse_json, "[NaN]", "f.json")
    assert "Infinity" in _refusal(reading.parse_json, "[Infinity]", "f.json")
    assert reading.parse_json("[NaN, -Infinity]", "f.json", allow_nan=True)[1] == float("-inf")
    assert "..." in _refusal(reading.parse_json, "[" + "9" * 5000 + "]", "f.json")
    assert reading.parse_json("[1e30, 12345678901234567890]", "f.json")[1] == 12345678901234567890
    msg = _refusal(reading.parse_json, '{"a": 1,}', "f.json")
    assert "f.json is not valid JSON" in msg and "line 1" in msg


def test_load_json_reads_a_bounded_file(tmp_path):
    f = tmp_path / "a.json"
    f.write_text('{"a": [1, 2.5]}')
    assert reading.load_json(f, "architecture file") == {"a": [1, 2.5]}
    assert "limit" in _refusal(reading.load_json, f, "architecture file", limit=4)


def test_yaml_duplicate_keys_are_refused_with_their_lines():
    msg = _refusal(reading.parse_yaml, "name: a\nkind: anynet\nname: b\n", "s.yaml")
    assert "'name' appears twice" in msg and "lines 1 and 3" in msg
    nested = "params:\n  depth: {uniform: [1, 4]}\n  depth: {uniform: [1, 2]}\n"
    assert "'depth' appears twice" in _refusal(reading.parse_yaml, nested, "s.yaml")
    # distinct keys, anchors and merge keys stay plain YAML
    text = "base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n"
    assert reading.parse_yaml(text, "s.yaml") == {"base": {"x": 1}, "other": {"x": 2}}


@pytest.mark.parametrize(
    "text",
    [
        "x: !!python/object/apply:os.system ['true']\n",
        "x: !!python/name:os.system\n",
        "x: !custom 3\n",
    ],
)
def test_yaml_tags_are_refused_in_one_line(text):
    msg = _refusal(reading.parse_yaml, text, "s.yaml")
    assert "is not allowed" in msg and "line 1" in msg


def test_yaml_and_toml_syntax_errors_are_one_line():
    assert "line 2" in _refusal(reading.parse_yaml, "a: [1,\nb: ]: x\n", "s.yaml")
    msg = _refusal(reading.parse_toml, "a = 1\na = 2\n", "t.toml")
    assert "t.toml is not valid TOML" in msg
    assert "not valid toml" in _refusal(reading.parse_toml, "a = [", "t.toml", "toml")


_HANG_CHECK = """
import os, sys
from designspace.core import reading
from designspace.errors import DesignSpaceError
try:
    reading.read_text(sys.argv[1], "space file")
except DesignSpaceError as exc:
    print(exc)
    sys.exit(2)
"""


@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/dev/urandom"])
def test_fifo_and_devices_do_not_hang(tmp_path, target):
    path = tmp_path / "space.yaml"
    if target == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(target)
    proc = subprocess.run(
        [sys.executable, "-c", _HANG_CHECK, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2, proc.stderr
    assert "not a regular file" in proc.stdout


def test_readers_use_the_module(tmp_path):
    """The space, study, architecture, NDS and table readers all refuse a device link."""
    from designspace.core.spaces import load_space
    from designspace.formats.archfile import read_architecture, read_table
    from designspace.formats.nds import nds_records
    from designspace.studies.study import load_study

    for name, func in [
        ("s.yaml", load_space),
        ("s.toml", load_space),
        ("study.toml", load_study),
        ("arch.json", read_architecture),
        ("Pop_in.json", nds_records),
        ("t.csv", read_table),
        ("t.jsonl", read_table),
    ]:
        link = tmp_path / name
        link.symlink_to("/dev/zero")
        msg = _refusal(func, str(link))
        assert "is a device" in msg and name in msg, msg
