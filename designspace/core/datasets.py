"""The data set registry and the data configuration: what is known about each data set.

Pure (no torch, no numpy): planning a sweep, validating arguments and choosing a regime read
this module only; :mod:`designspace.training.data` does the loading, through the loader each
:class:`DatasetSpec` names.

Adding a data set: write its loader (``loader(data: DataConfig) -> (train_x, train_y, val_x,
val_y, class_names)`` with uint8 images of shape (N, C, H, W) and integer labels, numpy arrays)
and add one :class:`DatasetSpec` to ``_BUILTIN`` below (or call :func:`register_dataset`, which
lasts for the current process only: sweep workers in other processes do not see it). Its
regime (``regime``) must be one of :mod:`designspace.core.regimes`.

Image folders (``data_root/{train,val}/<class>/<image>``) are recognized by
:data:`IMAGE_SUFFIXES`, the one list of image file suffixes of the project.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from designspace.core.fieldcheck import check_keys, check_types, prefix
from designspace.errors import DesignSpaceError

__all__ = [
    "DATASETS",
    "IMAGE_SUFFIXES",
    "DataConfig",
    "DatasetFacts",
    "DatasetSpec",
    "dataset_facts",
    "get_dataset",
    "image_folder_splits",
    "list_image_folder",
    "register_dataset",
    "unregister_dataset",
]

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp"}
)

# (train_x, train_y, val_x, val_y, class_names) as numpy arrays; see the module docstring.
Loader = Callable[["DataConfig"], tuple[Any, Any, Any, Any, tuple[str, ...]]]


@dataclass(frozen=True)
class DatasetSpec:
    """What the project knows about one data set without reading it.

    ``loader``: ``"module:function"`` (imported when the data are loaded, so that this
    registry stays free of torch) or the function itself. ``resolution``: native image side in
    px (an image folder: the center crop, 224). ``channels``: 1 grey, 3 RGB. ``classes``,
    ``train_size``, ``val_size``: the published numbers, or None when counted from an image
    folder under ``data_root`` (:func:`dataset_facts`). ``regime``: the name of the regime a
    sweep on this data set samples in by default. ``augment``: whether random crop + flip is
    on when the configuration leaves it unset. ``needs_root``: ``data_root`` is required (no
    default location). ``description``: a few words for ``--dataset``'s help.
    """

    name: str
    loader: str | Loader
    resolution: int
    channels: int
    classes: int | None
    train_size: int | None
    val_size: int | None
    regime: str | None
    augment: bool
    needs_root: bool = True
    description: str = ""

    @property
    def counted(self) -> bool:
        """True when sizes and classes come from the files (an image folder tree)."""
        return self.classes is None or self.train_size is None or self.val_size is None

    def load(self, data: DataConfig) -> tuple[Any, Any, Any, Any, tuple[str, ...]]:
        """Call the loader (imported on first use) with ``data``."""
        loader = self.loader
        if isinstance(loader, str):
            module, _, name = loader.partition(":")
            loader = getattr(importlib.import_module(module), name)
        return loader(data)


_BUILTIN = (
    DatasetSpec(
        name="fashion-mnist",
        loader="designspace.training.data:fashion_mnist_splits",
        resolution=28,
        channels=1,
        classes=10,
        train_size=60_000,
        val_size=10_000,
        regime="fashion-mnist",
        augment=False,
        needs_root=False,
        description="default; Debian package dataset-fashion-mnist",
    ),
    DatasetSpec(
        name="cifar10",
        loader="designspace.training.data:cifar10_splits",
        resolution=32,
        channels=3,
        classes=10,
        train_size=50_000,
        val_size=10_000,
        regime="cifar10",
        augment=True,
        description="torchvision's cifar-10-batches-py folder",
    ),
    DatasetSpec(
        name="imagefolder",
        loader="designspace.training.data:imagefolder_splits",
        resolution=224,
        channels=3,
        classes=None,
        train_size=None,
        val_size=None,
        regime="imagenet",
        augment=True,
        description="train/ and val/ class folders",
    ),
)
_REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in _BUILTIN}
DATASETS: Mapping[str, DatasetSpec] = MappingProxyType(_REGISTRY)
"""name -> :class:`DatasetSpec`, read-only (see :func:`register_dataset`)."""


def get_dataset(name: str) -> DatasetSpec:
    """The registered data set called ``name``; DesignSpaceError (with the closest name and
    the valid names) for anything else."""
    if isinstance(name, str) and name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(str(name).lower(), list(_REGISTRY), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise DesignSpaceError(
        f"unknown data set {name!r}{hint}; valid data sets: {', '.join(_REGISTRY)}"
    )


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    """Add ``spec`` to the registry of this process (a name already taken is bad input)."""
    if spec.name in _REGISTRY:
        raise DesignSpaceError(f"data set {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def unregister_dataset(name: str) -> None:
    """Remove a data set added with :func:`register_dataset` (built-in ones stay)."""
    if any(spec.name == name for spec in _BUILTIN):
        raise DesignSpaceError(f"data set {name!r} is built in and cannot be removed")
    get_dataset(name)
    del _REGISTRY[name]


# --------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class DataConfig:
    """Which images a run trains and validates on, and how they are prepared.

    ``resize``: side in px every image is resized to once, up front (None: native).
    ``subset``/``val_subset``: sizes of seeded class-balanced subsets (None: all images);
    ``subset_seed`` picks them, independently of the training seed, so every model of a sweep
    sees the same images. ``augment``: random crop with padding and horizontal flip per batch
    (None: the data set's default). Hashable: a cache of loaded data may key on it.
    """

    dataset: str = field(
        default="fashion-mnist",
        metadata={"metavar": "NAME", "help": "a registered data set (default fashion-mnist)"},
    )
    data_root: str | None = field(
        default=None,
        metadata={
            "metavar": "DIR",
            "help": "data folder (default for fashion-mnist: /usr/share/datasets/fashion-mnist)",
        },
    )
    resize: int | None = field(
        default=None,
        metadata={
            "metavar": "PX",
            "help": "resize images to PX x PX once, up front (default: native size)",
        },
    )
    subset: int | None = field(
        default=None,
        metadata={
            "metavar": "N",
            "help": "train on a seeded class-balanced subset of N images",
        },
    )
    val_subset: int | None = field(
        default=None,
        metadata={
            "metavar": "N",
            "help": "validate on a seeded class-balanced subset of N images",
        },
    )
    subset_seed: int = field(
        default=0, metadata={"metavar": "S", "help": "seed of the subsets (0)"}
    )
    augment: bool | None = field(
        default=None,
        metadata={
            "help": "random crop with padding + horizontal flip per batch (default: off for "
            "fashion-mnist, on otherwise)"
        },
    )

    def __post_init__(self) -> None:
        self.validate()

    def validate(self, where: str | None = None) -> None:
        """Raise DesignSpaceError naming the first bad setting."""
        check_types(self, where, what="data setting")
        try:
            get_dataset(self.dataset)
        except DesignSpaceError as exc:
            raise DesignSpaceError(f"{prefix(where)}{exc}") from None
        for name in ("resize", "subset", "val_subset"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise DesignSpaceError(f"{prefix(where)}{name} must be > 0, got {value}")

    @property
    def spec(self) -> DatasetSpec:
        """The registry entry of :attr:`dataset`."""
        return get_dataset(self.dataset)

    @property
    def resolution(self) -> int:
        """Image side (px) the data load at: ``resize``, else the data set's native side."""
        return self.resize or self.spec.resolution

    @property
    def augment_on(self) -> bool:
        """Whether batch augmentation runs: ``augment``, else the data set's default."""
        return self.spec.augment if self.augment is None else self.augment

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str | None = None) -> DataConfig:
        """Inverse of :meth:`to_dict`; unknown keys and wrong types raise DesignSpaceError
        naming the key (and ``where``, the file it came from)."""
        check_keys(cls, data, where, what="data setting")
        try:
            return cls(**data)
        except DesignSpaceError as exc:
            raise DesignSpaceError(f"{prefix(where)}{exc}") from None


