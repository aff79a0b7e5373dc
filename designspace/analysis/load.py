"""Reading results sets from disk: parquet directories or files, and CSV files.

A directory is a sweep folder (its ``results/`` data set) or a parquet data set folder, read by
:func:`designspace.formats.results.scan_results` (hidden and ``_`` files are ignored; unreadable
files are skipped with a warning naming each). Several paths are concatenated (columns missing in
some become NaN). CSV list cells such as ``[1, 2, 3]`` stay text here and are parsed where needed
(see ``_data.as_list``).

Every set is checked on load (:func:`check_values`): error columns (scalar columns whose name
ends in ``_err``) hold fractions in [0, 1] (or are missing), ``flops`` and ``params`` are
positive and finite (or missing); anything else is refused naming the column, the value and
the row. A CSV file is read through :mod:`designspace.core.reading` (a regular UTF-8 file of
at most ``limit`` bytes).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from designspace.core import reading
from designspace.errors import DesignSpaceError

#: Columns that count things and must be positive and finite where given.
POSITIVE_COLUMNS = ("flops", "params")
#: The largest count accepted (10^18 multiply-adds is far beyond any network).
MAX_COUNT = 1e18


def load_results(
    paths: str | Path | Sequence[str | Path], limit: int = reading.TABLE_LIMIT
) -> pd.DataFrame:
    """Load one or several results sets (parquet directory/file or .csv) into one DataFrame.

    ``limit``: the largest CSV or parquet file read, bytes (1 GiB). Every set is checked by
    :func:`check_values`.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise DesignSpaceError("no results path given; pass a parquet directory or file or a CSV")
    frames = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise DesignSpaceError(f"results path {str(path)!r} does not exist")
        try:
            if path.is_dir():
                frame = _read_directory(path)
            elif path.suffix.lower() == ".csv":
                text = reading.read_text(path, "results file", limit)
                frame = pd.read_csv(io.StringIO(text))
            elif path.suffix.lower() in (".parquet", ".pq"):
                reading.check_regular_file(path, "results file", limit)
                frame = pd.read_parquet(path)
            else:
                raise DesignSpaceError(
                    f"cannot read {str(path)!r}: expected a parquet directory, a .parquet file "
                    f"or a .csv file"
                )
        except DesignSpaceError:
            raise
        except Exception as exc:  # pyarrow / parser errors: say which file is broken
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise DesignSpaceError(f"cannot read results {str(path)!r}: {first}") from None
        check_values(frame, str(path))
        frames.append(frame)
    frames = [f for f in frames if len(f)]
    if not frames:
        raise DesignSpaceError(f"the results in {[str(p) for p in paths]} hold no rows")
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _read_directory(path: Path) -> pd.DataFrame:
    from designspace.formats.results import ResultsWarning, scan_results

    scan = scan_results(path)
    for f, reason in scan.bad:
        warnings.warn(
            f"skipping unreadable result file {f}: {reason}", ResultsWarning, stacklevel=3
        )
    if scan.table is None:
        why = f" ({len(scan.bad)} unreadable, e.g. {scan.bad[0][0].name})" if scan.bad else ""
        raise DesignSpaceError(
            f"results directory {str(path)!r} holds no result files{why}; point at a sweep's "
            f"output folder or its results/ folder"
        )
    return scan.to_pandas()


def check_values(frame: pd.DataFrame, where: str) -> None:
    """Refuse values out of their range in a results set read from ``where``: a finite or
    infinite value outside [0, 1] in a numeric column named ``*_err`` (errors are fractions,
    never percentages), or a value that is not positive, finite and at most :data:`MAX_COUNT`
    in ``flops`` / ``params``; text that is no number counts as missing. Missing values
    (NaN, null) pass: a failed model has none. DesignSpaceError names the
    column, the value and the row (its result file when the row has the key columns)."""
    for column in frame.columns:
        name = str(column)
        if name.endswith("_err"):
            rule = "errors are fractions in [0, 1]: divide percentages by 100"
        elif name in POSITIVE_COLUMNS:
            rule = f"{name} must be a positive finite number of at most {MAX_COUNT:g}"
        else:
            continue
        values = _numbers(frame[column])
        if values is None:
            continue  # list columns (epoch curves) are checked where they are used
        present = ~np.isnan(values)
        if name.endswith("_err"):
            ok = (values >= 0) & (values <= 1)
        else:
            ok = np.isfinite(values) & (values > 0) & (values <= MAX_COUNT)
        bad = np.flatnonzero(present & ~ok)
        if bad.size:
            i = int(bad[0])
            more = f" (and {bad.size - 1} more rows)" if bad.size > 1 else ""
            raise DesignSpaceError(
                f"results {where!r}: column '{name}' holds {values[i]:g} in {_row_name(frame, i)}"
                f"{more}; {rule}"
            )


def _numbers(series: pd.Series) -> np.ndarray | None:
    """A column's numbers as floats (text that is no number: NaN, as the analysis reads it),
    or None for a column of lists."""
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    try:
        numbers = pd.to_numeric(series, errors="coerce")
    except (TypeError, ValueError):  # list or array cells
        return None
    return numbers.to_numpy(dtype=float, na_value=np.nan)


def _row_name(frame: pd.DataFrame, i: int) -> str:
    """``row 3 (file ResNet-00000003-ab12.parquet)`` or ``row 3``."""
    from designspace.formats.results import KEY_COLUMNS, result_filename

    if all(c in frame.columns for c in KEY_COLUMNS):
        space, index, arch_id = (frame[c].iloc[i] for c in KEY_COLUMNS)
        try:
            return f"row {i} (file {result_filename(str(space), int(index), str(arch_id))})"
        except (TypeError, ValueError, DesignSpaceError):
            pass
    return f"row {i}"
