"""Data sets held in memory as uint8 tensors: Fashion-MNIST (IDX), CIFAR-10, ImageFolder trees.

Everything a short schedule needs is decoded, optionally resized, and stored once as
``uint8`` tensors of shape (N, C, H, W) plus ``int64`` labels; the trainer batches them by
index and normalizes each batch on the fly (per-channel mean/std from the training images, in
units of [0, 1] intensity). Nothing here downloads anything.

Formats:

* ``fashion-mnist`` (the embedded default): the four gzip'd IDX files of the Debian package
  ``dataset-fashion-mnist`` in ``/usr/share/datasets/fashion-mnist`` (or ``data_root``); plain
  (gunzipped) IDX files are accepted too. 60,000 train / 10,000 test images, 28 x 28 grey.
* ``cifar10``: torchvision's layout, ``data_root/cifar-10-batches-py/{data_batch_1..5,
  test_batch, batches.meta}`` (``data_root`` may also be that folder itself). The pickles are
  read by an unpickler that builds numpy arrays and plain data only: a file that names any
  other global (``os.system``, a missing module) is refused as corrupt before anything runs.
* ``imagefolder``: ``data_root/train/<class>/<image>`` and ``data_root/val/<class>/<image>``.
  Every image is converted to RGB, its shorter side resized to ``round(R * 256 / 224)`` and
  center-cropped to R x R (R = ``resize``, default 224) -- the standard evaluation transform,
  applied once to both splits. Training-time randomness comes from the batch augmentation
  (random crop with padding, horizontal flip), not from per-sample random-resized crops, so the
  whole set fits in memory as fixed tensors.

Which data sets exist, their sizes, channels, native resolution, default regime and default
augmentation: :mod:`designspace.core.datasets` (the registry, no torch); its loaders are the
``*_splits`` functions here.

Resizing (``resize``) happens once, up front, with bilinear interpolation (antialiased when
shrinking), in chunks. A subset (``subset``, ``val_subset``) is class-balanced and seeded by
``subset_seed`` (not by the training seed, so every model of a sweep sees the same images).
"""

from __future__ import annotations

import functools
import gzip
import pickle
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from designspace.core import reading
from designspace.core.datasets import (
    DATASETS,
    IMAGE_SUFFIXES,
    DataConfig,
    get_dataset,
    image_folder_splits,
    require_root,
)
from designspace.errors import DesignSpaceError

if TYPE_CHECKING:
    from designspace.training.trainconfig import TrainConfig

__all__ = [
    "DATASETS",
    "FASHION_MNIST_DIR",
    "InMemoryData",
    "balanced_subset",
    "cifar10_splits",
    "fashion_mnist_splits",
    "imagefolder_splits",
    "load_cifar10",
    "load_data",
    "load_fashion_mnist",
    "load_imagefolder",
    "native_resolution",
    "read_idx",
    "resize_images",
]

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_IDX_IMAGES_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
_IDX_LABELS_MAGIC = 0x00000801  # unsigned byte, 1 dimension


@dataclass
class InMemoryData:
    """A whole data set as tensors.

    ``train_x``/``val_x``: uint8 (N, C, H, W), intensities 0..255; ``train_y``/``val_y``: int64
    class indices in [0, num_classes). ``mean``/``std``: per-channel statistics of the training
    images in [0, 1] units, used to normalize each batch: ``(x / 255 - mean) / std``.
    ``augment_default``: whether batch augmentation is on when the config leaves it unset.
    """

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    num_classes: int
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augment_default: bool = False

    @property
    def in_channels(self) -> int:
        """Image channels (1 grey, 3 RGB)."""
        return int(self.train_x.shape[1])

    @property
    def resolution(self) -> int:
        """Image side in pixels (images are square)."""
        return int(self.train_x.shape[-1])

    @property
    def num_train(self) -> int:
        """Number of training images."""
        return int(self.train_x.shape[0])

    @property
    def num_val(self) -> int:
        """Number of validation images."""
        return int(self.val_x.shape[0])

    @property
    def device(self) -> torch.device:
        """Where the tensors live."""
        return self.train_x.device

    def to(self, device: str | torch.device) -> InMemoryData:
        """A copy with all tensors on ``device`` (self when already there)."""
        device = torch.device(device)
        if self.train_x.device == device:
            return self
        return replace(
            self,
            train_x=self.train_x.to(device),
            train_y=self.train_y.to(device),
            val_x=self.val_x.to(device),
            val_y=self.val_y.to(device),
        )

    def summary(self) -> str:
        """One line: name, sizes, resolution, channels, classes."""
        return (
            f"{self.name}: {self.num_train} train / {self.num_val} val images, "
            f"{self.resolution}x{self.resolution} px, {self.in_channels} channel(s), "
            f"{self.num_classes} classes"
        )


