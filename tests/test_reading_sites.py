"""Every file read goes through designspace/core/reading.py (issue 20): a scan of the package
source for raw read calls, an explicit allow-list of the few that stay raw (each with its
reason), the readers reading.py adds for the other sites (a file object, a bounded head or
tail, a parquet data set's files), and the hostile lock files of the sweep's lock.

The scan reads the source with :mod:`ast` (comments and docstrings never count): a call of the
builtin ``open``, ``os.open``, and any call or reference of a reader (``x.read_text``,
``json.loads``, ``torch.load``, ``pd.read_parquet``, ``pq.read_table`` ...) outside
``core/reading.py``. A site is named by its file, the function it is in and the call, not by
its line, so the allow-list survives edits around it.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from designspace.core import reading
from designspace.errors import DesignSpaceError
from designspace.sweep.locks import LOCK_LIMIT, LOCK_NAME, out_lock

PACKAGE = Path(__file__).resolve().parents[1] / "designspace"

# Attribute names that read a file (called, or handed to another function as the reader).
READERS = {
    "read_text", "read_bytes", "readlines", "fromfile", "memmap",
    "read_csv", "read_parquet", "read_json", "read_pickle", "read_feather", "read_table",
    "read_schema", "read_metadata", "ParquetFile", "ParquetDataset",
}  # fmt: skip
# Attribute names that read a file only when called (as references they are too common).
CALLED_READERS = {"open", "load", "loads"}
WRITE_MODES = set("wax")

# (file, function, call) -> why it stays raw. Each entry is a read that core/reading.py does
# not do, and why that is safe.
ALLOWED: dict[tuple[str, str, str], str] = {
    # --- not a file: text already in memory, parsed ---------------------------------------
    ("designspace/analysis/_data.py", "as_list", "json.loads"):
        "a list cell of a table already read through reading.py; RecursionError caught",
    ("designspace/sweep/plan.py", "build_manifest", "json.loads"):
        "json.loads(json.dumps(regime)): a round trip of our own dict",
    ("designspace/training/data.py", "load_data", "spec.load"):
        "DatasetSpec.load calls the data set's loader, it reads nothing itself",
    ("designspace/analysis/load.py", "load_results", "pd.read_csv"):
        "parses the text reading.read_text returned (io.StringIO)",
    ("designspace/formats/archfile.py", "read_table", "pd.read_csv"):
        "parses the text reading.read_text returned (io.StringIO)",
    ("designspace/formats/archfile.py", "read_table", "pd.read_json"):
        "parses the text reading.read_text returned (io.StringIO)",
    # --- package data: files inside the installed package ----------------------------------
    ("designspace/core/named.py", "_published", "resources.files().joinpath().read_text"):
        "designspace/data/regnet_models.json, shipped with the package",
    ("designspace/core/named.py", "_published", "json.loads"):
        "the package's own regnet_models.json (above)",
    ("designspace/studies/study.py", "load_study", "resources.files().joinpath().read_text"):
        "designspace/data/demo-study.toml, shipped with the package",
    ("designspace/studies/study.py", "load_study", "tomllib.loads"):
        "the package's demo study (above); a user's study file goes through reading.py",
    # --- the operating system's own files -------------------------------------------------
    ("designspace/training/machine.py", "cpu_info", "Path().read_text"):
        "/proc/cpuinfo: a kernel file, never a FIFO, a few KiB",
    ("designspace/sweep/slurm_executor.py", "_alive", "open"):
        "/proc/<pid>/stat of a process we started",
    # --- our own files, just written or being written --------------------------------------
    ("designspace/reporting/document.py", "FigureResult.publish", "?.read_bytes"):
        "the PNG this function saved a moment before, in a folder it owns",
    ("designspace/commands/nds_import.py", "run", "pd.read_parquet"):
        "reads back the data set import_nds has just written",
    ("designspace/formats/results.py", "_fsync_dir", "os.open"):
        "opens a folder (O_RDONLY) only to fsync it; reads nothing",
    ("designspace/sweep/locks.py", "_acquire", "os.open"):
        "the lock file: O_NOFOLLOW | O_NONBLOCK, checked by lstat before and fstat after; "
        "its content is read through reading.read_text",
    ("designspace/training/checkpoint.py", "save_checkpoint", "os.open"):
        "creates the checkpoint's temporary file (O_CREAT | O_EXCL) to write it",
    # --- bounded by reading.py, read by a library -----------------------------------------
    ("designspace/training/checkpoint.py", "load_checkpoint", "torch.load"):
        "torch.load(weights_only=True) of the file object reading.open_regular opened",
    ("designspace/formats/outputs.py", "_table_columns", "pq.read_schema"):
        "the parquet footer of the file object reading.open_regular opened",
    ("designspace/analysis/load.py", "load_results", "pd.read_parquet"):
        "a parquet file checked by reading.check_regular_file (size limit) just before",
    ("designspace/formats/nds.py", "import_nds", "pq.read_schema"):
        "the footer of a file of the output's data set (result_files: regular files only)",
    # --- readers of libraries (pyarrow, PIL, pickle) given what reading.py checked/opened
    ("designspace/formats/archfile.py", "read_table", "pd.read_parquet"):
        "a parquet file or folder checked first by reading.check_regular_file / "
        "reading.check_data_set (regular files, total size bounded)",
    ("designspace/formats/results.py", "scan_results", "pq.read_table"):
        "pyarrow reading the file object reading.open_regular opened (RESULT_FILE_LIMIT)",
    ("designspace/training/data.py", "_unpickle", "_CifarUnpickler().load"):
        "the restricted unpickler reading the file reading.open_regular opened (bounded)",
    ("designspace/training/data.py", "_load_image", "Image.open"):
        "PIL decoding the file object reading.open_regular opened (bounded)",
}  # fmt: skip


def _name(node: ast.AST) -> str:
    """``pd.read_parquet``, ``path.open``, ``resources.files().joinpath().read_text``; ``?``
    for a part that is not a name (a subscript, a literal)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_name(node.func)}()"
    return "?"


