"""Constraints on a design space as objects: the steps of the design-space design loop.

A constraint is made for one space (its ``parent``) and turns it into a smaller one
(:meth:`apply`, the refined space, with ``refines=parent`` so that every draw lies inside the
parent's support). It tests whether a configuration lies in the refined space
(:meth:`satisfied`, the same as :func:`designspace.core.support.inside` without a band), grades
how close a configuration comes (:meth:`score`, in [0, 1], 1.0 exactly when satisfied),
describes itself in a sentence and in the space-file syntax, and names the feature it is about.

Kinds (:data:`CONSTRAINT_KINDS`), written as ids (also the CLI / CSV form):

* ``shared:<param>``: an AnyNet per-stage parameter (depth, width, bottleneck_ratio,
  group_width) drawn once per network (b and g only for blocks with a bottleneck);
* ``monotone:<width|depth>:<increasing|decreasing>``: AnyNet stage widths / depths in order
  (non-strict);
* ``fixed:<param>=<value>``: b or g fixed at one value (AnyNet: that value, shared; RegNet: the
  shared draw fixed);
* ``range:<name>:<lo>..<hi>``: a RegNet parameter (depth, w0, wa, wm) narrowed to the inclusive
  range (same distribution kind and quantum, bounds intersected), or an inclusive range on a
  statistic of the network (:mod:`designspace.core.statistics`: total_depth, first_width, ...),
  added to the space's ``require``;
* ``stages:<n>``: a RegNet space with any stage count limited to ``n`` stages;
* ``linear_widths``: the quantized linear width rule, DDS's RegNet space nested in an AnyNet
  space (:func:`designspace.core.spaces.linear_width_space`).

:func:`make_constraint` parses an id for a space; :func:`catalog` lists every candidate that
applies to a space and would change it. Pure: no file, no randomness beyond a fixed seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar, Protocol

import numpy as np

from designspace.core.arch import MAX_STAGES, Architecture
from designspace.core.blocks import get_block
from designspace.core.spaces import (
    MONOTONE,
    AnyNetSpace,
    Choice,
    Fixed,
    IntUniform,
    LogUniform,
    RegNetSpace,
    Space,
    get_space,
    linear_width_space,
)
from designspace.core.statistics import STATISTICS, get_statistic
from designspace.core.support import can_draw, inside
from designspace.errors import DesignSpaceError

__all__ = [
    "CONSTRAINT_KINDS",
    "Constraint",
    "FixedValue",
    "LinearWidths",
    "Monotone",
    "Range",
    "Shared",
    "StageCount",
    "catalog",
    "make_constraint",
]


class Constraint(Protocol):
    """A constraint made for one space (module docstring)."""

    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def feature(self) -> str: ...

    @property
    def parent(self) -> Space: ...

    def apply(self, name: str | None = None) -> Space: ...

    def satisfied(self, arch: Architecture) -> bool: ...

    def score(self, arch: Architecture) -> float: ...

    def sentence(self) -> str: ...

    def syntax(self) -> str: ...


# ----------------------------------------------------------------------------- helpers
_SYMBOL = {"depth": "d", "width": "w", "bottleneck_ratio": "b", "group_width": "g"}
_LABEL = {
    "depth": "stage depth d",
    "width": "stage width w",
    "bottleneck_ratio": "bottleneck ratio b",
    "group_width": "group width g",
}
_STAGE_VALUES = {
    "depth": "depths",
    "width": "widths",
    "bottleneck_ratio": "bottleneck_ratios",
    "group_width": "group_widths",
}
REGNET_RANGE_PARAMS = ("depth", "w0", "wa", "wm")
# grid the catalog rounds range candidates of RegNet parameters to
_REGNET_GRID = {"depth": 1.0, "w0": 8.0, "wa": 1.0, "wm": 0.01}
_ANYNET_RANGE_STATS = ("total_depth", "first_width", "last_width")
_QUANTILE_DRAWS = 4096  # draws of a RegNet distribution whose quantiles give range candidates
_TOL = 1e-9


def _num(x: float) -> str:
    """A number as ids and names write it: ``12``, ``2.5``, never an exponent."""
    x = round(float(x), 10)
    if x.is_integer():
        return str(int(x))
    return f"{x:.10f}".rstrip("0").rstrip(".")


def _plain(x: float) -> int | float:
    x = round(float(x), 10)
    return int(x) if x.is_integer() else x


def _flow(obj: Any) -> str:
    """``obj`` in YAML flow style (``{a: [1, 2], q: 8}``)."""
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in obj) + "]"
    if isinstance(obj, (int, float, np.integer, np.floating)) and not isinstance(obj, bool):
        return _num(obj)
    return str(obj)


def _parse_number(text: str, what: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise DesignSpaceError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(x):
        raise DesignSpaceError(f"{what}: needs a finite number, got {text!r}")
    return x


def _single_valued(dist: Any) -> bool:
    """Whether ``dist`` can draw only one value (sharing or fixing it changes nothing)."""
    if isinstance(dist, Fixed):
        return True
    if isinstance(dist, Choice):
        return len(set(dist.values)) == 1
    bounds = getattr(dist, "bounds", None)
    return bounds is not None and bounds()[0] == bounds()[1]


def _need_anynet(parent: Space, what: str) -> AnyNetSpace:
    if not isinstance(parent, AnyNetSpace):
        raise DesignSpaceError(
            f"{what} applies to an AnyNet space (per-stage parameters); {parent.name} is a "
            f"RegNet space"
        )
    return parent


def _bottleneck(space: Space) -> bool:
    return get_block(space.block).bottleneck


# ----------------------------------------------------------------------------- base
@dataclass(frozen=True)
class _Base:
    """What every constraint shares: ``apply`` names the refined space, ``satisfied`` is the
    refined space's support, ``score`` grades with :meth:`_grades` (good, total)."""

    parent: Space
    kind: ClassVar[str] = ""

    @property
    def id(self) -> str:
        """The stable id (module docstring)."""
        raise NotImplementedError

    @property
    def feature(self) -> str:
        """What the constraint is about (a parameter, statistic, "stages" or "widths")."""
        raise NotImplementedError

    def short(self) -> str:
        """A short name for the refined space (``shared_b``, ``w_up``, ``wm_2_3``)."""
        raise NotImplementedError

    def sentence(self) -> str:
        """The constraint in words ("stage widths never decrease")."""
        raise NotImplementedError

    def syntax(self) -> str:
        """The constraint as a space file writes it (``monotone: {width: increasing}``)."""
        raise NotImplementedError

    def _refine(self, name: str, description: str) -> Space:
        raise NotImplementedError

    def apply(self, name: str | None = None) -> Space:
        """The refined space: the parent with this constraint, ``refines=parent``; its name
        defaults to ``f"{parent.name}+{short}"``."""
        name = name or f"{self.parent.name}+{self.short()}"
        return self._refine(name, f"{self.parent.name} with {self.sentence()}")

    @cached_property
    def refined(self) -> Space:
        """:meth:`apply` with the default name (computed once)."""
        return self.apply()

    def satisfied(self, arch: Architecture) -> bool:
        """Whether ``arch`` lies in the refined space's support (and so in every space it
        refines); the complexity band is not checked."""
        return not inside(arch, self.refined)

    def _grades(self, arch: Architecture) -> tuple[int, int]:
        """(good, total) of the graded feature; 0/1 for all-or-nothing kinds."""
        return (1, 1) if self.satisfied(arch) else (0, 1)

    def score(self, arch: Architecture) -> float:
        """Graded closeness in [0, 1]: good / total of the kind's feature (:meth:`_grades`),
        1.0 exactly when :meth:`satisfied`; an unsatisfied configuration whose feature is
        complete anyway (e.g. outside the parent) gets (total - 1) / total."""
        if self.satisfied(arch):
            return 1.0
        good, total = self._grades(arch)
        if total <= 0:
            return 0.0
        return min(good, total - 1) / total

    def __str__(self) -> str:
        return self.id


