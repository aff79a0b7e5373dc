"""The settings of one analysis (:class:`AnalysisOptions`) and the analysis library's defaults.

Cheap to import (no pandas, scipy or matplotlib): the command line validates its arguments
through :class:`AnalysisOptions` before anything heavy is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from designspace.errors import DesignSpaceError

# The analysis library's defaults (designspace.analysis._data; a test checks they agree). Spelled
# out here so that validating options does not import pandas and scipy.
GROUP = "space"
METRIC = "val_top1_err"
COMPLEXITY = "flops"
STAGE_COLUMNS = ("depths", "widths", "bottleneck_ratios", "group_widths")
FORMATS = ("png", "svg")  # the default
FORMAT_CHOICES = ("png", "svg", "pdf")  # pdf: vector figures a paper can include
MIN_BOOT = 100
#: The most bootstrap resamples an analysis draws (10^4 is the papers' number).
MAX_BOOT = 10_000_000
#: Memory the bootstrap may hold, bytes: every group's resamples are held at once, one
#: drawn index, one flat index and one count (8 bytes each) per resample and model.
BOOT_MEMORY_LIMIT = 4 << 30
BOOT_BYTES_PER_DRAW = 24
ADJUSTMENTS = ("holm", "bh", "none")
#: The claims a confirmatory family may hold: the nested steps' rules
#: (designspace.analysis.rules.NESTED_STEPS), then the preference claims
#: (designspace.analysis.family.PREFERENCE_CLAIMS); a test checks they agree.
CONFIRMATORY_CLAIMS = (
    "shared_b",
    "shared_g",
    "widths_increase",
    "depths_increase",
    "linear_widths",
    "regnet_b1",
    "regnet_wm2",
    "regnet_depth",
    "best_b",
    "good_g",
    "good_depth",
    "good_wm",
)


@dataclass(frozen=True)
class AnalysisOptions:
    """Settings of one analysis (report, plot or notebook); validated on construction.

    Each field's metadata is its command-line option (``designspace analyze``, and
    ``designspace plot`` where ``"plot"`` is true): ``help`` (units and valid range),
    optionally ``flag`` (when not ``--field-name``), ``choices`` and ``metavar``; the option's
    default is the field's.

    ``by``: column naming the groups; ``metric``: error column (fractions in [0, 1]);
    ``reference``: group the others are tested against (None: the first in sorted order);
    ``alpha``: test level, 0 < alpha < 1 (intervals at level 1 - alpha); ``complexity``: column
    for normalization (flops = multiply-adds); ``formats``: figure files (png, svg); ``n_boot``:
    bootstrap resamples of the descriptive statistics (at least 100); ``top``: models in width
    profiles; ``seed``: seed of that resampling (no verdict depends on it); ``x``: statistic of
    the ``param`` plot; ``band``: confidence band of the ``edf`` plot (None, "dkw" or
    "bootstrap"); ``adjust``: multiple- testing adjustment of every family of tests ("holm",
    "bh" or "none"); ``margin``: equivalence margin in error units (fractions); ``best``:
    fraction of the models that are "the best" in the preference tests (0 < best < 1);
    ``confirmatory``: the claims of the study's confirmatory family (names of
    :data:`CONFIRMATORY_CLAIMS`; None: every nested step whose two spaces are present; empty:
    none), adjusted together once, every other verdict exploratory
    (:mod:`designspace.analysis.family`).
    """

    by: str = field(default=GROUP, metadata={"help": "column that names the groups", "plot": True})
    metric: str = field(
        default=METRIC,
        metadata={"help": "error column, fractions in [0, 1]", "plot": True},
    )
    reference: str | None = field(
        default=None,
        metadata={"help": "group to test the others against (default: the first in sorted order)"},
    )
    alpha: float = field(
        default=0.05,
        metadata={
            "help": "test level, 0 < alpha < 1 (intervals at the matching adjusted level)",
            "plot": True,
        },
    )
    complexity: str = field(
        default=COMPLEXITY,
        metadata={
            "help": "complexity column of the normalized comparison and the error-vs-complexity "
            "figure: flops (multiply-adds), params or acts",
            "plot": True,
        },
    )
    formats: tuple[str, ...] = field(
        default=FORMATS,
        metadata={"help": "figure formats, comma-separated: png, svg and/or pdf (for papers)"},
    )
    n_boot: int = field(
        default=10_000,
        metadata={
            "help": f"bootstrap resamples of the descriptive statistics (DDS good ranges, EDF "
            f"bands), at least {MIN_BOOT}; no verdict resamples",
            "plot": True,
        },
    )
    top: int = field(
        default=5,
        metadata={"help": "models in the width profiles (the widths plot), >= 1", "plot": True},
    )
    seed: int = field(
        default=0,
        metadata={
            "help": "seed of the descriptive resampling (EDF bands, good ranges, sample-size "
            "and random-search curves), a non-negative integer; no verdict depends on it",
            "plot": True,
        },
    )
    x: str = field(
        default="depth",
        metadata={
            "help": "design statistic of the param plot (a column, e.g. depth, b, g, fit_wm)",
            "plot": True,
        },
    )
    band: str | None = field(
        default=None,
        metadata={
            "help": "confidence band of the edf plot: dkw or bootstrap (default: no band)",
            "choices": ("dkw", "bootstrap"),
            "plot": True,
        },
    )
    adjust: str = field(
        default="holm",
        metadata={"help": "multiple-testing adjustment of every family of tests: holm, bh or none"},
    )
    margin: float = field(
        default=0.005,
        metadata={"help": "equivalence margin, in error units (fractions), 0 < margin < 1"},
    )
    best: float = field(
        default=0.25,
        metadata={
            "help": "fraction of the models that count as the best in the preference tests, "
            "0 < best < 1"
        },
    )

    confirmatory: tuple[str, ...] | None = field(
        default=None,
        metadata={
            "help": "the study's confirmatory family, comma-separated: nested steps ("
            + ", ".join(CONFIRMATORY_CLAIMS[:8])
            + ") and preferences ("
            + ", ".join(CONFIRMATORY_CLAIMS[8:])
            + "), adjusted together once; every other verdict is exploratory (default: every "
            "nested step whose two spaces are present)",
            "metavar": "CLAIMS",
        },
    )

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
        if self.n_boot > MAX_BOOT:
            raise DesignSpaceError(
                f"n_boot {self.n_boot} is more than the {MAX_BOOT} bootstrap resamples an "
                f"analysis may draw (the memory they need grows with it); use e.g. 10000"
            )
        if not self.metric.endswith("_err"):
            raise DesignSpaceError(
                f"metric must be an error column (a name ending in _err, fractions in [0, 1], "
                f"e.g. val_top1_err), got {self.metric!r}; use --complexity or --x for other "
                f"columns"
            )
        if not isinstance(self.top, int) or self.top < 1:
            raise DesignSpaceError(f"top must be at least 1 model, got {self.top!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise DesignSpaceError(f"seed must be a non-negative integer, got {self.seed!r}")
        formats = tuple(f.strip().lower() if isinstance(f, str) else f for f in self.formats)
        if not formats or sorted(set(formats) - set(FORMAT_CHOICES)):
            raise DesignSpaceError(f"formats take png, svg and/or pdf, got {list(formats)}")
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
        if self.confirmatory is not None:
            object.__setattr__(self, "confirmatory", _claims(self.confirmatory))

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

    def check_memory(self, n_models: int, limit: int = BOOT_MEMORY_LIMIT) -> None:
        """Raise DesignSpaceError (one line naming ``limit``, bytes) when ``n_boot`` resamples
        of ``n_models`` models would need more memory than ``limit``; call it once the data
        are loaded, before any analysis runs."""
        need = bootstrap_bytes(self.n_boot, n_models)
        if need > limit:
            most = limit // (BOOT_BYTES_PER_DRAW * max(n_models, 1))
            raise DesignSpaceError(
                f"--n-boot {self.n_boot} resamples of {n_models} models need about "
                f"{need / (1 << 30):.1f} GiB, more than the {limit / (1 << 30):.0f} GiB limit; "
                f"use fewer resamples (at most {most})"
            )

    def column(self, name: str) -> str:
        """``name`` with ``{complexity}``, ``{metric}`` and ``{by}`` filled in."""
        return name.format(complexity=self.complexity, metric=self.metric, by=self.by)


def _claims(names: object) -> tuple[str, ...]:
    """``names`` (a sequence of claim names, or one comma-separated string) as a tuple of
    known claims, duplicates dropped; DesignSpaceError naming the first unknown one."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not isinstance(names, (list, tuple)):
        raise DesignSpaceError(f"confirmatory takes a list of claim names, got {names!r}")
    out: list[str] = []
    for name in names:
        if name not in CONFIRMATORY_CLAIMS:
            raise DesignSpaceError(
                f"confirmatory: unknown claim {name!r}; choose among "
                f"{', '.join(CONFIRMATORY_CLAIMS)}"
            )
        if name not in out:
            out.append(name)
    return tuple(out)


def bootstrap_bytes(n_boot: int, n_models: int) -> int:
    """Bytes the bootstrap of ``n_models`` models (all groups together) holds for ``n_boot``
    resamples: :data:`BOOT_BYTES_PER_DRAW` per resample and model."""
    return int(n_boot) * int(n_models) * BOOT_BYTES_PER_DRAW