def _writes(call: ast.Call) -> bool:
    """Whether ``open(path, mode)`` / ``path.open(mode)`` opens for writing (a literal mode)."""
    modes = [kw.value for kw in call.keywords if kw.arg == "mode"] + list(call.args)
    return any(
        isinstance(m, ast.Constant) and isinstance(m.value, str) and WRITE_MODES & set(m.value)
        for m in modes
    )


def read_sites(path: Path) -> set[tuple[str, str, str]]:
    """The raw read sites of one source file: (file, enclosing function, call)."""
    rel = path.relative_to(PACKAGE.parent).as_posix()
    found: set[tuple[str, str, str]] = set()

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*scope, child.name])
                continue
            name = None
            if isinstance(child, ast.Call):
                f = child.func
                if isinstance(f, ast.Name) and f.id == "open" and not _writes(child):
                    name = "open"
                elif isinstance(f, ast.Attribute) and f.attr in CALLED_READERS:
                    name = _name(f)
                    if f.attr == "open" and name != "os.open" and _writes(child):
                        name = None
            elif isinstance(child, ast.Attribute) and child.attr in READERS:
                name = _name(child)
            if name is not None and not name.startswith("reading."):
                found.add((rel, ".".join(scope) or "<module>", name))
            visit(child, scope)

    visit(ast.parse(path.read_text(encoding="utf-8")), [])
    return found