# ----------------------------------------------------------------------------- kinds
@dataclass(frozen=True)
class Shared(_Base):
    """``shared:<param>``: an AnyNet per-stage parameter drawn once per network."""

    param: str = ""
    kind: ClassVar[str] = "shared"

    def __post_init__(self) -> None:
        space = _need_anynet(self.parent, f"shared:{self.param}")
        if self.param not in AnyNetSpace.STAGE_PARAMS:
            raise DesignSpaceError(
                f"shared:{self.param}: unknown parameter; share one of "
                f"{', '.join(AnyNetSpace.STAGE_PARAMS)}"
            )
        if self.param in space.shared:
            raise DesignSpaceError(f"shared:{self.param}: {space.name} already shares it")
        if self.param in ("bottleneck_ratio", "group_width") and not _bottleneck(space):
            raise DesignSpaceError(
                f"shared:{self.param}: {space.name} draws {space.block!r} blocks, which have "
                f"no bottleneck (b and g are not drawn)"
            )
        if _single_valued(getattr(space, self.param)):
            raise DesignSpaceError(
                f"shared:{self.param}: {space.name} draws one value of it; sharing changes nothing"
            )

    @property
    def id(self) -> str:
        return f"shared:{self.param}"

    @property
    def feature(self) -> str:
        return self.param

    def short(self) -> str:
        return f"shared_{_SYMBOL[self.param]}"

    def sentence(self) -> str:
        return f"one {_LABEL[self.param]} shared by all stages"

    def syntax(self) -> str:
        return f"shared: [{self.param}]"

    def _refine(self, name: str, description: str) -> Space:
        return replace(
            self.parent,
            name=name,
            description=description,
            shared=self.parent.shared | {self.param},
            refines=self.parent,
        )

    def _grades(self, arch: Architecture) -> tuple[int, int]:
        """(largest count of one value - 1, stages - 1)."""
        values = getattr(arch, _STAGE_VALUES[self.param])
        top = max(values.count(v) for v in values)
        return top - 1, len(values) - 1

    @classmethod
    def parse(cls, args: list[str], parent: Space) -> Shared:
        """From the parts after ``shared:``."""
        if len(args) != 1:
            raise DesignSpaceError("write shared:<param>, e.g. shared:bottleneck_ratio")
        return cls(parent, args[0])

    @classmethod
    def candidates(cls, parent: Space, archs: Sequence[Architecture]) -> list[Any]:
        """One per stage parameter (those that do not apply are dropped by the catalog)."""
        return [lambda p=p: cls(parent, p) for p in AnyNetSpace.STAGE_PARAMS]


