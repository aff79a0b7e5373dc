"""Reading results sets from disk: parquet directories or files, and CSV files.

A directory is a sweep folder (its ``results/`` data set) or a parquet data set folder, read by
:func:`designspace.formats.results.scan_results` (hidden and ``_`` files are ignored; unreadable
files are skipped with a warning naming each). Several paths are concatenated (columns missing in
some become NaN). CSV list cells such as ``[1, 2, 3]`` stay text here and are parsed where needed
(see ``_data.as_list``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from designspace.errors import DesignSpaceError


def load_results(paths: str | Path | Sequence[str | Path]) -> pd.DataFrame:
    """Load one or several results sets (parquet directory/file or .csv) into one DataFrame."""
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
                frame = pd.read_csv(path)
            elif path.suffix.lower() in (".parquet", ".pq"):
                frame = pd.read_parquet(path)
            else:
                raise DesignSpaceError(
                    f"cannot read {str(path)!r}: expected a parquet directory, a .parquet file "
                    f"or a .csv file"
                )
        except DesignSpaceError:
            raise
        except Exception as exc:  # pyarrow / parser errors: say which file is broken
            raise DesignSpaceError(f"cannot read results {str(path)!r}: {exc}") from None
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
