"""Shared input handling for the analysis modules: validation, the status filter, list columns.

Every public analysis function accepts a results DataFrame in the schema that the sweep writes
(one row per evaluated model; see notes/CONTRACTS.md) and goes through :func:`usable` first, so
all of them fail the same way on bad input: a :class:`DesignSpaceError` that says what is
missing and what to do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from designspace.errors import DesignSpaceError

METRIC = "val_top1_err"
GROUP = "space"
COMPLEXITY = "flops"


@dataclass(frozen=True)
class Usable:
    """Rows fit for analysis plus what was dropped: ``n_excluded`` models with status != "ok"
    or a missing/non-finite metric, counted per status in ``excluded``."""

    data: pd.DataFrame
    n_total: int
    n_excluded: int
    excluded: dict[str, int]

    def note(self) -> str:
        """One sentence about the excluded models (empty when none were)."""
        if not self.n_excluded:
            return ""
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.excluded.items()))
        return (
            f"{self.n_excluded} of {self.n_total} models excluded (status != 'ok' or no metric: "
            f"{parts})"
        )


def require_columns(data: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise DesignSpaceError naming every column of ``columns`` that ``data`` lacks."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        shown = ", ".join(map(str, list(data.columns)[:12]))
        more = "" if len(data.columns) <= 12 else ", ..."
        raise DesignSpaceError(
            f"{what} needs column(s) {missing} that the results do not have (columns: "
            f"{shown}{more}); pass results in the sweep's schema or choose other columns"
        )


def usable(
    data: pd.DataFrame | None,
    metric: str = METRIC,
    columns: Iterable[str] = (),
    what: str = "the analysis",
) -> Usable:
    """Validate ``data`` and keep the rows with status "ok" and a finite ``metric``.

    ``columns`` are further columns that must exist. Raises DesignSpaceError when ``data`` is
    empty, lacks a needed column or has no usable row (e.g. every model failed).
    """
    if data is None or not isinstance(data, pd.DataFrame):
        raise DesignSpaceError(f"{what} needs a results DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise DesignSpaceError(
            f"{what}: the results are empty (0 models); run a sweep first or point at the "
            f"directory it wrote"
        )
    require_columns(data, [metric, *columns], what)
    n_total = len(data)
    keep = np.ones(n_total, dtype=bool)
    excluded: dict[str, int] = {}
    if "status" in data.columns:
        status = data["status"].astype(object).where(data["status"].notna(), "missing")
        status = status.astype(str).to_numpy()
        bad = status != "ok"
        for s in np.unique(status[bad]):
            excluded[str(s)] = int(np.sum(status == s))
        keep &= ~bad
    values = pd.to_numeric(data[metric], errors="coerce").to_numpy(dtype=float)
    no_metric = keep & ~np.isfinite(values)
    if no_metric.any():
        excluded["no metric"] = int(no_metric.sum())
        keep &= ~no_metric
    if not keep.any():
        parts = ", ".join(f"{k} {v}" for k, v in sorted(excluded.items()))
        raise DesignSpaceError(
            f"{what}: none of the {n_total} models is usable ({parts}); every model failed or "
            f"has no '{metric}' - check the sweep's error column and rerun"
        )
    out = data.loc[keep].copy()
    out[metric] = values[keep]
    return Usable(out, n_total, int(n_total - keep.sum()), excluded)


def group_labels(data: pd.DataFrame, by: str | None) -> np.ndarray:
    """The group of every row as strings ("all" when ``by`` is None)."""
    if by is None:
        return np.full(len(data), "all", dtype=object)
    require_columns(data, [by], "grouping")
    return data[by].astype(object).where(data[by].notna(), "<missing>").astype(str).to_numpy()


def group_order(labels: np.ndarray) -> list[str]:
    """Groups in sorted order (AnyNetXA before AnyNetXB ...)."""
    return sorted({str(x) for x in labels})


_NUMPY_SCALAR = re.compile(r"np\.\w+\(([^()]*)\)")


def as_list(value: Any) -> list:
    """A per-stage list cell as a Python list: list, numpy array or JSON text (from CSV)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            # numpy's repr "[1 2 3]" (a parquet list column written to CSV), or a list of numpy
            # scalars written by pandas: "[np.float64(0.36), np.float64(0.31)]"
            text = _NUMPY_SCALAR.sub(r"\1", value)
            try:
                value = [float(x) for x in text.strip().strip("[]").replace(",", " ").split()]
            except ValueError:
                raise DesignSpaceError(
                    f"cannot read the list cell {value!r}; expected JSON like [1, 2, 3]"
                ) from None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        raise DesignSpaceError("a per-stage list cell is empty; the results row is incomplete")
    return list(np.asarray(value).tolist())


def stage_lists(data: pd.DataFrame, column: str) -> list[np.ndarray]:
    """Every row's per-stage list ``column`` (depths, widths, ...) as float arrays."""
    require_columns(data, [column], "per-stage analysis")
    return [np.asarray(as_list(v), dtype=float) for v in data[column].to_numpy()]


def block_widths(data: pd.DataFrame) -> list[np.ndarray]:
    """Per-block output widths of every row: each stage width repeated depth times."""
    depths = stage_lists(data, "depths")
    widths = stage_lists(data, "widths")
    out = []
    for d, w in zip(depths, widths, strict=True):
        if len(d) != len(w):
            raise DesignSpaceError("a row's depths and widths lists differ in length")
        out.append(np.repeat(w, d.astype(int)))
    return out