@dataclass(frozen=True)
class Monotone(_Base):
    """``monotone:<width|depth>:<increasing|decreasing>``: AnyNet stage values in order."""

    param: str = ""
    direction: str = "increasing"
    kind: ClassVar[str] = "monotone"

    def __post_init__(self) -> None:
        what = f"monotone:{self.param}:{self.direction}"
        space = _need_anynet(self.parent, what)
        if self.param not in ("width", "depth") or self.direction not in MONOTONE:
            raise DesignSpaceError(f"{what}: write monotone:<width|depth>:<increasing|decreasing>")
        if self.param in dict(space.monotone):
            raise DesignSpaceError(f"{what}: {space.name} already orders its {self.param}s")
        if self.param in space.shared or _single_valued(getattr(space, self.param)):
            raise DesignSpaceError(
                f"{what}: {space.name} draws one {self.param} for all stages; an order "
                f"changes nothing"
            )

    @property
    def id(self) -> str:
        return f"monotone:{self.param}:{self.direction}"

    @property
    def feature(self) -> str:
        return self.param

    def short(self) -> str:
        return f"{_SYMBOL[self.param]}_{'up' if self.direction == 'increasing' else 'down'}"

    def sentence(self) -> str:
        never = "decrease" if self.direction == "increasing" else "increase"
        return f"stage {self.param}s never {never}"

    def syntax(self) -> str:
        return f"monotone: {{{self.param}: {self.direction}}}"

    def _refine(self, name: str, description: str) -> Space:
        return replace(
            self.parent,
            name=name,
            description=description,
            monotone=(*self.parent.monotone, (self.param, self.direction)),
            refines=self.parent,
        )

    def _grades(self, arch: Architecture) -> tuple[int, int]:
        """(adjacent steps that go the right way, non-strict; stages - 1)."""
        v = getattr(arch, _STAGE_VALUES[self.param])
        steps = list(zip(v, v[1:], strict=False))
        if self.direction == "increasing":
            good = sum(a <= b for a, b in steps)
        else:
            good = sum(a >= b for a, b in steps)
        return good, len(steps)

    @classmethod
    def parse(cls, args: list[str], parent: Space) -> Monotone:
        """From the parts after ``monotone:``."""
        if len(args) != 2:
            raise DesignSpaceError(
                "write monotone:<width|depth>:<increasing|decreasing>, e.g. "
                "monotone:width:increasing"
            )
        return cls(parent, args[0], args[1])

    @classmethod
    def candidates(cls, parent: Space, archs: Sequence[Architecture]) -> list[Any]:
        """Widths and depths, each direction."""
        return [lambda p=p, d=d: cls(parent, p, d) for p in ("width", "depth") for d in MONOTONE]


