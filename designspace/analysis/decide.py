"""One decision rule for every directional verdict, so that no verdict contradicts the
intervals printed next to it.

A verdict rests on a deciding test (adjusted p-value) and on the effect intervals reported
with it (each at the adjusted level, with its no-effect value). :func:`decide` returns

* ``"better"`` / ``"worse"``: the adjusted p-value is below alpha AND every interval excludes
  its no-effect value on the side of that direction;
* ``"none"``: the adjusted p-value is not below alpha AND every interval contains its
  no-effect value;
* ``"disagree"``: anything else (the test and an interval, or two intervals, say different
  things); callers report this as "inconclusive" and say why.

With Holm the intervals are Bonferroni-level (simultaneous), so a Holm rejection whose raw
p-value lies between alpha / m and its Holm step level has an interval that still reaches the
null: that is reported as a disagreement, not as a claim.

Every test and interval behind a verdict is exact or asymptotic (Brunner-Munzel, the
Price-Bonett median interval, Fisher's z, the normal approximation of a permutation test), so
no verdict depends on a resampling seed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """An effect interval [low, high] with its no-effect value ``null``; ``higher_is_better``
    says which side of the null means "better" (P(beats): above 1/2; error differences:
    below 0, so False)."""

    low: float
    high: float
    null: float
    higher_is_better: bool

    def side(self) -> int:
        """+1 if the interval lies wholly on the better side, -1 wholly on the worse side,
        0 if it contains the null."""
        if self.low > self.null:
            return 1 if self.higher_is_better else -1
        if self.high < self.null:
            return -1 if self.higher_is_better else 1
        return 0


def decide(p_adjusted: float, alpha: float, better: bool, bounds: list[Bound]) -> str:
    """ "better" | "worse" | "none" | "disagree" (module docstring); ``better`` is the
    direction of the deciding test's point estimate."""
    significant = p_adjusted < alpha
    sides = {b.side() for b in bounds}
    want = 1 if better else -1
    if significant and sides == {want}:
        return "better" if better else "worse"
    if not significant and sides <= {0}:
        return "none"
    return "disagree"


def inside_margin(low: float, high: float, margin: float) -> bool:
    """True when the interval [low, high] lies strictly inside (-margin, margin)."""
    return -margin < low and high < margin
