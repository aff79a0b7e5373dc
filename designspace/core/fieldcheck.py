"""Type and key checks for configuration dataclasses read from files (TOML, JSON) or code.

A dataclass's field annotations are its schema: :func:`check_types` compares every value with
its annotation (``int``, ``float``, ``bool``, ``str`` and unions of them with ``None``) and
:func:`check_keys` names unknown keys with a close-match suggestion. Both raise
:class:`~designspace.errors.DesignSpaceError` with one line that names the key, what was
expected, what was given and, through ``where``, the file it came from. Pure: no torch.

Conventions: an ``int`` is accepted where a ``float`` is expected (TOML's ``epochs = 1``), a
``bool`` is never taken for a number, and numpy scalars count as the Python type they mirror
(values read back from tables).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import numbers
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from designspace.errors import DesignSpaceError

__all__ = ["check_keys", "check_types", "field_types", "describe_type", "prefix"]

_WORDS = {
    bool: "true or false (bool)",
    int: "a whole number (int)",
    float: "a number (float)",
    str: "a string (str)",
}


def prefix(where: str | None) -> str:
    """``"WHERE: "`` or ``""``: the start of a message about a value read from ``where``."""
    return f"{where}: " if where else ""


@functools.cache
def field_types(cls: type) -> dict[str, tuple[type, ...]]:
    """For each field of dataclass ``cls``: the allowed types (``type(None)`` when optional)."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            out[f.name] = tuple(typing.get_args(hint))
        else:
            out[f.name] = (hint,)
    return out


def describe_type(allowed: Iterable[type]) -> str:
    """``(int, NoneType)`` -> ``"a whole number (int) or None"``."""
    allowed = tuple(allowed)
    words = [_WORDS.get(t, getattr(t, "__name__", str(t))) for t in allowed if t is not type(None)]
    text = " or ".join(words)
    return text + " or None" if type(None) in allowed else text


def _is_numpy_bool(value: Any) -> bool:
    return type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool")


def _matches(value: Any, kind: type) -> bool:
    if kind is type(None):
        return value is None
    if kind is bool:
        return isinstance(value, bool) or _is_numpy_bool(value)
    if isinstance(value, bool) or _is_numpy_bool(value):
        return False  # True is an int to Python, never a number here
    if kind is int:
        return isinstance(value, numbers.Integral)
    if kind is float:
        return isinstance(value, numbers.Real)
    return isinstance(value, kind)


def check_types(obj: Any, where: str | None = None, what: str = "setting") -> None:
    """Raise DesignSpaceError for the first field of dataclass instance ``obj`` whose value
    does not match its annotation; the message names ``what`` and the field, the expected
    type, the value and its type, prefixed by ``where`` (a file name) when given."""
    for name, allowed in field_types(type(obj)).items():
        value = getattr(obj, name)
        if not any(_matches(value, kind) for kind in allowed):
            raise DesignSpaceError(
                f"{prefix(where)}{what} {name!r} must be {describe_type(allowed)}, "
                f"got {value!r} ({type(value).__name__})"
            )


def check_keys(
    cls: type, data: Mapping[str, Any], where: str | None = None, what: str = "setting"
) -> None:
    """Raise DesignSpaceError when ``data`` has a key that is not a field of dataclass
    ``cls``: the message names the key, the closest field ("did you mean ...?") and the
    valid keys, prefixed by ``where`` when given. Keys must be strings."""
    if not isinstance(data, Mapping):
        raise DesignSpaceError(
            f"{prefix(where)}{what}s must be a table of key = value, got {type(data).__name__}"
        )
    known = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if not isinstance(key, str) or key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DesignSpaceError(
                f"{prefix(where)}unknown {what} {key!r}{hint}; valid {what}s: {', '.join(known)}"
            )