# --------------------------------------------------------------------------- facts
@dataclass(frozen=True)
class DatasetFacts:
    """Sizes and shapes of a data set as a planner sees them (no image is decoded).

    ``train_images``/``val_images``: after subsets; ``resolution``: px after ``resize``;
    ``channels``; ``classes``. ``num_train``, ``num_val``, ``in_channels`` and
    ``num_classes`` are the same numbers under
    :class:`designspace.training.data.InMemoryData`'s names.
    """

    train_images: int
    val_images: int
    channels: int
    classes: int
    resolution: int

    @property
    def num_train(self) -> int:
        """Alias of :attr:`train_images`."""
        return self.train_images

    @property
    def num_val(self) -> int:
        """Alias of :attr:`val_images`."""
        return self.val_images

    @property
    def in_channels(self) -> int:
        """Alias of :attr:`channels`."""
        return self.channels

    @property
    def num_classes(self) -> int:
        """Alias of :attr:`classes`."""
        return self.classes


def list_image_folder(split_dir: Path) -> tuple[list[tuple[Path, str]], list[str]]:
    """``([(image path, class name), ...], sorted class names)`` of ``split_dir/<class>/``.

    Images are files at any depth below a class folder whose suffix (any case) is in
    :data:`IMAGE_SUFFIXES`, in sorted order; other files are ignored.
    """
    classes = sorted(p.name for p in split_dir.iterdir() if p.is_dir())
    files = [
        (f, c)
        for c in classes
        for f in sorted((split_dir / c).rglob("*"))
        if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()
    ]
    return files, classes


