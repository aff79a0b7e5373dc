"""What designspace may write, and where: the outputs a command owns.

A command writes only into a folder it owns (:func:`check_out_dir`): a new or empty one, one
holding its own manifest ``.designspace-outputs.json`` (the files it wrote with their sha256,
and the command), or a folder written by an earlier version, recognised by its layout and
adopted: a sweep or study folder (``sweep.json``), an analysis folder (``report.md`` whose first
line is ``# Design-space analysis:``), an NDS import folder (``results/`` of parquet files, no
``sweep.json``), a replicate folder (``seed-<s>/`` sweep folders). A single file (``sample -o``,
``plot -o``, ``train --save``) may be a new path or a file of the same kind that designspace
wrote (:func:`check_out_file`; a checkpoint by the mark in its first bytes,
:func:`is_checkpoint`). Refused, before anything is created: an empty name, an output that is
or contains an input, one inside a results data set (a ``results/`` folder of parquet files),
an existing non-empty folder it does not own.

Replacing a folder's files (:func:`publish`) moves the new files in one by one (each atomic),
then removes only the files of the old manifest whose hashes still match: a file the user
changed or added is kept, and named. Every file it reads (a manifest, the head of a file it
may replace) is read through :mod:`designspace.core.reading`. Pure: the standard library and
the core (pyarrow only to read a parquet table's columns).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from designspace.core import reading
from designspace.errors import DesignSpaceError
from designspace.version import __version__

OUTPUTS_NAME = ".designspace-outputs.json"
# what designspace.reporting.plots.save writes into every figure's metadata
FIGURE_MARK = f"designspace {__version__}"
OUTPUTS_FORMAT = "designspace-outputs/1"
SWEEP_MANIFEST = "sweep.json"  # designspace.formats.results.MANIFEST_NAME
DATA_DIRNAME = "results"  # designspace.formats.results.DATA_DIRNAME
ANALYSIS_TITLE = "# Design-space analysis:"
# Files designspace keeps in a folder it writes (locks, its manifest); they do not make a folder
# "not empty" for ownership.
_OWN_HIDDEN = {OUTPUTS_NAME, ".designspace.lock"}
_ANALYSIS_SUFFIXES = {".csv", ".png", ".svg", ".md", ".html", ".ipynb"}

# Folder kinds (what a command may write into besides a new or empty folder).
ANALYSIS = "analysis"
SWEEP = "sweep"  # a sweep or study folder
NDS = "nds"
REPLICATE = "replicate"

# Single-file kinds.
FIGURE = "figure"
TABLE = "table"
CHECKPOINT = "checkpoint"
#: The start of the ``format`` every designspace checkpoint carries
#: (:data:`designspace.training.checkpoint.FORMAT`, ``designspace-checkpoint-<n>``).
CHECKPOINT_MARK = "designspace-checkpoint-"
#: The names ``train --save`` accepts.
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")
_MANIFEST_LIMIT = 16 << 20


@dataclass(frozen=True)
class Ownership:
    """What an existing output folder is: ``kind`` (``"empty"``, ``"manifest"`` or a legacy
    folder kind), the command that wrote it (``""`` when unknown) and the files it owns
    (relative name -> accepted sha256 hex digests; empty for a legacy folder whose files are
    adopted by name, see ``adopted``)."""

    kind: str
    command: str = ""
    files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    adopted: frozenset[str] = frozenset()

    def owns(self, name: str) -> bool:
        """Whether ``name`` (relative to the folder) was written by designspace, judged by the
        manifest's hash or, for an adopted legacy folder, by name."""
        return name in self.adopted or name in self.files


def sha256(path: Path) -> str:
    """Hex sha256 of the regular file at ``path`` (read in 1 MiB blocks, any size; a FIFO or a
    device is refused by :func:`designspace.core.reading.open_regular`)."""
    h = hashlib.sha256()
    with reading.open_regular(path, "file", None) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _visible(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name not in _OWN_HIDDEN]


