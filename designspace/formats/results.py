"""The results data set of a sweep: schema, atomic per-model parquet files, loading, manifest.

A sweep's output folder ``OUT`` holds

* ``OUT/sweep.json``: the manifest, the settings that define the sweep (spaces, n, seed,
  regime, every training setting) and the size of its plan;
* ``OUT/results/``: a parquet data set, one file per evaluated model, written atomically
  (a hidden temporary file in the same folder, then :func:`os.replace`) the moment its trial
  ends, so ``pandas.read_parquet("OUT/results")`` works at any time, during the sweep too;
* ``OUT/quarantine/``: unreadable result files moved out of the data set (never deleted) so
  that their models can be trained again.

One row per model. Columns (see :func:`results_schema`; every file of a sweep has the same
schema, so readers never see a column change type between files):

* identity: ``sweep, space, regime, sample_seed, sample_index, arch_id, name, arch_json``;
* architecture: every column of :meth:`Architecture.to_row` (per-stage lists ``depths,
  widths, bottleneck_ratios, group_widths, strides`` and flat ``d<i>, w<i>, b<i>, g<i>`` for i
  up to the largest stage count of the sweep; null where a network has fewer stages);
* complexity at the training resolution: ``resolution`` (px), ``flops`` (multiply-adds),
  ``params``, ``acts``;
* settings: every training setting as ``cfg_<field>``;
* metrics: ``status`` ("ok", "diverged" or "failed"), ``val_top1_err``, ``best_val_top1_err``,
  ``val_top5_err`` (fractions in [0, 1], never %), ``train_loss``, per-epoch lists
  ``epoch_train_loss``, ``epoch_val_top1_err``, ``epoch_val_top5_err``, ``train_time_s``,
  ``images_per_s``, ``peak_memory_mb``, ``device``, ``steps``, ``epochs_done``, ``error`` and
  whatever else the trainer reports;
* provenance: ``host``, ``designspace_version``, ``finished_at`` (UTC, ISO 8601), ``attempt``
  (1 = first try).

This module is pure (pandas/pyarrow only): the sweep passes in the types of the training
settings and metrics.
"""

from __future__ import annotations

import json
import os
import re
import uuid
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from designspace.core import reading
from designspace.errors import DesignSpaceError

MANIFEST_NAME = "sweep.json"
DATA_DIRNAME = "results"
QUARANTINE_DIRNAME = "quarantine"
MANIFEST_FORMAT = "designspace-sweep-1"
#: The largest sweep manifest read, bytes (a manifest holds settings, a few KiB).
MANIFEST_LIMIT = 16 << 20
# One result file holds one model's row (a few KiB; a replicate's rows a little more): a file
# far bigger is not one of ours and is listed as bad instead of being read.
RESULT_FILE_LIMIT = 64 << 20
KEY_COLUMNS = ("space", "sample_index", "arch_id")

IDENTITY_COLUMNS: dict[str, pa.DataType] = {
    "sweep": pa.string(),
    "space": pa.string(),
    "regime": pa.string(),
    "sample_seed": pa.int64(),
    "sample_index": pa.int64(),
    "arch_id": pa.string(),
    "name": pa.string(),
    "arch_json": pa.string(),
}
ARCH_COLUMNS: dict[str, pa.DataType] = {
    "block": pa.string(),
    "stem": pa.string(),
    "stem_width": pa.int64(),
    "in_channels": pa.int64(),
    "num_classes": pa.int64(),
    "se_ratio": pa.float64(),
    "num_stages": pa.int64(),
    "depth": pa.int64(),
    "depths": pa.list_(pa.int64()),
    "widths": pa.list_(pa.int64()),
    "bottleneck_ratios": pa.list_(pa.float64()),
    "group_widths": pa.list_(pa.int64()),
    "strides": pa.list_(pa.int64()),
}
STAGE_COLUMNS: dict[str, pa.DataType] = {
    "d": pa.int64(),
    "w": pa.int64(),
    "b": pa.float64(),
    "g": pa.int64(),
}
COMPLEXITY_COLUMNS: dict[str, pa.DataType] = {
    "resolution": pa.int64(),
    "flops": pa.int64(),
    "params": pa.int64(),
    "acts": pa.int64(),
}
PROVENANCE_COLUMNS: dict[str, pa.DataType] = {
    "host": pa.string(),
    "designspace_version": pa.string(),
    "finished_at": pa.string(),
    "attempt": pa.int64(),
}
STATUSES = ("ok", "diverged", "failed")

_SCALARS = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}


class ResultsWarning(UserWarning):
    """A result file could not be read and was skipped (its model counts as not evaluated)."""


