"""Per-model design features derived from the per-stage lists of a results table.

Columns added by :func:`add_features` (one value per model):

* ``b``, ``g``: geometric mean over stages of the bottleneck ratio and the group width (equal
  to the shared value when all stages share it);
* ``shared_b``, ``shared_g``: every stage has the same b / g;
* ``widths_increase``, ``depths_increase``: w_{i+1} >= w_i / d_{i+1} >= d_i for all stages
  (the AnyNetXD / XE constraints); single-stage models count as satisfying them;
* with ``fit``: ``fit_w0``, ``fit_wa``, ``fit_wm``, ``e_fit`` from :mod:`.fit`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from designspace.analysis._data import require_columns, stage_lists
from designspace.analysis.fit import FitGrid, fit_regnet

STAGE_COLUMNS = ("depths", "widths", "bottleneck_ratios", "group_widths")


def add_features(data: pd.DataFrame, fit: bool = True, grid: FitGrid | None = None) -> pd.DataFrame:
    """A copy of ``data`` with the feature columns above (existing fit columns are kept)."""
    require_columns(data, STAGE_COLUMNS, "design features")
    out = data.copy()
    d = stage_lists(out, "depths")
    w = stage_lists(out, "widths")
    b = stage_lists(out, "bottleneck_ratios")
    g = stage_lists(out, "group_widths")
    out["b"] = [float(np.exp(np.mean(np.log(x)))) for x in b]
    out["g"] = [float(np.exp(np.mean(np.log(x)))) for x in g]
    out["shared_b"] = [bool(np.all(x == x[0])) for x in b]
    out["shared_g"] = [bool(np.all(x == x[0])) for x in g]
    out["widths_increase"] = [bool(np.all(np.diff(x) >= 0)) for x in w]
    out["depths_increase"] = [bool(np.all(np.diff(x) >= 0)) for x in d]
    if fit and not {"fit_w0", "fit_wa", "fit_wm", "e_fit"} <= set(out.columns):
        fitted = fit_regnet(out, grid)
        for col in fitted.columns:
            out[col] = fitted[col].to_numpy()
    return out
