"""Analysis of design-space results (NDS 2019, DDS 2020): pure numpy / pandas / scipy.

Everything takes a results DataFrame in the sweep's schema (one row per evaluated model;
errors are fractions in [0, 1]; flops are multiply-adds) and returns numbers or DataFrames.
Rows whose ``status`` is not "ok" are excluded and counted. Nothing here imports torch or ray.
"""

from designspace.analysis.bootstrap import (
    GoodRange,
    best_of_subsamples,
    best_positions,
    good_range,
    good_ranges,
)
from designspace.analysis.compare import (
    Comparison,
    KSResult,
    area_under_edf,
    compare,
    ks_test,
    sample_size_sensitivity,
    summary,
    verdict,
)
from designspace.analysis.edf import (
    EDF,
    bootstrap_band,
    common_range,
    dkw_band,
    dkw_epsilon,
    edf,
    edfs,
    normalized_weights,
)
from designspace.analysis.features import add_features
from designspace.analysis.fidelity import join_results, rank_agreement
from designspace.analysis.fit import (
    FitGrid,
    RegNetFit,
    fit_block_widths,
    fit_regnet,
    fit_widths,
    quantized_widths,
)
from designspace.analysis.load import load_results
from designspace.analysis.rules import derive_rules
from designspace.analysis.search import expected_best, min_of_k_probabilities, search_efficiency

__all__ = [
    "EDF",
    "Comparison",
    "FitGrid",
    "GoodRange",
    "KSResult",
    "RegNetFit",
    "add_features",
    "area_under_edf",
    "best_of_subsamples",
    "best_positions",
    "bootstrap_band",
    "common_range",
    "compare",
    "derive_rules",
    "dkw_band",
    "dkw_epsilon",
    "edf",
    "edfs",
    "expected_best",
    "fit_block_widths",
    "fit_regnet",
    "fit_widths",
    "good_range",
    "good_ranges",
    "join_results",
    "ks_test",
    "load_results",
    "min_of_k_probabilities",
    "normalized_weights",
    "quantized_widths",
    "rank_agreement",
    "sample_size_sensitivity",
    "search_efficiency",
    "summary",
    "verdict",
]
