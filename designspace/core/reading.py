"""Bounded, typed reads of the files a user hands designspace: one place, one set of refusals.

Every file designspace reads (space files, study files, architecture JSON, NDS JSON, CSV /
JSONL tables, lock files, checkpoints, the head of an output it may replace) goes through this
module; ``tests/test_reading_sites.py`` lists the few reads that stay raw, and why. It promises:

* **a regular file**: the path (a symbolic link is followed) must name a regular file; a FIFO,
  a device such as ``/dev/zero`` or a folder is refused before anything is read, and the file is
  opened with ``O_NONBLOCK`` and checked again on the open descriptor, so nothing can hang;
* **a size limit**, stated in the error and adjustable by the caller (``limit``, bytes): the
  defaults are :data:`SMALL_LIMIT` for space, study and architecture files, :data:`NDS_LIMIT`
  for NDS JSON and :data:`TABLE_LIMIT` for tables;
* **UTF-8 text**, with or without a byte-order mark. UTF-16 and UTF-32 files (recognised by
  their byte-order mark) are refused with a message that says to save the file as UTF-8, and so
  is any other byte sequence that is not UTF-8, naming the offset of the first bad byte;
* **bounded JSON**: nesting deeper than :data:`MAX_DEPTH` levels is refused before parsing
  (so no RecursionError), a number literal that overflows a float (``1e400``) or an integer
  of more digits than Python converts is refused naming its text (the range of each field is
  its reader's to check), and ``NaN`` / ``Infinity`` are accepted only where
  the caller allows them;
* **strict YAML**: a repeated key in a mapping and any tag outside YAML's safe set (such as
  ``!!python/object``) are refused in one line that names the line of the file.

Besides whole files (:func:`read_bytes`, :func:`read_text`, :func:`load_json`): a file object
for a library that reads one (:func:`open_regular`: ``torch.load``), a bounded head or tail of
a file of any size (:func:`read_head`, :func:`read_tail`), and the checked file list of a
parquet data set, files or folder (:func:`check_data_set`).

Every refusal is a one-line :class:`DesignSpaceError` naming the file and what to do. Pure:
standard library (and PyYAML, imported when a YAML file is read).
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any, BinaryIO

from designspace.errors import DesignSpaceError

__all__ = [
    "JSONSyntaxError",
    "MAX_DEPTH",
    "NDS_LIMIT",
    "SMALL_LIMIT",
    "TABLE_LIMIT",
    "check_data_set",
    "check_regular_file",
    "decode_text",
    "describe_mode",
    "format_size",
    "json_depth",
    "load_json",
    "open_regular",
    "parse_json",
    "parse_toml",
    "parse_yaml",
    "read_bytes",
    "read_head",
    "read_tail",
    "read_text",
]

MiB = 1 << 20
#: Space, study and architecture files: hand-written, a few KiB.
SMALL_LIMIT = 1 * MiB
#: An NDS release file (the largest published one is about 150 MiB).
NDS_LIMIT = 512 * MiB
#: A CSV / JSONL table of samples or results.
TABLE_LIMIT = 1024 * MiB
#: Deepest JSON nesting accepted (NDS records nest about 4 levels).
MAX_DEPTH = 64
_NO_LIMIT = 1 << 62  # read_head / read_tail read a bounded part of a file of any size

_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_UTF8_BOM = b"\xef\xbb\xbf"


def format_size(n: int) -> str:
    """``n`` bytes for a message: ``1 MiB``, ``512 MiB``, ``2.5 KiB``, ``17 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1 << 10)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def describe_mode(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, for a message: ``a folder``, ``a FIFO (named
    pipe)``, ``a device``, ``a socket`` or ``not a regular file``."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _os_error(path: Path, what: str, exc: OSError) -> DesignSpaceError:
    why = exc.strerror or type(exc).__name__
    return DesignSpaceError(f"cannot read {what} {path}: {why}")


def check_regular_file(path: str | Path, what: str, limit: int) -> int:
    """Size in bytes of ``path`` after checking that it (or its link's target) is a regular
    file of at most ``limit`` bytes; DesignSpaceError otherwise.

    ``what`` names the file in messages ("space file", "NDS file"). Nothing is opened.
    """
    p = Path(path)
    try:
        st = os.stat(p)  # follows symbolic links: the target is what would be read
    except (OSError, ValueError) as exc:
        if isinstance(exc, ValueError):  # an embedded NUL byte in the name
            raise DesignSpaceError(f"cannot read {what} {p!s:.200}: invalid file name") from None
        raise _os_error(p, what, exc) from None
    _check_stat(p, what, limit, st)
    return st.st_size


def _check_stat(p: Path, what: str, limit: int, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise DesignSpaceError(
            f"cannot read {what} {p}: it is {describe_mode(st.st_mode)}, not a regular file; "
            f"name a file on disk"
        )
    if st.st_size > limit:
        raise DesignSpaceError(
            f"cannot read {what} {p}: it is {format_size(st.st_size)}, over the "
            f"{format_size(limit)} limit for {what}s; check that it is the right file"
        )


def _open_checked(p: Path, what: str, limit: int | None) -> int:
    """An open read-only descriptor of the regular file ``p`` (of at most ``limit`` bytes
    unless None), opened without blocking and checked again on the descriptor."""
    bound = _NO_LIMIT if limit is None else limit
    check_regular_file(p, what, bound)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise _os_error(p, what, exc) from None
    try:
        _check_stat(p, what, bound, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: str | Path, what: str, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``; see the module docstring).

    The file is opened without blocking and checked again on the open descriptor, so a path
    swapped for a FIFO or a device between the check and the open cannot hang the read.
    """
    p = Path(path)
    fd = _open_checked(p, what, limit)
    try:
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 22, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # the file grew after the check
                raise DesignSpaceError(
                    f"cannot read {what} {p}: it is over the {format_size(limit)} limit for "
                    f"{what}s; check that it is the right file"
                )
    except OSError as exc:
        raise _os_error(p, what, exc) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def open_regular(path: str | Path, what: str, limit: int | None) -> BinaryIO:
    """The regular file ``path`` of at most ``limit`` bytes, open for binary reading (the
    caller closes it; use it in a ``with``), for a library that reads from a file object
    (``torch.load``, pyarrow) or a reader that streams it in blocks (``limit`` None: any size).
    The same checks as :func:`read_bytes`, nothing read yet."""
    p = Path(path)
    fd = _open_checked(p, what, limit)
    try:
        os.set_blocking(fd, True)  # a regular file: the flag only guarded the open
        return os.fdopen(fd, "rb")
    except OSError as exc:
        os.close(fd)
        raise _os_error(p, what, exc) from None


def read_head(path: str | Path, what: str, n: int) -> bytes:
    """At most the first ``n`` bytes of the regular file ``path``, whatever its size (to
    recognise a file by its header); refusals as :func:`read_bytes` except the size limit."""
    return _read_part(Path(path), what, n, from_end=False)


def read_tail(path: str | Path, what: str, n: int) -> bytes:
    """At most the last ``n`` bytes of the regular file ``path``, whatever its size (the end
    of a log, a PDF trailer); refusals as :func:`read_bytes` except the size limit."""
    return _read_part(Path(path), what, n, from_end=True)


def _read_part(p: Path, what: str, n: int, from_end: bool) -> bytes:
    fd = _open_checked(p, what, None)
    try:
        start = max(0, os.fstat(fd).st_size - n) if from_end else 0
        chunks: list[bytes] = []
        total = 0
        while total < n:
            chunk = os.pread(fd, min(1 << 22, n - total), start + total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise _os_error(p, what, exc) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def check_data_set(path: str | Path, what: str, limit: int) -> list[Path]:
    """The files a parquet reader (pyarrow) would read at ``path``, after checking them: the
    file itself, or every file below the folder whose name does not start with ``.`` or
    ``_`` (pyarrow's own discovery), sorted. Each must be a regular file (a link is followed;
    a FIFO or a device is refused, it would hang the reader) and together they must be at
    most ``limit`` bytes; DesignSpaceError naming ``what`` otherwise. Nothing is opened."""
    p = Path(path)
    if not p.is_dir():
        check_regular_file(p, what, limit)
        return [p]
    files: list[Path] = []
    total = 0
    for root, dirs, names in os.walk(p):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(names):
            if name.startswith((".", "_")):
                continue
            f = Path(root) / name
            total += check_regular_file(f, what, limit)
            if total > limit:
                raise DesignSpaceError(
                    f"cannot read {what} {p}: its files are over the {format_size(limit)} limit "
                    f"for {what}s together; check that it is the right folder"
                )
            files.append(f)
    return files


def decode_text(data: bytes, where: str) -> str:
    """``data`` as text: UTF-8, a leading byte-order mark dropped. UTF-16 / UTF-32 (by their
    byte-order mark) and bytes that are not UTF-8 raise DesignSpaceError naming ``where``."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise DesignSpaceError(
                f"{where} is {name} text; designspace reads UTF-8: save the file as UTF-8"
            )
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DesignSpaceError(
            f"{where} is not text (byte 0x{data[exc.start]:02x} at offset {exc.start} is not "
            f"UTF-8); is it a binary file? Save it as UTF-8 text"
        ) from None


def read_text(path: str | Path, what: str, limit: int = SMALL_LIMIT) -> str:
    """The UTF-8 text of the regular file ``path`` of at most ``limit`` bytes (see the module
    docstring for every refusal); ``what`` names the file in messages."""
    p = Path(path)
    return decode_text(read_bytes(p, what, limit), f"{what} {p}")


# ----------------------------------------------------------------------------------- JSON
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def json_depth(data: str | bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text (0 for a bare value), counted
    without parsing (brackets inside strings do not count). Linear time, no recursion."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    depth = deepest = 0
    for token in _BRACKETS.findall(_STRING.sub(b'""', raw)):
        if token in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class JSONSyntaxError(DesignSpaceError):
    """Text that is not JSON (or nests too deeply); ``detail`` says why, without the file."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where} is not valid JSON ({detail})")
        self.detail = detail


class _NumberError(ValueError):
    """A JSON number that cannot be held (overflow); carries the number's text."""


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NumberError(text)
    return value


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (4300)
        raise _NumberError(text[:40] + "...") from None


def parse_json(
    text: str | bytes, where: str, max_depth: int = MAX_DEPTH, allow_nan: bool = False
) -> Any:
    """Parse JSON text; DesignSpaceError naming ``where`` for invalid JSON, nesting deeper
    than ``max_depth``, a number that overflows (``1e400``) and,
    unless ``allow_nan``, the constants ``NaN`` / ``Infinity`` / ``-Infinity``."""
    if isinstance(text, (bytes, bytearray)):
        text = decode_text(bytes(text), where)
    depth = json_depth(text)
    if depth > max_depth:
        raise JSONSyntaxError(
            where, f"arrays and objects nest {depth} levels deep, more than the {max_depth} allowed"
        )

    def constant(name: str) -> float:
        if not allow_nan:
            raise _NumberError(name)
        return float(name.replace("Infinity", "inf"))

    try:
        return json.loads(
            text, parse_float=_parse_float, parse_int=_parse_int, parse_constant=constant
        )
    except _NumberError as exc:
        raise DesignSpaceError(
            f"{where} holds the number {exc.args[0]!s:.60}, which overflows or is not a "
            f"finite number; correct the value"
        ) from None
    except json.JSONDecodeError as exc:
        raise JSONSyntaxError(
            where, f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:  # cannot happen below MAX_DEPTH, kept for a caller's larger limit
        raise JSONSyntaxError(where, "nested too deeply to be read") from None


def load_json(
    path: str | Path,
    what: str,
    limit: int = SMALL_LIMIT,
    max_depth: int = MAX_DEPTH,
    allow_nan: bool = False,
) -> Any:
    """Read and parse the JSON file ``path`` with every check of :func:`read_text` and
    :func:`parse_json`; ``what`` names the file in messages."""
    p = Path(path)
    return parse_json(read_text(p, what, limit), f"{what} {p}", max_depth, allow_nan)


# ----------------------------------------------------------------------------------- TOML
def parse_toml(text: str, where: str, label: str = "TOML") -> dict[str, Any]:
    """Parse TOML text (tomllib: repeated keys are already an error); DesignSpaceError with
    one line naming ``where`` for invalid TOML (``label``: the format's name in it)."""
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DesignSpaceError(f"{where} is not valid {label}: {_one_line(str(exc))}") from None
    except RecursionError:
        raise DesignSpaceError(f"{where} nests too deeply to be read") from None


# ----------------------------------------------------------------------------------- YAML
def _one_line(text: str) -> str:
    return " ".join(text.split())


def _strict_loader() -> type:
    """A SafeLoader that refuses a key repeated within one mapping."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, int] = {}
                for key_node, _ in node.value:
                    if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                        continue
                    key = self.construct_object(key_node, deep=True)
                    line = key_node.start_mark.line + 1
                    try:
                        if key in seen:
                            raise _DuplicateKey(key, line, seen[key])
                        seen[key] = line
                    except TypeError:  # an unhashable key: the constructor refuses it below
                        continue
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(key, line, first)
        self.key, self.line, self.first = key, line, first


def parse_yaml(text: str, where: str, label: str = "YAML") -> Any:
    """Parse YAML text with the safe loader; DesignSpaceError with one line naming ``where``
    and the line for invalid YAML, a key repeated in one mapping, or an unsafe tag (such as
    ``!!python/object``); ``label``: the format's name in messages."""
    import yaml

    try:
        return yaml.load(text, Loader=_strict_loader())  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise DesignSpaceError(
            f"{where}: key {exc.key!r:.60} appears twice (lines {exc.first} and {exc.line}); "
            f"keep one"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = _one_line(str(exc.problem or exc.context or "invalid YAML"))
        if "could not determine a constructor" in problem:
            tag = problem.split("tag", 1)[-1].strip(" '!")
            problem = f"the tag {tag!r:.80} is not allowed (plain data only)"
        raise DesignSpaceError(f"{where} is not valid {label}: {problem}{at}") from None
    except yaml.YAMLError as exc:
        raise DesignSpaceError(f"{where} is not valid {label}: {_one_line(str(exc))}") from None
    except RecursionError:
        raise DesignSpaceError(f"{where} nests too deeply to be read") from None
