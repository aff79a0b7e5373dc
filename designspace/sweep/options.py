"""Executor options as data: each executor's frozen dataclass generates its CLI flags and
study-file keys, and checks its own values.

An executor's ``Options`` subclasses :class:`ExecutorOptions`; every field is declared with
:func:`option` (help text, metavar, choices, valid range). A field ``time`` of an executor whose
``PREFIX`` is ``"slurm"`` is the study-file key ``slurm_time`` (under ``[placement]``), the flag
``--slurm-time`` of ``designspace sweep``/``study``/``replicate``, and ``options.time`` in code.
The CLI and the study-file reader find every executor's options through the registry
(:mod:`designspace.sweep.registry`), so a new executor's options need no other file.

Pure: imports neither torch nor ray nor submitit.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from designspace.core.fieldcheck import describe_type, field_types
from designspace.errors import DesignSpaceError

__all__ = ["ExecutorOptions", "OptionSpec", "option"]


def option(
    default: Any,
    help: str,
    *,
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
    low: float | None = None,
    high: float | None = None,
) -> Any:
    """A field of an :class:`ExecutorOptions` dataclass: its default, help text, metavar, the
    allowed values (``choices``) or the inclusive range ``low..high`` of a number."""
    meta = {"help": help, "metavar": metavar, "choices": choices, "low": low, "high": high}
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class OptionSpec:
    """One executor option: the field, its study-file key, its flag, its value type, help."""

    field: str
    key: str
    flag: str
    kind: type
    help: str
    metavar: str | None
    choices: tuple[str, ...] | None


def _matches(value: Any, kind: type) -> bool:
    if kind is type(None):
        return value is None
    if isinstance(value, bool):
        return kind is bool
    if kind is int:
        return isinstance(value, numbers.Integral)
    if kind is float:
        return isinstance(value, numbers.Real)
    return isinstance(value, kind)


@dataclass(frozen=True)
class ExecutorOptions:
    """Base of an executor's options (no fields: an executor without options uses it as is).

    ``PREFIX`` (``""`` or e.g. ``"slurm"``) starts the flags and keys of the fields, so that
    the options of different executors never share a name.
    """

    PREFIX: ClassVar[str] = ""

    def __post_init__(self) -> None:
        types = field_types(type(self))
        for spec in self.specs():
            value = getattr(self, spec.field)
            allowed = types[spec.field]
            if not any(_matches(value, kind) for kind in allowed):
                raise DesignSpaceError(
                    f"{spec.flag} must be {describe_type(allowed)}, got {value!r}"
                )
            if value is None:
                continue
            meta = _field(type(self), spec.field).metadata
            if spec.choices is not None and value not in spec.choices:
                raise DesignSpaceError(
                    f"{spec.flag} must be one of {', '.join(spec.choices)}, got {value!r}"
                )
            low, high = meta.get("low"), meta.get("high")
            if (low is not None and value < low) or (high is not None and value > high):
                bound = f">= {low:g}" if high is None else f"in {low:g}..{high:g}"
                raise DesignSpaceError(f"{spec.flag} must be {bound}, got {value!r}")
        self.check()

    def check(self) -> None:
        """Checks across fields or of a value's form; DesignSpaceError (one line) naming the
        flag. Overridden by an executor's options where needed."""

    @classmethod
    def specs(cls) -> tuple[OptionSpec, ...]:
        """Every option of this executor, in field order."""
        types = field_types(cls)
        out = []
        for f in dataclasses.fields(cls):
            key = f"{cls.PREFIX}_{f.name}" if cls.PREFIX else f.name
            kind = next(t for t in types[f.name] if t is not type(None))
            out.append(
                OptionSpec(
                    field=f.name,
                    key=key,
                    flag="--" + key.replace("_", "-"),
                    kind=kind,
                    help=f.metadata.get("help", ""),
                    metavar=f.metadata.get("metavar"),
                    choices=f.metadata.get("choices"),
                )
            )
        return tuple(out)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The study-file keys of these options (``[placement]``)."""
        return tuple(s.key for s in cls.specs())

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> ExecutorOptions:
        """The options from study-file keys -> values (keys left out keep their defaults);
        DesignSpaceError for a key that is not one of :meth:`keys` or a bad value."""
        by_key = {s.key: s.field for s in cls.specs()}
        unknown = [k for k in values if k not in by_key]
        if unknown:
            raise DesignSpaceError(f"unknown option {unknown[0]!r}; valid: {', '.join(by_key)}")
        return cls(**{by_key[k]: v for k, v in values.items()})

    def values(self) -> dict[str, Any]:
        """Study-file key -> value of every option that differs from its default."""
        out = {}
        for spec in self.specs():
            value = getattr(self, spec.field)
            if value != _field(type(self), spec.field).default:
                out[spec.key] = value
        return out


def _field(cls: type, name: str) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(cls) if f.name == name)