def all_read_sites() -> set[tuple[str, str, str]]:
    """Raw read sites of the whole package outside core/reading.py."""
    sites: set[tuple[str, str, str]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != PACKAGE / "core" / "reading.py":
            sites |= read_sites(path)
    return sites


def test_every_read_goes_through_reading_or_is_allowed():
    sites = all_read_sites()
    unlisted = sorted(sites - set(ALLOWED))
    assert not unlisted, (
        "raw file reads outside designspace/core/reading.py (route them through it, or add "
        "them to ALLOWED with the reason):\n" + "\n".join(map(str, unlisted))
    )
    stale = sorted(set(ALLOWED) - sites)
    assert not stale, "ALLOWED entries that match no read any more (remove them):\n" + "\n".join(
        map(str, stale)
    )


def test_the_scan_finds_a_planted_raw_read(tmp_path, monkeypatch):
    """The scanner flags each kind of raw read, and not writes or reading.py's calls."""
    source = tmp_path / "designspace" / "mod.py"
    source.parent.mkdir()
    source.write_text(
        "import json, pandas as pd, torch\n"
        "from designspace.core import reading\n"
        "def f(p):\n"
        "    a = json.loads(p.read_text())\n"
        "    with open(p) as fh: fh.read()\n"
        "    with open(p, 'w') as fh: fh.write('x')\n"
        "    reader = pd.read_parquet\n"
        "    torch.load(p, weights_only=True)\n"
        "    return reading.read_text(p, 'x')\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "designspace")
    found = {call for _, scope, call in read_sites(source) if scope == "f"}
    assert found == {"json.loads", "p.read_text", "open", "pd.read_parquet", "torch.load"}


# ------------------------------------------------------------------ reading.py's new readers
def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def test_open_regular_head_and_tail(tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(b"0123456789" * 10)
    with reading.open_regular(f, "file", 100) as fh:
        assert fh.read() == b"0123456789" * 10
    with pytest.raises(DesignSpaceError, match=r"over the 99 bytes limit"):
        reading.open_regular(f, "file", 99)
    assert reading.read_head(f, "file", 4) == b"0123"
    assert reading.read_tail(f, "file", 4) == b"6789"
    assert reading.read_tail(f, "file", 1000) == b"0123456789" * 10  # a short file: all
    for bad, kind in ((_fifo(tmp_path / "p"), "FIFO"), (tmp_path / "z", "device")):
        if kind == "device":
            bad.symlink_to("/dev/zero")
        for read in (reading.read_head, reading.read_tail):
            with pytest.raises(DesignSpaceError, match=kind):
                read(bad, "file", 10)
        with pytest.raises(DesignSpaceError, match=kind):
            reading.open_regular(bad, "file", 10)


def test_check_data_set_lists_checked_files(tmp_path):
    data = tmp_path / "results"
    data.mkdir()
    (data / "a.parquet").write_bytes(b"x" * 10)
    (data / "b.parquet").write_bytes(b"x" * 10)
    (data / ".tmp.parquet").write_bytes(b"x" * 1000)  # hidden: pyarrow skips it, so do we
    assert reading.check_data_set(data, "data set", 20) == [data / "a.parquet", data / "b.parquet"]
    assert reading.check_data_set(data / "a.parquet", "data set", 20) == [data / "a.parquet"]
    with pytest.raises(DesignSpaceError, match="over the 19 bytes limit for data sets together"):
        reading.check_data_set(data, "data set", 19)
    _fifo(data / "c.parquet")
    with pytest.raises(DesignSpaceError, match="c.parquet: it is a FIFO"):
        reading.check_data_set(data, "data set", 1 << 20)


# ------------------------------------------------------------------ the sweep's lock file
def _lock_kind(out: Path, kind: str, target: Path) -> Path:
    """``out/.designspace.lock`` made hostile: a FIFO, a link to /dev/zero, 10 MB of garbage,
    a link to a user's file."""
    out.mkdir(exist_ok=True)
    lock = out / LOCK_NAME
    if kind == "fifo":
        os.mkfifo(lock)
    elif kind == "/dev/zero":
        lock.symlink_to("/dev/zero")
    elif kind == "garbage":
        lock.write_bytes(os.urandom(10 << 20))
    elif kind == "link":
        lock.symlink_to(target)
    return lock


_LOCK_CASE = """
import sys
from designspace.errors import DesignSpaceError
from designspace.sweep.locks import out_lock
try:
    with out_lock(sys.argv[1]):
        print("taken")
except DesignSpaceError as exc:
    print("refused:", exc)
"""


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("fifo", "is a FIFO (named pipe), not a lock file designspace wrote"),
        ("/dev/zero", "is a symbolic link, not a lock file designspace wrote"),
        ("garbage", "is 10 MiB, over the 64 KiB a lock file may have"),
        ("link", "is a symbolic link, not a lock file designspace wrote"),
    ],
)
def test_a_hostile_lock_file_is_refused_and_left_alone(tmp_path, kind, message):
    notes = tmp_path / "notes.txt"
    notes.write_text("weeks of work\n")
    out = tmp_path / "out"
    lock = _lock_kind(out, kind, notes)
    before = lock.read_bytes() if kind == "garbage" else None
    # in a subprocess: a regression would hang on the FIFO or /dev/zero, not this test
    proc = subprocess.run(
        [sys.executable, "-c", _LOCK_CASE, str(out)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("refused:") and message in proc.stdout, proc.stdout
    assert proc.stdout.count("\n") == 1 and "Traceback" not in proc.stderr
    assert notes.read_text() == "weeks of work\n"  # the link's target was never truncated
    assert os.path.lexists(lock)
    if before is not None:
        assert lock.read_bytes() == before


def test_a_small_corrupt_lock_file_is_stale_and_taken_over(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for content in (b"", b'{"pid": 1, "host"', b"\xff\xfe binary", b"[" * 10_000):
        (out / LOCK_NAME).write_bytes(content)
        notes: list[str] = []
        with out_lock(out, say=notes.append):
            info = json.loads((out / LOCK_NAME).read_text())
            assert info["pid"] == os.getpid() and info["host"] == socket.gethostname()
        assert not notes  # nothing names a holder: taken over silently
        assert not (out / LOCK_NAME).exists()  # removed on exit, as a lock it wrote
    (out / LOCK_NAME).write_bytes(b" " * (LOCK_LIMIT + 1))  # one byte over: refused
    with pytest.raises(DesignSpaceError, match="over the 64 KiB a lock file may have"):
        with out_lock(out):
            pass


def test_a_hostile_lock_file_through_the_command_line(tmp_path):
    """``designspace sweep`` on a folder whose lock file is a FIFO: one line, exit 2, nothing
    changed (and no hang)."""
    from hostile import refused
    from sweep_support import CLI_TINY

    out = tmp_path / "out"
    _lock_kind(out, "fifo", tmp_path)
    msg = refused(
        "sweep", "--space", "AnyNetXA", "-n", "1", *CLI_TINY, "--executor", "local",
        "--out", str(out), watch=[tmp_path], timeout=120,
    )  # fmt: skip
    assert "FIFO" in msg and LOCK_NAME in msg, msg


# ------------------------------------------------------------------ architecture JSON text
def test_architecture_text_and_list_cells_are_parsed_bounded():
    """Architecture.from_json and a CSV's per-stage list cell go through reading.parse_json:
    deep nesting, overflowing numbers and oversized text are one-line refusals (a nested
    list cell was a RecursionError)."""
    from designspace.core.arch import Architecture, Stage

    arch = Architecture(stages=(Stage(1, 8, 1, 8, 2),), stem_width=8)
    assert Architecture.from_json(arch.to_json()) == arch
    for text, message in [
        ("[" * 100_000, "nest 100000 levels deep"),
        ('{"stages": [], "se_ratio": 1e400}', "overflows"),
        (" " * (reading.SMALL_LIMIT + 1), "over the 1,048,576"),
    ]:
        with pytest.raises(DesignSpaceError, match=message):
            Architecture.from_json(text)
    row = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in arch.to_row().items()}
    for cell in ("[" * 100_000 + "]" * 100_000, "[" + "1, " * 5000 + "1]"):
        with pytest.raises(DesignSpaceError, match="per-stage lists") as info:
            Architecture.from_row({**row, "depths": cell})
        assert "\n" not in str(info.value)


def test_data_set_files_are_read_within_their_limits(tmp_path, monkeypatch):
    """An IDX file that gunzips beyond IDX_LIMIT (a gzip bomb), a CIFAR-10 batch and a result
    file over their limits: each refused or set aside in one line, nothing read whole."""
    import gzip

    from designspace.formats import results as res
    from designspace.training import data

    monkeypatch.setattr(data, "IDX_LIMIT", 1000)
    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    bomb.write_bytes(gzip.compress(bytes(10_000)))  # 10 kB of zeros in a few bytes
    with pytest.raises(DesignSpaceError, match="gunzips to more than"):
        data.read_idx(bomb)
    monkeypatch.setattr(data, "CIFAR_FILE_LIMIT", 10)
    batch = tmp_path / "data_batch_1"
    batch.write_bytes(bytes(100))
    with pytest.raises(DesignSpaceError, match="CIFAR-10 file .* over the 10 bytes limit"):
        data._unpickle(batch)
    monkeypatch.setattr(res, "RESULT_FILE_LIMIT", 100)
    folder = tmp_path / "sweep" / res.DATA_DIRNAME
    folder.mkdir(parents=True)
    (folder / "AnyNetXA-000000-0123456789abcdef.parquet").write_bytes(bytes(1000))
    scan = res.scan_results(tmp_path / "sweep")
    assert scan.table is None and len(scan.bad) == 1
    assert "over the 100 bytes limit" in scan.bad[0][1]
