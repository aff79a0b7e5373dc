"""The executor registry: executor name -> the class that runs a sweep's trials.

Each entry is ``"module:Class"``. An executor's module imports nothing heavy at module level
(ray, submitit and torch only inside the functions that run trials), so the command line and
the study-file reader import every registered module to find each executor's options
(:func:`options_class`). Imports only the options base of the sweep package: the
configuration checks names here, and the seam (:mod:`designspace.sweep.executor`) defines what
an executor is.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from designspace.errors import DesignSpaceError, did_you_mean
from designspace.sweep.options import ExecutorOptions

EXECUTORS: dict[str, str] = {
    "ray": "designspace.sweep.ray_executor:RayExecutor",
    "local": "designspace.sweep.local_executor:LocalExecutor",
    "slurm": "designspace.sweep.slurm_executor:SlurmExecutor",
}


def suggest(name: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""``."""
    return did_you_mean(name, choices)


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


def options_class(name: str) -> type[ExecutorOptions]:
    """The options dataclass of the registered executor ``name`` (:class:`ExecutorOptions`,
    without fields, for an executor that declares none)."""
    return getattr(executor_class(name), "Options", ExecutorOptions)