def require_root(data: DataConfig) -> Path | None:
    """``data_root`` as a Path; DesignSpaceError when the data set needs one and has none."""
    if data.data_root is None:
        if data.spec.needs_root:
            raise DesignSpaceError(f"data set {data.dataset!r} needs --data-root (a local folder)")
        return None
    return Path(data.data_root)


def image_folder_splits(
    root: Path,
) -> dict[str, tuple[list[tuple[Path, str]], list[str]]]:
    """``{"train": (files, classes), "val": (files, classes)}`` of an ImageFolder tree
    ``root/{train,val}/<class>/<image>`` (files listed, not read); DesignSpaceError naming the
    missing split folder."""
    splits = {}
    for split in ("train", "val"):
        d = root / split
        if not d.is_dir():
            raise DesignSpaceError(
                f"ImageFolder tree {root} has no {split}/ folder; expected "
                f"{root}/train/<class>/<image> and {root}/val/<class>/<image>"
            )
        splits[split] = list_image_folder(d)
    return splits


def count_image_folder(root: Path) -> tuple[int, int, int]:
    """(train images, val images, classes) of ``root/{train,val}/<class>/<image>``, counted the
    way :mod:`designspace.training.data` loads them (classes are ``train/``'s class folders)."""
    splits = image_folder_splits(root)
    return len(splits["train"][0]), len(splits["val"][0]), len(splits["train"][1])


def dataset_facts(data: DataConfig) -> DatasetFacts:
    """Images (after subsets, px after resize), channels and classes of ``data``'s data set:
    the registry's numbers, or counted from the image folder tree (files listed, not read).

    DesignSpaceError when the data set needs ``data_root`` and has none, or a folder is
    missing.
    """
    spec = data.spec
    root = require_root(data)
    if spec.counted:
        if root is None:
            raise DesignSpaceError(f"data set {data.dataset!r} needs --data-root (a local folder)")
        n_train, n_val, classes = count_image_folder(root)
    else:
        n_train, n_val, classes = spec.train_size, spec.val_size, spec.classes
    return DatasetFacts(
        train_images=min(data.subset or n_train, n_train),
        val_images=min(data.val_subset or n_val, n_val),
        channels=spec.channels,
        classes=classes,
        resolution=data.resolution,
    )


def check_subsets(data: DataConfig) -> None:
    """DesignSpaceError when a subset is larger than the data set's published size (only
    checked when the size is known and the default files are used: a ``data_root`` may hold
    other files)."""
    spec = data.spec
    if spec.counted or data.data_root is not None:
        return
    for label, n, size, split in (
        ("subset", data.subset, spec.train_size, "training"),
        ("val_subset", data.val_subset, spec.val_size, "validation"),
    ):
        if n is not None and n > size:
            raise DesignSpaceError(
                f"{label} {n} is not in 1..{size}: the {data.dataset} {split} set has {size} images"
            )
