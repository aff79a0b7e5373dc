"""Per-architecture statistics: named numbers computed from an :class:`Architecture`.

A space may *require* a statistic to lie in an inclusive range (``require: {total_depth: [12,
28]}`` in a space file, :class:`designspace.core.spaces.AnyNetSpace` /
:class:`~designspace.core.spaces.RegNetSpace`): the sampler rejects draws outside it and
:func:`designspace.core.support.inside` reports them. The registry :data:`STATISTICS` maps a
name to a :class:`Statistic` (function, unit, one-line description); everything here is pure.

Built in:

* ``total_depth``: blocks over all stages (DDS's d), unit "blocks";
* ``first_width`` / ``last_width``: output channels of the first / last stage, "channels";
* ``width_ratio``: last stage width / first stage width, a ratio (1 for a single stage);
* ``num_stages``: the number of stages, "stages".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from designspace.core.arch import Architecture
from designspace.errors import DesignSpaceError, did_you_mean


@dataclass(frozen=True)
class Statistic:
    """One statistic of an architecture: ``fn(arch)`` is its value (a float) in ``unit``;
    ``grid`` is the step its range candidates are rounded to (1: whole numbers, 8: channel
    multiples of 8, 0.01: two decimals)."""

    name: str
    fn: Callable[[Architecture], float]
    unit: str
    description: str
    grid: float = 1.0

    def __call__(self, arch: Architecture) -> float:
        """The statistic's value for ``arch`` (in :attr:`unit`)."""
        return float(self.fn(arch))


def _total_depth(arch: Architecture) -> float:
    return float(arch.depth)


def _first_width(arch: Architecture) -> float:
    return float(arch.widths[0])


def _last_width(arch: Architecture) -> float:
    return float(arch.widths[-1])


def _width_ratio(arch: Architecture) -> float:
    return arch.widths[-1] / arch.widths[0]


def _num_stages(arch: Architecture) -> float:
    return float(len(arch.stages))


STATISTICS: Mapping[str, Statistic] = MappingProxyType(
    {
        s.name: s
        for s in (
            Statistic("total_depth", _total_depth, "blocks", "blocks over all stages (d)", 1),
            Statistic("first_width", _first_width, "channels", "first stage's output width", 8),
            Statistic("last_width", _last_width, "channels", "last stage's output width", 8),
            Statistic(
                "width_ratio", _width_ratio, "ratio", "last stage width / first stage width", 0.01
            ),
            Statistic("num_stages", _num_stages, "stages", "number of stages", 1),
        )
    }
)


def statistic_names() -> list[str]:
    """Names of the registered statistics, in registry order."""
    return list(STATISTICS)


def get_statistic(name: str) -> Statistic:
    """The statistic ``name``; :class:`DesignSpaceError` (with the valid names) when unknown."""
    stat = STATISTICS.get(name) if isinstance(name, str) else None
    if stat is None:
        raise DesignSpaceError(
            f"unknown statistic {name!r}{did_you_mean(name, STATISTICS)}; valid statistics: "
            f"{', '.join(STATISTICS)}"
        )
    return stat


def compute(name: str, arch: Architecture) -> float:
    """The value of statistic ``name`` for ``arch`` (see :data:`STATISTICS` for units)."""
    return get_statistic(name)(arch)


def describe_range(name: str, lo: float, hi: float) -> str:
    """``"12..28 blocks"``: an inclusive range of statistic ``name`` in its unit."""
    stat = get_statistic(name)
    unit = "" if stat.unit == "ratio" else f" {stat.unit}"
    return f"{lo:g}..{hi:g}{unit}"


__all__ = [
    "STATISTICS",
    "Statistic",
    "compute",
    "describe_range",
    "get_statistic",
    "statistic_names",
]
