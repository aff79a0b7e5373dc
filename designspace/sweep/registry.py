"""The executor registry: executor name -> the class that runs a sweep's trials.

Each entry is ``"module:Class"``, imported only when that executor is chosen (so that the local
executor never imports ray). Imports nothing of the sweep package at module level: the
configuration checks names here, and the seam (:mod:`designspace.sweep.executor`) defines what
an executor is.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable

from designspace.errors import DesignSpaceError

EXECUTORS: dict[str, str] = {
    "ray": "designspace.sweep.ray_executor:RayExecutor",
    "local": "designspace.sweep.local_executor:LocalExecutor",
}


def suggest(name: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_executor(name: str) -> None:
    """DesignSpaceError (one line, the closest name suggested) when ``name`` is not
    registered."""
    if name not in EXECUTORS:
        raise DesignSpaceError(
            f"unknown executor {name!r}{suggest(str(name), EXECUTORS)}; choose one of "
            f"{', '.join(EXECUTORS)}"
        )


def executor_class(name: str) -> type:
    """The class of the registered executor ``name`` (its module is imported only now)."""
    check_executor(name)
    module, _, cls = EXECUTORS[name].partition(":")
    return getattr(importlib.import_module(module), cls)
