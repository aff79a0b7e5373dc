"""The d2l chapter's own training path, rebuilt from its description, as a speed/accuracy baseline.

What the chapter runs (``RegNetX32(lr=0.05)``, ``d2l.Trainer``, ``d2l.FashionMNIST``):

* the network from lazy modules: every conv has a bias (``nn.LazyConv2d`` defaults), BN after
  each conv; ResNeXt blocks whose first block in a stage always projects with a strided 1x1
  conv; stem 3x3 stride 2 conv of 32 + BN + ReLU; head = global average pool + lazy linear.
  ``init_cnn`` is applied at construction, when the lazy modules are not yet Conv2d/Linear, so
  PyTorch's default initialization is what actually runs;
* torchvision's ``FashionMNIST`` data set with ``Compose([Resize(size), ToTensor()])`` (no
  normalization) behind a ``DataLoader`` (shuffled training set, ``num_workers=4``);
* plain SGD at lr 0.05 (no momentum, no weight decay, constant rate), mean cross-entropy, the
  optimizer created before the lazy parameters exist, evaluation in eval mode per epoch.

The chapter downloads the data; here torchvision reads the Debian package's files, gunzipped
into a temporary folder in torchvision's raw layout (``<root>/FashionMNIST/raw``). That set-up
is timed separately and not charged to the baseline. Plotting (d2l's ProgressBoard) is left
out, which only flatters the baseline.

Run directly for a quick look: ``python benchmarks/chapter_baseline.py --subset 2000``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

FMNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def prepare_torchvision_root(source: str | Path, target: str | Path) -> Path:
    """Gunzip the Debian IDX files into ``target/FashionMNIST/raw``; returns ``target``."""
    raw = Path(target) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in FMNIST_FILES:
        with gzip.open(Path(source) / f"{name}.gz", "rb") as src, (raw / name).open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return Path(target)


class ChapterResNeXtBlock(nn.Module):
    """d2l's ResNeXt block: lazy convs with biases; ``groups`` is the group width."""

    def __init__(
        self,
        num_channels: int,
        groups: int,
        bot_mul: float,
        use_1x1conv: bool = False,
        strides: int = 1,
    ) -> None:
        super().__init__()
        bot_channels = int(round(num_channels * bot_mul))
        self.conv1 = nn.LazyConv2d(bot_channels, kernel_size=1, stride=1)
        self.conv2 = nn.LazyConv2d(
            bot_channels, kernel_size=3, stride=strides, padding=1, groups=bot_channels // groups
        )
        self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=1)
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()
        self.bn3 = nn.LazyBatchNorm2d()
        if use_1x1conv:
            self.conv4 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
            self.bn4 = nn.LazyBatchNorm2d()
        else:
            self.conv4 = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        if self.conv4:
            x = self.bn4(self.conv4(x))
        return F.relu(y + x)


def _init_cnn(module: nn.Module) -> None:
    """d2l's init_cnn (Xavier for exact Conv2d/Linear types: a no-op on lazy modules)."""
    if type(module) is nn.Linear or type(module) is nn.Conv2d:
        nn.init.xavier_uniform_(module.weight)


