#!/usr/bin/env bash
# The device check, for a session lent a GPU: one prepared run within its 15 minutes of device
# time (about 3 minutes of commands, plus the machine's start). Here first:
#     bash benchmarks/gpu_wheels.sh
# then, with the device tool: run(command="bash benchmarks/gpu_check.sh", carry=[".whl"],
# timeout_s=540). It prints the GPU and the software, then the training throughput and peak GPU
# memory of the three model types at the paper's size (bench_training.py --paper-architecture:
# wav2vec2-large-lv60 and bert-base architectures with random weights, as the machine cannot
# download the real ones; bf16 autocast, batches of up to 200 padded seconds), into
# $OUT/gpu_check.txt as well.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
export PYTHONPATH="/tmp/site:$PWD/src" PYTHONUNBUFFERED=1
{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    python3 -c 'import sys, torch, transformers; print("python", sys.version.split()[0],
        "torch", torch.__version__, "transformers", transformers.__version__,
        "cuda", torch.cuda.is_available())'
    timeout 420 python3 benchmarks/bench_training.py --paper-architecture --device cuda \
        --threads 8 --max-batch-seconds 200 --utterances 800 --warmup 2 --steps 8
} 2>&1 | tee "${OUT:-/tmp}/gpu_check.txt"
