"""Data loading: IDX (Fashion-MNIST), CIFAR-10 pickles, ImageFolder trees, subsets, resizing."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from designspace.errors import DesignSpaceError
from designspace.training.data import (
    FASHION_MNIST_DIR,
    balanced_subset,
    load_data,
    load_fashion_mnist,
    read_idx,
    resize_images,
)
from designspace.training.train import TrainConfig


# --------------------------------------------------------------------------- fixtures
def _idx_bytes(array: np.ndarray) -> bytes:
    magic = 0x0800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_fmnist(root: Path, n_train: int = 30, n_val: int = 20, gz: bool = True) -> dict:
    """Four IDX files with random images and labels cycling 0..9; returns the arrays."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_val)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        arrays[split] = (images, labels)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{split}-{kind}-ubyte"
            data = _idx_bytes(arr)
            if gz:
                (root / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (root / name).write_bytes(data)
    return arrays


def write_cifar(root: Path, per_batch: int = 4) -> dict:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    out = {}
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for k, name in enumerate(names):
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = [(k + j) % 10 for j in range(per_batch)]
        with (folder / name).open("wb") as fh:
            pickle.dump({"data": data, "labels": labels, "batch_label": name}, fh)
        out[name] = (data, labels)
    classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    with (folder / "batches.meta").open("wb") as fh:
        pickle.dump({"label_names": classes, "num_cases_per_batch": per_batch}, fh)
    return out


COLORS = {"cat": (200, 30, 30), "dog": (30, 200, 30), "emu": (30, 30, 200)}


def write_imagefolder(root: Path) -> None:
    from PIL import Image

    for split, count in (("train", 3), ("val", 2)):
        for cls, color in COLORS.items():
            d = root / split / cls
            d.mkdir(parents=True)
            for i in range(count):
                size = (40 + 4 * i, 30)  # not square: exercises resize + center crop
                Image.new("RGB", size, color).save(d / f"{i}.png")
    (root / "train" / "cat" / "notes.txt").write_text("not an image")


# --------------------------------------------------------------------------- Fashion-MNIST
def test_embedded_fashion_mnist_has_the_published_sizes():
    tx, ty, vx, vy = load_fashion_mnist()
    assert tx.shape == (60000, 28, 28) and vx.shape == (10000, 28, 28)
    assert tx.dtype == np.uint8 and ty.shape == (60000,) and vy.shape == (10000,)
    assert np.bincount(ty).tolist() == [6000] * 10
    assert np.bincount(vy).tolist() == [1000] * 10
    assert 0 < tx.mean() < 255


@pytest.mark.parametrize("gz", [True, False])
def test_idx_fixture_round_trips(tmp_path, gz):
    arrays = write_fmnist(tmp_path, gz=gz)
    tx, ty, vx, vy = load_fashion_mnist(tmp_path)
    np.testing.assert_array_equal(tx, arrays["train"][0])
    np.testing.assert_array_equal(ty, arrays["train"][1])
    np.testing.assert_array_equal(vx, arrays["t10k"][0])
    np.testing.assert_array_equal(vy, arrays["t10k"][1])


def test_missing_fashion_mnist_names_the_package(tmp_path):
    with pytest.raises(DesignSpaceError) as err:
        load_fashion_mnist(tmp_path)
    message = str(err.value)
    assert "dataset-fashion-mnist" in message and "apt-get install" in message


def test_truncated_gzip_names_the_file(tmp_path):
    write_fmnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DesignSpaceError, match="train-images-idx3-ubyte.gz.*truncated or corrupt"):
        load_fashion_mnist(tmp_path)


def test_short_payload_and_bad_magic_are_caught(tmp_path):
    write_fmnist(tmp_path, gz=False)
    labels = tmp_path / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-3])
    with pytest.raises(DesignSpaceError, match="t10k-labels-idx1-ubyte has .* bytes"):
        load_fashion_mnist(tmp_path)
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x00\x00\x09\x03" + b"\x00" * 20)
    with pytest.raises(DesignSpaceError, match="magic number"):
        read_idx(bad)


def test_label_count_mismatch_is_caught(tmp_path):
    write_fmnist(tmp_path, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros(7, np.uint8)))
    with pytest.raises(DesignSpaceError, match="7 labels for 30 images"):
        load_fashion_mnist(tmp_path)


