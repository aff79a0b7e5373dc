"""The data set registry: specs, facts without torch, the regime of a data set, a toy data set."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields

import numpy as np
import pytest

from designspace.core.arch import Architecture, Stage
from designspace.core.datasets import (
    DATASETS,
    IMAGE_SUFFIXES,
    DataConfig,
    DatasetSpec,
    dataset_facts,
    get_dataset,
    register_dataset,
    unregister_dataset,
)
from designspace.core.regimes import REGIMES, regime_for_dataset
from designspace.errors import DesignSpaceError
from designspace.training.trainconfig import DATA_FIELDS, TrainConfig


def test_builtin_registry_holds_the_published_facts():
    assert list(DATASETS) == ["fashion-mnist", "cifar10", "imagefolder"]
    fm, cifar, folder = (get_dataset(n) for n in DATASETS)
    assert (fm.resolution, fm.channels, fm.classes, fm.train_size, fm.val_size) == (
        28,
        1,
        10,
        60_000,
        10_000,
    )
    assert (cifar.resolution, cifar.channels, cifar.train_size, cifar.val_size) == (
        32,
        3,
        50_000,
        10_000,
    )
    assert folder.counted and not fm.counted and folder.resolution == 224
    assert (fm.augment, cifar.augment, folder.augment) == (False, True, True)
    assert not fm.needs_root and cifar.needs_root and folder.needs_root
    assert ".png" in IMAGE_SUFFIXES and ".txt" not in IMAGE_SUFFIXES
    with pytest.raises(TypeError):
        DATASETS["x"] = fm  # read-only view: register_dataset is the way in


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("mnist", "unknown data set 'mnist'; valid data sets: fashion-mnist, cifar10"),
        ("cifar", "unknown data set 'cifar' (did you mean cifar10?)"),
        ("Fashion-MNIST", "(did you mean fashion-mnist?)"),
        ("image-folder", "(did you mean imagefolder?)"),
    ],
)
def test_unknown_data_sets_are_refused_with_a_suggestion(name, message):
    with pytest.raises(DesignSpaceError, match=message.replace("(", r"\(").replace("?)", r"\?\)")):
        get_dataset(name)
    with pytest.raises(DesignSpaceError, match="unknown data set"):
        DataConfig(dataset=name)


def test_every_data_set_maps_to_a_regime_built_for_it():
    for name, spec in DATASETS.items():
        regime = regime_for_dataset(name)
        assert regime is REGIMES[spec.regime]
        assert regime.dataset == name  # the regime says it is meant for this data set
    assert regime_for_dataset("fashion-mnist").resolution == 28
    assert regime_for_dataset("imagefolder").name == "imagenet"
    with pytest.raises(DesignSpaceError, match="unknown data set 'svhn'"):
        regime_for_dataset("svhn")


def test_facts_of_fixed_data_sets_follow_subsets_and_resize():
    facts = dataset_facts(DataConfig())
    assert (facts.train_images, facts.val_images, facts.channels, facts.classes) == (
        60_000,
        10_000,
        1,
        10,
    )
    assert facts.resolution == 28 and facts.num_train == 60_000 and facts.in_channels == 1
    small = dataset_facts(DataConfig(subset=1000, val_subset=99_999, resize=96))
    assert (small.train_images, small.val_images, small.resolution) == (1000, 10_000, 96)
    cifar = dataset_facts(DataConfig(dataset="cifar10", data_root="/nowhere"))
    assert (cifar.train_images, cifar.channels, cifar.resolution) == (50_000, 3, 32)
    with pytest.raises(DesignSpaceError, match="needs --data-root"):
        dataset_facts(DataConfig(dataset="cifar10"))


def test_image_folder_facts_count_what_the_loader_loads(tmp_path):
    from PIL import Image

    from designspace.training.data import load_data

    for split, per_class in (("train", 3), ("val", 1)):
        for cls in ("ant", "bee"):
            folder = tmp_path / split / cls / "nested"
            folder.mkdir(parents=True)
            for i in range(per_class):
                Image.new("RGB", (9, 7), (i * 50, 0, 0)).save(folder / f"{i}.PNG")
            (folder / "readme.txt").write_text("not an image")
    data = DataConfig(dataset="imagefolder", data_root=str(tmp_path), resize=8)
    facts = dataset_facts(data)
    loaded = load_data(data)
    assert (facts.train_images, facts.val_images) == (loaded.num_train, loaded.num_val) == (6, 2)
    assert facts.classes == loaded.num_classes == 2 and facts.resolution == loaded.resolution == 8
    with pytest.raises(DesignSpaceError, match="has no train/ folder"):
        dataset_facts(DataConfig(dataset="imagefolder", data_root=str(tmp_path / "train")))


def test_data_config_is_the_data_part_of_the_training_config():
    assert DATA_FIELDS == tuple(f.name for f in fields(DataConfig))
    train_fields = {f.name: f.default for f in fields(TrainConfig)}
    for f in fields(DataConfig):
        assert train_fields[f.name] == f.default  # same defaults in both
    config = TrainConfig(subset=500, resize=14, augment=True, epochs=1)
    assert config.data == DataConfig(subset=500, resize=14, augment=True)
    assert hash(config.data) == hash(DataConfig(subset=500, resize=14, augment=True))
    assert config.data.resolution == 14 and config.data.augment_on
    moved = config.with_data(DataConfig(dataset="cifar10", data_root="/d"))
    assert (moved.dataset, moved.data_root, moved.subset, moved.epochs) == (
        "cifar10",
        "/d",
        None,
        1,
    )
    with pytest.raises(DesignSpaceError, match="subset must be > 0"):
        DataConfig(subset=0)
    with pytest.raises(DesignSpaceError, match="'resize' must be a whole number"):
        DataConfig(resize=12.5)
    with pytest.raises(DesignSpaceError, match=r"cfg.toml: unknown data setting 'subsets' \("):
        DataConfig.from_dict({"subsets": 3}, where="cfg.toml")


def test_pure_modules_import_neither_torch_nor_the_trainer():
    code = (
        "import sys\n"
        "import designspace.core.datasets, designspace.training.trainconfig\n"
        "import designspace.core.regimes\n"
        "from designspace.training.trainconfig import TrainConfig\n"
        "from designspace.core.datasets import dataset_facts\n"
        "dataset_facts(TrainConfig(epochs=1).data)\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "import designspace.training.data\n"
        "assert 'designspace.training.train' not in sys.modules, 'data imports train'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- a toy data set
def _toy_splits(data: DataConfig):
    """Two classes of 8 x 8 RGB images: a bright or a dark square on noise."""
    rng = np.random.default_rng(7)

    def split(n: int):
        y = np.arange(n) % 2
        x = rng.integers(0, 60, size=(n, 3, 8, 8), dtype=np.uint8)
        x[y == 1, :, 2:6, 2:6] = 250
        return x, y

    tx, ty = split(64)
    vx, vy = split(16)
    return tx, ty, vx, vy, ("dark", "bright")


@pytest.fixture
def toy():
    spec = register_dataset(
        DatasetSpec(
            name="toy",
            loader=_toy_splits,
            resolution=8,
            channels=3,
            classes=2,
            train_size=64,
            val_size=16,
            regime="cifar10",
            augment=False,
            needs_root=False,
        )
    )
    yield spec
    unregister_dataset("toy")
    assert "toy" not in DATASETS


def test_a_toy_data_set_added_through_the_registry_trains(toy):
    from designspace.training.train import train

    config = TrainConfig(dataset="toy", max_steps=6, batch_size=16, lr=0.5, threads=1)
    facts = dataset_facts(config.data)
    assert (facts.train_images, facts.val_images, facts.channels, facts.classes) == (64, 16, 3, 2)
    assert regime_for_dataset("toy").name == "cifar10"
    tiny = Architecture(stages=(Stage(1, 8, 1, 8, 2),), stem_width=8, name="tiny")
    result = train(tiny, config)
    assert result.status == "ok" and result.steps == 6 and result.resolution == 8
    assert 0 <= result.val_top1_err <= 1 and result.val_top5_err is None  # 2 classes
    with pytest.raises(DesignSpaceError, match="already registered"):
        register_dataset(toy)


def test_builtin_data_sets_cannot_be_removed():
    with pytest.raises(DesignSpaceError, match="built in"):
        unregister_dataset("cifar10")