@dataclass(frozen=True)
class FixedValue(_Base):
    """``fixed:<param>=<value>``: b or g at one value (AnyNet: shared too)."""

    param: str = ""
    value: float = 1
    kind: ClassVar[str] = "fixed"

    def __post_init__(self) -> None:
        what = f"fixed:{self.param}={_num(self.value)}"
        if self.param not in ("bottleneck_ratio", "group_width"):
            raise DesignSpaceError(f"{what}: fix bottleneck_ratio or group_width")
        if not _bottleneck(self.parent):
            raise DesignSpaceError(
                f"{what}: {self.parent.name} draws {self.parent.block!r} blocks, which have no "
                f"bottleneck (b and g are not drawn)"
            )
        dist = getattr(self.parent, self.param)
        if _single_valued(dist):
            raise DesignSpaceError(f"{what}: {self.parent.name} draws one value of it already")
        if not can_draw(dist, self.value):
            raise DesignSpaceError(
                f"{what}: {self.parent.name} cannot draw {self.param} {_num(self.value)} "
                f"({dist.describe()}); fix a value it draws"
            )
        object.__setattr__(self, "value", _plain(self.value))

    @property
    def id(self) -> str:
        return f"fixed:{self.param}={_num(self.value)}"

    @property
    def feature(self) -> str:
        return self.param

    def short(self) -> str:
        return f"{_SYMBOL[self.param]}{_num(self.value)}"

    def sentence(self) -> str:
        return f"{_SYMBOL[self.param]} = {_num(self.value)} in every stage"

    def syntax(self) -> str:
        text = f"params: {{{self.param}: {_num(self.value)}}}"
        if isinstance(self.parent, AnyNetSpace):
            text += f", shared: [{self.param}]"
        return text

    def _refine(self, name: str, description: str) -> Space:
        changes: dict[str, Any] = {self.param: Fixed(self.value)}
        if isinstance(self.parent, AnyNetSpace):
            changes["shared"] = self.parent.shared | {self.param}
        return replace(
            self.parent, name=name, description=description, refines=self.parent, **changes
        )

    def _grades(self, arch: Architecture) -> tuple[int, int]:
        """(stages with the value, stages)."""
        values = getattr(arch, _STAGE_VALUES[self.param])
        return sum(abs(v - self.value) <= _TOL for v in values), len(values)

    @classmethod
    def parse(cls, args: list[str], parent: Space) -> FixedValue:
        """From the parts after ``fixed:``."""
        if len(args) != 1 or args[0].count("=") != 1:
            raise DesignSpaceError("write fixed:<param>=<value>, e.g. fixed:bottleneck_ratio=1")
        param, value = args[0].split("=")
        return cls(parent, param, _parse_number(value, f"fixed:{args[0]}"))

    @classmethod
    def candidates(cls, parent: Space, archs: Sequence[Architecture]) -> list[Any]:
        """One per value of a b or g choice with more than one value."""
        out: list[Any] = []
        for p in ("bottleneck_ratio", "group_width"):
            dist = getattr(parent, p)
            if isinstance(dist, Choice) and len(set(dist.values)) > 1:
                out += [lambda p=p, v=v: cls(parent, p, v) for v in sorted(set(dist.values))]
        return out