# --------------------------------------------------------------------------- Fashion-MNIST
# The largest IDX file read (after gunzipping): Fashion-MNIST's training images are 47 MB.
IDX_LIMIT = 2 * 1024**3
# The largest CIFAR-10 batch file (about 30 MB each) and image-folder image read.
CIFAR_FILE_LIMIT = 512 * 1024**2
IMAGE_LIMIT = 256 * 1024**2


def _read_bytes(path: Path, hint: str) -> bytes:
    """Whole file (a regular file of at most :data:`IDX_LIMIT` bytes), gunzipped when it ends
    in .gz (at most :data:`IDX_LIMIT` bytes once gunzipped); a truncated/corrupt file names
    itself."""
    if path.suffix != ".gz":
        return reading.read_bytes(path, "IDX file", IDX_LIMIT)
    try:
        with reading.open_regular(path, "IDX file", IDX_LIMIT) as raw:
            with gzip.GzipFile(fileobj=raw) as fh:
                data = fh.read(IDX_LIMIT + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise DesignSpaceError(f"{path} is truncated or corrupt ({exc}); {hint}") from None
    if len(data) > IDX_LIMIT:
        raise DesignSpaceError(
            f"{path} gunzips to more than {IDX_LIMIT // 1024**2} MiB, far more than an IDX file "
            f"of images holds; {hint}"
        )
    return data


def read_idx(path: str | Path, hint: str = "replace the file") -> np.ndarray:
    """Read one unsigned-byte IDX file (gzip'd or plain) into a uint8 array.

    Checks the magic number (0x0801 labels, 0x0803 images) and that the payload size matches
    the header; any mismatch raises DesignSpaceError naming the file and ``hint``.
    """
    path = Path(path)
    raw = _read_bytes(path, hint)
    if len(raw) < 8:
        raise DesignSpaceError(f"{path} is truncated ({len(raw)} bytes, no IDX header); {hint}")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (_IDX_IMAGES_MAGIC, _IDX_LABELS_MAGIC):
        raise DesignSpaceError(
            f"{path} is not an unsigned-byte IDX file (magic number {magic:#010x}, expected "
            f"0x00000801 or 0x00000803); {hint}"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DesignSpaceError(f"{path} is truncated inside its IDX header; {hint}")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise DesignSpaceError(
            f"{path} has {len(raw)} bytes but its IDX header {dims} needs {expected}: the file "
            f"is truncated or corrupt; {hint}"
        )
    # A writable copy: torch.from_numpy warns about (and must not alias) read-only buffers.
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


@functools.lru_cache(maxsize=8)
def _read_idx_cached(path: str, mtime_ns: int, size: int, hint: str) -> np.ndarray:
    # Keyed by modification time and size, so a replaced file is read again. Read-only: the
    # cached array is shared, and load_data copies before handing out tensors.
    array = read_idx(path, hint)
    array.flags.writeable = False
    return array


def _read_idx_memo(path: Path, hint: str) -> np.ndarray:
    stat = path.stat()
    return _read_idx_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size, hint)


def _find_idx(root: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (root / name).is_file():
            return root / name
    raise DesignSpaceError(
        f"Fashion-MNIST file {root / (stem + '.gz')} is missing; install the Debian package "
        f"{FASHION_MNIST_PACKAGE} (sudo apt-get install {FASHION_MNIST_PACKAGE}) or pass "
        f"--data-root DIR holding the four IDX files"
    )


def load_fashion_mnist(
    root: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train_x, train_y, val_x, val_y) as uint8 arrays; images (N, 28, 28), labels (N,).

    ``root`` defaults to the Debian package's folder; the files are
    ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``. The test split is the validation set.
    Decoded files are memoized per process (keyed by path, size and modification time); the
    returned arrays are read-only.
    """
    root = Path(root) if root is not None else Path(FASHION_MNIST_DIR)
    hint = (
        f"reinstall it (sudo apt-get install --reinstall {FASHION_MNIST_PACKAGE})"
        if root == Path(FASHION_MNIST_DIR)
        else "replace the file"
    )
    out = []
    for split in ("train", "t10k"):
        images_path = _find_idx(root, f"{split}-images-idx3-ubyte")
        labels_path = _find_idx(root, f"{split}-labels-idx1-ubyte")
        images = _read_idx_memo(images_path, hint)
        labels = _read_idx_memo(labels_path, hint)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DesignSpaceError(
                f"{images_path} holds images of shape {images.shape[1:]}, expected 28 x 28; {hint}"
            )
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise DesignSpaceError(
                f"{labels_path} has {labels.shape[0]} labels for {images.shape[0]} images in "
                f"{images_path.name}; {hint}"
            )
        if labels.size and int(labels.max()) >= 10:
            raise DesignSpaceError(f"{labels_path} has labels >= 10; {hint}")
        out += [images, labels]
    return out[0], out[1], out[2], out[3]


# --------------------------------------------------------------------------- CIFAR-10
def _cifar_folder(root: Path) -> Path:
    for candidate in (root / "cifar-10-batches-py", root):
        if (candidate / "test_batch").is_file():
            return candidate
    raise DesignSpaceError(
        f"no CIFAR-10 data under {root}: expected torchvision's layout "
        f"{root / 'cifar-10-batches-py'}/{{data_batch_1..5, test_batch}}; pass --data-root DIR"
    )


@functools.cache
def _cifar_globals() -> dict[tuple[str, str], Any]:
    """The only globals a CIFAR-10 pickle may name: numpy's array and scalar reconstructors,
    under the module names numpy 1.x and 2.x write, and ``_codecs.encode`` (how Python 3's
    protocol 2 stores bytes)."""
    import codecs

    try:
        from numpy._core import multiarray, numeric  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray, numeric
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,
    }
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{package}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{package}.numeric", "_frombuffer")] = numeric._frombuffer
    return allowed


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles data only: any global outside :func:`_cifar_globals` is refused before it
    is imported or called, so a crafted file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _cifar_globals().get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"it asks for {module}.{name}, which a CIFAR-10 file never does; nothing was run"
            )
        return allowed


def _unpickle(path: Path) -> Any:
    """The restricted unpickling of one CIFAR-10 file; any failure is a corrupt file."""
    if not path.is_file():
        raise DesignSpaceError(f"CIFAR-10 file {path} is missing; pass a complete data folder")
    try:
        with reading.open_regular(path, "CIFAR-10 file", CIFAR_FILE_LIMIT) as fh:
            return _CifarUnpickler(fh, encoding="latin1").load()
    except DesignSpaceError:
        raise
    except MemoryError:
        raise DesignSpaceError(f"{path} is truncated or corrupt (too large to read)") from None
    except Exception as exc:  # noqa: BLE001 - no code runs here; any error means a bad file
        raise DesignSpaceError(
            f"{path} is truncated or corrupt ({type(exc).__name__}: {exc})".replace("\n", " ")
        ) from None


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    entry = _unpickle(path)
    corrupt = f"{path} is truncated or corrupt"
    if not isinstance(entry, dict):
        raise DesignSpaceError(f"{corrupt}: it holds a {type(entry).__name__}, not a batch dict")
    data = entry.get("data")
    labels = entry.get("labels", entry.get("fine_labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise DesignSpaceError(f"{corrupt}: 'data' is not a uint8 array of shape (N, 3072)")
    if data.shape[1] != 3 * 32 * 32:
        raise DesignSpaceError(f"{corrupt}: 'data' rows have {data.shape[1]} values, not 3072")
    try:
        labels = np.asarray(labels)
    except Exception:  # noqa: BLE001 - ragged or odd objects: not labels
        labels = np.asarray(None)
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise DesignSpaceError(f"{corrupt}: 'labels' is not a list of class indices")
    if labels.size and int(labels.min()) < 0:
        raise DesignSpaceError(f"{corrupt}: it has negative labels")
    if labels.shape != (data.shape[0],):
        raise DesignSpaceError(f"{path} has {labels.size} labels for {data.shape[0]} images")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _read_cifar_classes(meta: Path) -> tuple[str, ...]:
    entry = _unpickle(meta)
    names = entry.get("label_names") if isinstance(entry, dict) else None
    if not isinstance(names, list | tuple) or not all(isinstance(n, str | bytes) for n in names):
        raise DesignSpaceError(
            f"{meta} is truncated or corrupt: not a dict with a list of 'label_names'"
        )
    return tuple(n.decode("latin1") if isinstance(n, bytes) else n for n in names)


def load_cifar10(
    root: str | Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """(train_x, train_y, val_x, val_y, classes) from torchvision's CIFAR-10 python layout.

    Images are uint8 (N, 3, 32, 32); labels int64. The test batch is the validation set.
    The pickles are read with an unpickler that accepts only numpy arrays and plain data
    (a file asking for anything else is refused as corrupt, without running it).
    """
    folder = _cifar_folder(Path(root))
    parts = [_read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    train_x = np.concatenate([p[0] for p in parts])
    train_y = np.concatenate([p[1] for p in parts])
    val_x, val_y = _read_cifar_batch(folder / "test_batch")
    classes: tuple[str, ...] = tuple(str(i) for i in range(10))
    meta = folder / "batches.meta"
    if meta.is_file():
        classes = _read_cifar_classes(meta)
    return train_x, train_y, val_x, val_y, classes


# --------------------------------------------------------------------------- ImageFolder
def _load_image(path: Path, resolution: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with reading.open_regular(path, "image", IMAGE_LIMIT) as fh, Image.open(fh) as img:
            img = img.convert("RGB")
            w, h = img.size
            short = round(resolution * 256 / 224)
            scale = short / min(w, h)
            new = (max(resolution, round(w * scale)), max(resolution, round(h * scale)))
            img = img.resize(new, Image.Resampling.BILINEAR)
            left = (new[0] - resolution) // 2
            top = (new[1] - resolution) // 2
            img = img.crop((left, top, left + resolution, top + resolution))
            return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DesignSpaceError(f"image {path} cannot be read ({exc})") from None


def load_imagefolder(
    root: str | Path, resolution: int = 224
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """(train_x, train_y, val_x, val_y, classes) from ``root/{train,val}/<class>/<image>``.

    Each image: RGB, shorter side resized to ``round(resolution * 256 / 224)``, center crop
    ``resolution`` x ``resolution``; uint8 (N, 3, R, R). Class indices follow the sorted class
    folder names of ``train/``; ``val/`` must not have classes that ``train/`` lacks.
    """
    root = Path(root)
    splits = image_folder_splits(root)
    train_files, classes = splits["train"]
    val_files, val_classes = splits["val"]
    extra = sorted(set(val_classes) - set(classes))
    if extra:
        raise DesignSpaceError(f"{root}/val has classes missing from train/: {extra}")
    index = {c: i for i, c in enumerate(classes)}
    arrays = []
    for split, files in (("train", train_files), ("val", val_files)):
        if not files:
            raise DesignSpaceError(f"{root}/{split} holds no images ({sorted(IMAGE_SUFFIXES)})")
        x = np.stack([_load_image(f, resolution) for f, _ in files])
        y = np.array([index[c] for _, c in files], dtype=np.int64)
        arrays += [x, y]
    return arrays[0], arrays[1], arrays[2], arrays[3], tuple(classes)


# --------------------------------------------------------------------------- helpers
def native_resolution(dataset: str) -> int:
    """Image side (px) a data set loads at without ``resize`` (ImageFolder: the 224 crop)."""
    return get_dataset(dataset).resolution


def balanced_subset(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Indices of a seeded, class-balanced subset of size ``n`` (sorted ascending).

    Classes take turns: every class contributes its k-th (random) member before any class
    contributes its (k+1)-th, so class counts differ by at most one unless a class runs out.
    """
    total = int(labels.shape[0])
    if not 0 < n <= total:
        raise DesignSpaceError(f"subset size must be in 1..{total}, got {n}")
    labels = labels.cpu()
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(total, generator=gen)
    permuted = labels[perm]
    order = torch.argsort(permuted, stable=True)  # by class, random within class
    sorted_labels = permuted[order]
    starts = torch.searchsorted(sorted_labels, sorted_labels, side="left")
    rank = torch.empty(total, dtype=torch.int64)
    rank[order] = torch.arange(total) - starts
    num_classes = int(labels.max()) + 1
    # Ties within a round are broken by a random class order so no class is always first.
    class_order = torch.randperm(num_classes, generator=gen)
    key = rank * num_classes + class_order[permuted]
    chosen = perm[torch.argsort(key, stable=True)[:n]]
    return torch.sort(chosen).values


def resize_images(x: torch.Tensor, size: int, chunk: int | None = None) -> torch.Tensor:
    """Bilinearly resize uint8 images (N, C, H, W) to (N, C, size, size), in chunks.

    Antialiased when shrinking; rounds back to uint8. Runs on ``x``'s device. ``chunk``
    images at a time (default: about 2**24 float pixels per chunk).
    """
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    pixels = x.shape[1] * max(x.shape[2] * x.shape[3], size * size)
    chunk = chunk or max(1, 2**24 // pixels)
    shrink = size < min(x.shape[-2:])
    out = torch.empty((x.shape[0], x.shape[1], size, size), dtype=torch.uint8, device=x.device)
    for i in range(0, x.shape[0], chunk):
        part = x[i : i + chunk].float()
        part = F.interpolate(
            part, size=(size, size), mode="bilinear", align_corners=False, antialias=shrink
        )
        out[i : i + chunk] = part.round_().clamp_(0, 255).to(torch.uint8)
    return out


def _channel_stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std in [0, 1] units (float64 sums, chunked)."""
    c = x.shape[1]
    total = torch.zeros(c, dtype=torch.float64)
    total_sq = torch.zeros(c, dtype=torch.float64)
    chunk = max(1, 2**24 // (c * x.shape[2] * x.shape[3]))
    for i in range(0, x.shape[0], chunk):
        part = x[i : i + chunk].to(torch.float64)
        total += part.sum(dim=(0, 2, 3))
        total_sq += (part * part).sum(dim=(0, 2, 3))
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(1e-12).sqrt()
    std = torch.where(std < 1e-3, torch.ones_like(std), std / 255.0)  # constant images
    return tuple((mean / 255.0).tolist()), tuple(std.tolist())


# --------------------------------------------------------------------------- loaders
# The registry's loaders (designspace.core.datasets): DataConfig -> (train_x, train_y, val_x, val_y,
# class names), images uint8 (N, C, H, W).
def fashion_mnist_splits(data: DataConfig) -> tuple[Any, ...]:
    """Fashion-MNIST (:func:`load_fashion_mnist`) with a channel axis and its class names."""
    tx, ty, vx, vy = load_fashion_mnist(data.data_root)
    return tx[:, None], ty, vx[:, None], vy, FASHION_MNIST_CLASSES


def cifar10_splits(data: DataConfig) -> tuple[Any, ...]:
    """CIFAR-10 from ``data.data_root`` (:func:`load_cifar10`)."""
    return load_cifar10(require_root(data))


def imagefolder_splits(data: DataConfig) -> tuple[Any, ...]:
    """An image folder tree, center-cropped at ``data.resolution`` (:func:`load_imagefolder`)."""
    return load_imagefolder(require_root(data), data.resolution)


def load_data(config: DataConfig | TrainConfig, device: str | torch.device = "cpu") -> InMemoryData:
    """Load a data set into memory on ``device`` (subsets taken, then resized once).

    ``config``: a :class:`~designspace.core.datasets.DataConfig`, or a training configuration
    (its ``.data``). The data set's loader comes from the registry
    (:mod:`designspace.core.datasets`). Raises DesignSpaceError for an unknown data set, missing or
    corrupt files, or a subset larger than the data set. Normalization statistics come from
    the (subset of the) training images at native resolution.
    """
    data = config if isinstance(config, DataConfig) else config.data
    spec = data.spec
    require_root(data)
    tx, ty, vx, vy, classes = spec.load(data)
    _check_splits(data.dataset, tx, ty, vx, vy, spec.channels)
    # Copies: the loaders may return shared read-only (memoized) arrays.
    train_x = torch.from_numpy(np.array(tx, dtype=np.uint8))
    train_y = torch.from_numpy(np.array(ty, dtype=np.int64))
    val_x = torch.from_numpy(np.array(vx, dtype=np.uint8))
    val_y = torch.from_numpy(np.array(vy, dtype=np.int64))
    num_classes = max(len(classes), int(train_y.max()) + 1)
    seed = data.subset_seed
    for label, n, size in (
        ("subset", data.subset, train_x.shape[0]),
        ("val_subset", data.val_subset, val_x.shape[0]),
    ):
        if n is not None and not 0 < n <= size:
            raise DesignSpaceError(
                f"{label} {n} is not in 1..{size}: the {data.dataset} "
                f"{'training' if label == 'subset' else 'validation'} set has {size} images"
            )
    if data.subset is not None and data.subset < train_x.shape[0]:
        idx = balanced_subset(train_y, data.subset, seed)
        train_x, train_y = train_x[idx], train_y[idx]
    if data.val_subset is not None and data.val_subset < val_x.shape[0]:
        idx = balanced_subset(val_y, data.val_subset, seed + 1)
        val_x, val_y = val_x[idx], val_y[idx]
    mean, std = _channel_stats(train_x)
    device = torch.device(device)
    train_x, val_x = train_x.to(device), val_x.to(device)
    if data.resize is not None:
        train_x = resize_images(train_x, data.resize)
        val_x = resize_images(val_x, data.resize)
    return InMemoryData(
        name=data.dataset,
        train_x=train_x.contiguous(),
        train_y=train_y.to(device),
        val_x=val_x.contiguous(),
        val_y=val_y.to(device),
        num_classes=num_classes,
        classes=tuple(classes),
        mean=mean,
        std=std,
        augment_default=spec.augment,
    )


def _check_splits(name: str, tx: Any, ty: Any, vx: Any, vy: Any, channels: int) -> None:
    """A loader's output has the shapes the trainer needs (catches a new loader's slips)."""
    for split, x, y in (("training", tx, ty), ("validation", vx, vy)):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim != 4 or x.shape[1] != channels or x.shape[2] != x.shape[3]:
            raise DesignSpaceError(
                f"data set {name!r}: {split} images have shape {x.shape}, expected "
                f"(N, {channels}, H, H)"
            )
        if y.shape != (x.shape[0],) or (y.size and int(y.min()) < 0):
            raise DesignSpaceError(
                f"data set {name!r}: {split} labels must be {x.shape[0]} class indices >= 0"
            )
        if x.shape[0] == 0:
            raise DesignSpaceError(f"data set {name!r} has no {split} images")


def describe(data: InMemoryData) -> dict[str, Any]:
    """Plain dict of the data set's shape facts (for JSON output)."""
    return {
        "dataset": data.name,
        "num_train": data.num_train,
        "num_val": data.num_val,
        "resolution": data.resolution,
        "in_channels": data.in_channels,
        "num_classes": data.num_classes,
    }