def read_outputs_manifest(folder: Path) -> dict | None:
    """The outputs manifest of ``folder`` (None when it has none); DesignSpaceError when the
    file is there but is not one designspace wrote."""
    p = folder / OUTPUTS_NAME
    if not os.path.lexists(p):
        return None
    try:
        if p.is_symlink():
            raise ValueError("a link")
        data = reading.load_json(p, "outputs manifest", _MANIFEST_LIMIT)
        files = data["files"]
        if data.get("format") != OUTPUTS_FORMAT or not isinstance(files, dict):
            raise ValueError("not an outputs manifest")
        for name, digests in files.items():
            if not isinstance(name, str) or not isinstance(digests, list):
                raise ValueError("bad entry")
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        raise DesignSpaceError(
            f"{p} is not an outputs manifest designspace wrote; move it away or choose "
            f"another output folder"
        ) from None
    return data


def write_outputs_manifest(
    folder: Path, command: str, files: Mapping[str, Iterable[str]], kind: str = ""
) -> Path:
    """Write ``folder/.designspace-outputs.json`` atomically: ``command`` wrote ``files``
    (relative name -> sha256 digests a file of that name may have)."""
    data = {
        "format": OUTPUTS_FORMAT,
        "command": command,
        "kind": kind,
        "designspace_version": __version__,
        "files": {name: sorted(set(d)) for name, d in sorted(files.items())},
    }
    fd, tmp = tempfile.mkstemp(prefix=f"{OUTPUTS_NAME}.tmp-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, folder / OUTPUTS_NAME)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return folder / OUTPUTS_NAME


def _is_dataset(folder: Path) -> bool:
    """Whether ``folder`` is a results data set: a ``results/`` folder of parquet files (or
    the ``results/`` folder of a sweep)."""
    if folder.name != DATA_DIRNAME or not folder.is_dir():
        return False
    if (folder.parent / SWEEP_MANIFEST).is_file():
        return True
    try:
        return any(p.suffix == ".parquet" for p in folder.iterdir())
    except OSError:
        return False


def _legacy_analysis(folder: Path) -> frozenset[str] | None:
    """The files of an analysis written before manifests existed (its report.md starts with
    ``# Design-space analysis:``): every table, figure and report file in it, which a new
    analysis may overwrite by name but never removes. None when ``folder`` is not one."""
    report = folder / "report.md"
    if not report.is_file():
        return None
    try:
        head = reading.read_head(report, "report", len(ANALYSIS_TITLE.encode()))
    except DesignSpaceError:
        return None
    if head != ANALYSIS_TITLE.encode():
        return None
    return frozenset(
        p.name
        for p in folder.iterdir()
        if p.is_file() and not p.is_symlink() and p.suffix in _ANALYSIS_SUFFIXES
    )


def _is_sweep(folder: Path) -> bool:
    return (folder / SWEEP_MANIFEST).is_file()


def _is_sweep_folder(folder: Path) -> bool:
    """A sweep's folder, or one a sweep stopped in before writing its ``sweep.json`` (only
    an empty ``results/`` in it)."""
    if _is_sweep(folder):
        return True
    entries = _visible(folder)
    data = folder / DATA_DIRNAME
    return entries == [data] and data.is_dir() and not any(data.iterdir())


def _is_nds(folder: Path) -> bool:
    data = folder / DATA_DIRNAME
    if _is_sweep(folder) or not data.is_dir():
        return False
    return all(
        p.is_dir() and p.name in (DATA_DIRNAME, "analysis") for p in _visible(folder)
    ) and all(p.suffix == ".parquet" or p.name.startswith(".") for p in data.iterdir())


def _is_replicate(folder: Path) -> bool:
    entries = _visible(folder)
    return bool(entries) and all(
        p.is_dir() and re.fullmatch(r"seed-\d+", p.name) and (_is_sweep(p) or not _visible(p))
        for p in entries
    )


_LEGACY: dict[str, Callable[[Path], bool]] = {
    SWEEP: _is_sweep_folder,
    NDS: _is_nds,
    REPLICATE: _is_replicate,
}


def ownership(folder: Path, kind: str) -> Ownership | None:
    """How designspace owns the existing folder ``folder`` for an output of ``kind`` (None:
    it does not). A folder of another kind with a manifest is not owned."""
    manifest = read_outputs_manifest(folder)  # a file by that name that is not one: refused
    if manifest is None and not _visible(folder):
        return Ownership("empty", files={})
    if manifest is not None:
        if manifest.get("kind", "") not in ("", kind):
            return None
        files = {k: tuple(v) for k, v in manifest["files"].items()}
        return Ownership("manifest", str(manifest.get("command", "")), files)
    if kind == ANALYSIS:
        adopted = _legacy_analysis(folder)
        return None if adopted is None else Ownership(ANALYSIS, files={}, adopted=adopted)
    test = _LEGACY.get(kind)
    return Ownership(kind, files={}) if test is not None and test(folder) else None


def _abs(path: str | Path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(str(path))))


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _check_common(raw: str | Path, flag: str, inputs: Iterable[str | Path], what: str) -> Path:
    """Checks every output shares: a name, not an input nor holding one, not in a data set."""
    if raw is None or not str(raw).strip():
        raise DesignSpaceError(f"{flag} is empty; name the output {what}")
    out = _abs(raw)
    for raw_input in inputs:
        if raw_input is None or not str(raw_input).strip():
            continue
        inp = _abs(raw_input)
        real_in, real_out = Path(os.path.realpath(inp)), Path(os.path.realpath(out))
        if _within(inp, out) or _within(real_in, real_out):
            rel = "is" if real_in == real_out else "contains"
            raise DesignSpaceError(
                f"{flag} {raw} {rel} the input {raw_input}; write the output elsewhere, "
                f"e.g. a new folder beside it"
            )
    for folder in [out, *out.parents]:
        if _is_dataset(folder):
            raise DesignSpaceError(
                f"{flag} {raw} lies inside the results data set {folder}; write outside it "
                f"(e.g. {folder.parent / 'analysis'})"
            )
    return out