def _snap(x: float, q: float, up: bool) -> float:
    """``x`` moved onto the grid of multiples of ``q`` (up or down; q = 0: unchanged)."""
    if not q:
        return x
    k = math.ceil(x / q - _TOL) if up else math.floor(x / q + _TOL)
    return round(k * q, 10)


def _narrow(dist: Any, lo: float, hi: float) -> Any:
    """``dist`` limited to [lo, hi]: the same kind and quantum with intersected bounds; None
    when nothing is left."""
    if isinstance(dist, IntUniform):
        a, b = max(dist.lo, math.ceil(lo - _TOL)), min(dist.hi, math.floor(hi + _TOL))
        return IntUniform(a, b) if a <= b else None
    if isinstance(dist, LogUniform):
        a = dist.lo if lo <= dist.lo else _snap(lo, dist.q, up=True)
        b = dist.hi if hi >= dist.hi else _snap(hi, dist.q, up=False)
        return LogUniform(a, b, dist.q) if 0 < a <= b else None
    if isinstance(dist, Choice):
        vals = tuple(v for v in dist.values if lo - _TOL <= v <= hi + _TOL)
        return Choice(vals) if vals else None
    if isinstance(dist, Fixed):
        return dist if lo - _TOL <= dist.value <= hi + _TOL else None
    raise DesignSpaceError(f"cannot narrow a {type(dist).__name__} distribution to a range")


