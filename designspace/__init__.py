"""designspace: design network design spaces (NDS 2019, DDS/RegNet 2020).

The pure core (architectures, spaces, sampling, the RegNet rule, analytic complexity) is
imported eagerly and needs neither torch nor ray. Torch-backed functions (``build_model``,
``count_fvcore``, ``load_data``, ``train``) and the Ray sweep (``run_sweep``) load on first use.

Conventions everywhere: flops are multiply-adds; errors are fractions in [0, 1]; resolutions
are the side of a square input in pixels.
"""

from __future__ import annotations

import importlib
from typing import Any

from designspace.core.arch import Architecture, Stage
from designspace.core.complexity import Complexity, complexity, stage_summary
from designspace.core.named import get_model, list_models
from designspace.core.regimes import Regime, get_regime, list_regimes
from designspace.core.regnet import regnet_architecture, regnet_widths
from designspace.core.sampling import SampleSet, sample
from designspace.core.spaces import get_space, list_spaces, load_space
from designspace.errors import DesignSpaceError
from designspace.version import __version__ as __version__

# name -> module, imported on first attribute access (keeps `import designspace` light)
_LAZY = {
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
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'designspace' has no attribute {name!r}")


__all__ = [
    "Architecture",
    "Stage",
    "Complexity",
    "complexity",
    "stage_summary",
    "DesignSpaceError",
    "get_model",
    "list_models",
    "Regime",
    "get_regime",
    "list_regimes",
    "regnet_architecture",
    "regnet_widths",
    "SampleSet",
    "sample",
    "get_space",
    "list_spaces",
    "load_space",
    *_LAZY,
]
