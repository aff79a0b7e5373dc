"""Command-line options generated from the configuration dataclasses, so none can be forgotten.

Every field of :class:`~designspace.training.trainconfig.TrainConfig` becomes one option: the data
fields (those of :class:`~designspace.core.datasets.DataConfig`) in a "data" group, the others in
the group their field metadata names ("schedule", "run"). The option is ``--field-name``; its
type comes from the annotation (``int``, ``float``, ``str``; ``bool`` gives
``--x/--no-x``), its help and metavar from the field's metadata. Every default is None, so an
option left out keeps the configuration's own default. Pure: imports no torch.

Used by ``designspace train`` and ``designspace sweep``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from designspace.core.datasets import DATASETS, DataConfig
from designspace.core.fieldcheck import field_types
from designspace.training.trainconfig import DATA_FIELDS, TrainConfig

__all__ = ["GROUPS", "ConfigOption", "add_train_options", "settings_from_args", "train_options"]

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
