"""How a family of tests is run and read: :class:`Inference`, shared by :func:`.compare.compare`
and :func:`.rules.nested_rules`.

One frozen object holds the test level, the multiple-testing adjustment, the equivalence
margin, the bootstrap size and seed, and the seed-to-seed noise that effects are quoted in, so
the two analyses cannot be called with inconsistent settings and each validates them once.

Resampling is keyed and nested (:meth:`Inference.stream`): the resamples of one comparison
depend only on ``seed`` and the comparison's identity (a string key), never on which other
comparisons ran before it, and they come in fixed blocks, so that the first B resamples are the
same when 2B are drawn. Verdicts that rest on a resampled quantity double the resamples while
the quantity lies within ``MC_Z`` Monte-Carlo standard errors of its decision boundary, up to
``MAX_GROWTH`` times ``n_boot`` (:func:`.decide.settle`). Pure: numpy only.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from dataclasses import dataclass

import numpy as np

from designspace.analysis.multiplicity import adjust_pvalues, check_method, interval_alpha
from designspace.errors import DesignSpaceError

__all__ = [
    "BLOCK",
    "MAX_BOOT",
    "MAX_GROWTH",
    "MC_Z",
    "MIN_BOOT",
    "Inference",
    "block_rng",
    "noise_sd_of",
]

MIN_BOOT = 100
#: The most resamples (10^4 is the papers' number); every group's resamples are held in
#: memory at once (about 24 bytes per resample and model).
MAX_BOOT = 10_000_000
#: Bytes of memory the resamples of one family of tests may hold.
MEMORY_LIMIT = 4 << 30
BYTES_PER_DRAW = 24
#: Resamples are drawn in blocks of this many rows, each from its own keyed generator, so a
#: longer run of resamples starts with the shorter one (nested resamples).
BLOCK = 100
#: A resampled quantity within this many Monte-Carlo standard errors of its decision boundary
#: does not decide: the resamples are doubled, or the verdict is "undecided".
MC_Z = 3.0
#: Sequential doubling stops at this multiple of ``n_boot`` (16 = four doublings).
MAX_GROWTH = 16


def _key_words(key: str) -> list[int]:
    """Four 32-bit words of the SHA-256 of ``key`` (stable across runs and platforms, unlike
    Python's salted ``hash``)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def block_rng(seed: int, key: str, block: int) -> np.random.Generator:
    """The generator of resample block ``block`` (0, 1, ...) of the comparison ``key`` under
    ``seed``: a function of these three only."""
    return np.random.default_rng([int(seed), *_key_words(key), int(block)])


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
    (fractions, > 0); ``n_boot``: bootstrap resamples of every interval (at least 100);
    ``seed``: seed of the resampling (a non-negative integer); ``noise``: seed-to-seed sd of
    the error (error units) that effects are divided by (``diff_over_noise``), or None. A
    NoiseFloor (anything with ``.sd``) may be given as ``noise`` and is stored as its sd.
    """

    alpha: float = 0.05
    adjust: str = "holm"
    margin: float = 0.005
    n_boot: int = 2000
    seed: int = 0
    noise: float | object | None = None

    def __post_init__(self) -> None:
        if not (_is_number(self.alpha) and 0 < self.alpha < 1):
            raise DesignSpaceError(f"alpha must be in (0, 1), got {self.alpha}")
        check_method(self.adjust)
        if not (_is_number(self.margin) and math.isfinite(self.margin) and self.margin > 0):
            raise DesignSpaceError(
                f"the equivalence margin must be > 0 (error units), got {self.margin}"
            )
        if not isinstance(self.n_boot, numbers.Integral) or self.n_boot < MIN_BOOT:
            raise DesignSpaceError(f"n_boot must be at least {MIN_BOOT}, got {self.n_boot}")
        if self.n_boot > MAX_BOOT:
            raise DesignSpaceError(
                f"n_boot must be at most {MAX_BOOT} (the resamples are held in memory), got "
                f"{self.n_boot}"
            )
        if (
            not isinstance(self.seed, numbers.Integral)
            or isinstance(self.seed, bool)
            or self.seed < 0
        ):
            raise DesignSpaceError(f"seed must be a non-negative integer, got {self.seed!r}")
        object.__setattr__(self, "noise", noise_sd_of(self.noise))

    @property
    def noise_sd(self) -> float | None:
        """The seed-to-seed sd (error units), or None."""
        return self.noise  # type: ignore[return-value]  # a float after __post_init__

    def check_memory(self, n_models: int, limit: int = MEMORY_LIMIT) -> None:
        """Raise DesignSpaceError (one line naming ``limit``, bytes) when ``n_boot`` resamples
        of ``n_models`` models (all groups together) would need more memory than ``limit``."""
        need = int(self.n_boot) * int(n_models) * BYTES_PER_DRAW
        if need > limit:
            raise DesignSpaceError(
                f"n_boot {self.n_boot} resamples of {n_models} models need about "
                f"{need / (1 << 30):.1f} GiB, more than the {limit / (1 << 30):.0f} GiB limit; "
                f"use fewer resamples"
            )

    def rng(self) -> np.random.Generator:
        """A fresh generator seeded with ``seed`` (one per analysis, drawn in a fixed order).
        Prefer :meth:`stream`, whose draws do not depend on what was drawn before."""
        return np.random.default_rng(self.seed)

    def stream(self, key: str, block: int) -> np.random.Generator:
        """The generator of resample block ``block`` of the comparison named ``key``
        (:func:`block_rng` with this ``seed``)."""
        return block_rng(self.seed, key, block)

    def cap(self, n_models: int, limit: int = MEMORY_LIMIT) -> int:
        """The most resamples sequential doubling may reach for one comparison of
        ``n_models`` models: ``MAX_GROWTH * n_boot``, at most ``MAX_BOOT`` and at most what
        fits in ``limit`` bytes (never below ``n_boot``)."""
        fits = limit // max(1, int(n_models) * BYTES_PER_DRAW)
        return int(max(self.n_boot, min(MAX_GROWTH * int(self.n_boot), MAX_BOOT, fits)))

    def adjusted(self, p: object) -> np.ndarray:
        """The p-values ``p`` adjusted over their family by ``adjust`` (nan stays nan)."""
        return adjust_pvalues(p, self.adjust)  # type: ignore[arg-type]

    def level(self, n_tests: int, n_claims: int) -> float:
        """The alpha of the intervals printed beside ``n_tests`` adjusted tests of which
        ``n_claims`` are below ``alpha`` (:func:`.multiplicity.interval_alpha`)."""
        return interval_alpha(self.alpha, n_tests, self.adjust, n_claims)
