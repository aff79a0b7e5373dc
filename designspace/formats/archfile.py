"""Reading and writing architectures and sample tables: JSON files, named models, and
``.parquet`` / ``.csv`` / ``.jsonl`` sample files (the format follows the extension).

Sample tables carry an ``arch_json`` column (the exact architecture) next to the flat
columns, so a CSV round trip loses nothing.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from designspace.core import reading
from designspace.core.arch import Architecture
from designspace.errors import DesignSpaceError

if TYPE_CHECKING:
    import pandas as pd

TABLE_FORMATS = (".parquet", ".csv", ".jsonl")


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as .parquet, .csv or .jsonl (by extension), atomically (tmp + rename)."""
    p = Path(path)
    if p.suffix not in TABLE_FORMATS:
        raise DesignSpaceError(
            f"cannot tell the format of {p}: use a file name ending in {', '.join(TABLE_FORMATS)}"
        )
    if p.parent and not p.parent.exists():
        raise DesignSpaceError(f"folder {p.parent} does not exist; create it first")
    tmp = p.with_name(f".{p.name}.tmp")
    if p.suffix == ".parquet":
        frame.to_parquet(tmp, index=False)
    elif p.suffix == ".csv":
        frame.to_csv(tmp, index=False)
    else:
        frame.to_json(tmp, orient="records", lines=True)
    tmp.replace(p)
    return p


def read_table(path: str | Path, limit: int = reading.TABLE_LIMIT) -> pd.DataFrame:
    """Read a .parquet (file or data-set folder), .csv or .jsonl table.

    A file must be a regular file of at most ``limit`` bytes (1 GiB), CSV and JSONL in UTF-8
    (:mod:`designspace.core.reading`).
    """
    import io

    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise DesignSpaceError(f"file {p} does not exist")
    source: Path | io.StringIO = p
    if p.is_dir():
        reading.check_data_set(p, "parquet data set", limit)
        reader = pd.read_parquet
    elif p.suffix in TABLE_FORMATS:
        reading.check_regular_file(p, "table", limit)
        if p.suffix == ".parquet":
            reader = pd.read_parquet
        else:
            source = io.StringIO(reading.read_text(p, "table", limit))
            reader = pd.read_csv if p.suffix == ".csv" else partial(pd.read_json, lines=True)
    else:
        raise DesignSpaceError(
            f"cannot tell the format of {p}: expected {', '.join(TABLE_FORMATS)} or a parquet "
            f"folder"
        )
    try:
        return reader(source)
    except Exception as exc:  # noqa: BLE001 - any reader failure means an unreadable file
        raise DesignSpaceError(f"cannot read {path}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def architecture_from_table(path: str | Path, index: int) -> Architecture:
    """Architecture in row ``index`` (0-based position) of a samples or results table."""
    frame = read_table(path)
    if isinstance(index, bool) or not isinstance(index, int):
        raise DesignSpaceError(f"--index must be a whole row number, got {index!r}")
    if len(frame) == 0:
        raise DesignSpaceError(f"{path} has no rows")
    if not 0 <= index < len(frame):
        raise DesignSpaceError(
            f"--index {index} is out of range: {path} has {len(frame)} rows (0..{len(frame) - 1})"
        )
    row = frame.iloc[index]
    try:
        if "arch_json" in frame.columns:
            return Architecture.from_json(row["arch_json"])
        return Architecture.from_row(row)
    except DesignSpaceError as exc:
        raise DesignSpaceError(f"{path} row {index}: {exc}") from None


def read_architecture(spec: str) -> Architecture:
    """A named model (``RegNetX-400MF``, ``RegNetX32``) or a path to an architecture JSON file."""
    if spec.endswith(".json") or Path(spec).is_file():
        p = Path(spec)
        # NaN and Infinity reach the architecture's own checks, which name the field
        data = reading.load_json(p, "architecture file", reading.SMALL_LIMIT, allow_nan=True)
        try:
            return Architecture.from_dict(data)
        except DesignSpaceError as exc:
            raise DesignSpaceError(f"{p}: {exc}") from None
    from designspace.core.named import get_model

    return get_model(spec)
