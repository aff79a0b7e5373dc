#!/usr/bin/env bash
# The GPU checks, run as one script on a lent GPU machine (see README, "Benchmarks"):
#   run: bash benchmarks/device_check.sh   (carry .devdata = the four Fashion-MNIST .gz files)
# The machine's own python3/torch is used (it cannot reach a package registry).
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
OUT=${OUT:-/tmp/device-check}
mkdir -p "$OUT"
if [ -d .devdata ]; then
    mkdir -p /usr/share/datasets/fashion-mnist && cp .devdata/*.gz /usr/share/datasets/fashion-mnist/
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/card.txt"
python3 -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__)" | tee -a "$OUT/card.txt"
timeout 120 python3 benchmarks/bench_cuda_graph.py 2>&1 | tee "$OUT/cuda_graph.log"
[ "${1:-}" = graph-only ] || timeout 420 python3 benchmarks/bench_train_gpu.py --extra-batch-sizes '' --json "$OUT/train_gpu.json" 2>&1 | tee "$OUT/train_gpu.log"