@dataclass(frozen=True)
class Range(_Base):
    """``range:<name>:<lo>..<hi>``: a RegNet parameter narrowed, or a statistic required."""

    name: str = ""
    lo: float = 0.0
    hi: float = 0.0
    kind: ClassVar[str] = "range"

    def __post_init__(self) -> None:
        what = f"range:{self.name}:{_num(self.lo)}..{_num(self.hi)}"
        if not (math.isfinite(self.lo) and math.isfinite(self.hi)) or not 0 <= self.lo <= self.hi:
            raise DesignSpaceError(f"{what}: needs finite bounds 0 <= lo <= hi")
        object.__setattr__(self, "lo", _plain(self.lo))
        object.__setattr__(self, "hi", _plain(self.hi))
        if self.name in STATISTICS:
            self._required()  # refuses a range that changes nothing
            return
        if isinstance(self.parent, AnyNetSpace) or self.name not in REGNET_RANGE_PARAMS:
            names = list(STATISTICS) + (
                list(REGNET_RANGE_PARAMS) if isinstance(self.parent, RegNetSpace) else []
            )
            raise DesignSpaceError(
                f"{what}: {self.name!r} is not a statistic"
                + (" or a RegNet parameter" if isinstance(self.parent, RegNetSpace) else "")
                + f" of {self.parent.name}; use one of {', '.join(names)}"
            )
        self._narrowed()

    def _narrowed(self) -> Any:
        what = self.id
        dist = getattr(self.parent, self.name)
        new = _narrow(dist, self.lo, self.hi)
        if new is None:
            raise DesignSpaceError(
                f"{what}: {self.parent.name} draws {self.name} from {dist.describe()}, which "
                f"has no value in the range"
            )
        if new == dist:
            raise DesignSpaceError(
                f"{what}: keeps every {self.name} of {self.parent.name} ({dist.describe()}); "
                f"it would not change the space"
            )
        return new

    def _required(self) -> tuple[tuple[str, float, float], ...]:
        """The parent's ``require`` with this range intersected in."""
        old = {s: (lo, hi) for s, lo, hi in self.parent.require}
        lo, hi = self.lo, self.hi
        if self.name in old:
            a, b = old[self.name]
            if lo <= a and hi >= b:
                raise DesignSpaceError(
                    f"{self.id}: {self.parent.name} already requires {self.name} in "
                    f"{_num(a)}..{_num(b)}; it would not change the space"
                )
            lo, hi = max(lo, a), min(hi, b)
            if lo > hi:
                raise DesignSpaceError(
                    f"{self.id}: {self.parent.name} requires {self.name} in {_num(a)}.."
                    f"{_num(b)}; nothing lies in both"
                )
        old[self.name] = (lo, hi)
        return tuple((s, float(a), float(b)) for s, (a, b) in sorted(old.items()))

    @property
    def id(self) -> str:
        return f"range:{self.name}:{_num(self.lo)}..{_num(self.hi)}"

    @property
    def feature(self) -> str:
        return self.name

    @property
    def on_statistic(self) -> bool:
        """True for a range on a statistic (``require``), False for a RegNet parameter."""
        return self.name in STATISTICS

    def short(self) -> str:
        return f"{self.name}_{_num(self.lo)}_{_num(self.hi)}"

    def sentence(self) -> str:
        if self.on_statistic:
            stat = get_statistic(self.name)
            unit = "" if stat.unit == "ratio" else f" {stat.unit}"
            label = self.name.replace("_", " ")
            return f"{label} between {_num(self.lo)} and {_num(self.hi)}{unit}"
        unit = " blocks" if self.name == "depth" else ""
        return f"{self.name} between {_num(self.lo)} and {_num(self.hi)}{unit}"

    def syntax(self) -> str:
        if self.on_statistic:
            return f"require: {{{self.name}: [{_num(self.lo)}, {_num(self.hi)}]}}"
        return f"params: {{{self.name}: {_flow(self._narrowed().to_spec())}}}"

    def _refine(self, name: str, description: str) -> Space:
        change = {"require": self._required()} if self.on_statistic else {}
        if not self.on_statistic:
            change[self.name] = self._narrowed()
        return replace(
            self.parent, name=name, description=description, refines=self.parent, **change
        )

    @classmethod
    def parse(cls, args: list[str], parent: Space) -> Range:
        """From the parts after ``range:``."""
        if len(args) != 2 or args[1].count("..") != 1:
            raise DesignSpaceError(
                "write range:<name>:<lo>..<hi>, e.g. range:total_depth:12..28 or range:wm:2..3"
            )
        lo, hi = args[1].split("..")
        what = f"range:{args[0]}:{args[1]}"
        return cls(parent, args[0], _parse_number(lo, what), _parse_number(hi, what))

    @classmethod
    def candidates(cls, parent: Space, archs: Sequence[Architecture]) -> list[Any]:
        """Lower / middle / upper third and lower / upper half of the values: for an AnyNet
        space the archs' total_depth, first_width and last_width; for a RegNet space
        4096 draws (seed 0) of its depth, w0, wa and wm distributions."""
        out: list[Any] = []
        if isinstance(parent, AnyNetSpace):
            for name in _ANYNET_RANGE_STATS:
                stat = get_statistic(name)
                values = np.asarray([stat(a) for a in archs], dtype=float)
                out += _range_makers(cls, parent, name, values, stat.grid)
        else:
            for name in REGNET_RANGE_PARAMS:
                dist = getattr(parent, name)
                if _single_valued(dist):
                    continue
                rng = np.random.default_rng(0)
                values = np.asarray(dist.sample(rng, (_QUANTILE_DRAWS,)), dtype=float)
                out += _range_makers(cls, parent, name, values, _REGNET_GRID[name])
        return out


