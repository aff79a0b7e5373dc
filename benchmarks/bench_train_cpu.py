"""CPU training speed: designspace's trainer vs the d2l chapter's code path, side by side.

RegNetX32 on Fashion-MNIST at 28 px, batch 128, 1 epoch each by default, each path in its own
fresh Python process (run one after the other, same torch thread count), so each pays its own
one-time costs. A path's images/s = training images / seconds from just after ``import torch``
to the end of its last training step: importing its own modules (torchvision, designspace),
reading the data, building the model and any warm-up are included; the validation pass after
each epoch is timed separately and excluded from both.

Ours: the default recipe (SGD Nesterov 0.9, lr 0.1 per 128 images, half-cosine, in-memory uint8
tensors, channels_last, fp32). Chapter: see chapter_baseline.py (plain SGD lr 0.05, DataLoader
with d2l's 4 workers over torchvision's FashionMNIST with Resize + ToTensor, lazy modules with
conv biases). Both validate on the full 10,000 test images unless --quick.

The last line is machine-readable:
``RESULT name=train_cpu_images_per_s value=<ours> baseline=<chapter> ratio=<r> target=1.2 ...``.
Run it on a quiet machine (nothing else running). ``--quick`` uses 2,000 training and 1,000
validation images (the same class-balanced subset for both paths) to check that it works.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()  # before any path-specific import, right after the interpreter

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
TARGET = 1.2
QUICK = (2000, 1000)


def _subset_indices(quick: bool) -> tuple[list[int] | None, list[int] | None]:
    """The class-balanced subsets designspace's load_data picks (same images for both paths)."""
    if not quick:
        return None, None
    from designspace.training.data import balanced_subset, load_fashion_mnist

    _, ty, _, vy = load_fashion_mnist()
    train_idx = balanced_subset(torch.from_numpy(ty.astype("int64")), QUICK[0], 0).tolist()
    val_idx = balanced_subset(torch.from_numpy(vy.astype("int64")), QUICK[1], 1).tolist()
    return train_idx, val_idx


def run_ours(args: argparse.Namespace, start: float) -> dict:
    """designspace's path: load_data + train, timed the same way as the chapter path."""
    from designspace.core.named import get_model
    from designspace.training.data import load_data
    from designspace.training.train import TrainConfig, train

    subset, val_subset = QUICK if args.quick else (None, None)
    config = TrainConfig(
        epochs=args.epochs,
        resize=None if args.resize == 28 else args.resize,
        batch_size=args.batch_size,
        subset=subset,
        val_subset=val_subset,
    )
    data = load_data(config)
    result = train(get_model("RegNetX32"), config, data)
    total = time.perf_counter() - start
    train_s = total - result.eval_time_s
    return {
        "path": "designspace",
        "images": result.train_images,
        "train_s": train_s,
        "eval_s": result.eval_time_s,
        "images_per_s": result.train_images / train_s,
        "steps_images_per_s": result.images_per_s,
        "val_acc": 1.0 - result.val_top1_err,
        "epoch_val_acc": [1.0 - e for e in result.epoch_val_top1_err],
        "epoch_train_loss": result.epoch_train_loss,
        "status": result.status,
        "threads": torch.get_num_threads(),
    }


def child(args: argparse.Namespace) -> int:
    """One path in this (fresh) process; prints its result as JSON on the last line."""
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    if args.path == "ours":
        out = run_ours(args, start)
    else:
        # Picking the subset indices is benchmark bookkeeping, not the chapter's cost.
        t = time.perf_counter()
        idx = _subset_indices(args.quick)
        start += time.perf_counter() - t
        sys.path.insert(0, str(HERE))
        from chapter_baseline import run_chapter

        out = run_chapter(
            args.root,
            args.epochs,
            args.resize,
            args.batch_size,
            0.05,
            idx[0],
            idx[1],
            args.workers,
            start=start,
        )
    out["import_torch_s"] = start - _T0
    print(json.dumps(out))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--resize", type=int, default=28)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2,000 train / 1,000 val images: a smoke test, not a measurement",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument(
        "--workers", type=int, default=4, help="chapter DataLoader workers (d2l's default 4)"
    )
    parser.add_argument("--order", choices=["chapter-first", "ours-first"], default="chapter-first")
    parser.add_argument("--json", default=None, help="also write both results to this file")
    parser.add_argument("--path", choices=["ours", "chapter"], help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.path:
        return child(args)
    return parent(args, sys.argv[1:])


def parent(args: argparse.Namespace, argv: list[str]) -> int:
    sys.path.insert(0, str(HERE))
    from chapter_baseline import prepare_torchvision_root

    from designspace.training.data import FASHION_MNIST_DIR

    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        root = prepare_torchvision_root(FASHION_MNIST_DIR, tmp)
        setup_s = time.perf_counter() - t
        order = ["chapter", "ours"] if args.order == "chapter-first" else ["ours", "chapter"]
        for name in order:
            print(f"running {name} in a fresh process ...", file=sys.stderr, flush=True)
            cmd = [sys.executable, str(Path(__file__).resolve()), *argv, "--path", name]
            cmd += ["--root", str(root)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(f"the {name} run failed (exit {proc.returncode})")
            runs[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    ours, chapter = runs["ours"], runs["chapter"]
    ratio = ours["images_per_s"] / chapter["images_per_s"]
    print(
        f"threads {ours['threads']}, {args.epochs} epoch(s), {args.resize} px, batch "
        f"{args.batch_size}{', QUICK subset' if args.quick else ''}; chapter data set-up "
        f"(gunzip, not charged) {setup_s:.1f} s"
    )
    print(
        f"{'path':12s} {'images':>7s} {'train s':>8s} {'eval s':>7s} {'images/s':>9s} "
        f"{'val acc':>8s}"
    )
    for r in (chapter, ours):
        print(
            f"{r['path']:12s} {r['images']:>7d} {r['train_s']:>8.1f} {r['eval_s']:>7.1f} "
            f"{r['images_per_s']:>9.0f} {r['val_acc']:>8.4f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"chapter": chapter, "ours": ours}, indent=2))
    verdict = "no worse" if ours["val_acc"] >= chapter["val_acc"] else "WORSE"
    print(f"accuracy: ours {ours['val_acc']:.4f} vs chapter {chapter['val_acc']:.4f} ({verdict})")
    print(
        f"RESULT name=train_cpu_images_per_s value={ours['images_per_s']:.1f} "
        f"baseline={chapter['images_per_s']:.1f} ratio={ratio:.3f} target={TARGET} "
        f"ours_val_acc={ours['val_acc']:.4f} chapter_val_acc={chapter['val_acc']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
