"""What a population can decide: the power of a rank comparison, and models that learned nothing.

* :func:`detectable_superiority`: the smallest stochastic superiority ``|P(a beats b) - 1/2|``
  that a two-sided rank test (Mann-Whitney / Brunner-Munzel) at level ``alpha`` detects with
  the given power, from Noether's (1987) sample-size formula for the Wilcoxon-Mann-Whitney test,
  ``N = (z_{1-alpha/2} + z_{power})^2 / (12 c (1 - c) (p - 1/2)^2)`` with ``c = n_a / N``,
  solved for ``p``. A normal approximation: at very small n it is optimistic.
* :func:`chance_level`: the error of guessing (``1 - 1/classes``) and the models near it.

Pure numpy / scipy.
"""

from __future__ import annotations

import math

from scipy.stats import norm

from designspace.errors import DesignSpaceError

# accuracy below this multiple of guessing's counts as "at chance level"
CHANCE_FACTOR = 1.5


def detectable_superiority(n_a: int, n_b: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The least ``|P(a beats b) - 1/2|`` (0 < result; capped at 1/2) that a two-sided rank
    test of ``n_a`` against ``n_b`` models at level ``alpha`` detects with probability
    ``power`` (Noether's approximation)."""
    if n_a < 1 or n_b < 1:
        raise DesignSpaceError(f"need at least one model per group, got {n_a} and {n_b}")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise DesignSpaceError(f"alpha and power are probabilities, got {alpha} and {power}")
    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    total = n_a + n_b
    return float(min(0.5, z / math.sqrt(12 * n_a * n_b / total)))


def chance_error(classes: int) -> float:
    """The top-1 error of guessing among ``classes`` equally likely classes."""
    if classes < 2:
        raise DesignSpaceError(f"a classifier needs at least 2 classes, got {classes}")
    return 1 - 1 / classes


def at_chance(error: float, classes: int) -> bool:
    """Whether a top-1 ``error`` (fraction) is within :data:`CHANCE_FACTOR` of guessing:
    accuracy below ``CHANCE_FACTOR / classes``."""
    return error >= 1 - CHANCE_FACTOR / classes
