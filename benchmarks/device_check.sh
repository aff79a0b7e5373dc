#!/usr/bin/env bash
# The GPU checks, run as one script on a lent GPU machine (see README, "Benchmarks"):
#   bash benchmarks/device_check.sh               all checks (~8 min on an H200)
#   bash benchmarks/device_check.sh graph-only    CUDA graph vs eager only (~1 min)
#   bash benchmarks/device_check.sh concurrency   many trials per GPU only (~5.5 min; budget
#                                                 CONCURRENCY_BUDGET seconds, default 270)
# Data: put the four Fashion-MNIST .gz files in .devdata/ (untracked, travels with the tree);
# without them bench_gpu_concurrency.py falls back to synthetic images (throughput only).
# The machine's own python3/torch is used (it cannot reach a package registry).
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
OUT=${OUT:-/tmp/device-check}
MODE=${1:-all}
mkdir -p "$OUT"
if [ -d .devdata ]; then
    mkdir -p /usr/share/datasets/fashion-mnist && cp .devdata/*.gz /usr/share/datasets/fashion-mnist/
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/card.txt"
python3 -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__)" | tee -a "$OUT/card.txt"
if [ "$MODE" = all ] || [ "$MODE" = graph-only ]; then
    timeout 120 python3 benchmarks/bench_cuda_graph.py 2>&1 | tee "$OUT/cuda_graph.log"
fi
if [ "$MODE" = all ]; then
    timeout 420 python3 benchmarks/bench_train_gpu.py --extra-batch-sizes '' --json "$OUT/train_gpu.json" 2>&1 | tee "$OUT/train_gpu.log"
fi
if [ "$MODE" = all ] || [ "$MODE" = concurrency ]; then
    # writes $OUT/gpu_concurrency.json and $OUT/gpu_concurrency.log itself
    budget=${CONCURRENCY_BUDGET:-$([ "$MODE" = all ] && echo 200 || echo 270)}
    timeout $((budget + 90)) python3 benchmarks/bench_gpu_concurrency.py --out "$OUT" --budget "$budget"
fi
