"""The settings of one analysis (:class:`AnalysisOptions`) and the analysis library's defaults.

Cheap to import (no pandas, scipy or matplotlib): the command line validates its arguments
through :class:`AnalysisOptions` before anything heavy is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from designspace.errors import DesignSpaceError

# The analysis library's defaults (designspace.analysis._data; a test checks they agree). Spelled
# out here so that validating options does not import pandas and scipy.
GROUP = "space"
METRIC = "val_top1_err"
COMPLEXITY = "flops"
STAGE_COLUMNS = ("depths", "widths", "bottleneck_ratios", "group_widths")
FORMATS = ("png", "svg")
MIN_BOOT = 100
ADJUSTMENTS = ("holm", "bh", "none")


@dataclass(frozen=True)
class AnalysisOptions:
    """Settings of one analysis (report, plot or notebook); validated on construction.

    ``by``: column naming the groups; ``metric``: error column (fractions in [0, 1]);
    ``reference``: group the others are tested against (None: the first in sorted order);
    ``alpha``: test level, 0 < alpha < 1 (intervals at level 1 - alpha); ``complexity``:
    column for normalization (flops = multiply-adds); ``formats``: figure files (png, svg);
    ``n_boot``: bootstrap resamples (at least 100); ``top``: models in width profiles;
    ``seed``: seed of every resampling; ``x``: statistic of the ``param`` plot; ``band``:
    confidence band of the ``edf`` plot (None, "dkw" or "bootstrap"); ``adjust``: multiple-
    testing adjustment of every family of tests ("holm", "bh" or "none"); ``margin``:
    equivalence margin in error units (fractions); ``best``: fraction of the models that are
    "the best" in the preference tests (0 < best < 1).
    """

    by: str = GROUP
    metric: str = METRIC
    reference: str | None = None
    alpha: float = 0.05
    complexity: str = COMPLEXITY
    formats: tuple[str, ...] = FORMATS
    n_boot: int = 10_000
    top: int = 5
    seed: int = 0
    x: str = "depth"
    band: str | None = None
    adjust: str = "holm"
    margin: float = 0.005
    best: float = 0.25

    def __post_init__(self) -> None:
        for name in ("by", "metric", "complexity", "x"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise DesignSpaceError(f"{name} must name a column, got {value!r}")
        if not (isinstance(self.alpha, (int, float)) and 0 < self.alpha < 1):
            raise DesignSpaceError(
                f"alpha is a test level between 0 and 1 (e.g. 0.05), got {self.alpha!r}"
            )
        if not isinstance(self.n_boot, int) or self.n_boot < MIN_BOOT:
            raise DesignSpaceError(
                f"n_boot must be a whole number of at least {MIN_BOOT} bootstrap resamples "
                f"(e.g. 10000), got {self.n_boot!r}"
            )
        if not isinstance(self.top, int) or self.top < 1:
            raise DesignSpaceError(f"top must be at least 1 model, got {self.top!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise DesignSpaceError(f"seed must be a non-negative integer, got {self.seed!r}")
        formats = tuple(self.formats)
        if not formats or sorted(set(formats) - set(FORMATS)):
            raise DesignSpaceError(f"formats take png and/or svg, got {list(formats)}")
        object.__setattr__(self, "formats", formats)
        if self.band not in (None, "dkw", "bootstrap"):
            raise DesignSpaceError(f"band must be dkw or bootstrap, got {self.band!r}")
        if self.adjust not in ADJUSTMENTS:
            raise DesignSpaceError(
                f"adjust must be one of {list(ADJUSTMENTS)} (multiple-testing adjustment), "
                f"got {self.adjust!r}"
            )
        if not (isinstance(self.margin, (int, float)) and 0 < self.margin < 1):
            raise DesignSpaceError(
                f"margin is an error difference between 0 and 1 (e.g. 0.005), got {self.margin!r}"
            )
        if not (isinstance(self.best, (int, float)) and 0 < self.best < 1):
            raise DesignSpaceError(
                f"best is a fraction of the models between 0 and 1 (e.g. 0.25), got {self.best!r}"
            )

    @classmethod
    def with_overrides(
        cls, options: AnalysisOptions | None = None, **overrides: Any
    ) -> AnalysisOptions:
        """``options`` (default: the defaults) with the named fields replaced; an unknown name
        raises DesignSpaceError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise DesignSpaceError(f"unknown analysis option(s) {unknown}; known: {sorted(known)}")
        return replace(options or cls(), **overrides)

    def column(self, name: str) -> str:
        """``name`` with ``{complexity}``, ``{metric}`` and ``{by}`` filled in."""
        return name.format(complexity=self.complexity, metric=self.metric, by=self.by)