class ChapterAnyNet(nn.Module):
    """d2l's AnyNet: stem, stages of ResNeXt blocks (first block strided, projected), head."""

    def __init__(self, arch: tuple, stem_channels: int, num_classes: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Sequential(
                nn.LazyConv2d(stem_channels, kernel_size=3, stride=2, padding=1),
                nn.LazyBatchNorm2d(),
                nn.ReLU(),
            )
        )
        for i, (depth, num_channels, groups, bot_mul) in enumerate(arch):
            blocks = [
                ChapterResNeXtBlock(num_channels, groups, bot_mul, use_1x1conv=True, strides=2)
                if j == 0
                else ChapterResNeXtBlock(num_channels, groups, bot_mul)
                for j in range(depth)
            ]
            self.net.add_module(f"stage{i + 1}", nn.Sequential(*blocks))
        self.net.add_module(
            "head",
            nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(num_classes)),
        )
        self.net.apply(_init_cnn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def chapter_regnetx32(num_classes: int = 10) -> ChapterAnyNet:
    """The chapter's RegNetX32: stem 32, stages (4, 32, g 16, b 1) and (6, 80, g 16, b 1)."""
    return ChapterAnyNet(((4, 32, 16, 1), (6, 80, 16, 1)), 32, num_classes)


def run_chapter(
    root: str | Path,
    epochs: int = 1,
    resize: int = 28,
    batch_size: int = 128,
    lr: float = 0.05,
    subset: list[int] | None = None,
    val_subset: list[int] | None = None,
    num_workers: int = 4,
    seed: int = 0,
    device: str = "cpu",
    start: float | None = None,
) -> dict:
    """Train the chapter's RegNetX32 the chapter's way; returns timings and accuracy.

    ``root`` is a torchvision root holding ``FashionMNIST/raw`` (see
    :func:`prepare_torchvision_root`). ``subset``/``val_subset`` are index lists (None = all).
    ``train_s`` runs from building the data sets to the end of the last training step (the
    per-epoch evaluations excluded); ``images_per_s`` = training images / ``train_s``;
    ``setup_s`` is the part before the first step, ``epoch_train_s`` each epoch's steps.
    ``device``: where the model and each batch go (d2l's ``Trainer(num_gpus=1)``). ``start``:
    a ``time.perf_counter()`` value to time from (default: now, before importing torchvision).
    """
    if start is None:
        start = time.perf_counter()
    import torchvision
    from torchvision import transforms

    torch.manual_seed(seed)
    trans = transforms.Compose([transforms.Resize((resize, resize)), transforms.ToTensor()])
    train_set = torchvision.datasets.FashionMNIST(
        root=str(root), train=True, transform=trans, download=False
    )
    val_set = torchvision.datasets.FashionMNIST(
        root=str(root), train=False, transform=trans, download=False
    )
    if subset is not None:
        train_set = torch.utils.data.Subset(train_set, subset)
    if val_subset is not None:
        val_set = torch.utils.data.Subset(val_set, val_subset)
    loader_kw = {"num_workers": num_workers, "persistent_workers": False}
    train_loader = torch.utils.data.DataLoader(train_set, batch_size, shuffle=True, **loader_kw)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size, shuffle=False, **loader_kw)
    model = chapter_regnetx32().to(device)  # d2l's Trainer moves the model to its GPU
    optim = torch.optim.SGD(model.parameters(), lr)
    images = 0
    eval_s = 0.0
    accuracy = float("nan")
    epoch_acc = []
    epoch_train_s = []
    setup_s = time.perf_counter() - start
    for _ in range(epochs):
        t_epoch = time.perf_counter()
        model.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)  # d2l's prepare_batch
            loss = F.cross_entropy(model(x), y)
            optim.zero_grad()
            with torch.no_grad():
                loss.backward()
                optim.step()
            images += x.shape[0]
        _sync(device)
        t_eval = time.perf_counter()
        epoch_train_s.append(t_eval - t_epoch)
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in val_loader:
                x, y = x.to(device), y.to(device)
                correct += int((model(x).argmax(dim=1) == y).sum())
                total += y.shape[0]
        accuracy = correct / total
        epoch_acc.append(accuracy)
        eval_s += time.perf_counter() - t_eval
    train_s = time.perf_counter() - start - eval_s
    return {
        "path": "chapter",
        "images": images,
        "train_s": train_s,
        "eval_s": eval_s,
        "images_per_s": images / train_s,
        "val_acc": accuracy,
        "epoch_val_acc": epoch_acc,
        "setup_s": setup_s,
        "epoch_train_s": epoch_train_s,
        "threads": torch.get_num_threads(),
        "device": device,
    }


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--resize", type=int, default=28)
    parser.add_argument("--subset", type=int, default=None, help="first N training images")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = prepare_torchvision_root(args.source, tmp)
        subset = list(range(args.subset)) if args.subset else None
        out = run_chapter(root, args.epochs, args.resize, subset=subset, num_workers=args.workers)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