def _check_creatable(out: Path, flag: str, raw: str | Path) -> None:
    ancestor = out.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise DesignSpaceError(
            f"{flag} {raw} cannot be created: {ancestor} is a file, not a folder"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise DesignSpaceError(f"{flag} {raw} cannot be written: no write permission on {ancestor}")


def check_out_dir(
    raw: str | Path,
    kind: str,
    *,
    inputs: Iterable[str | Path] = (),
    flag: str = "--out",
) -> Path:
    """``raw`` as an absolute folder path after checking that a command writing outputs of
    ``kind`` (:data:`ANALYSIS`, :data:`SWEEP`, :data:`NDS`, :data:`REPLICATE`) owns it or may
    create it; creates nothing. ``inputs`` are the paths the command reads. DesignSpaceError
    (one line saying what to do) for an empty name, an output that is or contains an input,
    lies in a results data set, is a file, or is a non-empty folder designspace did not
    write for this kind."""
    if raw is not None and str(raw).strip():
        given = _abs(raw)
        if given.exists() and not given.is_dir():
            raise DesignSpaceError(
                f"{flag} {raw} is a file; give a folder (an existing file is never replaced)"
            )
    out = _check_common(raw, flag, inputs, "folder")
    if not out.exists():
        _check_creatable(out, flag, raw)
        return out
    if not os.access(out, os.W_OK | os.X_OK):
        raise DesignSpaceError(f"{flag} {raw} cannot be written: no write permission")
    if ownership(out, kind) is None:
        shown = ", ".join(sorted(p.name for p in _visible(out))[:3])
        raise DesignSpaceError(
            f"{flag} {raw} is a folder designspace did not write as a {kind} output (it holds "
            f"{shown}, ...); choose a new or empty folder, it never replaces files it did not "
            f"write"
        )
    return out


def check_out_file(
    raw: str | Path,
    kind: str,
    suffixes: Iterable[str],
    *,
    inputs: Iterable[str | Path] = (),
    flag: str = "-o",
) -> Path:
    """``raw`` as an absolute file path after checking that a command may write a ``kind``
    (:data:`FIGURE`, :data:`TABLE` or :data:`CHECKPOINT`) file there: a new path, or an
    existing file of that kind that designspace wrote (:func:`written_by_designspace`);
    creates nothing. ``suffixes``: the accepted extensions with their dot, lower case.
    DesignSpaceError otherwise."""
    out = _check_common(raw, flag, inputs, "file")
    allowed = tuple(suffixes)
    if out.suffix.lower() not in allowed:
        raise DesignSpaceError(f"{flag} {raw} must end in {', '.join(allowed)}")
    if out.is_dir():
        raise DesignSpaceError(f"{flag} {raw} is a folder; name a {'/'.join(allowed)} file")
    if out.exists() or out.is_symlink():
        if out.is_symlink() or not out.is_file() or not written_by_designspace(out, kind):
            raise DesignSpaceError(
                f"{flag} {raw} exists and is not a {kind} designspace wrote; choose a new file "
                f"name (designspace replaces only its own outputs)"
            )
    _check_creatable(out, flag, raw)
    return out


# --------------------------------------------------------------------- files designspace wrote
_TABLE_COLUMNS = ("space", "sample_index", "arch_id")


def written_by_designspace(path: Path, kind: str) -> bool:
    """Whether the file ``path`` is a ``kind`` output designspace wrote, from its metadata:
    a figure by the mark designspace's plots carry (:data:`FIGURE_MARK` in the PNG
    ``Software`` text chunk, the SVG ``Creator`` and the PDF ``Creator``), a table by its columns (a
    samples or results table has ``space``, ``sample_index`` and ``arch_id``), a checkpoint by
    its ``format`` (:func:`is_checkpoint`). Reads at most a few KiB (a parquet footer for a
    parquet table, the head of a checkpoint; nothing is unpickled)."""
    try:
        suffix = path.suffix.lower()
        if kind == CHECKPOINT:
            return is_checkpoint(_head(path, 64 << 10))
        if kind == FIGURE:
            head = _head(path, 64 << 10)
            mark = FIGURE_MARK.split()[0].encode()  # any version of designspace
            if suffix == ".png":
                return head.startswith(b"\x89PNG\r\n\x1a\n") and b"Software\x00" + mark in head
            if suffix == ".svg":
                return b"<svg" in head and b"<dc:title>" + mark in head
            if suffix == ".pdf":
                return head.startswith(b"%PDF") and mark in head + _tail(path, 64 << 10)
            return False
        if kind == TABLE:
            return set(_TABLE_COLUMNS) <= set(_table_columns(path, suffix))
    except (OSError, ValueError):
        return False
    return False


# A zip archive's first local file header: signature, 22 bytes of fields (compression at
# offset 8), then the lengths of the name and of the extra field.
_ZIP_HEADER = struct.Struct("<4s4xH16xHH")
_CHECKPOINT_FORMAT = re.compile(
    rb"format.{1,12}?" + re.escape(CHECKPOINT_MARK.encode()) + rb"\d+", re.DOTALL
)


def is_checkpoint(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a file, 64 KiB are plenty) starts a checkpoint
    designspace wrote: ``torch.save``'s zip archive whose first member is its pickle
    ``.../data.pkl``, stored uncompressed, opening the payload dict whose first key
    ``format`` is ``designspace-checkpoint-<n>``. Looks at the bytes only (a pickle is never
    run); a user's own ``torch.save`` file lacks the mark."""
    if len(head) < _ZIP_HEADER.size:
        return False
    signature, compression, name_len, extra_len = _ZIP_HEADER.unpack_from(head)
    if signature != b"PK\x03\x04" or compression != 0:
        return False
    name = head[_ZIP_HEADER.size : _ZIP_HEADER.size + name_len]
    start = _ZIP_HEADER.size + name_len + extra_len
    pickle_head = head[start : start + 256]
    return (
        name.endswith(b"/data.pkl")
        and pickle_head.startswith(b"\x80")  # a pickle's PROTO opcode
        and _CHECKPOINT_FORMAT.search(pickle_head) is not None
    )


def _head(path: Path, n: int) -> bytes:
    return reading.read_head(path, "output", n)


def _tail(path: Path, n: int) -> bytes:
    return reading.read_tail(path, "output", n)


def _table_columns(path: Path, suffix: str) -> list[str]:
    if suffix == ".csv":
        first = _head(path, 64 << 10).split(b"\n", 1)[0].decode("utf-8")
        return [c.strip() for c in first.split(",")]
    if suffix == ".jsonl":
        first = _head(path, 1 << 20).split(b"\n", 1)[0]
        row = reading.parse_json(first, f"table {path}")
        return list(row) if isinstance(row, dict) else []
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            with reading.open_regular(path, "table", None) as fh:
                return list(pq.read_schema(fh).names)  # the footer only
        except Exception:  # noqa: BLE001 - any unreadable file is "not ours"
            return []
    return []


# ------------------------------------------------------------------------------- publishing
@dataclass(frozen=True)
class Published:
    """What :func:`publish` did: the files it wrote, the old ones it removed, and the ones it
    kept although the new output lacks them: changed since designspace wrote them, or written
    by an older version without a manifest (relative names)."""

    written: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]