def arrow_type(annotation: Any) -> pa.DataType:
    """Arrow type for a dataclass field annotation such as ``"int | None"`` or ``list[float]``.

    Supported: str, int, float, bool, optionally ``| None``, and ``list[...]`` of those.
    """
    if isinstance(annotation, str):
        text = annotation
    elif isinstance(annotation, type):
        text = annotation.__name__
    else:
        text = str(annotation).replace("typing.", "")
    text = re.sub(r"^Optional\[(.*)\]$", r"\1", text.strip())
    parts = [p.strip() for p in text.split("|")]
    parts = [p for p in parts if p not in ("None", "NoneType")]
    if len(parts) == 1:
        base = parts[0]
        if base in _SCALARS:
            return _SCALARS[base]
        match = re.fullmatch(r"(?:list|List)\[(\w+)\]", base)
        if match and match.group(1) in _SCALARS:
            return pa.list_(_SCALARS[match.group(1)])
    raise TypeError(f"no parquet column type for the annotation {annotation!r}")


def results_schema(
    max_stages: int,
    settings: Mapping[str, Any],
    metrics: Mapping[str, Any],
) -> pa.Schema:
    """The schema of every result file of a sweep.

    ``max_stages``: the largest stage count in the sweep (flat columns d1..d<max_stages>);
    ``settings``: training setting name -> annotation (columns ``cfg_<name>``); ``metrics``:
    metric name -> annotation (the trainer's result fields; names already used by the fixed
    columns, such as ``resolution``, keep the fixed column).
    """
    columns: dict[str, pa.DataType] = dict(IDENTITY_COLUMNS)
    columns.update(ARCH_COLUMNS)
    for i in range(1, max_stages + 1):
        for prefix, dtype in STAGE_COLUMNS.items():
            columns[f"{prefix}{i}"] = dtype
    columns.update(COMPLEXITY_COLUMNS)
    for key, annotation in settings.items():
        columns[f"cfg_{key}"] = arrow_type(annotation)
    for key, annotation in metrics.items():
        if key not in columns and key not in PROVENANCE_COLUMNS:
            columns[key] = arrow_type(annotation)
    columns.update(PROVENANCE_COLUMNS)
    return pa.schema([pa.field(name, dtype, nullable=True) for name, dtype in columns.items()])


def result_filename(space: str, sample_index: int, arch_id: str) -> str:
    """File name of one model's result: ``<space>-<index:06d>-<arch_id>.parquet``.

    The name is a function of the model's key, so one model can never have two files.
    """
    safe = re.sub(r"[^A-Za-z0-9_.+-]", "-", str(space)).lstrip("._-") or "space"
    return f"{safe}-{int(sample_index):06d}-{arch_id}.parquet"


def assemble_row(
    plan_row: Mapping[str, Any],
    settings: Mapping[str, Any],
    metrics: Mapping[str, Any],
    *,
    sweep: str,
    host: str | None,
    attempt: int,
    version: str,
) -> dict[str, Any]:
    """One result row: the model's plan row, ``cfg_``-prefixed settings, metrics, provenance.

    Plan columns (identity, architecture, complexity) win over metrics of the same name.
    """
    row: dict[str, Any] = {k: v for k, v in metrics.items()}
    row.update({f"cfg_{k}": v for k, v in settings.items()})
    row.update(plan_row)
    row.update(
        sweep=sweep,
        host=host,
        designspace_version=version,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        attempt=int(attempt),
    )
    return row


def write_result(data_dir: str | Path, row: Mapping[str, Any], schema: pa.Schema) -> Path:
    """Write one model's row as its own parquet file, atomically; return the file's path.

    The row goes to a hidden temporary file in ``data_dir`` (readers skip names starting with
    ``.``), is flushed to disk, and is renamed into place, so a reader sees either no file or
    the whole file. An existing result is never replaced (FileExistsError). Keys of ``row``
    that the schema lacks raise ValueError; schema columns missing from the row are null.
    """
    data_dir = Path(data_dir)
    unknown = sorted(set(row) - set(schema.names))
    if unknown:
        raise ValueError(f"result row has columns that the schema lacks: {unknown}")
    final = data_dir / result_filename(row["space"], row["sample_index"], row["arch_id"])
    if final.exists():
        raise FileExistsError(f"{final} exists; results are never rewritten")
    table = pa.Table.from_pylist([dict(row)], schema=schema)
    tmp = data_dir / f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(data_dir)
    return final


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class ResultsScan:
    """What a results folder holds: the readable rows and the files that could not be read."""

    table: pa.Table | None
    files: list[Path] = field(default_factory=list)
    bad: list[tuple[Path, str]] = field(default_factory=list)

    def to_pandas(self):  # -> pandas.DataFrame
        """The rows as a DataFrame (empty, without columns, when there are none)."""
        import pandas as pd

        if self.table is None:
            return pd.DataFrame()
        return self.table.to_pandas()

    def keys(self) -> set[tuple[str, int, str]]:
        """``(space, sample_index, arch_id)`` of every readable row."""
        if self.table is None:
            return set()
        cols = [self.table.column(c).to_pylist() for c in KEY_COLUMNS]
        return {(s, int(i), a) for s, i, a in zip(*cols, strict=True)}


