"""designspace: design network design spaces (NDS 2019, DDS/RegNet 2020).

Every name below loads its module on first use: the pure core (architectures, spaces,
sampling, the RegNet rule, analytic complexity; neither torch nor ray), the torch-backed
functions (``build_model``, ``count_fvcore``, ``load_data``, ``train``), the sweep
(``run_sweep``) and the design-space design loop (``refine``).

Conventions everywhere: flops are multiply-adds; errors are fractions in [0, 1]; resolutions
are the side of a square input in pixels.
"""

from __future__ import annotations

import importlib
from typing import Any

from designspace.errors import DesignSpaceError
from designspace.version import __version__ as __version__

# name -> module, imported on first attribute access: `import designspace` (and so the command
# line, whose SIGINT/SIGTERM handlers can only be installed once it has loaded) stays instant.
_LAZY = {
    "Architecture": "designspace.core.arch",
    "Stage": "designspace.core.arch",
    "Complexity": "designspace.core.complexity",
    "complexity": "designspace.core.complexity",
    "stage_summary": "designspace.core.complexity",
    "get_model": "designspace.core.named",
    "list_models": "designspace.core.named",
    "Regime": "designspace.core.regimes",
    "get_regime": "designspace.core.regimes",
    "list_regimes": "designspace.core.regimes",
    "regnet_architecture": "designspace.core.regnet",
    "regnet_widths": "designspace.core.regnet",
    "SampleSet": "designspace.core.sampling",
    "sample": "designspace.core.sampling",
    "get_space": "designspace.core.spaces",
    "list_spaces": "designspace.core.spaces",
    "load_space": "designspace.core.spaces",
    "build_model": "designspace.training.models",
    "count_fvcore": "designspace.training.counting",
    "count_flop_counter_mode": "designspace.training.counting",
    "load_data": "designspace.training.data",
    "TrainConfig": "designspace.training.trainconfig",
    "DataConfig": "designspace.core.datasets",
    "TrainResult": "designspace.training.train",
    "train": "designspace.training.train",
    "run_sweep": "designspace.sweep",
    "SweepConfig": "designspace.sweep",
    "load_results": "designspace.formats.results",
    "refine": "designspace.studies.refine",
    "RefineSettings": "designspace.studies.refine",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'designspace' has no attribute {name!r}")


__all__ = ["DesignSpaceError", *_LAZY]
