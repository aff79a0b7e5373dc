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

Verdicts that rest on resampled quantities (bootstrap interval endpoints, resampling
p-values) are settled by :func:`settle`: each quantity carries its Monte-Carlo standard error
(:class:`MC`); a verdict is decided when it is the same for every value of its quantities
within ``z`` standard errors of their estimates (each quantity at estimate - z se, estimate,
estimate + z se, all combinations). Otherwise the resamples are doubled and the verdict
decided again, up to a cap; a verdict still not decided there is :data:`UNDECIDED`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import product

from designspace.analysis.inference import MC_Z

#: The verdict of a comparison whose resampled quantities lie too close to a decision
#: boundary even at the largest number of resamples allowed.
UNDECIDED = "undecided at this resampling precision"


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


@dataclass(frozen=True)
class MC:
    """A resampled quantity: its estimate ``value`` and Monte-Carlo standard error ``se``
    (same units; 0 when more resamples cannot move it)."""

    value: float
    se: float


#: The outcome of item ``i`` of a family given every item's quantities (point values): a tuple
#: of verdict strings (several verdicts of one comparison, e.g. the verdict and its KS
#: sensitivity verdict).
Outcome = Callable[[int, Sequence[dict[str, float]]], tuple[str, ...]]


@dataclass(frozen=True)
class Settled:
    """What :func:`settle` decided: per item its outcome (components that were not decided
    are :data:`UNDECIDED`), its quantities at the final number of resamples, that number
    ``n_boot``, and ``decided`` (every component decided)."""

    outcomes: list[tuple[str, ...]]
    quantities: list[dict[str, MC]]
    n_boot: list[int]
    decided: list[bool]


def _reachable(
    i: int, quantities: Sequence[dict[str, MC]], outcome: Outcome, z: float
) -> set[tuple[str, ...]]:
    """Every outcome of item ``i`` with its quantities anywhere on the grid estimate +- z se
    (the other items at their estimates)."""
    point = [{k: v.value for k, v in q.items()} for q in quantities]
    keys = [k for k, v in quantities[i].items() if v.se > 0 and v.se == v.se]
    seen = set()
    for shifts in product((-1.0, 0.0, 1.0), repeat=len(keys)):
        mine = dict(point[i])
        for k, s in zip(keys, shifts, strict=True):
            mine[k] = quantities[i][k].value + s * z * quantities[i][k].se
        seen.add(tuple(outcome(i, [*point[:i], mine, *point[i + 1 :]])))
    return seen


def settle(
    n_items: int,
    draw: Callable[[int, int], dict[str, MC]],
    outcome: Outcome,
    base: int,
    cap: Callable[[int], int],
    z: float = MC_Z,
) -> Settled:
    """Decide a family of ``n_items`` verdicts that rest on resampled quantities.

    ``draw(i, B)`` gives item ``i``'s quantities from its first ``B`` resamples (nested: the
    draws must not depend on ``B`` beyond their number); ``outcome`` gives an item's verdicts
    from point values of all items (so a family adjustment can take part). Every item starts
    at ``base`` resamples; an item whose outcome is not the same over its grid (module
    docstring) is redrawn with twice as many, up to ``cap(i)``. Items decided at ``base``
    cost nothing extra.
    """
    sizes = [int(base)] * n_items
    quantities = [draw(i, base) for i in range(n_items)]
    while True:
        grow = [
            i
            for i in range(n_items)
            if sizes[i] < cap(i) and len(_reachable(i, quantities, outcome, z)) > 1
        ]
        if not grow:
            break
        for i in grow:
            sizes[i] = min(2 * sizes[i], cap(i))
            quantities[i] = draw(i, sizes[i])
    point = [{k: v.value for k, v in q.items()} for q in quantities]
    outcomes, decided = [], []
    for i in range(n_items):
        seen = _reachable(i, quantities, outcome, z)
        at = tuple(outcome(i, point))
        out = tuple(a if all(s[j] == a for s in seen) else UNDECIDED for j, a in enumerate(at))
        outcomes.append(out)
        decided.append(UNDECIDED not in out)
    return Settled(outcomes, quantities, sizes, decided)
