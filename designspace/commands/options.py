"""Command-line options generated from the configuration dataclasses, so none can be forgotten.

Training (``designspace train`` and ``designspace sweep``): every field of
:class:`~designspace.training.trainconfig.TrainConfig` becomes one option: the data fields (those
of :class:`~designspace.core.datasets.DataConfig`) in a "data" group, the others in the group
their field metadata names ("schedule", "run"). The option is ``--field-name``; its type comes
from the annotation (``int``, ``float``, ``str``; ``bool`` gives ``--x/--no-x``), its help and
metavar from the field's metadata. Every default is None, so an option left out keeps the
configuration's own default.

Analysis (``designspace analyze`` and ``designspace plot``): every field of
:class:`~designspace.reporting.options.AnalysisOptions` becomes one option the same way (for
``plot``, the fields whose metadata says ``"plot": True``); a ``tuple[str, ...]`` field takes a
comma-separated list; the help states the field's default. :func:`analysis_from_args` checks
each given value with the flag named in the message and builds the options.

Pure: imports no torch, pandas or scipy.
"""

from __future__ import annotations

import argparse
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from designspace.core.datasets import DATASETS, DataConfig
from designspace.core.fieldcheck import field_types
from designspace.errors import DesignSpaceError
from designspace.reporting.options import AnalysisOptions
from designspace.training.trainconfig import DATA_FIELDS, TrainConfig

__all__ = [
    "ANALYSIS_COMMANDS",
    "GROUPS",
    "AnalysisOption",
    "ConfigOption",
    "add_analysis_options",
    "add_train_options",
    "analysis_from_args",
    "analysis_options",
    "settings_from_args",
    "train_options",
]

GROUPS = ("data", "schedule", "run")


@dataclass(frozen=True)
class ConfigOption:
    """One generated option: the configuration field, its flag, argparse dest, group, help."""

    field: str
    flag: str
    dest: str
    group: str
    help: str
    metavar: str | None
    kind: type


def _dataset_help() -> str:
    names = [
        f"{name} ({DATASETS[name].description})" if DATASETS[name].description else name
        for name in DATASETS
    ]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


def train_options(rename: Mapping[str, tuple[str, str]] | None = None) -> tuple[ConfigOption, ...]:
    """The options of every :class:`TrainConfig` field, in group order (data, schedule, run).

    ``rename``: field -> (flag, help prefix), for a command where the plain flag means
    something else (``designspace sweep``'s ``--seed`` samples; its training seed is
    ``{"seed": ("--train-seed", "training seed: ")}``).
    """
    rename = rename or {}
    meta = {f.name: f.metadata for f in fields(DataConfig)}
    meta.update({f.name: f.metadata for f in fields(TrainConfig) if f.name not in DATA_FIELDS})
    types = field_types(TrainConfig)
    out = []
    for f in fields(TrainConfig):
        info = meta[f.name]
        group = "data" if f.name in DATA_FIELDS else info.get("group")
        if group not in GROUPS:
            raise TypeError(f"TrainConfig.{f.name} has no command-line group in its metadata")
        flag, help_prefix = rename.get(f.name, (f"--{f.name.replace('_', '-')}", ""))
        help_text = _dataset_help() if f.name == "dataset" else info["help"]
        kind = next(t for t in types[f.name] if t is not type(None))
        out.append(
            ConfigOption(
                field=f.name,
                flag=flag,
                dest=flag.lstrip("-").replace("-", "_"),
                group=group,
                help=help_prefix + help_text,
                metavar=info.get("metavar"),
                kind=kind,
            )
        )
    return tuple(sorted(out, key=lambda o: GROUPS.index(o.group)))


