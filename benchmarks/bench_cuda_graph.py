"""CUDA-graph training steps vs eager steps on one GPU, on the models a sweep trains.

Each model (RegNetX32 and four AnyNetXE samples of the fashion-mnist regime, 28 px) is trained
one epoch on a 10,000-image Fashion-MNIST subset twice, with ``cuda_graph`` on and off, same
seed, after a few untimed steps that fill cuDNN's algorithm cache. Printed per model: images/s
of the steps (warm-up and capture included) and validation error of both runs (they differ only
in floating-point order: close, not identical). A failed capture is an error here (warnings are
errors). Without CUDA it says so and exits 0.
Last line: ``RESULT name=cuda_graph_speedup value=<geometric mean ratio> ...``.
"""

from __future__ import annotations

import math
import sys
import warnings

import torch


def main() -> int:
    if not torch.cuda.is_available():
        print("bench_cuda_graph: no CUDA device here; nothing measured (run it on a GPU machine)")
        return 0
    warnings.simplefilter("error", RuntimeWarning)
    from designspace.core.named import get_model
    from designspace.core.sampling import sample
    from designspace.training.data import load_data
    from designspace.training.train import TrainConfig, train

    name = torch.cuda.get_device_name()
    base = TrainConfig(epochs=1, subset=10000, val_subset=2000, device="cuda")
    data = load_data(base, device="cuda")
    models = [("RegNetX32", get_model("RegNetX32"))]
    picks = sample("AnyNetXE", 4, seed=0, regime="fashion-mnist").archs
    models += [(f"AnyNetXE#{i}", a) for i, a in enumerate(picks)]
    print(f"{name}; torch {torch.__version__}")
    print(f"{'model':14s} {'graph img/s':>12s} {'eager img/s':>12s} {'ratio':>6s} {'err g/e':>14s}")
    ratios = []
    for label, arch in models:
        # A few untimed steps first, so that neither timed run pays cuDNN's algorithm search.
        train(arch, TrainConfig(**{**base.__dict__, "max_steps": 5, "cuda_graph": False}), data)
        runs = {}
        for graph in (True, False):
            cfg = TrainConfig(**{**base.__dict__, "cuda_graph": graph})
            runs[graph] = train(arch, cfg, data)
            assert runs[graph].status == "ok", runs[graph].error
        ratio = runs[True].images_per_s / runs[False].images_per_s
        ratios.append(ratio)
        print(
            f"{label:14s} {runs[True].images_per_s:>12.0f} {runs[False].images_per_s:>12.0f} "
            f"{ratio:>6.2f} {runs[True].val_top1_err:>7.4f}/{runs[False].val_top1_err:.4f}",
            flush=True,
        )
    gmean = math.exp(sum(map(math.log, ratios)) / len(ratios))
    print(
        f"RESULT name=cuda_graph_speedup value={gmean:.2f} baseline=1 ratio={gmean:.2f} "
        f"target=1 device={name.replace(' ', '_')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
