"""How a family of tests is run and read: :class:`Inference`, shared by :func:`.compare.compare`,
:func:`.rules.nested_rules` and the balance tables.

One frozen object holds the test level, the multiple-testing adjustment, the equivalence
margin and the seed-to-seed noise that effects are quoted in, so the analyses cannot be
called with inconsistent settings and each validates them once. Nothing these analyses decide
resamples (their tests and intervals are exact or asymptotic), so there is no seed here.
Pure: numpy only.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from designspace.analysis.multiplicity import adjust_pvalues, check_method, interval_alpha
from designspace.errors import DesignSpaceError

__all__ = ["Inference", "noise_sd_of"]


def noise_sd_of(noise: float | object | None) -> float | None:
    """The seed-to-seed sd (error units) from a number or a NoiseFloor-like object (``.sd``),
    or None; DesignSpaceError unless it is a positive finite number."""
    if noise is None:
        return None
    sd = float(getattr(noise, "sd", noise))
    if not np.isfinite(sd) or sd <= 0:
        raise DesignSpaceError(f"the noise sd must be a positive number, got {sd}")
    return sd


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class Inference:
    """Settings of one family of tests; validated on construction.

    ``alpha``: test level, 0 < alpha < 1 (verdicts use adjusted p-values below it; intervals
    are at the adjusted level); ``adjust``: multiple-testing adjustment of the family ("holm",
    "bh" or "none", see :mod:`.multiplicity`); ``margin``: equivalence margin in error units
    (fractions, > 0); ``noise``: seed-to-seed sd of the error (error units) that effects are
    divided by (``diff_over_noise``), or None. A NoiseFloor (anything with ``.sd``) may be
    given as ``noise`` and is stored as its sd.
    """

    alpha: float = 0.05
    adjust: str = "holm"
    margin: float = 0.005
    noise: float | object | None = None

    def __post_init__(self) -> None:
        if not (_is_number(self.alpha) and 0 < self.alpha < 1):
            raise DesignSpaceError(f"alpha must be in (0, 1), got {self.alpha}")
        check_method(self.adjust)
        if not (_is_number(self.margin) and math.isfinite(self.margin) and self.margin > 0):
            raise DesignSpaceError(
                f"the equivalence margin must be > 0 (error units), got {self.margin}"
            )
        object.__setattr__(self, "noise", noise_sd_of(self.noise))

    @property
    def noise_sd(self) -> float | None:
        """The seed-to-seed sd (error units), or None."""
        return self.noise  # type: ignore[return-value]  # a float after __post_init__

    def adjusted(self, p: object) -> np.ndarray:
        """The p-values ``p`` adjusted over their family by ``adjust`` (nan stays nan)."""
        return adjust_pvalues(p, self.adjust)  # type: ignore[arg-type]

    def level(self, n_tests: int, n_claims: int) -> float:
        """The alpha of the intervals printed beside ``n_tests`` adjusted tests of which
        ``n_claims`` are below ``alpha`` (:func:`.multiplicity.interval_alpha`)."""
        return interval_alpha(self.alpha, n_tests, self.adjust, n_claims)