def _range_makers(
    cls: type[Range], parent: Space, name: str, values: np.ndarray, grid: float
) -> list[Any]:
    """Makers of the five range candidates of ``values`` (rounded to ``grid``)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return []
    bounds = _known_bounds(parent, name)
    lo_s = min(float(values.min()), bounds[0]) if bounds else float(values.min())
    hi_s = max(float(values.max()), bounds[1]) if bounds else float(values.max())
    lo_s, hi_s = max(0.0, _snap(lo_s, grid, up=False)), _snap(hi_s, grid, up=True)
    q1, qm, q2 = (round(round(float(x) / grid) * grid, 10) for x in _cuts(values))
    spans = [(lo_s, q1), (q1, q2), (q2, hi_s), (lo_s, qm), (qm, hi_s)]
    return [
        lambda a=a, b=b: cls(parent, name, a, b)
        for a, b in spans
        if a <= b and not (a <= lo_s and b >= hi_s)
    ]


def _cuts(values: np.ndarray) -> np.ndarray:
    """The 1/3, 1/2 and 2/3 quantiles."""
    return np.quantile(values, [1 / 3, 1 / 2, 2 / 3])


def _known_bounds(parent: Space, name: str) -> tuple[float, float] | None:
    """The range a statistic or RegNet parameter can take in ``parent``, where known."""
    if name in REGNET_RANGE_PARAMS and isinstance(parent, RegNetSpace):
        bounds = getattr(getattr(parent, name), "bounds", None)
        return bounds() if bounds is not None else None
    if name == "total_depth" and isinstance(parent, AnyNetSpace):
        bounds = getattr(parent.depth, "bounds", None)
        if bounds is not None:
            lo, hi = bounds()
            return parent.num_stages * lo, parent.num_stages * hi
    if name in ("first_width", "last_width") and isinstance(parent, AnyNetSpace):
        bounds = getattr(parent.width, "bounds", None)
        return bounds() if bounds is not None else None
    return None


@dataclass(frozen=True)
class StageCount(_Base):
    """``stages:<n>``: a RegNet space with any stage count limited to ``n`` stages."""

    n: int = 4
    kind: ClassVar[str] = "stages"

    def __post_init__(self) -> None:
        what = f"stages:{self.n}"
        if not isinstance(self.parent, RegNetSpace):
            raise DesignSpaceError(
                f"{what}: applies to a RegNet space with any stage count; {self.parent.name} "
                f"is an AnyNet space with {self.parent.num_stages} stages"
            )
        if self.parent.num_stages is not None:
            raise DesignSpaceError(
                f"{what}: {self.parent.name} already keeps only {self.parent.num_stages} stages"
            )
        if isinstance(self.n, bool) or not isinstance(self.n, int) or not 1 <= self.n <= MAX_STAGES:
            raise DesignSpaceError(
                f"{what}: the stage count must be a whole number 1..{MAX_STAGES}"
            )

    @property
    def id(self) -> str:
        return f"stages:{self.n}"

    @property
    def feature(self) -> str:
        return "stages"

    def short(self) -> str:
        return f"s{self.n}"

    def sentence(self) -> str:
        return f"exactly {self.n} stages"

    def syntax(self) -> str:
        return f"num_stages: {self.n}"

    def _refine(self, name: str, description: str) -> Space:
        return replace(
            self.parent, name=name, description=description, num_stages=self.n, refines=self.parent
        )

    @classmethod
    def parse(cls, args: list[str], parent: Space) -> StageCount:
        """From the parts after ``stages:``."""
        if len(args) != 1 or not args[0].strip().isdigit():
            raise DesignSpaceError("write stages:<n>, e.g. stages:4")
        return cls(parent, int(args[0]))

    @classmethod
    def candidates(cls, parent: Space, archs: Sequence[Architecture]) -> list[Any]:
        """One per stage count the archs show."""
        counts = sorted({len(a.stages) for a in archs})
        return [lambda n=n: cls(parent, n) for n in counts]


@dataclass(frozen=True)
class LinearWidths(_Base):
    """``linear_widths``: DDS's RegNet space nested in an AnyNet space.

    Applies to an AnyNet space with a bottleneck block whose widths and depths may grow across
    stages (neither shared nor ordered decreasing): the rule's stage widths grow, and its
    stage depths mostly do too, so another parent would reject nearly every draw."""

    kind: ClassVar[str] = "linear_widths"

    def __post_init__(self) -> None:
        space = _need_anynet(self.parent, "linear_widths")
        if not _bottleneck(space):
            raise DesignSpaceError(
                f"linear_widths: the rule draws b and g; {space.name} draws {space.block!r} "
                f"blocks, which have no bottleneck"
            )
        order = dict(space.monotone)
        for p in ("width", "depth"):
            if p in space.shared or order.get(p) == "decreasing":
                raise DesignSpaceError(
                    f"linear_widths: {space.name} keeps its {p}s "
                    f"{'equal' if p in space.shared else 'decreasing'}; the rule's stage "
                    f"{p}s grow, so it cannot be nested in {space.name}"
                )

    @property
    def id(self) -> str:
        return "linear_widths"

    @property
    def feature(self) -> str:
        return "widths"

    def short(self) -> str:
        return "linear"

    def sentence(self) -> str:
        return (
            "stage widths follow the quantized linear rule (RegNet: d < 64, w0 < 256, "
            "wa < 256, 1.5 <= wm <= 3)"
        )

    def syntax(self) -> str:
        space = self.refined
        names = ("depth", "w0", "wa", "wm", "group_width", "bottleneck_ratio")
        params = {p: getattr(space, p).to_spec() for p in names}
        return (
            f"kind: regnet, num_stages: {space.num_stages}, refines: {self.parent.name}, "
            f"params: {_flow(params)}"
        )

    def _refine(self, name: str, description: str) -> Space:
        return linear_width_space(self.parent, name=name, description=description)

    @classmethod
    def parse(cls, args: list[str], parent: Space) -> LinearWidths:
        """``linear_widths`` takes no arguments."""
        if args:
            raise DesignSpaceError("linear_widths takes no arguments")
        return cls(parent)

    @classmethod
    def candidates(cls, parent: Space, archs: Sequence[Architecture]) -> list[Any]:
        """The rule itself."""
        return [lambda: cls(parent)]


CONSTRAINT_KINDS: dict[str, type] = {
    c.kind: c for c in (Shared, Monotone, FixedValue, Range, StageCount, LinearWidths)
}

_EXAMPLES = (
    "shared:bottleneck_ratio, monotone:width:increasing, fixed:bottleneck_ratio=1, "
    "range:total_depth:12..28, range:wm:2..3, stages:4, linear_widths"
)


def make_constraint(text: str, parent: Space | str) -> Constraint:
    """The constraint with id ``text`` (module docstring) made for ``parent`` (a space or its
    name); :class:`DesignSpaceError` when the id cannot be read or does not apply to it."""
    if isinstance(parent, str):
        parent = get_space(parent)
    if not isinstance(text, str) or not text.strip():
        raise DesignSpaceError(f"a constraint id must be a non-empty string, e.g. {_EXAMPLES}")
    kind, *args = text.strip().split(":")
    cls = CONSTRAINT_KINDS.get(kind)
    if cls is None:
        raise DesignSpaceError(
            f"unknown constraint kind {kind!r} in {text!r}; kinds: "
            f"{', '.join(CONSTRAINT_KINDS)} (e.g. {_EXAMPLES})"
        )
    try:
        return cls.parse(args, parent)  # type: ignore[attr-defined]
    except DesignSpaceError as exc:
        raise DesignSpaceError(f"constraint {text!r} for {parent.name}: {exc}") from None


def catalog(parent: Space, archs: Sequence[Architecture]) -> list[Constraint]:
    """Every candidate constraint that applies to ``parent`` and would change it, ids unique,
    in kind order (shared, monotone, fixed, range, stages, linear_widths).

    Range candidates come from the values of ``archs`` only (never their errors): the lower /
    middle / upper third and lower / upper half of the observed total_depth, first_width and
    last_width (AnyNet; outer ends at what the space can draw), or, since a configuration does
    not carry w0 / wa / wm, of 4096 draws (seed 0) of a RegNet space's depth, w0, wa and wm
    distributions; rounded (depths whole, widths and w0 to multiples of 8, wa whole, wm two
    decimals); ranges that keep the whole support are dropped. ``stages:<n>`` candidates are the
    stage counts of ``archs``. Never raises for a space: a candidate that does not apply is left
    out.
    """
    if isinstance(parent, str):
        parent = get_space(parent)
    archs = list(archs)  # read more than once
    out: list[Constraint] = []
    seen: set[str] = set()
    for cls in CONSTRAINT_KINDS.values():
        for make in cls.candidates(parent, archs):  # type: ignore[attr-defined]
            try:
                c = make()
                c.refined  # noqa: B018 (apply it once: a candidate must give a space)
            except DesignSpaceError:
                continue
            if c.id not in seen:
                seen.add(c.id)
                out.append(c)
    return out
