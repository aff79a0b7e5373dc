"""Analysis of design-space results (NDS 2019, DDS 2020): pure numpy / pandas / scipy.

May import :mod:`designspace.formats`, :mod:`designspace.core` and :mod:`designspace.errors`;
never torch, ray, matplotlib, sweeps or reporting.

Everything takes a results DataFrame in the sweep's schema (one row per evaluated model;
errors are fractions in [0, 1]; flops are multiply-adds) and returns numbers or DataFrames.
Rows whose ``status`` is not "ok" are excluded and counted. Nothing here imports torch or ray.
"""

from designspace.analysis.balance import (
    INTENDED,
    StepBalance,
    Stratified,
    balance,
    confounded_label,
    confounders,
    step_balance,
    stratified_comparison,
    structural_features,
)
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
    Normalization,
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
    max_common_bins,
    normalized_weights,
)
from designspace.analysis.effects import (
    MedianDifference,
    Superiority,
    median_difference,
    superiority,
)
from designspace.analysis.family import Family, FamilyInference
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
from designspace.analysis.inference import Inference
from designspace.analysis.load import load_results
from designspace.analysis.multiplicity import adjust_pvalues, interval_alpha
from designspace.analysis.noise import NoiseFloor, noise_floor, noise_table, seed_agreement
from designspace.analysis.preferences import preferences
from designspace.analysis.rules import (
    NESTED_STEPS,
    Step,
    derive_rules,
    nested_rules,
    observational_rules,
)
from designspace.analysis.search import expected_best, min_of_k_probabilities, search_efficiency

__all__ = [
    "INTENDED",
    "StepBalance",
    "Stratified",
    "balance",
    "confounded_label",
    "confounders",
    "step_balance",
    "stratified_comparison",
    "structural_features",
    "NESTED_STEPS",
    "NoiseFloor",
    "Step",
    "adjust_pvalues",
    "interval_alpha",
    "max_common_bins",
    "nested_rules",
    "noise_floor",
    "noise_table",
    "observational_rules",
    "preferences",
    "seed_agreement",
    "EDF",
    "Comparison",
    "Family",
    "FamilyInference",
    "FitGrid",
    "GoodRange",
    "Inference",
    "MedianDifference",
    "KSResult",
    "Normalization",
    "RegNetFit",
    "Superiority",
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
    "median_difference",
    "min_of_k_probabilities",
    "normalized_weights",
    "quantized_widths",
    "rank_agreement",
    "sample_size_sensitivity",
    "search_efficiency",
    "summary",
    "superiority",
    "verdict",
]
