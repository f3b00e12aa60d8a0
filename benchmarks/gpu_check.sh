#!/usr/bin/env bash
# GPU smoke test of the paper path: the preflight with device cuda, then training steps of the
# three model types and an evaluation job at the paper's size on CUDA in bf16, with throughput
# and peak GPU memory. Needs no network and no corpus: the models are the paper's architectures
# with random weights (asrser.models.paper_architecture; speed and memory do not depend on the
# weights), the corpora small IEMOCAP- and MUSAN-format trees (tests/rehearsal/prepare.py), all in
# a temporary folder (about 2 GB).
#
#   make venv && bash benchmarks/gpu_check.sh      # .venv's Python
#   PYTHON=/path/to/python bash benchmarks/gpu_check.sh
#
# The torch build must match the NVIDIA driver (docs/install.md). The report is printed and kept
# in logs/gpu_check.log. Exit status: non-zero when the GPU check or a benchmark fails. The
# preflight's other findings (disk, models, corpora) are printed; they concern this temporary
# setup, not a real run's.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
if ! "$PYTHON" -c 'import asrser, snakemake' 2>/dev/null; then
    echo "gpu_check: $PYTHON cannot import asrser and snakemake; run make venv first, or set" \
        "PYTHON to an interpreter that has the project installed" >&2
    exit 1
fi
SNAKEMAKE=$("$PYTHON" -c 'import sys, pathlib; print(pathlib.Path(sys.executable).with_name("snakemake"))')
THREADS=${THREADS:-8}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/asrser-gpu-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p logs
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1

run_checks() {
    if command -v nvidia-smi >/dev/null; then
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    fi
    "$PYTHON" -c 'import sys, torch, transformers; print(f"python {sys.version.split()[0]}, torch",
        f"{torch.__version__} (CUDA {torch.version.cuda}), transformers {transformers.__version__}")'

    echo "== preflight (config/paper.yaml, device cuda)"
    mapfile -t settings < <("$PYTHON" tests/rehearsal/prepare.py "$WORK/inputs")
    local status=0
    "$SNAKEMAKE" preflight --snakefile "$PWD/Snakefile" --directory "$WORK/run" \
        --cores "$THREADS" --configfile "$PWD/config/paper.yaml" \
        --config "${settings[@]}" device=cuda \
        >"$WORK/preflight.out" 2>&1 || status=$?
    sed -n '/^asrser preflight on/,/^preflight /p' "$WORK/preflight.out"
    if ! grep -q '^preflight ' "$WORK/preflight.out"; then  # stopped before its report
        tail -n 30 "$WORK/preflight.out"
        echo "gpu_check: FAILED: the preflight did not run (exit status $status)" >&2
        return 1
    fi
    if grep -q '^  GPU *FAILED' "$WORK/preflight.out"; then
        echo "gpu_check: FAILED: the GPU does not pass the preflight" >&2
        return 1
    fi

    echo "== training steps (bench_training.py --paper-architecture, bf16, batches of <= 32 padded s)"
    "$PYTHON" benchmarks/bench_training.py --paper-architecture --device cuda \
        --threads "$THREADS" --max-batch-seconds 32 --utterances 400 --warmup 2 --steps 8

    echo "== evaluation job (bench_evaluation.py --paper-architecture, bf16)"
    "$PYTHON" benchmarks/bench_evaluation.py --paper-architecture --device cuda \
        --threads 4 --utterances 80 --conditions 7
    echo "gpu_check: passed"
}

run_checks 2>&1 | tee logs/gpu_check.log
exit "${PIPESTATUS[0]}"
