"""Reading and writing architectures and sample tables: JSON files, named models, and
``.parquet`` / ``.csv`` / ``.jsonl`` sample files (the format follows the extension).

Sample tables carry an ``arch_json`` column (the exact architecture) next to the flat
columns, so a CSV round trip loses nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

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


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a .parquet (file or data-set folder), .csv or .jsonl table."""
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise DesignSpaceError(f"file {p} does not exist")
    try:
        if p.is_dir() or p.suffix == ".parquet":
            return pd.read_parquet(p)
        if p.suffix == ".csv":
            return pd.read_csv(p)
        if p.suffix == ".jsonl":
            return pd.read_json(p, lines=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure means an unreadable file
        raise DesignSpaceError(f"cannot read {p}: {exc}") from None
    raise DesignSpaceError(
        f"cannot tell the format of {p}: expected {', '.join(TABLE_FORMATS)} or a parquet folder"
    )


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
        try:
            text = p.read_text()
        except OSError as exc:
            raise DesignSpaceError(f"cannot read architecture file {p}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise DesignSpaceError(
                f"architecture file {p} is not text (UTF-8 JSON expected)"
            ) from None
        try:
            return Architecture.from_json(text)
        except DesignSpaceError as exc:
            raise DesignSpaceError(f"{p}: {exc}") from None
    from designspace.core.named import get_model

    return get_model(spec)