def data_dir_of(path: str | Path) -> Path:
    """The parquet folder of a sweep: ``path/results`` for a sweep folder, else ``path``."""
    p = Path(path)
    if (p / MANIFEST_NAME).is_file() or (p / DATA_DIRNAME).is_dir():
        return p / DATA_DIRNAME
    return p


def result_files(data_dir: str | Path) -> list[Path]:
    """Result files of a data set folder, sorted (hidden and ``_`` names excluded, like
    pyarrow's own data set discovery)."""
    d = Path(data_dir)
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith((".", "_")))


def scan_results(path: str | Path) -> ResultsScan:
    """Read every result file under ``path`` (a sweep folder or its ``results`` folder).

    A file that is not readable parquet, or lacks the key columns, is listed in ``bad`` with
    the reason instead of being read; nothing is modified.
    """
    files = result_files(data_dir_of(path))
    tables: list[pa.Table] = []
    good: list[Path] = []
    bad: list[tuple[Path, str]] = []
    for f in files:
        try:
            with reading.open_regular(f, "result file", RESULT_FILE_LIMIT) as fh:
                table = pq.read_table(fh)
        except DesignSpaceError as exc:  # not a regular file, or far too big for one row
            bad.append((f, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad files
            bad.append((f, f"{type(exc).__name__}: {exc}"))
            continue
        missing = [c for c in KEY_COLUMNS if c not in table.column_names]
        if missing or table.num_rows == 0:
            bad.append((f, f"not a result file (missing {missing or 'rows'})"))
            continue
        tables.append(table)
        good.append(f)
    if not tables:
        return ResultsScan(None, good, bad)
    table = pa.concat_tables(tables, promote_options="permissive")
    return ResultsScan(table, good, bad)


def load_results(path: str | Path, status: str | Iterable[str] | None = None):
    """Load a sweep's results as a pandas DataFrame (one row per evaluated model).

    ``path``: a sweep folder (with ``sweep.json``), a study folder (the same, with its
    ``analysis/`` beside, which is not read), or the ``results`` parquet folder of either.
    Unreadable files are skipped with a :class:`ResultsWarning` naming each. ``status``
    keeps only rows with that status (or any of several); None keeps every row.
    """
    scan = scan_results(path)
    for f, reason in scan.bad:
        warnings.warn(
            f"skipping unreadable result file {f}: {reason}", ResultsWarning, stacklevel=2
        )
    frame = scan.to_pandas()
    if status is not None and len(frame):
        wanted = [status] if isinstance(status, str) else list(status)
        frame = frame[frame["status"].isin(wanted)].reset_index(drop=True)
    return frame


def quarantine(run_dir: str | Path, files: Iterable[Path]) -> list[Path]:
    """Move unreadable result files to ``run_dir/quarantine/`` (kept, never deleted).

    Returns the new paths. A file of the same name already there gets a numeric suffix.
    """
    target = Path(run_dir) / QUARANTINE_DIRNAME
    moved = []
    for f in files:
        target.mkdir(exist_ok=True)
        dest = target / f.name
        k = 1
        while dest.exists():
            dest = target / f"{f.name}.{k}"
            k += 1
        os.replace(f, dest)
        moved.append(dest)
    return moved


# --------------------------------------------------------------------------- manifest
def read_manifest(run_dir: str | Path) -> dict[str, Any] | None:
    """The manifest of the sweep in ``run_dir``, or None when there is none."""
    p = Path(run_dir) / MANIFEST_NAME
    if not p.exists():
        return None
    try:
        data = reading.load_json(p, "sweep manifest", MANIFEST_LIMIT, allow_nan=True)
    except DesignSpaceError as exc:
        raise DesignSpaceError(
            f"{p} is not a readable sweep manifest ({exc}); choose another --out"
        ) from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise DesignSpaceError(f"{p} is not a designspace sweep manifest; choose another --out")
    return data


def write_manifest(run_dir: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``run_dir/sweep.json`` atomically; an existing manifest is never replaced."""
    run_dir = Path(run_dir)
    p = run_dir / MANIFEST_NAME
    if p.exists():
        raise FileExistsError(f"{p} exists")
    tmp = run_dir / f".{MANIFEST_NAME}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(json.dumps(dict(manifest), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, p)
    return p


def manifest_differences(
    old: Mapping[str, Any], new: Mapping[str, Any], sections: Iterable[str] = ("study", "train")
) -> list[str]:
    """Human-readable ``section.key: old -> new`` lines where two manifests' settings differ."""

    def short(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."

    out = []
    for section in sections:
        a, b = old.get(section, {}) or {}, new.get(section, {}) or {}
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                out.append(f"{section}.{key}: {short(a.get(key))} -> {short(b.get(key))}")
    return out