def test_load_data_fashion_mnist_subset_and_resize(tmp_path):
    write_fmnist(tmp_path, n_train=40, n_val=20)
    cfg = TrainConfig(data_root=str(tmp_path), subset=20, val_subset=10, resize=14)
    data = load_data(cfg)
    assert data.train_x.shape == (20, 1, 14, 14) and data.train_x.dtype == torch.uint8
    assert data.val_x.shape == (10, 1, 14, 14)
    assert torch.bincount(data.train_y, minlength=10).tolist() == [2] * 10
    assert data.num_classes == 10 and data.in_channels == 1 and data.resolution == 14
    assert data.augment_default is False
    assert 0 < data.mean[0] < 1 and 0 < data.std[0] < 1


def test_subset_larger_than_data_set_is_bad_input(tmp_path):
    write_fmnist(tmp_path, n_train=30)
    with pytest.raises(DesignSpaceError, match="subset 31 is not in 1..30"):
        load_data(TrainConfig(data_root=str(tmp_path), subset=31))
    with pytest.raises(DesignSpaceError, match="val_subset 21"):
        load_data(TrainConfig(data_root=str(tmp_path), val_subset=21))


def test_unknown_data_set_is_bad_input():
    with pytest.raises(DesignSpaceError, match="unknown data set 'mnist'"):
        TrainConfig(dataset="mnist")


def test_default_root_is_the_debian_folder():
    assert Path(FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz").is_file()


# --------------------------------------------------------------------------- CIFAR-10
def test_cifar10_layout_loads(tmp_path):
    batches = write_cifar(tmp_path)
    data = load_data(TrainConfig(dataset="cifar10", data_root=str(tmp_path)))
    assert data.train_x.shape == (20, 3, 32, 32) and data.val_x.shape == (4, 3, 32, 32)
    assert data.classes[0] == "airplane" and data.num_classes == 10
    assert data.augment_default is True
    raw, labels = batches["data_batch_2"]
    # Rows are 1024 red, 1024 green, 1024 blue values, each plane row-major.
    assert data.train_x[4, 1, 0, 5].item() == raw[0, 1024 + 5]
    assert data.train_x[4, 2, 31, 31].item() == raw[0, 3071]
    assert data.train_y[4:8].tolist() == labels
    test_raw, test_labels = batches["test_batch"]
    assert data.val_x[3, 0, 2, 0].item() == test_raw[3, 64]
    assert data.val_y.tolist() == test_labels


def test_cifar10_folder_itself_and_errors(tmp_path):
    write_cifar(tmp_path)
    data = load_data(
        TrainConfig(dataset="cifar10", data_root=str(tmp_path / "cifar-10-batches-py"))
    )
    assert data.num_train == 20
    with pytest.raises(DesignSpaceError, match="needs --data-root"):
        load_data(TrainConfig(dataset="cifar10"))
    with pytest.raises(DesignSpaceError, match="no CIFAR-10 data"):
        load_data(TrainConfig(dataset="cifar10", data_root=str(tmp_path / "nowhere")))
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"\x80\x04garbage")
    with pytest.raises(DesignSpaceError, match="data_batch_3 is truncated or corrupt"):
        load_data(TrainConfig(dataset="cifar10", data_root=str(tmp_path)))


# --------------------------------------------------------------------------- ImageFolder
def test_imagefolder_tree_loads(tmp_path):
    write_imagefolder(tmp_path)
    data = load_data(TrainConfig(dataset="imagefolder", data_root=str(tmp_path), resize=16))
    assert data.classes == ("cat", "dog", "emu")
    assert data.train_x.shape == (9, 3, 16, 16) and data.val_x.shape == (6, 3, 16, 16)
    assert data.train_y.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert data.val_y.tolist() == [0, 0, 1, 1, 2, 2]
    for i, cls in enumerate(data.classes):
        assert data.train_x[3 * i, :, 8, 8].tolist() == list(COLORS[cls])
    assert data.augment_default is True


def test_imagefolder_errors(tmp_path):
    (tmp_path / "train" / "a").mkdir(parents=True)
    with pytest.raises(DesignSpaceError, match="no val/ folder"):
        load_data(TrainConfig(dataset="imagefolder", data_root=str(tmp_path), resize=8))
    (tmp_path / "val" / "a").mkdir(parents=True)
    with pytest.raises(DesignSpaceError, match="holds no images"):
        load_data(TrainConfig(dataset="imagefolder", data_root=str(tmp_path), resize=8))
    (tmp_path / "train" / "a" / "x.png").write_bytes(b"not a png")
    with pytest.raises(DesignSpaceError, match="x.png cannot be read"):
        load_data(TrainConfig(dataset="imagefolder", data_root=str(tmp_path), resize=8))


