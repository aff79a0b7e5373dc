"""Regimes: the input/output setting and the compute band a space is sampled for.

A regime fixes the input resolution (px, square), input channels, number of classes, stem, and
the band of flops (multiply-adds) that sampled models must fall in; optionally bands of params
and acts. The default is the papers' ImageNet regime; ``fashion-mnist`` is the project's small
CPU regime. :func:`regime_for_dataset` gives the regime a data set is sampled in by default
(named by the data set's registry entry, :mod:`designspace.core.datasets`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from designspace.core.datasets import get_dataset
from designspace.errors import DesignSpaceError

Band = tuple[float, float]


@dataclass(frozen=True)
class Regime:
    """Input size, channels, classes, stem, and complexity bands (flops = multiply-adds).

    ``dataset``: the registered data set the regime describes (None: none in particular).
    """

    name: str
    resolution: int
    in_channels: int
    num_classes: int
    flops: Band
    stem: str = "simple"
    stem_width: int = 32
    params: Band | None = None
    acts: Band | None = None
    dataset: str | None = None
    description: str = ""

    def with_overrides(self, **changes: object) -> Regime:
        """A copy with the given fields replaced (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


REGIMES: dict[str, Regime] = {
    r.name: r
    for r in (
        Regime(
            name="imagenet",
            resolution=224,
            in_channels=3,
            num_classes=1000,
            flops=(360e6, 400e6),
            dataset="imagefolder",
            description="the papers' regime: 224 px RGB, 1000 classes, 360-400MF",
        ),
        Regime(
            name="fashion-mnist",
            resolution=28,
            in_channels=1,
            num_classes=10,
            flops=(3.6e6, 4.0e6),
            dataset="fashion-mnist",
            description=(
                "the project's small CPU regime: 28 px grey, 10 classes, 3.6-4.0MF (the papers' "
                "band / 100; the chapter's RegNetX32 has 3.96MF at 28 px)"
            ),
        ),
        Regime(
            name="fashion-mnist-small",
            resolution=28,
            in_channels=1,
            num_classes=10,
            flops=(3.6e6, 4.0e6),
            stem="small",
            dataset="fashion-mnist",
            description=(
                "28 px grey, 10 classes, stride-1 'small' stem: the four stages run at 14, 7, 4 "
                "and 2 px, the papers' 56:28:14:7 ratios; 3.6-4.0MF, the fashion-mnist band, so "
                "that the two regimes differ only in where the stages run"
            ),
        ),
        Regime(
            name="cifar10",
            resolution=32,
            in_channels=3,
            num_classes=10,
            flops=(7.35e6, 8.16e6),
            dataset="cifar10",
            description="32 px RGB, 10 classes, the papers' band scaled by pixel area (32/224)^2",
        ),
    )
}
DEFAULT_REGIME = "imagenet"
_ALIASES = {"paper": "imagenet", "fmnist": "fashion-mnist", "cifar-10": "cifar10"}


def list_regimes() -> list[str]:
    """Names accepted by :func:`get_regime`."""
    return list(REGIMES)


def get_regime(name: str) -> Regime:
    """The built-in regime called ``name`` (case-insensitive; 'paper' = 'imagenet')."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in REGIMES:
        close = difflib.get_close_matches(key, list(REGIMES), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise DesignSpaceError(
            f"unknown regime {name!r}{hint}; valid regimes: {', '.join(REGIMES)}"
        )
    return REGIMES[key]


def regime_for_dataset(dataset: str) -> Regime:
    """The regime a sweep on ``dataset`` samples in unless told otherwise: the data set's
    registry entry names it (:attr:`designspace.core.datasets.DatasetSpec.regime`); an unknown data
    set, or one without a regime, is bad input."""
    spec = get_dataset(dataset)
    if spec.regime is None:
        raise DesignSpaceError(
            f"data set {dataset!r} has no default regime; name one with --regime "
            f"({', '.join(REGIMES)})"
        )
    return get_regime(spec.regime)


_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}
_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmgt]?)(?:f|flops)?\s*$", re.I)


def parse_quantity(text: str) -> float:
    """Parse ``360M``, ``0.4G``, ``4e8``, ``400MF`` or ``3.6m`` into a number."""
    match = _NUMBER.match(str(text))
    if not match:
        raise DesignSpaceError(f"cannot read {text!r} as a number; write e.g. 360M, 0.4G or 4e8")
    return float(match.group(1)) * _SUFFIX[match.group(2).lower()]


def parse_band(text: str) -> Band:
    """Parse ``LO:HI`` (each as :func:`parse_quantity`) into a band with 0 <= LO < HI."""
    parts = str(text).split(":")
    if len(parts) != 2:
        raise DesignSpaceError(f"a band is LO:HI (e.g. 360M:400M), got {text!r}")
    lo, hi = (parse_quantity(p) for p in parts)
    if lo < 0 or hi <= lo:
        raise DesignSpaceError(f"band {text!r} is empty or reversed: write LO:HI with 0 <= LO < HI")
    return lo, hi


def format_quantity(x: float) -> str:
    """``397678568 -> '397.7M'`` (flops, params or acts)."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.4g}{unit}"
    return f"{x:.4g}"