def _files(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name not in _OWN_HIDDEN
    )


def publish(stage: Path, out: Path, command: str, kind: str) -> Published:
    """Move the finished files in ``stage`` (a temporary folder beside ``out``) into ``out``
    and record them in its outputs manifest; ``stage`` is gone afterwards on success.

    ``out`` new: ``stage`` is renamed to it (atomic). ``out`` existing: it must be owned
    (:func:`ownership`); a new file whose name holds a file designspace did not write (or
    that was changed since) is refused before anything moves; then each new file replaces
    its namesake atomically, and old files of the manifest that the new output lacks are
    removed only when their hashes still match (else kept, and listed in ``kept``; so are
    files of an adopted legacy folder, which are overwritten by name but never removed). The
    manifest first lists old and new hashes, so an interrupted publish leaves a folder the
    next run still owns."""
    new = {name: sha256(stage / name) for name in _files(stage)}
    if not out.exists():
        write_outputs_manifest(stage, command, {k: [v] for k, v in new.items()}, kind)
        stage.rename(out)
        return Published(tuple(sorted(new)), (), ())
    owner = ownership(out, kind)
    if owner is None:
        raise DesignSpaceError(
            f"{out} is a folder designspace did not write as a {kind} output; choose a new or "
            f"empty folder"
        )
    old = dict(owner.files)
    current = {name: sha256(out / name) for name in old if (out / name).is_file()}
    for name in new:
        target = out / name
        if target.is_symlink() or target.is_dir():
            raise DesignSpaceError(f"{target} is not a file designspace wrote; move it away")
        if name in owner.adopted:  # written by an older version: replaced by name
            continue
        if target.exists() and current.get(name) not in old.get(name, ()):
            raise DesignSpaceError(
                f"{target} was not written by designspace (or was changed since); move it "
                f"away or choose another output folder"
            )
    union = {n: set(old.get(n, ())) | ({new[n]} if n in new else set()) for n in old.keys() | new}
    write_outputs_manifest(out, command, union, kind)
    for name in new:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage / name, out / name)
    shutil.rmtree(stage, ignore_errors=True)
    removed = []
    kept = sorted(n for n in owner.adopted - set(new) if (out / n).is_file())
    for name in sorted(set(old) - set(new)):
        path = out / name
        if not path.is_file() or path.is_symlink():
            continue
        if current.get(name) in old[name]:
            path.unlink()
            removed.append(name)
        else:
            kept.append(name)
    write_outputs_manifest(out, command, {k: [v] for k, v in new.items()}, kind)
    return Published(tuple(sorted(new)), tuple(removed), tuple(kept))


def claim(out: Path, command: str, kind: str) -> None:
    """Mark the (existing) folder ``out`` as an output of ``kind`` written by ``command``, with
    no files of its own listed (a sweep's files are its ``sweep.json`` and data set); an
    existing manifest is left as it is."""
    if not (out / OUTPUTS_NAME).exists():
        write_outputs_manifest(out, command, {}, kind)