# --------------------------------------------------------------------------- helpers
def test_balanced_subset_is_balanced_seeded_and_unique():
    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 5)
    idx = balanced_subset(labels, 25, seed=3)
    counts = torch.bincount(labels[idx], minlength=3).tolist()
    assert counts == [10, 10, 5]  # class 2 runs out; the rest share what is left
    assert len(set(idx.tolist())) == 25
    assert torch.equal(idx, balanced_subset(labels, 25, seed=3))
    assert not torch.equal(idx, balanced_subset(labels, 25, seed=4))
    even = torch.bincount(labels[balanced_subset(labels, 7, seed=0)], minlength=3)
    assert int(even.max() - even.min()) <= 1
    with pytest.raises(DesignSpaceError):
        balanced_subset(labels, 86, seed=0)


def test_resize_images_keeps_constant_images_and_shapes():
    x = torch.full((5, 2, 28, 28), 77, dtype=torch.uint8)
    x[1] = 200
    up = resize_images(x, 40, chunk=2)
    assert up.shape == (5, 2, 40, 40) and up.dtype == torch.uint8
    assert torch.all(up[0] == 77) and torch.all(up[1] == 200)
    down = resize_images(x, 7)
    assert down.shape == (5, 2, 7, 7) and torch.all(down[2] == 77)
    assert resize_images(x, 28) is x


# --------------------------------------------------------------------------- hostile CIFAR files
class _Call:
    """Pickles as a call of ``func(*args)``: what a crafted data file would run."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _crafted(marker: Path) -> dict[str, bytes]:
    import builtins
    import os
    import subprocess

    touch = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": pickle.dumps({"data": _Call(os.system, f"touch {marker}")}, protocol=2),
        "builtins.exec": pickle.dumps(_Call(builtins.exec, touch)),
        "subprocess": pickle.dumps(_Call(subprocess.call, ["touch", str(marker)]), protocol=4),
        "nested": pickle.dumps({"labels": [_Call(builtins.eval, touch)], "data": 0}),
    }


@pytest.mark.parametrize("case", ["os.system", "builtins.exec", "subprocess", "nested"])
def test_crafted_cifar_pickles_run_nothing(tmp_path, case):
    write_cifar(tmp_path)
    marker = tmp_path / "marker"
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(_crafted(marker)[case])
    with pytest.raises(DesignSpaceError, match="data_batch_1 is truncated or corrupt.*asks for"):
        load_data(TrainConfig(dataset="cifar10", data_root=str(tmp_path)))
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("test_batch", b"\x80\x02cnosuchmodule\nthing\n)R.", "asks for nosuchmodule.thing"),
        ("batches.meta", pickle.dumps(["airplane", "car"]), "not a dict with a list of"),
        ("batches.meta", pickle.dumps({"label_names": 7}), "not a dict with a list of"),
        ("data_batch_2", pickle.dumps([1, 2, 3]), "holds a list, not a batch dict"),
        ("data_batch_3", pickle.dumps({"data": ["x"] * 4, "labels": [0] * 4}), "'data' is not"),
        (
            "data_batch_3",
            pickle.dumps({"data": np.zeros((4, 3000), np.uint8), "labels": [0] * 4}),
            "rows have 3000 values",
        ),
        (
            "data_batch_4",
            pickle.dumps({"data": np.zeros((4, 3072), np.uint8), "labels": [0, 1, -5, 2]}),
            "negative labels",
        ),
        (
            "data_batch_4",
            pickle.dumps({"data": np.zeros((4, 3072), np.uint8), "labels": ["a"] * 4}),
            "'labels' is not a list of class indices",
        ),
        ("data_batch_5", b"\x80\x04\x95garbage", "data_batch_5 is truncated or corrupt"),
        ("data_batch_5", b"", "data_batch_5 is truncated or corrupt"),
    ],
)
def test_malformed_cifar_files_are_bad_input_naming_the_file(tmp_path, name, content, message):
    write_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-py" / name).write_bytes(content)
    with pytest.raises(DesignSpaceError, match=name) as err:
        load_data(TrainConfig(dataset="cifar10", data_root=str(tmp_path)))
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_cifar_pickles_of_every_protocol_load(tmp_path, protocol):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = np.arange(2 * 3072).reshape(2, 3072).astype(np.uint8)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        entry = {"data": data, "labels": np.array([3, 4]), "filenames": [b"a.png", b"b.png"]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=protocol))
    meta = {"label_names": [b"plane"] + [f"c{i}" for i in range(1, 10)], "num_vis": np.int64(3072)}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=protocol))
    loaded = load_data(TrainConfig(dataset="cifar10", data_root=str(tmp_path)))
    assert loaded.num_train == 10 and loaded.classes[0] == "plane"
    assert loaded.train_x[1, 0, 0, 0].item() == 3072 % 256 and loaded.train_y[:2].tolist() == [3, 4]