def add_train_options(
    parser: argparse.ArgumentParser,
    rename: Mapping[str, tuple[str, str]] | None = None,
    title_prefix: str = "",
) -> tuple[tuple[ConfigOption, ...], dict[str, argparse._ArgumentGroup]]:
    """Add one option per :class:`TrainConfig` field to ``parser``, in argument groups titled
    ``title_prefix + group``; returns the options and the groups (by group name), so a
    command can add its own options to a group."""
    options = train_options(rename)
    groups = {name: parser.add_argument_group(title_prefix + name) for name in GROUPS}
    for o in options:
        kw: dict[str, Any] = {"dest": o.dest, "default": None, "help": o.help}
        if o.kind is bool:
            kw["action"] = argparse.BooleanOptionalAction
        else:
            kw["type"] = o.kind
            if o.metavar:
                kw["metavar"] = o.metavar
        groups[o.group].add_argument(o.flag, **kw)
    return options, groups


def settings_from_args(
    args: argparse.Namespace, options: tuple[ConfigOption, ...]
) -> dict[str, Any]:
    """``{field: value}`` of the options given on the command line (None = not given), ready
    for ``TrainConfig(**settings)``."""
    out = {}
    for o in options:
        value = getattr(args, o.dest, None)
        if value is not None:
            out[o.field] = value
    return out


ANALYSIS_COMMANDS = ("analyze", "plot")


@dataclass(frozen=True)
class AnalysisOption:
    """One generated analysis option: the :class:`AnalysisOptions` field, its flag, argparse
    dest, help (with the default), metavar, choices and value type (``tuple`` for a
    comma-separated list)."""

    field: str
    flag: str
    dest: str
    help: str
    metavar: str | None
    choices: tuple[str, ...] | None
    kind: type


def _shown_default(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def analysis_options(command: str = "analyze") -> tuple[AnalysisOption, ...]:
    """The options of the :class:`AnalysisOptions` fields that ``command`` ("analyze": all of
    them; "plot": those whose metadata has ``"plot": True``), in field order."""
    if command not in ANALYSIS_COMMANDS:
        raise ValueError(f"no analysis options for command {command!r}")
    types = field_types(AnalysisOptions)
    out = []
    for f in fields(AnalysisOptions):
        info = f.metadata
        if "help" not in info:
            raise TypeError(f"AnalysisOptions.{f.name} has no help text in its metadata")
        if command == "plot" and not info.get("plot"):
            continue
        kind = next(t for t in types[f.name] if t is not type(None))
        kind = tuple if typing.get_origin(kind) is tuple else kind
        flag = info.get("flag", f"--{f.name.replace('_', '-')}")
        shown = _shown_default(f.default)
        out.append(
            AnalysisOption(
                field=f.name,
                flag=flag,
                dest=flag.lstrip("-").replace("-", "_"),
                help=info["help"] + (f" (default: {shown})" if shown is not None else ""),
                metavar=info.get("metavar"),
                choices=info.get("choices"),
                kind=kind,
            )
        )
    return tuple(out)


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_analysis_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, command: str = "analyze"
) -> tuple[AnalysisOption, ...]:
    """Add one option per :class:`AnalysisOptions` field of ``command`` (see
    :func:`analysis_options`) to ``parser`` (or an argument group); returns the options. Every
    default is None: an option left out keeps the field's default."""
    options = analysis_options(command)
    for o in options:
        kw: dict[str, Any] = {"dest": o.dest, "default": None, "help": o.help}
        kw["type"] = _comma_list if o.kind is tuple else o.kind
        if o.choices:
            kw["choices"] = list(o.choices)
        if o.metavar:
            kw["metavar"] = o.metavar
        parser.add_argument(o.flag, **kw)
    return options


def analysis_from_args(
    args: argparse.Namespace, options: tuple[AnalysisOption, ...]
) -> AnalysisOptions:
    """The :class:`AnalysisOptions` of the options given on the command line (None = not given:
    the field's default). A bad value raises DesignSpaceError naming its flag."""
    given = {}
    for o in options:
        value = getattr(args, o.dest, None)
        if value is None:
            continue
        try:
            AnalysisOptions(**{o.field: value})
        except DesignSpaceError as exc:
            raise DesignSpaceError(f"{o.flag}: {exc}") from None
        given[o.field] = value
    return AnalysisOptions(**given)
